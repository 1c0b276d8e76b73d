"""The intent model: trained in memory from the labelled examples, retrained when they change.

The default, `ensemble`, was chosen by cross-validation that leaves a whole style of writing (chat, SMS, WhatsApp,
forms, long emails, forwarded threads, non-native English) or a whole kind of business out (docs/intent-evaluation.md,
bench/intent_model_selection.py). It adds the scores of two members that read the text differently:
- `embedding`: one RBF-kernel SVM per intent (one-vs-rest) on the sentence embedding: meaning, paraphrase;
- `lexical`: logistic regression on word 1-2-grams, character 2-5-grams and the explicit signals of signals.py
  (a request to talk or meet, a timeline, a budget, purchase words, a vendor's pitch, a link to pay...): the exact
  words, typos and shorthand ("price pls", "can u call me") the embedding smooths away.
When the two disagree, the lead is unlike what the model knows, which lowers the confidence (classification.py).
A third model reads the kind of sender (a prospect, or a vendor, job seeker, spam, phishing, support, automated
message or other) from the examples labelled with one.

`svm`, `logreg` and `knn` (embedding only) remain for comparison. Scores become probabilities through a softmax with
a temperature fitted on cross-validated predictions over the examples themselves (never on an evaluation set).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max

from intelligence.model_files import model_load, model_save
from intelligence.models import IntentExample
from leads.models import Intent

logger = logging.getLogger(__name__)
INTENTS = [intent.value for intent in Intent]  # hot, warm, cold: the order of every score vector
PROSPECT = "prospect"
# Regularisation chosen by cross-validation on the seed examples (see the evaluation report).
ESTIMATOR_PARAMS = {"svm": {"C": 2.0}, "logreg": {"C": 4.0}, "lexical": {"C": 10.0}, "kind": {"C": 10.0}}
# The lexical member's scores count half as much as the embedding member's (chosen by the same cross-validation).
LEXICAL_WEIGHT = 0.5
METHODS = ("ensemble", "svm", "logreg", "knn")
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


_WORD = re.compile(r"[^\W\d_]{2,}")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class LexicalFeatures:
    """Word 1-2-grams, character 2-5-grams (within words) and the explicit signals, as one sparse matrix."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)

    def fit(self, texts: list[str]) -> LexicalFeatures:
        self.words.fit(texts)
        self.chars.fit(texts)
        return self

    def transform(self, texts: list[str]) -> Any:
        from scipy import sparse

        from intelligence.signals import signal_values

        parts = [
            self.words.transform(texts),
            self.chars.transform(texts),
            sparse.csr_matrix(np.array([signal_values(t) for t in texts]) * 0.5),
        ]
        return sparse.hstack(parts).tocsr()


def make_estimator(method: str) -> Any:
    if method == "svm":
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.svm import SVC

        # One binary SVM per intent: real margins (SVC's own multi-class scores are mostly vote counts), which
        # rank confidence far better, and that is what an auto-send threshold relies on.
        return OneVsRestClassifier(SVC(kernel="rbf", gamma="scale", **ESTIMATOR_PARAMS["svm"]))
    from sklearn.linear_model import LogisticRegression

    # Newton-CG reaches the same optimum as lbfgs on these sparse n-gram features (decision values within 0.05, the
    # same predictions on every evaluation row) in a sixth of the time: training is a few seconds, not fifteen.
    return LogisticRegression(solver="newton-cg", max_iter=1000, **ESTIMATOR_PARAMS[method])


