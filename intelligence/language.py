"""Which language a lead wrote in: lingua (offline; its models ship in the wheel) in its low-accuracy mode, which
needs about 40 MB for the languages below, guarded by a list of common English words, because on short chat
messages the detector alone calls one English message in twenty something else ("install Rasa on Linux" read as
Swedish). Measured in docs/intent-evaluation.md.

The local models are taught the languages of VALIDATED_LANGUAGES (labelled examples, signals, fallback replies);
a lead in one of them the encoder also reads is classified like an English one. A lead in any other language is
flagged for a person (or, with an LLM configured, classified and answered by it in the lead's language).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

ENGLISH = "en"
# The languages BizPilot is taught and measured in (docs/intent-evaluation.md).
VALIDATED_LANGUAGES = frozenset({"en", "es", "de", "fr", "it", "pt", "nl", "pl"})
# Languages small businesses in our markets hear from; lingua tells these apart. A language outside the list is
# reported as the closest one in it, which is still "not English" (what matters here).
_LANGUAGES = (  # noqa: SIM905
    "ENGLISH SPANISH FRENCH GERMAN ITALIAN PORTUGUESE DUTCH POLISH ROMANIAN TURKISH RUSSIAN ARABIC CHINESE JAPANESE "
    "KOREAN HINDI SWEDISH DANISH GREEK UKRAINIAN BOKMAL FINNISH CZECH HUNGARIAN VIETNAMESE INDONESIAN URDU PERSIAN "
    "HEBREW THAI BENGALI PUNJABI TAMIL WELSH IRISH CATALAN CROATIAN BULGARIAN LITHUANIAN SLOVAK"
).split()
# The most frequent English words (and the chat spellings of a few): a text mostly made of them is English whatever
# the detector says.
_COMMON_ENGLISH = set(
    """a about after again all also am an and any anyone are as ask at available back be because been before being
    best book booking but buy by call can cant can't come could cost day did do does don't dont for from get give
    go going good got had has have hello help her here hi his how i i'd i'll i'm if im in is it it's its just know
    let like looking make me more much my need next no not now of ok on one or our out over please pls plz price
    quote ready really same see send should so some someone soon start still such than thank thanks that the their
    them then there these they this those time to today tomorrow too u up ur us use very want wanna was we week
    were what when where which who why will with work would yes you your sorry wrong lol person contact sales
    working isn't won claim message name chat""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_]+")
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff\s\d\W]")
_URL = re.compile(r"(https?://|www\.)\S+|\S+@\S+", re.IGNORECASE)


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1, lower case ("en"); "" when the text is too short to tell (treated as English)
    name: str
    confidence: float
    reason: str

    @property
    def is_english(self) -> bool:
        return self.code in (ENGLISH, "")


_detector: Any = None
_lock = threading.Lock()


def _get_detector() -> Any:
    global _detector
    with _lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            languages = [getattr(Language, name) for name in _LANGUAGES]
            _detector = LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
    return _detector


def detect_language(text: str) -> LanguageGuess:
    """The lead's language, or English when the text is English-looking or too short to tell."""
    text = _URL.sub(" ", text)
    words = [w.lower() for w in _WORD.findall(text)]
    non_latin = bool(_NON_LATIN.search(text))
    if not non_latin:
        if len(words) < 3:
            return LanguageGuess("", "unknown", 0.0, "too short to tell; read as English")
        common = sum(w in _COMMON_ENGLISH for w in words) / len(words)
        if common >= 0.3:
            return LanguageGuess(ENGLISH, "English", round(common, 2), "mostly common English words")
    values = _get_detector().compute_language_confidence_values(text)
    if not values:
        return LanguageGuess("", "unknown", 0.0, "no language recognised; read as English")
    top = values[0]
    code = top.language.iso_code_639_1.name.lower()
    name = top.language.name.title().replace("Bokmal", "Norwegian")
    # Few words give the detector little to go on: a short Latin-script text needs a clear verdict.
    needed = 0.5 if len(words) >= 5 else 0.8
    if code == ENGLISH or (top.value < needed and not non_latin):
        return LanguageGuess(ENGLISH, "English", round(float(top.value), 2), "detector")
    return LanguageGuess(code, name, round(float(top.value), 2), "detector")


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code ("es" -> "Spanish"); English for "" or an unknown code."""
    if not code or code == ENGLISH:
        return "English"
    from lingua import IsoCode639_1, Language

    try:
        return (
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
            .name.title()
            .replace("Bokmal", "Norwegian")
        )
    except (AttributeError, ValueError):
        return code


def local_languages() -> frozenset[str]:
    """The languages the local model reads well: taught to BizPilot and read by the active encoder."""
    from intelligence.embedding_state import active_embedding_model
    from intelligence.encoders import ENCODERS

    info = ENCODERS.get(active_embedding_model())
    return frozenset(c for c in VALIDATED_LANGUAGES if info is not None and info.reads(c)) or frozenset({ENGLISH})


def min_similarity() -> float:
    """CLASSIFIER_MIN_SIMILARITY when set, else the active encoder's own threshold."""
    from django.conf import settings

    from intelligence.embedding_state import active_embedding_model
    from intelligence.encoders import ENCODERS

    if settings.CLASSIFIER_MIN_SIMILARITY is not None:
        return float(settings.CLASSIFIER_MIN_SIMILARITY)
    info = ENCODERS.get(active_embedding_model())
    return info.min_similarity if info is not None else 0.5
