"""The new words in an inbound email: HTML reduced to text, quoted replies and signatures trimmed."""

from __future__ import annotations

import html
import re

_BLOCK_TAGS = re.compile(r"</?(p|div|br|li|tr|h[1-6]|blockquote|table)\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{0,200}wrote:\s*$", re.IGNORECASE),  # Gmail, Apple Mail
    re.compile(r"^\s*Le .{0,200}a écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am .{0,200}schrieb .{0,100}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),  # Outlook
    re.compile(r"^\s*From:\s.+$", re.IGNORECASE),  # Outlook's header block before the quoted mail
    re.compile(r"^_{10,}\s*$"),
]
_SIGNATURES = [
    re.compile(r"^-- ?$"),  # the standard signature delimiter
    re.compile(r"^\s*Sent from my (iPhone|iPad|Android|mobile|Samsung|Galaxy).*$", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for (iOS|Android).*$", re.IGNORECASE),
]


def html_to_text(markup: str) -> str:
    markup = _DROP.sub("", markup)
    markup = _BLOCK_TAGS.sub("\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    return "\n".join(line.strip() for line in text.splitlines())


def new_text(*, text: str = "", html_body: str = "") -> str:
    """The part of an email its sender just wrote: plain text preferred, else the HTML reduced to text; then cut
    at the first quoted-reply header or signature, with `>` quoted lines dropped."""
    body = text if text and text.strip() else html_to_text(html_body or "")
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if any(p.match(line) for p in _QUOTE_HEADERS) or any(p.match(line) for p in _SIGNATURES):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
