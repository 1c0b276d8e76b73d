"""Evaluating the intent classifier on a labelled CSV: quality, calibration and latency, without writing anything."""

from __future__ import annotations

import contextlib
import csv
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

from bizpilot.stats import percentile
from intelligence.classification import classify_text
from intelligence.classifier import INTENTS
from intelligence.embeddings import english_reader_for, get_embedder


class EvaluationInputError(ValueError):
    """The evaluation CSV is unusable; the message names the line."""


@dataclass(frozen=True)
class LabelledRow:
    line: int
    message: str
    intent: str
    language: str = ""  # the message's language, when the set has a `language` column (reported per language)


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV whose header must name `columns`; unreadable files and headers name the line."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise EvaluationInputError(f"{path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not set(columns) <= {f.strip() for f in reader.fieldnames}:
            raise EvaluationInputError(f"{path}: line 1: the header must name the columns {','.join(columns)}")
        for row in reader:
            yield reader.line_num, row


def _all_or_nothing(path: Path, rows: list, errors: list[str]) -> list:
    """Every row, or an error naming every bad line: a set is evaluated whole or not at all."""
    if errors:
        raise EvaluationInputError(f"{path}:\n" + "\n".join(errors))
    if not rows:
        raise EvaluationInputError(f"{path}: no rows to evaluate")
    return rows


def read_labelled_csv(path: Path) -> list[LabelledRow]:
    rows, errors = [], []
    for line, row in _csv_rows(path, ("message", "intent")):
        intent = (row.get("intent") or "").strip().lower()
        if intent not in INTENTS:
            errors.append(f"line {line}: intent must be one of {', '.join(INTENTS)}, not {intent!r}")
            continue
        rows.append(LabelledRow(line, row.get("message") or "", intent, (row.get("language") or "").strip()))
    return _all_or_nothing(path, rows, errors)


@contextlib.contextmanager
def forbid_writes() -> Iterator[None]:
    """Fail loudly if anything tries to write to the database while evaluating."""

    def guard(execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if verb in {"INSERT", "UPDATE", "DELETE", "TRUNCATE", "CREATE", "ALTER", "DROP"}:
            raise RuntimeError(f"evaluation must not write to the database: {sql[:80]}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(guard):
        yield


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins, weighted by size."""
    total = len(confidences)
    error = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if (low < c <= high) or (b == 0 and c == 0)]
        if members:
            accuracy = sum(correct[i] for i in members) / len(members)
            confidence = sum(confidences[i] for i in members) / len(members)
            error += len(members) / total * abs(accuracy - confidence)
    return error


# The default auto-send threshold: the share of rows wrong at or above it is what auto-send would get wrong.
CONFIDENT = 0.85


def _by_language(rows: list[LabelledRow], predictions: list, threshold: float) -> dict[str, dict[str, Any]]:
    """Per labelled language (the set's `language` column): macro-F1 over the intents present, accuracy, and the rows
    wrong with confidence at or above the threshold."""
    out: dict[str, dict[str, Any]] = {}
    for code in sorted({row.language for row in rows if row.language}):
        pairs = [(r.intent, p) for r, p in zip(rows, predictions, strict=True) if r.language == code]
        f1 = []
        for intent in INTENTS:
            tp = sum(1 for t, p in pairs if t == intent and p.intent == intent)
            predicted, actual = sum(1 for _, p in pairs if p.intent == intent), sum(1 for t, _ in pairs if t == intent)
            if actual or predicted:
                f1.append(2 * tp / (predicted + actual) if predicted + actual else 0.0)
        out[code] = {
            "n": len(pairs),
            "macro_f1": round(statistics.fmean(f1), 4),
            "accuracy": round(sum(1 for t, p in pairs if t == p.intent) / len(pairs), 4),
            "confidently_wrong_n": sum(1 for t, p in pairs if t != p.intent and p.confidence >= threshold),
        }
    return out


def evaluate(
    rows: list[LabelledRow],
    *,
    k: int | None = None,
    with_knowledge: bool = True,
    method: str | None = None,
    threshold: float = CONFIDENT,
) -> dict[str, Any]:
    with forbid_writes():
        classify_text(text=rows[0].message, k=k, with_knowledge=with_knowledge, method=method)  # warm up: load, train
        get_embedder().clear_cache()  # every row pays for its own embedding, as a new lead does
        reader = english_reader_for("en")
        if reader is not None:
            reader.clear_cache()
        predictions, latencies = [], []
        for row in rows:
            started = time.perf_counter()
            result = classify_text(text=row.message, k=k, with_knowledge=with_knowledge, method=method)
            latencies.append((time.perf_counter() - started) * 1000)
            predictions.append(result)

    truth = [row.intent for row in rows]
    predicted = [p.intent for p in predictions]
    confusion = [
        [sum(1 for t, p in zip(truth, predicted, strict=True) if t == a and p == b) for b in INTENTS] for a in INTENTS
    ]
    per_class = {}
    for i, intent in enumerate(INTENTS):
        tp = confusion[i][i]
        predicted_n = sum(confusion[r][i] for r in range(len(INTENTS)))
        actual_n = sum(confusion[i])
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / actual_n if actual_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[intent] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": actual_n,
        }
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    confident = [p.confidence >= threshold for p in predictions]
    confident_wrong = sum(1 for ok, sure in zip(correct, confident, strict=True) if sure and not ok)
    confident_n = sum(confident)
    return {
        "n": len(rows),
        "method": predictions[0].method if predictions else method,
        "k": k,
        "knowledge_context": with_knowledge,
        "accuracy": round(sum(correct) / len(rows), 4),
        "macro_f1": round(statistics.fmean(c["f1"] for c in per_class.values()), 4),
        "per_class": per_class,
        "confusion_matrix": {"labels": INTENTS, "rows_are": "true intent", "matrix": confusion},
        "ece": round(expected_calibration_error([p.confidence for p in predictions], correct), 4),
        "mean_confidence": round(statistics.fmean(p.confidence for p in predictions), 4),
        "threshold": threshold,
        # Share of ALL rows that are wrong with confidence >= threshold (what auto-send would send wrongly).
        "confidently_wrong": round(confident_wrong / len(rows), 4),
        "confidently_wrong_n": confident_wrong,
        "confident_share": round(confident_n / len(rows), 4),
        "confident_accuracy": round((confident_n - confident_wrong) / confident_n, 4) if confident_n else None,
        "unfamiliar_share": round(sum(1 for p in predictions if p.unfamiliar) / len(rows), 4),
        "not_a_prospect": sum(1 for p in predictions if not p.is_prospect),
        "languages": dict(sorted(Counter(p.language for p in predictions).items())),
        "by_language": _by_language(rows, predictions, threshold),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "errors": [
            {
                "line": row.line,
                "message": row.message[:120],
                "intent": row.intent,
                "predicted": p.intent,
                "confidence": p.confidence,
                "kind": p.kind,
                "notes": p.notes,
            }
            for row, p, ok in zip(rows, predictions, correct, strict=True)
            if not ok
        ],
    }


@dataclass(frozen=True)
class FactRow:
    line: int
    message: str
    answers: frozenset[str]  # chunk headings or document titles, any of which answers the message
    language: str = ""  # the message's language, when the set has a `language` column (reported per language)


def read_fact_csv(path: Path) -> list[FactRow]:
    """Rows of message,answer: `answer` names the knowledge chunk (its heading, or its document's title) that answers
    the message; several acceptable answers are separated by `|`. Every answer must exist in the knowledge base."""
    from intelligence.models import KnowledgeChunk

    known = set()
    for heading, title in KnowledgeChunk.objects.values_list("heading", "document__title"):
        known.update({heading, title})
    rows, errors = [], []
    for line, row in _csv_rows(path, ("message", "answer")):
        answers = frozenset(a.strip() for a in (row.get("answer") or "").split("|") if a.strip())
        unknown = sorted(answers - known)
        if not answers or unknown:
            what = ", ".join(repr(a) for a in unknown) if unknown else "nothing"
            errors.append(f"line {line}: answer names {what}, not a heading or title in the knowledge")
            continue
        rows.append(FactRow(line, row.get("message") or "", answers, (row.get("language") or "").strip()))
    return _all_or_nothing(path, rows, errors)


def evaluate_facts(rows: list[FactRow]) -> dict[str, Any]:
    """Top-1 accuracy of the knowledge chunk chosen for each message: as retrieval ranks them (nearest whole chunk)
    and as re-ranked by facts.rank_snippets (what replies use), with the sentence each would quote."""
    from django.conf import settings

    from intelligence.facts import rank_snippets
    from intelligence.retrieval import retrieve

    embedder = get_embedder()
    candidates = max(settings.KNOWLEDGE_CANDIDATES, settings.KNOWLEDGE_TOP_K)
    nearest_right, ranked_right, errors = 0, 0, []
    per_language: dict[str, list[bool]] = {}
    with forbid_writes():
        for row in rows:
            vector = embedder.embed_one(row.message)
            _, snippets = retrieve(vector=vector, examples=0, chunks=candidates, model_name=embedder.model_name)
            ranked = rank_snippets(text=row.message, vector=vector, snippets=snippets, embedder=embedder)
            if not ranked:
                raise EvaluationInputError("the knowledge base is empty: load it first (manage.py load_knowledge)")

            def answers(snippet: Any, row: FactRow = row) -> bool:
                return snippet.heading in row.answers or snippet.document in row.answers

            nearest_right += answers(snippets[0])
            ranked_right += answers(ranked[0])
            if row.language:
                per_language.setdefault(row.language, []).append(answers(ranked[0]))
            if not answers(ranked[0]):
                errors.append(
                    {
                        "line": row.line,
                        "message": row.message[:120],
                        "answer": sorted(row.answers),
                        "chosen": ranked[0].heading or ranked[0].document,
                        "fact": ranked[0].fact,
                    }
                )
    return {
        "n": len(rows),
        "candidates": candidates,
        "top1_nearest_chunk": round(nearest_right / len(rows), 4),
        "top1_accuracy": round(ranked_right / len(rows), 4),
        "top1_by_language": {code: round(sum(right) / len(right), 4) for code, right in sorted(per_language.items())},
        "errors": errors,
    }
