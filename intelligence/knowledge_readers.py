"""Reading what a business already has into pages of knowledge: a PDF page by page (`pypdf`), a Word document by
its sections (`python-docx`), an HTML page's main text (`trafilatura`, which leaves out menus, footers and cookie
banners), Markdown and text by their top sections, an FAQ CSV (question,answer) one question per page; and a
website from its sitemap. Every page is Markdown (a `# heading` per section), which intelligence.chunking splits.

Nothing here touches the database; intelligence.knowledge_import stores what is read."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urljoin, urlsplit

import requests
from defusedxml import ElementTree
from django.conf import settings

READABLE = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv"}
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_TOP_HEADING = re.compile(r"^#\s+(.+)$", re.MULTILINE)


class Unreadable(ValueError):
    """The file or page cannot be read (the reason is the message)."""


@dataclass(frozen=True)
class Page:
    ref: str  # what names it across imports: "page 3", the question, the section's heading, the address
    title: str
    content: str  # Markdown


def upload_pages(name: str, data: bytes) -> list[Page]:
    suffix = PurePath(name).suffix.lower()
    stem = PurePath(name).stem.replace("_", " ").replace("-", " ").strip() or name
    if suffix not in READABLE:
        raise Unreadable(f"{name}: BizPilot reads PDF, Word (.docx), HTML, Markdown, text and FAQ CSV files")
    if suffix == ".pdf":
        return _pdf_pages(stem, data)
    if suffix == ".docx":
        return _sections(stem, _docx_markdown(data))
    text = _text(name, data)
    if suffix in (".html", ".htm"):
        title, markdown = html_markdown(text)
        return [Page("page", title or stem, markdown)] if markdown.strip() else []
    if suffix == ".csv":
        return _faq_pages(name, text)
    return _sections(stem, text)


def _text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise Unreadable(f"{name}: not UTF-8 (or Windows) text") from exc


def _pdf_pages(stem: str, data: bytes) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable(f"{stem}: the PDF is protected by a password")
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            text = _tidy(page.extract_text() or "")
            pages.append(Page(f"page {number}", f"{stem}, page {number}", text))
        return pages
    except (PdfReadError, ValueError, KeyError) as exc:
        if isinstance(exc, Unreadable):
            raise
        raise Unreadable(f"{stem}: not a readable PDF ({exc})") from exc


def _tidy(text: str) -> str:
    """A PDF page's text: lines joined back into paragraphs where the layout broke them."""
    lines = [line.strip() for line in text.splitlines()]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line)
        if line.endswith((".", "!", "?", ":")) or len(line) < 40:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _docx_markdown(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable Word (.docx) file ({exc})") from exc
    out: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    out.append(" | ".join(cells))
            out.append("")
            continue
        text = block.text.strip()
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = 1 if style == "Title" else int(style[8:]) if style.startswith("Heading ") and style[8:].isdigit() else 0
        out.append(f"{'#' * level} {text}" if level else text)
        out.append("")
    return "\n".join(out)


def _sections(stem: str, markdown: str) -> list[Page]:
    """Markdown split at its top-level (#) headings; text before the first is a page of its own."""
    starts = [m.start() for m in _TOP_HEADING.finditer(markdown)]
    if not starts:
        return [Page("document", stem, markdown)] if markdown.strip() else []
    pieces = ([markdown[: starts[0]]] if markdown[: starts[0]].strip() else []) + [
        markdown[start:end] for start, end in zip(starts, [*starts[1:], len(markdown)], strict=True)
    ]
    pages: list[Page] = []
    seen: set[str] = set()
    for piece in pieces:
        match = _TOP_HEADING.match(piece.strip())
        heading = match.group(1).strip() if match else stem
        ref = heading if heading not in seen else f"{heading} ({len(seen)})"
        seen.add(ref)
        pages.append(Page(ref[:1000], heading[:300], piece.strip()))
    return pages


def _faq_pages(name: str, text: str) -> list[Page]:
    try:
        reader = csv.DictReader(io.StringIO(text))
        fields = {field.lower().strip(): field for field in reader.fieldnames or []}
        if "question" not in fields or "answer" not in fields:
            raise Unreadable(f"{name}: an FAQ CSV needs the columns question,answer")
        pages: list[Page] = []
        seen: set[str] = set()
        for row in reader:
            question = (row[fields["question"]] or "").strip()
            answer = (row[fields["answer"]] or "").strip()
            if question and answer and question not in seen:
                seen.add(question)
                pages.append(Page(question[:1000], question[:300], f"# {question}\n\n{answer}"))
        return pages
    except csv.Error as exc:
        raise Unreadable(f"{name}: not a readable CSV ({exc})") from exc


def html_markdown(html: str, url: str | None = None) -> tuple[str, str]:
    """(title, main text as Markdown) of an HTML page."""
    import trafilatura

    markdown = trafilatura.extract(
        html, url=url, output_format="markdown", include_tables=True, include_comments=False, favor_precision=True
    )
    metadata = trafilatura.extract_metadata(html, default_url=url)
    title = (metadata.title if metadata is not None and metadata.title else "") or ""
    return title.strip()[:300], markdown or ""


# --- A website ------------------------------------------------------------------------------------------------------


def _get(url: str) -> requests.Response:
    try:
        response = requests.get(
            url,
            timeout=settings.KNOWLEDGE_FETCH_TIMEOUT_SECONDS,
            headers={"User-Agent": "BizPilot knowledge import (reads your own site once)"},
            stream=True,
        )
        body = response.raw.read(settings.KNOWLEDGE_FETCH_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise Unreadable(f"{url}: could not be fetched ({type(exc).__name__})") from exc
    if len(body) > settings.KNOWLEDGE_FETCH_MAX_BYTES:
        raise Unreadable(f"{url}: larger than {settings.KNOWLEDGE_FETCH_MAX_BYTES // 1_000_000} MB")
    response._content = body  # the body as read, within the limit
    return response


def site_page_urls(address: str, *, limit: int) -> list[str]:
    """The pages of a website, from its sitemap (`/sitemap.xml`, or the one robots.txt names; a sitemap index is
    followed one level), on the site's own host only, at most `limit`. A site without a sitemap is its home page."""
    if not re.match(r"^https?://", address):
        address = "https://" + address
    site = urlsplit(address)
    if address.endswith(".xml"):
        candidates = [address]
    else:
        root = f"{site.scheme}://{site.netloc}/"
        candidates = _robots_sitemaps(root) or [urljoin(root, "sitemap.xml")]
    urls: list[str] = []
    for sitemap in candidates:
        for url in _sitemap_urls(sitemap, depth=0):
            if urlsplit(url).netloc == site.netloc and url not in urls:
                urls.append(url)
            if len(urls) >= limit:
                return urls
    return urls or [address]


def _robots_sitemaps(root: str) -> list[str]:
    try:
        response = _get(urljoin(root, "robots.txt"))
    except Unreadable:
        return []
    if response.status_code != 200:
        return []
    return [line.split(":", 1)[1].strip() for line in response.text.splitlines() if line.lower().startswith("sitemap:")]


def _sitemap_urls(url: str, *, depth: int) -> list[str]:
    try:
        response = _get(url)
    except Unreadable:
        return []
    if response.status_code != 200:
        return []
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return []
    found = [loc.text.strip() for loc in root.iter(f"{SITEMAP_NS}loc") if loc.text]
    if root.tag == f"{SITEMAP_NS}sitemapindex":
        return [page for child in found for page in (_sitemap_urls(child, depth=depth + 1) if depth < 1 else [])]
    return found


def site_page(url: str) -> Page:
    """One web page's main text (Unreadable when it cannot be fetched or is not HTML)."""
    response = _get(url)
    if response.status_code != 200:
        raise Unreadable(f"{url}: answered {response.status_code}")
    if "html" not in response.headers.get("Content-Type", "text/html"):
        raise Unreadable(f"{url}: not an HTML page ({response.headers.get('Content-Type')})")
    title, markdown = html_markdown(response.text, url)
    return Page(url[:1000], title or urlsplit(url).path or url, markdown)
