"""Which knowledge answers the lead: the retrieved chunks re-ranked, and the one sentence a fallback reply quotes.

Retrieval (retrieval.py) finds the chunks nearest the whole message. A message is mostly context ("we're a florist,
Valentine's Day is coming") around one question ("how much would a shop cost?"), and a chunk holds several facts, so
the nearest whole chunk is often not the one that answers. Each candidate is scored by three readings, added:
- the similarity of the whole message to the whole chunk (what retrieval ranked by);
- the similarity of the message to the chunk's best sentence (a chunk that holds the answer in one sentence);
- a BM25 score of the message's words in the chunk, scaled to the best candidate's (exact words: "card", "WCAG").
The chunk's best sentence becomes its `fact`. Chosen on intelligence/eval/fact_choice.csv and checked on a second
business's set written after the method was fixed (docs/intent-evaluation.md, `manage.py evaluate_facts`).

Two readers. The stored vectors come from the multilingual encoder, so a Spanish question finds the English fact;
but an English-only encoder reads English finer (0.87 against 0.69 top-1 on the development set, as re-rankers of
the same candidates). So an English lead's candidates are re-read by the English reader (settings.ENGLISH_READER,
all-MiniLM-L6-v2; embeddings.english_reader_for), which embeds the few candidate chunks and their sentences
in-process; any other language is read by the stored vectors' encoder.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np

from intelligence.chunking import chunk_embedding_text
from intelligence.embeddings import Embedder, english_reader_for
from intelligence.language import detect_language
from intelligence.retrieval import Snippet
from intelligence.signals import SIGNALS

# The weight of the lexical reading against the two similarities (chosen on the development set; 0.1 to 0.2 score
# the same there).
LEXICAL_WEIGHT = 0.2
# The weight of a question signal the message and the chunk share. The price signal reads "¿cuánto cuesta?", "Preis"
# and "wycena" as well as "price", so it bridges languages where cross-lingual similarities are weak: top-1 on the
# translated questions 0.66 -> 0.70, the English development set 0.87 -> 0.88 (0.1 to 0.5 measured; 0.5 the same).
SIGNAL_WEIGHT = 0.3
BRIDGING_SIGNALS = ("price",)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"[^\W_]+")
_STOP = frozenset(
    re.findall(
        r"\S+",
        "a an the and or of to in for on with we you i our your is are be it that this do does can could would will "
        "my me us at by from as if so u r im i'm hi hello there any some",
    )
)


@lru_cache(maxsize=4096)
def _chunk_sentences(text: str) -> tuple[str, ...]:
    return tuple(sentences(text))  # a chunk is split once per process, not once per lead


def sentences(text: str) -> list[str]:
    """A chunk's sentences, without the bare "Yes." that opens many FAQ answers."""
    parts = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    parts = [re.sub(r"^[-*]\s+", "", s) for s in parts]
    useful = [s for s in parts if len(s.split()) > 2]
    return useful or parts


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "s", "ed", "ly"):
        if len(word) > 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in _STOP]


@lru_cache(maxsize=4096)
def _term_counts(document: str) -> Counter[str]:
    return Counter(terms(document))  # read-only: shared by every lead that ranks this chunk


@lru_cache(maxsize=4096)
def _chunk_shows(signal: str, text: str) -> bool:
    return bool(SIGNALS[signal].search(text))


def bm25(query: str, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 of the query's terms in each document (document frequencies over the documents given)."""
    docs = [_term_counts(d) for d in documents]
    if not docs:
        return np.zeros(0)
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    average = max(lengths.mean(), 1.0)
    frequency = Counter(term for d in docs for term in d)
    scores = np.zeros(len(docs))
    for term in set(terms(query)):
        if term not in frequency:
            continue
        idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
        for i, d in enumerate(docs):
            tf = d.get(term, 0)
            if tf:
                scores[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / average))
    return scores


def reader_for(text: str, embedder: Embedder, language: str | None = None) -> Embedder:
    """The embedder that re-reads the candidates: the English reader for an English lead, else `embedder`."""
    if language is None:
        language = detect_language(text).code
    return english_reader_for(language) or embedder


def rank_snippets(
    *, text: str, vector: Sequence[float], snippets: list[Snippet], embedder: Embedder, language: str | None = None
) -> list[Snippet]:
    """The snippets best answer first, each with its best sentence as `fact` and its combined `score`. Sentences
    are embedded once per process (the embedder's cache). An English lead's snippets are read by the English reader
    (`reader_for`), and their `similarity` is then the reader's."""
    if not snippets:
        return []
    reader = reader_for(text, embedder, language)
    if reader is not embedder:
        query = reader.embed_matrix([text])[0]
        whole = reader.embed_matrix([chunk_embedding_text(s) for s in snippets]) @ query
        snippets = [replace(s, similarity=round(float(w), 4)) for s, w in zip(snippets, whole, strict=True)]
        embedder = reader
    else:
        query = np.asarray(vector, dtype=np.float32)
    per_chunk = [_chunk_sentences(s.text) for s in snippets]
    # A sentence is read under its chunk's heading (an FAQ's question, a section's title), as the chunk is embedded.
    flat = [
        f"{s.heading}\n{sentence}" if s.heading else sentence
        for s, chunk_sentences in zip(snippets, per_chunk, strict=True)
        for sentence in chunk_sentences
    ]
    sentence_similarity = embedder.embed_matrix(flat) @ query if flat else np.zeros(0)
    lexical = bm25(text, [f"{s.heading} {s.text}" for s in snippets])
    lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
    asked = {name for name in BRIDGING_SIGNALS if SIGNALS[name].search(text)}
    ranked = []
    start = 0
    for i, (snippet, chunk_sentences) in enumerate(zip(snippets, per_chunk, strict=True)):
        own = sentence_similarity[start : start + len(chunk_sentences)]
        start += len(chunk_sentences)
        best = int(np.argmax(own)) if len(own) else 0
        score = snippet.similarity + (float(own[best]) if len(own) else 0.0) + LEXICAL_WEIGHT * float(lexical[i])
        if asked:
            score += SIGNAL_WEIGHT * sum(_chunk_shows(n, f"{snippet.heading} {snippet.text}") for n in asked)
        fact = chunk_sentences[best] if chunk_sentences else snippet.text
        if len(fact) < 60 and best + 1 < len(chunk_sentences):
            fact = f"{fact} {chunk_sentences[best + 1]}"  # a short sentence reads better with the next one
        ranked.append(replace(snippet, fact=fact, score=round(score, 4)))
    return sorted(ranked, key=lambda s: -(s.score or 0.0))
