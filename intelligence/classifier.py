"""The intent model: trained in memory from the labelled examples' stored embeddings, retrained when they change.

Three methods; the default was chosen by 5-fold cross-validation on the seed examples (docs/intent-evaluation.md):
- `svm` (default): one RBF-kernel support vector machine per intent (one-vs-rest) on the embeddings.
- `logreg`: multinomial logistic regression on the embeddings.
- `knn`: a similarity-weighted vote of the k nearest examples (leave-one-out for its calibration).
Scores become probabilities through a softmax with a temperature fitted on cross-validated predictions over the
examples themselves (never on an evaluation set), which is what makes the confidence calibrated.
Either way the k nearest examples (pgvector) are kept as the explanation. Training takes well under a second for a
few hundred examples, so an operator's correction is used by the very next classification.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Count, Max

from intelligence.models import IntentExample
from leads.models import Intent

INTENTS = [intent.value for intent in Intent]  # hot, warm, cold: the order of every score vector
# Regularisation chosen by cross-validation on the seed examples (see the evaluation report).
ESTIMATOR_PARAMS = {"svm": {"C": 2.0}, "logreg": {"C": 4.0}}
_TEMPERATURES = np.exp(np.linspace(np.log(0.01), np.log(5.0), 120))


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out predictions (grid search)."""
    rows = np.arange(len(labels))
    best_t, best_nll = 1.0, np.inf
    for t in _TEMPERATURES:
        nll = -np.log(softmax(logits / t)[rows, labels] + 1e-12).mean()
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def knn_logits(similarities: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-class log of summed softmax-style weights exp(sim) over the k nearest; divided by a temperature later."""
    k = min(k, similarities.shape[1])
    nearest = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    logits = np.full((similarities.shape[0], len(INTENTS)), -1e9)
    for row in range(similarities.shape[0]):
        sims = similarities[row, nearest[row]]
        for cls in range(len(INTENTS)):
            mask = labels[nearest[row]] == cls
            if mask.any():
                logits[row, cls] = np.logaddexp.reduce(sims[mask])
    return logits


@dataclass
class IntentModel:
    embedding_model: str
    version: tuple
    method: str
    k: int
    vectors: np.ndarray
    labels: np.ndarray
    temperature: float
    estimator: Any = None

    def probabilities(self, vector: np.ndarray | list[float]) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if self.estimator is not None:
            logits = self.estimator.decision_function(vector)
        else:
            logits = knn_logits(vector @ self.vectors.T, self.labels, self.k)
        return softmax(logits / self.temperature)[0]


def make_estimator(method: str):
    if method == "svm":
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.svm import SVC

        # One binary SVM per intent: real margins (SVC's own multi-class scores are mostly vote counts), which
        # rank confidence far better, and that is what an auto-send threshold relies on.
        return OneVsRestClassifier(SVC(kernel="rbf", gamma="scale", **ESTIMATOR_PARAMS["svm"]))
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000, **ESTIMATOR_PARAMS["logreg"])


def train(*, embedding_model: str, method: str, k: int) -> IntentModel:
    rows = list(IntentExample.objects.filter(embedding_model=embedding_model).values_list("embedding", "intent"))
    if not rows:
        raise RuntimeError(
            "No labelled intent examples are loaded for this embedding model; run `manage.py seed_demo`."
        )
    vectors = np.array([np.asarray(v, dtype=np.float32) for v, _ in rows])
    labels = np.array([INTENTS.index(i) for _, i in rows])
    version = _version(embedding_model)
    enough = len(set(labels.tolist())) == len(INTENTS) and np.bincount(labels).min() >= 2
    if method in ESTIMATOR_PARAMS and enough:
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        classifier = make_estimator(method)
        folds = min(5, int(np.bincount(labels).min()))
        held_out = cross_val_predict(
            classifier,
            vectors,
            labels,
            cv=StratifiedKFold(folds, shuffle=True, random_state=0),
            method="decision_function",
        )
        classifier.fit(vectors, labels)
        return IntentModel(
            embedding_model=embedding_model,
            version=version,
            method=method,
            k=k,
            vectors=vectors,
            labels=labels,
            temperature=fit_temperature(held_out, labels),
            estimator=classifier,
        )
    # kNN (also the fallback when there are too few examples of some intent to train and cross-validate a model)
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)  # leave-one-out: an example may not vote for itself
    temperature = fit_temperature(knn_logits(similarities, labels, k), labels) if len(labels) > k else 0.05
    return IntentModel(
        embedding_model=embedding_model,
        version=version,
        method="knn",
        k=k,
        vectors=vectors,
        labels=labels,
        temperature=temperature,
    )


def _version(embedding_model: str) -> tuple:
    stats = IntentExample.objects.filter(embedding_model=embedding_model).aggregate(
        n=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    return (stats["n"], stats["last"], stats["changed"])


_models: dict[tuple, IntentModel] = {}
_checked_at: dict[tuple, float] = {}
_lock = threading.Lock()
# How long a process trusts its model before checking whether the examples changed (another process may have added
# one). Changes made in this process invalidate at once through `invalidate_intent_models`.
VERSION_CHECK_SECONDS = 3.0


def get_intent_model(*, embedding_model: str, method: str, k: int) -> IntentModel:
    """The process's trained model, retrained when the labelled examples change."""
    key = (embedding_model, method, k)
    with _lock:
        model = _models.get(key)
        if model is not None and time.monotonic() - _checked_at.get(key, 0) < VERSION_CHECK_SECONDS:
            return model
        version = _version(embedding_model)
        if model is None or model.version != version:
            model = train(embedding_model=embedding_model, method=method, k=k)
            _models[key] = model
        _checked_at[key] = time.monotonic()
    return model


def invalidate_intent_models() -> None:
    """Forget this process's trained models: the next classification retrains from the stored examples."""
    with _lock:
        _models.clear()
        _checked_at.clear()
