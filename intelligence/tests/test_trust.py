"""Intelligence you can trust: not-a-prospect leads are cold, flagged and never auto-sent; scams get no draft; a lead
in another language is flagged (or, with an LLM, judged and answered in its language); unfamiliar leads get a low
confidence that says why. Real model, real database, the real anthropic SDK against the local stub."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest
from django.conf import settings

from intelligence.language import detect_language
from intelligence.models import Classification
from intelligence.signals import scam_check
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.tests.factories import AutoSendPolicyFactory

SPANISH = "Hola, necesito una tienda online para mi floristería antes de San Valentín. ¿Cuánto cuesta?"
# A language BizPilot was not taught (the taught ones are language.VALIDATED_LANGUAGES).
SWEDISH = "Hej, jag behöver en webbutik för min blomsterhandel före alla hjärtans dag. Vad kostar det?"
VENDOR = (
    "Hi, I noticed your website isn't ranking on Google. We've helped 300+ businesses reach page one with our SEO "
    "packages. Can I book 15 minutes with you this week to show you a free audit?"
)
PHISHING = (
    "Your invoice #88213 is overdue. Pay now at http://secure-invoice-pay.net/88213 to avoid legal action and "
    "late fees."
)


@pytest.mark.parametrize(
    "text",
    [
        PHISHING,
        "HMRC: you are owed a tax refund of £462. Claim now at hmrc-refund-claims.com",
        "Your PayPal account is limited. Confirm your identity within 24 hours at http://paypal-resolve.com",
        "Please note our bank details have changed. Kindly remit the outstanding balance to the new account today.",
    ],
)
def test_phishing_and_payment_scams_are_caught_by_the_rule(text):
    assert scam_check(text).is_scam


@pytest.mark.parametrize(
    "text",
    [
        "Send me your bank details and I'll pay the 40% deposit right away.",
        "Please send the invoice, we want to pay the deposit today and start next week.",
        "How much is your website package? Our site is www.bakery-example.co.uk",
        "Our account manager left; can you take over the website next month?",
    ],
)
def test_real_customers_who_talk_about_paying_are_not_scams(text):
    assert not scam_check(text).is_scam


def test_the_language_of_a_lead_is_detected_offline_and_short_english_chat_stays_english():
    assert detect_language(SPANISH).code == "es"
    assert detect_language("Bonjour, je voudrais un devis pour un site web").code == "fr"
    assert detect_language("Hallo, wir brauchen eine neue Webseite bis März").code == "de"
    for english in ["install Rasa on Linux", "can u call me", "price pls", "I want to contact sales", "demo?"]:
        assert detect_language(english).is_english, english


def test_the_fast_svm_scores_equal_scikit_learns(demo_knowledge):
    from intelligence.classifier import get_intent_model
    from intelligence.embeddings import get_embedder

    embedder = get_embedder()
    model = get_intent_model(embedding_model=embedder.model_name, method="ensemble", k=7)
    vectors = np.array(embedder.embed(["can u call me", "how much for a logo", "we sell seo backlinks"]))
    assert model.members is not None
    expected = model.members.embedding.decision_function(vectors)
    assert np.allclose(model.members.embedding_logits(vectors), expected, atol=1e-5)


def test_a_vendors_pitch_is_cold_flagged_and_never_auto_sent(demo_knowledge):
    AutoSendPolicyFactory(enabled=True, threshold=0.0, cold=True, warm=True, hot=True)
    lead = submit_lead(VENDOR, email="ravi@seo-growth.example", name="Ravi")
    message = lead_process(lead_id=lead.pk)
    classification = Classification.objects.get(lead=lead)
    assert (classification.intent, classification.kind) == ("cold", "vendor")
    assert "not a prospect" in classification.explanation["summary"].lower()
    assert message is not None and message.status == "pending_review"
    assert "not a prospect: vendor or sales pitch" in message.auto_send_decision


def test_the_review_screen_queue_and_api_show_who_wrote_the_language_and_which_decided(
    admin_client, api, demo_knowledge
):
    vendor = submit_lead(VENDOR, email="ravi@seo-growth.example", name="Ravi")
    spanish = submit_lead(SPANISH, email="flores@example.es", name="Lucía")
    vendor_draft, spanish_draft = lead_process(lead_id=vendor.pk), lead_process(lead_id=spanish.pk)
    assert vendor_draft is not None and spanish_draft is not None

    page = admin_client.get(f"/admin/messaging/message/{vendor_draft.pk}/change/").content.decode()
    reading = page[page.index('id="bp-reading"') :]
    assert "not a prospect: vendor or sales pitch" in reading and "Local classifier" in reading
    page = admin_client.get(f"/admin/messaging/message/{spanish_draft.pk}/change/").content.decode()
    reading = page[page.index('id="bp-reading"') :]
    assert "Spanish" in reading[: reading.index("</dl>")] and "language" in reading.lower()

    queue = admin_client.get("/admin/messaging/reviewqueueitem/?classification__kind__exact=vendor").content.decode()
    assert "Ravi" in queue and "Lucía" not in queue
    queue = admin_client.get("/admin/messaging/reviewqueueitem/?classification__language=es").content.decode()
    assert "Lucía" in queue and "Ravi" not in queue

    body = api.get(f"/api/leads/{vendor.pk}/").json()
    assert (body["intent"], body["sender_kind"], body["language"], body["decided_by"]) == (
        "cold",
        "vendor",
        "en",
        "classifier",
    )
    body = api.get(f"/api/leads/{spanish.pk}/").json()
    assert body["language"] == "es" and not any("not taught" in reason for reason in body["unfamiliar"])
    message = api.get(f"/api/messages/{spanish_draft.pk}/").json()
    assert (message["sender_kind"], message["language"], message["decided_by"]) == ("prospect", "es", "classifier")


def test_a_phishing_lead_gets_no_draft_at_all(demo_knowledge):
    AutoSendPolicyFactory(enabled=True, threshold=0.0, cold=True)
    lead = submit_lead(PHISHING, email="billing@secure-invoice-pay.example", name="Accounts")
    assert lead_process(lead_id=lead.pk) is None
    lead.refresh_from_db()
    assert lead.state == "lost" and not Message.objects.filter(lead=lead).exists()
    classification = Classification.objects.get(lead=lead)
    assert (classification.kind, classification.decided_by, classification.intent) == ("phishing", "rule", "cold")


def test_without_an_llm_a_lead_in_a_language_not_taught_is_flagged_below_the_threshold(demo_knowledge):
    AutoSendPolicyFactory(enabled=True, threshold=0.85, cold=True, warm=True, hot=True)
    lead = submit_lead(SWEDISH, email="blommor@example.se", name="Linnea")
    message = lead_process(lead_id=lead.pk)
    classification = Classification.objects.get(lead=lead)
    assert classification.language == "sv" and classification.confidence < 0.85
    assert any("Swedish" in reason for reason in classification.explanation["unfamiliar"])
    assert message is not None and message.status == "pending_review"
    assert "the lead wrote in Swedish; this fallback reply is in English" in message.checks_failed


def _intent_reply(intent: str, confidence: float) -> StubResponse:
    body = tool_use_message({})
    body["content"] = [
        {
            "type": "tool_use",
            "id": "t1",
            "name": "submit_intent",
            "input": {"intent": intent, "confidence": confidence, "reasoning": "asks for a shop and its price"},
        }
    ]
    return StubResponse(200, body)


def test_with_an_llm_a_lead_in_a_language_not_taught_is_judged_and_answered_in_it(anthropic_stub, demo_knowledge):
    reply = {
        "subject": "Din webbutik",
        "body": "Hej [FIRST_NAME], vi kan ha din webbutik klar före alla hjärtans dag.",
        "confidence": 0.9,
        "reasoning": "",
        "facts_used": [],
    }
    anthropic_stub.queue(_intent_reply("hot", 0.9), StubResponse(200, tool_use_message(reply)))
    lead = submit_lead(SWEDISH, email="blommor@example.se", name="Linnea")
    message = lead_process(lead_id=lead.pk)
    arbitration, draft = anthropic_stub.requests
    assert arbitration.body["tool_choice"]["name"] == "submit_intent"
    assert "Swedish" in str(arbitration.body["system"])
    assert "[hot]" in arbitration.body["messages"][0]["content"]  # the nearest labelled examples, as few-shot
    assert "write the whole reply in Swedish" in draft.body["messages"][0]["content"]
    classification = Classification.objects.get(lead=lead)
    assert (classification.intent, classification.decided_by, classification.language) == ("hot", "llm", "sv")
    assert classification.explanation["arbitration"]["classifier"]["intent"] in {"hot", "warm", "cold"}
    assert message is not None and message.generated_by == "llm" and message.body.startswith("Hej Linnea")
    assert not any("fallback reply is in English" in c for c in message.checks_failed)


def test_an_unfamiliar_lead_gets_a_low_confidence_that_says_why(demo_knowledge):
    from intelligence.classification import classify_text

    result = classify_text(text="Zorblax quantum flimflam rebooting the grommet vortex, thoughts?")
    assert result.unfamiliar and result.confidence <= 2 / 3 + 1e-9
    assert any("new to the model" in reason or "unlike" in reason for reason in result.unfamiliar)


def test_evaluate_reports_the_share_wrong_at_or_above_the_threshold(demo_knowledge, tmp_path):
    from intelligence.evaluation import evaluate, read_labelled_csv

    path = tmp_path / "tiny.csv"
    path.write_text(
        "message,intent\n"
        '"We need a new website for our salon next month, budget approved, can we start this week?",cold\n'
        '"how much for a 5 page website",warm\n',
        encoding="utf-8",
    )
    report = evaluate(read_labelled_csv(path), threshold=0.85)
    wrong_and_sure = [e for e in report["errors"] if e["confidence"] >= 0.85]
    assert report["confidently_wrong_n"] == len(wrong_and_sure) >= 1  # the mislabelled hot lead, read as hot
    assert report["confidently_wrong"] == pytest.approx(len(wrong_and_sure) / 2)
    assert {"macro_f1", "accuracy", "ece", "p95_ms", "errors", "confident_share"} <= set(report)


def test_the_seed_data_covers_styles_kinds_of_business_and_non_prospects():
    with open(settings.BASE_DIR / "intelligence" / "data" / "intent_examples.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["business"] for r in rows}) >= 20
    styles = Counter(r["style"] for r in rows)
    assert {"chat", "sms", "whatsapp", "form", "email", "forwarded", "nonnative"} <= set(styles)
    kinds = Counter(r["kind"] for r in rows)
    assert {"vendor", "job_seeker", "spam", "phishing", "support", "automated", "other"} <= set(kinds)
    assert all(r["intent"] == "cold" for r in rows if r["kind"] != "prospect"), "non-prospects are cold"


def test_a_new_process_loads_the_trained_model_instead_of_training_it_again(
    demo_knowledge, settings, tmp_path, monkeypatch
):
    from intelligence import classifier
    from intelligence.embeddings import get_embedder

    settings.MODEL_CACHE_DIR = tmp_path
    embedder = get_embedder()
    vectors = np.array(embedder.embed(["can u call me", "we sell seo backlinks"]))
    classifier._trained.clear()  # as in a new process
    trained = classifier.get_intent_model(embedding_model=embedder.model_name, method="ensemble", k=7)
    saved = list(tmp_path.glob("intent-*.pickle"))
    assert len(saved) == 1

    classifier._trained.clear()
    classifier.invalidate_intent_models()
    real_train = classifier.train
    monkeypatch.setattr(classifier, "train", lambda **_: pytest.fail("trained again"))
    loaded = classifier.get_intent_model(embedding_model=embedder.model_name, method="ensemble", k=7)
    assert loaded is not trained and loaded.members is not None and trained.members is not None
    assert np.allclose(loaded.members.embedding_logits(vectors), trained.members.embedding_logits(vectors))
    text = "we sell seo backlinks"
    assert loaded.opinion(vectors[1], text).kind == trained.opinion(vectors[1], text).kind == "vendor"

    # A torn file is trained again and replaced.
    saved[0].write_bytes(b"torn")
    classifier._trained.clear()
    classifier.invalidate_intent_models()
    monkeypatch.setattr(classifier, "train", real_train)
    retrained = classifier.get_intent_model(embedding_model=embedder.model_name, method="ensemble", k=7)
    assert retrained.members is not None and saved[0].stat().st_size > 1000


def test_a_worker_waits_for_the_model_another_is_training_and_loads_it(demo_knowledge, settings, tmp_path):
    """Two workers starting together: while one holds the training lock (here, a child process), the other waits,
    then loads the model the first saved instead of training it again."""
    import subprocess
    import sys
    import threading
    import time

    from intelligence import classifier
    from intelligence.embeddings import get_embedder

    settings.MODEL_CACHE_DIR = tmp_path
    embedder = get_embedder()
    content_key = (embedder.model_name, classifier._content_digest(embedder.model_name), "ensemble", 7, "")
    lock_path = classifier._saved_path(content_key).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; h = open(sys.argv[1], 'a'); fcntl.flock(h, fcntl.LOCK_EX); print('held', "
            "flush=True); sys.stdin.readline()",
            str(lock_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    trained = classifier.train(embedding_model=embedder.model_name, method="ensemble", k=7)
    classifier._trained.clear()
    classifier.invalidate_intent_models()
    calls: list[str] = []
    result: dict[str, object] = {}
    real_train = classifier.train

    def counting_train(**options):
        calls.append("train")
        return real_train(**options)

    def the_other_worker_finishes() -> None:  # after a second: saves its model, then lets go of the lock
        time.sleep(1.0)
        classifier._save(content_key, trained)
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()

    classifier.train = counting_train
    other = threading.Thread(target=the_other_worker_finishes)
    try:
        started = time.monotonic()
        other.start()
        result["model"] = classifier.get_intent_model(embedding_model=embedder.model_name, method="ensemble", k=7)
        waited = time.monotonic() - started
        other.join()
        assert waited >= 1.0 and calls == []  # it waited for the lock, then loaded the saved model
    finally:
        classifier.train = real_train
        holder.kill()
        holder.wait()
    model = result["model"]
    assert isinstance(model, classifier.IntentModel) and model.temperature == trained.temperature
