"""Splitting knowledge documents into retrievable chunks: Markdown sections, then paragraphs and sentences, about
200-400 tokens each, with one sentence of overlap between consecutive chunks of a section."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# MiniLM's tokenizer averages about 4 characters per token on English prose: ~1,000 characters is ~250 tokens, and
# a chunk closes before it passes that (a single long paragraph is cut at sentences), staying in 200-400 tokens.
TARGET_CHUNK_CHARS = 1000
SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".csv"}
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    heading: str
    text: str


def _pieces(paragraphs: list[str]) -> list[str]:
    """Paragraphs, with any paragraph longer than a chunk broken into sentences."""
    out: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= TARGET_CHUNK_CHARS:
            out.append(paragraph)
        else:
            out.extend(s for s in _SENTENCE_END.split(paragraph) if s.strip())
    return out


def _last_sentence(text: str) -> str:
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    return sentences[-1] if sentences and len(sentences[-1]) < TARGET_CHUNK_CHARS // 3 else ""


def chunk_markdown(content: str) -> list[Chunk]:
    """Sections by heading; a long section is split on paragraph (then sentence) boundaries, and each chunk after
    the first in a section starts with the previous chunk's last sentence. Each chunk keeps its section heading."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in content.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)

    chunks: list[Chunk] = []
    for heading, lines in sections:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", "\n".join(lines)) if p.strip()]
        current: list[str] = []
        fresh = False  # whether `current` holds more than the overlap carried from the previous chunk
        for piece in _pieces(paragraphs):
            if fresh and len(" ".join(current)) + len(piece) > TARGET_CHUNK_CHARS:
                text = "\n\n".join(current)
                chunks.append(Chunk(heading, text))
                overlap = _last_sentence(text)
                current = [overlap] if overlap else []
            current.append(piece)
            fresh = True
        if fresh:
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


def chunk_content(content: str, *, csv_faq: bool) -> list[Chunk]:
    return chunk_faq_csv(content) if csv_faq else chunk_markdown(content)


def read_document(path: Path) -> tuple[str, str, list[Chunk]]:
    """(title, content, chunks) of a Markdown, text or FAQ CSV file. Raises OSError, UnicodeDecodeError, ValueError."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {path.suffix or '(none)'}; use .md, .txt or .csv")
    content = path.read_text(encoding="utf-8-sig")
    is_csv = path.suffix.lower() == ".csv"
    chunks = chunk_content(content, csv_faq=is_csv)
    # An FAQ's headings are its questions: name it after the file instead.
    return document_title([] if is_csv else chunks, path.stem), content, chunks


def document_title(chunks: list[Chunk], fallback: str) -> str:
    first_heading = next((c.heading for c in chunks if c.heading), "")
    return first_heading or fallback.replace("_", " ").replace("-", " ").title()


class HasHeadingAndText(Protocol):
    heading: str
    text: str


def chunk_embedding_text(chunk: HasHeadingAndText) -> str:
    """What is embedded for a chunk (a Chunk being loaded, or a stored KnowledgeChunk): its heading and text."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text
