"""Reading a lead's answer: what kind of reply it is (a meeting time or a request to meet, a question, an objection
about price, timing, a competitor or who decides, a yes, a no, a request to stop, an auto-reply, a wrong person, a
referral to someone else, or a plain thank-you), with a calibrated confidence and the reasons.

Auto-replies are recognised by rules (leads.autoreply: headers first, then the text), everything else by a model
trained on the labelled replies in `intelligence/data/reply_examples.csv`: a logistic regression on word 1-2-grams,
character 2-5-grams and the cue families of reply_cues.py, chosen by cross-validation that leaves whole styles of
writing out (bench/reply_kind_selection.py, docs/intent-evaluation.md). Quoted history is cut before reading, so an
email answer is judged by what the lead just wrote."""

from __future__ import annotations

import csv
import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models

from intelligence.model_files import model_load, model_save
from intelligence.reply_cues import cue_values, cues_found
from leads.autoreply import AutoReply, auto_reply_check
from leads.email_text import new_text


class ReplyKind(models.TextChoices):
    MEETING = "meeting", "A meeting time or a request to meet"
    QUESTION = "question", "A question"
    OBJECTION_PRICE = "objection_price", "Objection: price"
    OBJECTION_TIMING = "objection_timing", "Objection: timing"
    OBJECTION_COMPETITOR = "objection_competitor", "Objection: a competitor"
    OBJECTION_AUTHORITY = "objection_authority", "Objection: someone else decides"
    YES = "yes", "Yes: ready to go ahead"
    NO = "no", "No: not going ahead"
    STOP = "stop", "A request to stop"
    AUTO_REPLY = "auto_reply", "An auto-reply"
    WRONG_PERSON = "wrong_person", "A wrong person"
    REFERRAL = "referral", "A referral to someone else"
    OTHER = "other", "Thanks or small talk"


OBJECTIONS = {
    ReplyKind.OBJECTION_PRICE,
    ReplyKind.OBJECTION_TIMING,
    ReplyKind.OBJECTION_COMPETITOR,
    ReplyKind.OBJECTION_AUTHORITY,
}
# The model reads every kind but auto-replies, which the rules recognise.
MODEL_KINDS = [kind.value for kind in ReplyKind if kind != ReplyKind.AUTO_REPLY]
DATA_PATH = Path(__file__).with_name("data") / "reply_examples.csv"
# Regularisation and the cue features' weight, chosen by bench/reply_kind_selection.py (leave-style-out).
MODEL_C = 10.0
CUE_WEIGHT = 1.0
# A second kind is named beside the first when the model gives it at least this probability.
SECOND_KIND_SHARE = 0.2


@dataclass(frozen=True)
class LabelledReply:
    text: str
    subject: str
    kind: str
    style: str
    business: str
    language: str


def load_replies(path: Path = DATA_PATH) -> list[LabelledReply]:
    """The labelled replies (columns text,kind,style,business,language); a first line 'Subject: ...' followed by a
    blank line is the email's subject."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text, subject = row["text"], ""
            match = re.match(r"Subject: (.*)\n\n", text)
            if match:
                subject, text = match.group(1), text[match.end() :]
            rows.append(LabelledReply(text, subject, row["kind"], row["style"], row["business"], row["language"]))
    return rows


def reply_text(text: str) -> str:
    """What the lead just wrote: quoted history and signatures cut (an SMS or form text comes through as it is)."""
    return new_text(text=text) or text.strip()


class ReplyFeatures:
    """Word 1-2-grams, character 2-5-grams (within words) and the cue families, as one sparse matrix."""

    def __init__(self, cue_weight: float = CUE_WEIGHT) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.cue_weight = cue_weight
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)

    def fit(self, texts: list[str]) -> ReplyFeatures:
        self.words.fit(texts)
        self.chars.fit(texts)
        return self

    def transform(self, texts: list[str], extra: np.ndarray | None = None) -> Any:
        from scipy import sparse

        parts = [
            self.words.transform(texts),
            self.chars.transform(texts),
            sparse.csr_matrix(np.array([cue_values(t) for t in texts]) * self.cue_weight),
        ]
        if extra is not None:
            parts.append(sparse.csr_matrix(extra))
        return sparse.hstack(parts).tocsr()


@dataclass
class ReplyModel:
    features: ReplyFeatures
    estimator: Any
    temperature: float
    kinds: list[str]
    digest: str

    @classmethod
    def fit(
        cls, texts: list[str], labels: list[str], *, c: float = MODEL_C, cue_weight: float = CUE_WEIGHT
    ) -> ReplyModel:
        from sklearn.linear_model import LogisticRegression

        from intelligence.classifier import fit_temperature

        texts = [reply_text(t) for t in texts]
        kinds = sorted(set(labels))
        y = np.array([kinds.index(label) for label in labels])
        features = ReplyFeatures(cue_weight).fit(texts)
        held_out = _cross_validated_logits(texts, y, c=c, cue_weight=cue_weight)
        estimator = LogisticRegression(C=c, max_iter=2000).fit(features.transform(texts), y)
        digest = hashlib.sha256("\n".join(f"{k}\t{t}" for t, k in zip(texts, labels, strict=True)).encode())
        return cls(features, estimator, fit_temperature(held_out, y), kinds, digest.hexdigest())

    def probabilities(self, texts: list[str]) -> np.ndarray:
        from intelligence.classifier import softmax

        logits = self.estimator.decision_function(self.features.transform([reply_text(t) for t in texts]))
        return softmax(logits / self.temperature)


def _cross_validated_logits(texts: list[str], y: np.ndarray, *, c: float, cue_weight: float) -> np.ndarray:
    """Held-out scores over the training rows (stratified 5-fold), to fit the temperature on."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = max(2, min(5, int(np.bincount(y).min())))
    logits = np.zeros((len(y), len(set(y.tolist()))))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
        features = ReplyFeatures(cue_weight).fit([texts[i] for i in train])
        model = LogisticRegression(C=c, max_iter=2000).fit(features.transform([texts[i] for i in train]), y[train])
        logits[test] = model.decision_function(features.transform([texts[i] for i in test]))
    return logits