@dataclass
class Members:
    """The fitted parts of an intent model; `logits` scores new texts."""

    method: str
    embedding: Any = None
    lexical: Any = None
    features: LexicalFeatures | None = None
    _svm: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None

    @classmethod
    def fit(cls, method: str, texts: list[str], vectors: np.ndarray, labels: np.ndarray) -> Members:
        members = cls(method)
        if method in ("ensemble", "svm"):
            members.embedding = make_estimator("svm").fit(vectors, labels)
        if method == "logreg":
            members.embedding = make_estimator("logreg").fit(vectors, labels)
        if method == "ensemble":
            members.features = LexicalFeatures().fit(texts)
            members.lexical = make_estimator("lexical").fit(members.features.transform(texts), labels)
        return members

    def member_logits(self, texts: list[str], vectors: np.ndarray, lexical: Any = None) -> dict[str, np.ndarray]:
        """Each member's scores; `lexical` is the texts' lexical features when the caller already has them."""
        out = {"embedding": self.embedding_logits(vectors)}
        if self.lexical is not None and self.features is not None:
            features = lexical if lexical is not None else self.features.transform(texts)
            out["lexical"] = self.lexical.decision_function(features)
        return out

    def embedding_logits(self, vectors: np.ndarray) -> np.ndarray:
        """The embedding member's scores. For the one-vs-rest RBF SVMs, computed directly from the support vectors
        with one kernel evaluation shared by the three intents: the same numbers as scikit-learn's
        decision_function (a test holds it) in a tenth of the time."""
        if self._svm is None:
            if self.method not in ("ensemble", "svm"):
                return self.embedding.decision_function(vectors)
            estimators = self.embedding.estimators_
            # The three SVMs were fitted on the same vectors, so they share gamma and one kernel row per text.
            support = np.unique(np.concatenate([e.support_ for e in estimators]))
            position = {int(index): n for n, index in enumerate(support)}
            rows = np.zeros((len(support), estimators[0].support_vectors_.shape[1]), dtype=np.float64)
            for e in estimators:
                for index, row in zip(e.support_, e.support_vectors_, strict=True):
                    rows[position[int(index)]] = row
            coefs = np.zeros((len(support), len(estimators)))
            for column, e in enumerate(estimators):
                coefs[[position[int(i)] for i in e.support_], column] = e.dual_coef_[0]
            self._svm = (
                rows,
                coefs,
                np.array([float(e.intercept_[0]) for e in estimators]),
                float(estimators[0]._gamma),
            )
        rows, coefs, intercepts, gamma = self._svm
        squared = (vectors**2).sum(1)[:, None] + (rows**2).sum(1)[None, :] - 2 * vectors @ rows.T
        return np.exp(-gamma * np.maximum(squared, 0)) @ coefs + intercepts


@dataclass
class Opinion:
    """What the model says about one text: calibrated probabilities per intent, each member's own, and the kind."""

    probabilities: np.ndarray
    members: dict[str, np.ndarray] = field(default_factory=dict)
    kind: str = PROSPECT
    kind_probability: float = 1.0
    novel_words: list[str] = field(default_factory=list)
    word_count: int = 0


@dataclass
class IntentModel:
    embedding_model: str
    version: tuple
    method: str
    k: int
    vectors: np.ndarray
    labels: np.ndarray
    temperature: float
    members: Members | None = None
    member_temperatures: dict[str, float] = field(default_factory=dict)
    kind_model: Any = None
    vocabulary: frozenset[str] = frozenset()

    def opinion(self, vector: np.ndarray | list[float], text: str) -> Opinion:
        import sklearn

        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        words = words_of(text)
        novel = sorted({w for w in words if w not in self.vocabulary})
        if self.members is None:
            logits = knn_logits(vector @ self.vectors.T, self.labels, self.k)
            return Opinion(softmax(logits / self.temperature)[0], novel_words=novel, word_count=len(words))
        # The inputs are ours and finite: skip scikit-learn's per-call validation (a third of the time per lead).
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return self._opinion(vector, text, novel, len(words))

    def _opinion(self, vector: np.ndarray, text: str, novel: list[str], word_count: int) -> Opinion:
        assert self.members is not None
        lexical = self.members.features.transform([text]) if self.members.features is not None else None
        parts = self.members.member_logits([text], vector, lexical)
        combined = parts["embedding"] + LEXICAL_WEIGHT * parts.get("lexical", 0.0)
        opinion = Opinion(
            softmax(combined / self.temperature)[0],
            members={
                name: softmax(value / self.member_temperatures.get(name, 1.0))[0] for name, value in parts.items()
            },
            novel_words=novel,
            word_count=word_count,
        )
        if self.kind_model is not None and lexical is not None:
            from scipy import sparse

            kinds = self.kind_model.predict_proba(sparse.hstack([lexical, sparse.csr_matrix(vector)]).tocsr())[0]
            classes = list(self.kind_model.classes_)
            prospect = float(kinds[classes.index(PROSPECT)]) if PROSPECT in classes else 0.0
            if prospect < 0.5:
                best = max((i for i, c in enumerate(classes) if c != PROSPECT), key=lambda i: kinds[i])
                opinion.kind, opinion.kind_probability = classes[best], round(1 - prospect, 4)
            else:
                opinion.kind_probability = round(prospect, 4)
        return opinion


