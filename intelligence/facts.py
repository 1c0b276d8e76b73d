"""Which knowledge answers the lead: the retrieved chunks re-ranked, and the one sentence a fallback reply quotes.

Retrieval (retrieval.py) finds the chunks nearest the whole message. A message is mostly context ("we're a florist,
Valentine's Day is coming") around one question ("how much would a shop cost?"), and a chunk holds several facts, so
the nearest whole chunk is often not the one that answers. Each candidate is scored by three readings, added:
- the similarity of the whole message to the whole chunk (what retrieval ranked by);
- the similarity of the message to the chunk's best sentence (a chunk that holds the answer in one sentence);
- a BM25 score of the message's words in the chunk, scaled to the best candidate's (exact words: "card", "WCAG").
The chunk's best sentence becomes its `fact`. Chosen on intelligence/eval/fact_choice.csv and checked on a second
business's set written after the method was fixed (docs/intent-evaluation.md, `manage.py evaluate_facts`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from intelligence.embeddings import Embedder
from intelligence.retrieval import Snippet

# The weight of the lexical reading against the two similarities (chosen on the development set; 0.1 to 0.2 score
# the same there).
LEXICAL_WEIGHT = 0.2
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_TOKEN = re.compile(r"[^\W_]+")
_STOP = frozenset(
    re.findall(
        r"\S+",
        "a an the and or of to in for on with we you i our your is are be it that this do does can could would will "
        "my me us at by from as if so u r im i'm hi hello there any some",
    )
)


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


def bm25(query: str, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 of the query's terms in each document (document frequencies over the documents given)."""
    docs = [Counter(terms(d)) for d in documents]
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


def rank_snippets(*, text: str, vector: Sequence[float], snippets: list[Snippet], embedder: Embedder) -> list[Snippet]:
    """The snippets best answer first, each with its best sentence as `fact` and its combined `score`. Sentences
    are embedded once per process (the embedder's cache)."""
    if not snippets:
        return []
    query = np.asarray(vector, dtype=np.float32)
    per_chunk = [sentences(s.text) for s in snippets]
    # A sentence is read under its chunk's heading (an FAQ's question, a section's title), as the chunk is embedded.
    flat = [
        f"{s.heading}\n{sentence}" if s.heading else sentence
        for s, chunk_sentences in zip(snippets, per_chunk, strict=True)
        for sentence in chunk_sentences
    ]
    sentence_similarity = np.asarray(embedder.embed(flat), dtype=np.float32) @ query if flat else np.zeros(0)
    lexical = bm25(text, [f"{s.heading} {s.text}" for s in snippets])
    lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
    ranked = []
    start = 0
    for i, (snippet, chunk_sentences) in enumerate(zip(snippets, per_chunk, strict=True)):
        own = sentence_similarity[start : start + len(chunk_sentences)]
        start += len(chunk_sentences)
        best = int(np.argmax(own)) if len(own) else 0
        score = snippet.similarity + (float(own[best]) if len(own) else 0.0) + LEXICAL_WEIGHT * float(lexical[i])
        fact = chunk_sentences[best] if chunk_sentences else snippet.text
        if len(fact) < 60 and best + 1 < len(chunk_sentences):
            fact = f"{fact} {chunk_sentences[best + 1]}"  # a short sentence reads better with the next one
        ranked.append(replace(snippet, fact=fact, score=round(score, 4)))
    return sorted(ranked, key=lambda s: -(s.score or 0.0))
