"""Reading a lead's answer: the labelled replies cover what the issue asks for, the reader reads clear answers in
several languages and styles, auto-replies are told apart from people by headers and text (with the return date),
and a person's words about their holiday stay a reply. No database: the reader is pure."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from intelligence.replies import MODEL_KINDS, ReplyKind, load_replies, reply_read
from leads.autoreply import auto_reply_check, return_date

LONDON = ZoneInfo("Europe/London")


def test_the_labelled_replies_cover_kinds_businesses_styles_and_languages():
    rows = load_replies()
    kinds = Counter(r.kind for r in rows)
    assert set(kinds) == {k.value for k in ReplyKind} and min(kinds.values()) >= 25
    assert len({r.business for r in rows}) >= 25
    styles = Counter(r.style for r in rows)
    for style in ("short", "email", "quoted", "sms", "whatsapp", "nonnative", "foreign", "auto_email", "auto_sms"):
        assert styles[style] >= 4, style
    assert len({r.language for r in rows}) >= 8
    assert all(
        "\n>" in r.text or "Original Message" in r.text or "From:" in r.text for r in rows if r.style == "quoted"
    )


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Tuesday at 10 works, can you call me then?", "meeting"),
        ("¿Podemos vernos el lunes a las 9?", "meeting"),
        ("Das ist uns leider zu teuer.", "objection_price"),
        ("Please take me off your mailing list.", "stop"),
        ("We went with another agency in the end, thanks anyway.", "no"),
        ("Sounds great, let's go ahead. Send me the invoice.", "yes"),
        ("I need to check with my business partner first.", "objection_authority"),
        ("wrong number, who is this?", "wrong_person"),
    ],
)
def test_clear_answers_are_read_for_what_they_are(text, kind):
    reading = reply_read(text=text)
    assert reading.kind == kind, reading.reasons
    # A few hundred examples never justify certainty: at most 0.99 plus the uniform floor.
    assert 0 < reading.confidence <= 0.99 + 0.01 / len(reading.scores)
    assert abs(sum(reading.scores.values()) - 1) < 0.02


def test_quoted_history_is_cut_before_reading():
    text = "Too expensive for us, sorry.\n\nOn Mon, 30 Nov 2026 at 09:00, Maya wrote:\n> Let's book a call Thursday?"
    reading = reply_read(text=text)
    assert reading.text == "Too expensive for us, sorry." and reading.kind == "objection_price"


@pytest.mark.django_db  # the business profile's clock
def test_the_reader_knows_every_kind_but_auto_replies_which_the_rules_read():
    assert ReplyKind.AUTO_REPLY not in MODEL_KINDS and len(MODEL_KINDS) == len(ReplyKind) - 1
    reading = reply_read(text="Thanks for your email. I am out of the office until 14 December.", subject="OOO")
    assert reading.kind == "auto_reply" and reading.returns_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
        {"X-Auto-Response-Suppress": "All"},
        {"Content-Type": "multipart/report; report-type=delivery-status; boundary=x"},
        {"Return-Path": "<>"},
        {"From": "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>"},
    ],
)
def test_an_auto_reply_is_known_by_its_headers(headers):
    found = auto_reply_check(headers=headers, subject="Re: your quote", body="See you soon.")
    assert found is not None and found.reason


def test_auto_submitted_no_is_a_person():
    assert auto_reply_check(headers={"Auto-Submitted": "no"}, subject="Re: quote", body="Yes please") is None


@pytest.mark.parametrize(
    "text",
    [
        "I'm on holiday until Monday, but yes please, Tuesday at 10 works.",
        "Back from holiday now! Can we talk this week?",
        "Not right now, we're closed for refurbishment until spring. Try me in March?",
    ],
)
def test_a_person_who_mentions_being_away_is_not_an_auto_reply(text):
    assert auto_reply_check(body=text) is None


@pytest.mark.django_db  # the business profile's clock
@pytest.mark.parametrize(
    "text, day",
    [
        ("I am out of the office until Monday 14 December 2026 with limited access to email.", (12, 14)),
        ("Ich bin bis zum 18.12.2026 nicht im Büro.", (12, 18)),
        ("Je suis absente du bureau jusqu'au 15 décembre inclus.", (12, 15)),
        ("Estoy fuera de la oficina hasta el 8 de enero.", (1, 8)),
        ("Ik ben afwezig tot en met 6 januari.", (1, 6)),
    ],
)
def test_the_return_date_is_read_in_several_languages(text, day):
    back = return_date(text, received_at=datetime(2026, 12, 4, 10, tzinfo=LONDON))
    assert back is not None and (back.month, back.day, back.hour) == (*day, 9)


@pytest.mark.django_db  # the business profile's clock
def test_a_notice_without_a_date_or_with_a_past_one_gives_none():
    received = datetime(2026, 12, 4, 10, tzinfo=LONDON)
    assert return_date("I am out of the office until further notice.", received_at=received) is None
    assert return_date("I was away until 1 March 2026.", received_at=received) is None