def _cross_validated_logits(
    method: str, texts: list[str], vectors: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    folds = min(5, int(np.bincount(labels).min()))
    out: dict[str, np.ndarray] = {}
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels):
        members = Members.fit(method, [texts[i] for i in train_idx], vectors[train_idx], labels[train_idx])
        parts = members.member_logits([texts[i] for i in test_idx], vectors[test_idx])
        for name, value in parts.items():
            out.setdefault(name, np.zeros((len(labels), len(INTENTS))))[test_idx] = value
    return out


def train(*, embedding_model: str, method: str, k: int, reader: str = "") -> IntentModel:
    """A model of the examples stored for `embedding_model`. With `reader` (the English reader, an English-only
    encoder), a model of the English examples only, on the reader's vectors (embedded here; the stored vectors are
    the multilingual encoder's)."""
    rows = list(
        IntentExample.objects.filter(embedding_model=embedding_model)
        .order_by("text_hash")
        .values_list("text", "embedding", "intent", "kind")
    )
    if reader:
        rows = [row for row in rows if _reads_as_english(row[0])]
    if not rows:
        raise RuntimeError(
            "No labelled intent examples are loaded for this embedding model; run `manage.py setup_install` "
            "(make run does)."
        )
    texts = [t for t, _, _, _ in rows]
    if reader:
        from intelligence.embeddings import embedder_for

        vectors = embedder_for(reader).embed_matrix(texts)
    else:
        vectors = np.array([np.asarray(v, dtype=np.float32) for _, v, _, _ in rows])
    labels = np.array([INTENTS.index(i) for _, _, i, _ in rows])
    version = _version(embedding_model)
    vocabulary = frozenset(w for t in texts for w in words_of(t))
    enough = len(set(labels.tolist())) == len(INTENTS) and np.bincount(labels).min() >= 2
    if method != "knn" and enough:
        held_out = _cross_validated_logits(method, texts, vectors, labels)
        combined = held_out["embedding"] + LEXICAL_WEIGHT * held_out.get("lexical", 0.0)
        model = IntentModel(
            embedding_model=embedding_model,
            version=version,
            method=method,
            k=k,
            vectors=vectors,
            labels=labels,
            temperature=fit_temperature(combined, labels),
            members=Members.fit(method, texts, vectors, labels),
            member_temperatures={name: fit_temperature(value, labels) for name, value in held_out.items()},
            vocabulary=vocabulary,
        )
        if method == "ensemble":
            _train_kind_model(model, texts, vectors, [kind for _, _, _, kind in rows])
        return model
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
        vocabulary=vocabulary,
    )


def _reads_as_english(text: str) -> bool:
    """An example for the English reader's model: the seed set says each of its rows' language; any other example
    (an operator's correction) is English when the detector routes a lead like it to the English reader."""
    from intelligence.language import ENGLISH, detect_language

    seeded = _seed_languages().get(text.strip())
    return seeded == ENGLISH if seeded else detect_language(text).code in ("", ENGLISH)


@functools.cache
def _seed_languages() -> dict[str, str]:
    from intelligence.language import VALIDATED_LANGUAGES
    from intelligence.seed_set import seed_examples

    return {
        text.strip(): code
        for code in sorted(VALIDATED_LANGUAGES)
        for text, _, _ in seed_examples(languages=frozenset({code}))
    }


def _train_kind_model(model: IntentModel, texts: list[str], vectors: np.ndarray, kinds: list[str]) -> None:
    """Who is writing: a prospect, or a vendor, job seeker, spam... Trained on the examples labelled with a kind
    (operators' corrections without one are left out); needs a prospect and at least one other kind."""
    from scipy import sparse

    known = [i for i, kind in enumerate(kinds) if kind]
    features = model.members.features if model.members else None
    if features is None or len({kinds[i] for i in known}) < 2 or PROSPECT not in {kinds[i] for i in known}:
        return
    # The same lexical features as the intent model's (fitted on every example), with the embedding beside them.
    inputs = sparse.hstack([features.transform([texts[i] for i in known]), sparse.csr_matrix(vectors[known])])
    model.kind_model = make_estimator("kind").fit(inputs.tocsr(), [kinds[i] for i in known])


