"""Real documents for the import tests, made here: a PDF written by hand to the PDF 1.4 format (pages of Helvetica
text, WinAnsi-encoded, so pypdf reads it as it reads any simple PDF), a Word file made with python-docx, and a
small website (an HTTP server with a sitemap index, sitemaps and HTML pages)."""

from __future__ import annotations

import io

from bizpilot.tests.http_stub import LocalServer, StubHandler


def pdf_bytes(pages: list[list[str]]) -> bytes:
    """A PDF whose page i shows the lines pages[i]."""
    objects: list[bytes] = []
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(font)
    for i, lines in enumerate(pages):
        content_ref = first_page + 2 * i + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {content_ref} 0 R >>".encode()
        )
        text = b"BT /F1 11 Tf 14 TL 56 790 Td " + b" ".join(b"(" + _escape(line) + b") Tj T*" for line in lines)
        stream = text + b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _escape(line: str) -> bytes:
    return line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def docx_bytes(sections: dict[str, list[str]]) -> bytes:
    import docx

    document = docx.Document()
    for heading, paragraphs in sections.items():
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class Website(LocalServer):
    """A site at http://127.0.0.1:<port>/ with robots.txt naming a sitemap index of two sitemaps, listing `pages`
    (path → (title, paragraphs)); each page is HTML with a menu and a footer around its main text."""

    def __init__(self, pages: dict[str, tuple[str, list[str]]]):
        self.pages = pages
        self.hits: list[str] = []
        site = self

        class Handler(StubHandler):
            def do_GET(self):
                site.hits.append(self.path)
                body, kind = site.answer(self.path)
                self.reply(200 if body is not None else 404, body or "not found", content_type=kind)

        super().__init__(Handler)
        self.start()

    @property
    def url(self) -> str:
        return self.base_url

    def answer(self, path: str) -> tuple[str | None, str]:
        paths = sorted(self.pages)
        half = len(paths) // 2
        if path == "/robots.txt":
            return f"User-agent: *\nAllow: /\nSitemap: {self.url}/sitemap_index.xml\n", "text/plain"
        if path == "/sitemap_index.xml":
            maps = "".join(f"<sitemap><loc>{self.url}/sitemap-{n}.xml</loc></sitemap>" for n in (1, 2))
            return _xml("sitemapindex", maps), "application/xml"
        if path in ("/sitemap-1.xml", "/sitemap-2.xml"):
            chosen = paths[:half] if path.endswith("1.xml") else paths[half:]
            urls = "".join(f"<url><loc>{self.url}{p}</loc></url>" for p in chosen)
            return _xml("urlset", urls), "application/xml"
        if path in self.pages:
            title, paragraphs = self.pages[path]
            main = "".join(f"<p>{p}</p>" for p in paragraphs)
            return (
                f"<html><head><title>{title}</title></head><body>"
                f"<nav><a href='/'>Home</a> <a href='/prices'>Prices</a> <a href='/contact'>Contact us</a></nav>"
                f"<main><article><h1>{title}</h1>{main}</article></main>"
                f"<footer>Cookie settings. Copyright 2026 Flow Right Plumbing.</footer></body></html>",
                "text/html; charset=utf-8",
            )
        return None, "text/plain"


def _xml(root: str, inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{inner}</{root}>'