@dataclass
class ReplyReading:
    """What a reply is: its kind (and a second one it also reads as), the confidence, and why."""

    kind: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    also: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    returns_at: str | None = None  # an auto-reply's return date (ISO), when it gives one
    text: str = ""

    @property
    def is_objection(self) -> bool:
        return self.kind in OBJECTIONS

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "confidence": self.confidence,
            "scores": self.scores,
            "also": self.also,
            "reasons": self.reasons,
            "cues": self.cues,
            "returns_at": self.returns_at,
        }


_model: ReplyModel | None = None
_lock = threading.Lock()


def get_reply_model() -> ReplyModel:
    """The process's reply-kind model: loaded from MODEL_CACHE_DIR when this machine trained it already (named by
    the labelled replies and the code that trains it), else trained (a few seconds) and kept there. Job workers
    load it before their first job (intelligence.warmup)."""
    global _model
    with _lock:
        if _model is None:
            path = Path(settings.REPLY_EXAMPLES_PATH)
            saved = _saved_path(path)
            _model = model_load(saved, ReplyModel)
            if _model is None:
                rows = [r for r in load_replies(path) if r.kind in MODEL_KINDS]
                _model = ReplyModel.fit([f"{r.subject}\n{r.text}".strip() for r in rows], [r.kind for r in rows])
                model_save(saved, _model)
        return _model


def _saved_path(examples: Path) -> Path:
    import sklearn

    digest = hashlib.sha256(examples.read_bytes())
    for module in (Path(__file__), Path(__file__).with_name("reply_cues.py")):
        digest.update(module.read_bytes())
    digest.update(f"{sklearn.__version__} {np.__version__}".encode())
    return Path(settings.MODEL_CACHE_DIR) / f"replies-{digest.hexdigest()[:32]}.pickle"


def reply_read(*, text: str, subject: str = "", automated: AutoReply | None = None) -> ReplyReading:
    """Read one answer (or several in a row, joined): an auto-reply by the rules, else the model's kind with its
    calibrated confidence. Pure: reads no database."""
    if automated is None:
        automated = auto_reply_check(subject=subject, body=text)
    if automated is not None:
        return ReplyReading(
            kind=ReplyKind.AUTO_REPLY,
            confidence=0.99,
            reasons=[f"an auto-reply: {automated.reason}"],
            returns_at=automated.returns_at.isoformat() if automated.returns_at else None,
            text=text,
        )
    body = reply_text(text)
    if not re.search(r"\w", body):
        # An emoji or a bare "+" says nothing to answer: a thank-you at most.
        return ReplyReading(kind=ReplyKind.OTHER, confidence=0.5, reasons=["no words to read"], text=body)
    model = get_reply_model()
    probabilities = model.probabilities([f"{subject}\n{body}".strip()])[0]
    # Like the intent model: a few hundred examples never justify certainty.
    probabilities = 0.99 * probabilities + 0.01 / len(probabilities)
    ranked = np.argsort(-probabilities)
    kind = model.kinds[int(ranked[0])]
    also = [model.kinds[int(i)] for i in ranked[1:3] if probabilities[int(i)] >= SECOND_KIND_SHARE]
    cues = cues_found(body)
    reasons = [f"reads as {ReplyKind(kind).label.lower()} ({probabilities[int(ranked[0])]:.0%})"]
    if also:
        reasons.append("also " + ", ".join(ReplyKind(k).label.lower() for k in also))
    return ReplyReading(
        kind=kind,
        confidence=round(float(probabilities[int(ranked[0])]), 4),
        scores={k: round(float(p), 4) for k, p in zip(model.kinds, probabilities, strict=True)},
        also=also,
        reasons=reasons,
        cues=cues,
        text=body,
    )
