"""Splitting knowledge documents into retrievable chunks (Markdown headings, then paragraphs)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

MAX_CHUNK_CHARS = 1200  # about 250-300 MiniLM tokens
SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".csv"}
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass(frozen=True)
class Chunk:
    heading: str
    text: str


def chunk_markdown(content: str) -> list[Chunk]:
    """Sections by heading; a long section is split on paragraph boundaries. Each chunk repeats its heading."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in content.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)

    chunks: list[Chunk] = []
    for heading, lines in sections:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", "\n".join(lines)) if p.strip()]
        current: list[str] = []
        for paragraph in paragraphs:
            if current and len("\n\n".join([*current, paragraph])) > MAX_CHUNK_CHARS:
                chunks.append(Chunk(heading, "\n\n".join(current)))
                current = []
            current.append(paragraph)
        if current:
            chunks.append(Chunk(heading, "\n\n".join(current)))
    return chunks


def chunk_faq_csv(content: str) -> list[Chunk]:
    reader = csv.DictReader(io.StringIO(content))
    fields = {name.lower().strip(): name for name in reader.fieldnames or []}
    if "question" not in fields or "answer" not in fields:
        raise ValueError("an FAQ CSV needs the columns question,answer")
    chunks = []
    for row in reader:
        question = (row[fields["question"]] or "").strip()
        answer = (row[fields["answer"]] or "").strip()
        if question and answer:
            chunks.append(Chunk(question, answer))
    return chunks


def chunk_file(path: Path) -> tuple[str, str, list[Chunk]]:
    """(title, content, chunks) of a Markdown, text or FAQ CSV file."""
    content = path.read_text(encoding="utf-8-sig")
    chunks = chunk_faq_csv(content) if path.suffix.lower() == ".csv" else chunk_markdown(content)
    first_heading = next((c.heading for c in chunks if c.heading), "")
    title = first_heading or path.stem.replace("_", " ").replace("-", " ").title()
    return title, content, chunks


def chunk_embedding_text(chunk: Chunk) -> str:
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text
