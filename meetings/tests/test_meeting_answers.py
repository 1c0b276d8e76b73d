"""Reading answers to a meeting offer, on the two labelled sets in meetings/eval (English and the seven other
languages BizPilot reads): of the answers that name one time, at least 95% are read as exactly that time, and no
answer is read as a time it did not name."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from meetings.answers import meeting_answer_read
from meetings.evaluation import DEFAULT_SET, NOW, OFFERED, ZONE, evaluate_meeting_answers

HELDOUT = DEFAULT_SET.with_name("meeting_answers_heldout.csv")


@pytest.mark.parametrize("path", [DEFAULT_SET, HELDOUT], ids=["development", "written-after"])
def test_answers_naming_one_time_are_read_as_that_time_and_none_as_a_time_not_named(path):
    scores = evaluate_meeting_answers(path)
    assert scores.n >= 60 and len(scores.by_language) == 8
    assert scores.matched_share >= 0.95, scores.errors
    assert scores.wrong_time == 0, scores.errors


def test_the_sets_hold_at_least_150_answers_in_every_language():
    total = evaluate_meeting_answers(DEFAULT_SET).n + evaluate_meeting_answers(HELDOUT).n
    assert total >= 150


@pytest.mark.parametrize(
    "text",
    [
        "We have 6 pages and 2 people, what does it cost?",
        "Is 4k realistic for the whole thing?",
        "I'll be back on the 14th",
        "Call me on 07700 900123",
        "any time after 4",
        "next week?",
    ],
)
def test_numbers_that_are_no_time_are_not_read_as_one(text):
    reading = meeting_answer_read(text, language="en", offered=OFFERED, zone=ZONE, now=NOW)
    assert reading.start is None


def test_times_are_read_in_the_leads_time_zone():
    new_york = ZoneInfo("America/New_York")
    reading = meeting_answer_read("Thursday at 10am", language="en", offered=[], zone="America/New_York", now=NOW)
    assert reading.start == datetime(2026, 12, 10, 10, 0, tzinfo=new_york)