def _version(embedding_model: str) -> tuple:
    stats = IntentExample.objects.filter(embedding_model=embedding_model).aggregate(
        n=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    return (stats["n"], stats["last"], stats["changed"])


def _content_digest(embedding_model: str) -> str:
    """What the model learns from: every example's text, intent and kind. Two databases holding the same examples
    (a test's fresh copy of the seed set) share one trained model."""
    digest = hashlib.sha256()
    for row in (
        IntentExample.objects.filter(embedding_model=embedding_model)
        .order_by("text_hash")
        .values_list("text_hash", "intent", "kind")
    ):
        digest.update("|".join(row).encode())
    return digest.hexdigest()


_models: dict[tuple, IntentModel] = {}
_trained: dict[tuple, IntentModel] = {}  # by (content digest, method, k): a few recent models
_checked_at: dict[tuple, float] = {}
_lock = threading.Lock()
# How long a process trusts its model before checking whether the examples changed (another process may have added
# one). Changes made in this process invalidate at once through `invalidate_intent_models`.
VERSION_CHECK_SECONDS = 3.0


def get_intent_model(*, embedding_model: str, method: str, k: int, reader: str = "") -> IntentModel:
    """The process's trained model, retrained when the labelled examples change. `reader`: the English reader's
    model of the English examples (see `train`)."""
    key = (embedding_model, method, k, reader)
    with _lock:
        model = _models.get(key)
        if model is not None and time.monotonic() - _checked_at.get(key, 0) < VERSION_CHECK_SECONDS:
            return model
        version = _version(embedding_model)
        if model is None or model.version != version:
            content_key = (embedding_model, _content_digest(embedding_model), method, k, reader)
            model = _trained.get(content_key) or _load_saved(content_key)
            if model is None:
                # Workers starting together would each train the same model: the first trains it, the others wait
                # for its file and load it (a fresh install's first start: two workers, half the time).
                with _training_lock(content_key):
                    model = _load_saved(content_key)
                    if model is None:
                        model = train(embedding_model=embedding_model, method=method, k=k, reader=reader)
                        _save(content_key, model)
            if len(_trained) >= 4:
                _trained.pop(next(iter(_trained)))
            _trained[content_key] = model
            model.version = version
            _models[key] = model
        _checked_at[key] = time.monotonic()
    return model


def _saved_path(content_key: tuple) -> Path:
    """Where a trained model is kept: named by the examples' digest, the method, k, and the code and library
    versions that trained it (a change to any of them means training again)."""
    import sklearn

    code = hashlib.sha256()
    for name in ("classifier.py", "signals.py", "signal_words.py", "language.py"):
        code.update(Path(__file__).with_name(name).read_bytes())
    from intelligence.embeddings import STORED_DIMENSIONS

    # The texts' digest does not say which model embedded them, nor how wide the vectors are.
    name = hashlib.sha256(
        repr((content_key, code.hexdigest(), sklearn.__version__, np.__version__, STORED_DIMENSIONS)).encode()
    ).hexdigest()[:32]
    return Path(settings.MODEL_CACHE_DIR) / f"intent-{name}.pickle"


@contextlib.contextmanager
def _training_lock(content_key: tuple) -> Iterator[None]:
    """An exclusive lock, across processes, on training the model of `content_key` (a lock file beside it)."""
    import fcntl

    path = _saved_path(content_key).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_saved(content_key: tuple) -> IntentModel | None:
    return model_load(_saved_path(content_key), IntentModel)


def _save(content_key: tuple, model: IntentModel) -> None:
    model_save(_saved_path(content_key), model)


def invalidate_intent_models() -> None:
    """Forget which model this process uses: the next classification checks the stored examples again (and
    retrains only if what they say changed)."""
    with _lock:
        _models.clear()
        _checked_at.clear()
