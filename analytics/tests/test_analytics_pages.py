"""The analytics pages and the metrics API against a small history whose every number is computed by hand here:
four leads this month (one replied and converted, one sent, one rejected, one waiting) and one the month before.
Real pipeline (embeddings, fallback drafts), real review and send services; only the timestamps are set by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from intelligence.corrections import lead_correct_intent
from leads.lifecycle import lead_mark_outcome
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.events import delivery_event_record
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.review import message_approve, message_reject

pytestmark = pytest.mark.django_db

HOT = "We need an online shop this month, budget ready, can we start now?"


def backdate(lead: Lead, *, created: timedelta) -> None:
    """Move a lead's whole history (its milestones, messages, classifications, model calls) back by the same
    amount, so that it arrived `created` ago."""
    from django.db.models import F

    from intelligence.models import Classification, ModelCall
    from leads.models import InboundMessage

    lead.refresh_from_db()
    shift = timezone.now() - created - lead.created_at
    milestones = ("created_at", "drafted_at", "contacted_at", "replied_at", "converted_at")
    Lead.objects.filter(pk=lead.pk).update(**{f: F(f) + shift for f in milestones})
    InboundMessage.objects.filter(lead=lead).update(received_at=F("received_at") + shift)
    Message.objects.filter(lead=lead).update(created_at=F("created_at") + shift, sent_at=F("sent_at") + shift)
    Classification.objects.filter(lead=lead).update(created_at=F("created_at") + shift)
    ModelCall.objects.filter(lead=lead).update(created_at=F("created_at") + shift)


@pytest.fixture
def history(demo_knowledge, django_capture_on_commit_callbacks):
    leads = {}
    for key, email in [
        ("a", "a@shop.example"),
        ("b", "b@shop.example"),
        ("c", "c@shop.example"),
        ("d", "d@shop.example"),
    ]:
        leads[key] = submit_lead(HOT, email=email, name=f"{key.upper()} Lee")
        lead_process(lead_id=leads[key].pk)
    draft = {key: Message.objects.get(lead=lead) for key, lead in leads.items()}
    with django_capture_on_commit_callbacks(execute=True):
        message_approve(message_id=draft["a"].pk, actor="user:op", body=draft["a"].body + "\n\nP.S. edited")
        message_approve(message_id=draft["b"].pk, actor="user:op")
    message_reject(message_id=draft["c"].pk, actor="user:op", reason="not now")
    for key in ("a", "b"):
        assert Message.objects.get(pk=draft[key].pk).status == Message.Status.SENT
    delivery_event_record(
        message=draft["a"],
        event_type="delivered",
        provider="sendgrid",
        provider_event_id="e1",
        occurred_at=None,
        payload={},
    )
    delivery_event_record(
        message=draft["a"],
        event_type="opened",
        provider="sendgrid",
        provider_event_id="e2",
        occurred_at=None,
        payload={},
    )
    delivery_event_record(  # a mail scanner's open: recorded, never counted
        message=draft["b"],
        event_type="opened",
        provider="sendgrid",
        provider_event_id="e3",
        occurred_at=None,
        payload={},
        is_machine=True,
        machine_reason="machine open",
    )
    with django_capture_on_commit_callbacks(execute=True):
        submit_lead("Yes please, call me", email="a@shop.example", name="A Lee")  # A replies
    lead_mark_outcome(lead_id=leads["a"].pk, outcome="converted", actor="user:op")
    lead_correct_intent(lead_id=leads["c"].pk, intent="cold", actor="user:op")  # the classifier said hot
    # A was answered 10 minutes after it arrived, B 30 minutes after; everything happened two days ago.
    for key, minutes in (("a", 10), ("b", 30)):
        lead = Lead.objects.get(pk=leads[key].pk)
        Lead.objects.filter(pk=lead.pk).update(created_at=lead.contacted_at - timedelta(minutes=minutes))
    old = submit_lead(HOT, email="old@shop.example", name="Old Lee")  # the month before
    lead_process(lead_id=old.pk)
    backdate(old, created=timedelta(days=40))
    return leads


def test_the_metrics_api_matches_the_hand_computed_history(api, history):
    metrics = api.get("/api/dashboard/metrics/", {"days": 30}).json()
    overview, messaging = metrics["overview"], metrics["messaging"]
    assert (overview["leads"], overview["classified"], overview["coverage"]) == (4, 4, 1.0)
    assert [(s["stage"], s["leads"], s["rate"], s["step_rate"]) for s in overview["funnel"]] == [
        ("received", 4, 1.0, None),
        ("contacted", 2, 0.5, 0.5),
        ("replied", 1, 0.25, 0.5),
        ("meeting_booked", 0, 0.0, 0.0),
        ("converted", 1, 0.25, 1.0),  # of those who replied: no lead booked a meeting
    ]
    assert overview["response_minutes_median"] == 20.0  # of 10 and 30
    assert overview["response_minutes_p95"] == 29.0  # 10 + 0.95 x 20 (interpolated)
    assert sum(day["total"] for day in overview["leads_per_day"]) == 4
    assert len(overview["leads_per_day"]) == 31  # every day of the range, the empty ones too

    # A's reply got an answer drafted (its turn in the conversation), still waiting: five drafts, two pending.
    assert (messaging["drafts"], messaging["approved"], messaging["edited"], messaging["rejected"]) == (5, 2, 1, 1)
    assert (messaging["pending"], messaging["reviewed"], messaging["sent"], messaging["auto_sent"]) == (2, 3, 2, 0)
    conversations = messaging["conversations"]
    assert (conversations["contacted"], conversations["replied"], conversations["reply_rate"]) == (2, 1, 0.5)
    assert conversations["replies"] == 1 and conversations["auto_replies"] == 0
    assert messaging["approval_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert messaging["edit_rate"] == 0.5 and messaging["auto_send_share"] == 0.0
    assert messaging["rejection_rate"] == pytest.approx(1 / 3, abs=1e-4)
    [email] = messaging["channels"]
    assert (email["channel"], email["sent"], email["delivered"], email["opened"], email["replied"]) == (
        "email",
        2,
        1,
        1,
        1,
    )
    assert (email["opened_rate"], email["clicked_rate"], email["unsubscribed_rate"]) == (0.5, 0.0, 0.0)
    [first] = messaging["by_step"]
    assert (first["sequence"], first["sent"], first["replied"], first["converted"]) == ("first reply", 2, 1, 1)

    assert metrics["comparison"]["leads"] == {"current": 4, "previous": 1, "difference": 3, "relative": 3.0}
    assert metrics["comparison"]["conversion_rate"]["previous"] == 0.0
    assert metrics["holdout"]["ai"]["leads"] == 4 and metrics["holdout"]["holdout"]["leads"] == 0
    assert metrics["holdout"]["conversion_lift"]["difference"] is None  # no holdout: no made-up lift
    # The old fields stay, from the same numbers.
    assert (metrics["leads_total"], metrics["edit_rate"], metrics["emails_sent"], metrics["open_rate"]) == (
        4,
        0.5,
        2,
        0.5,
    )
    assert metrics["median_minutes_to_send"] == 20.0

    everything = api.get("/api/dashboard/metrics/", {"days": 90}).json()
    assert everything["overview"]["leads"] == 5


def test_model_performance_matches_the_hand_computed_history(api, history):
    report = api.get("/api/analytics/model-performance/", {"days": 30}).json()
    assert (report["classified_leads"], report["reviewed_leads"], report["corrected_leads"]) == (4, 1, 1)
    assert report["agreement"] == 0.75 and report["intent_correction_rate"] == 0.25
    assert report["corrections"] == {"hot -> cold": 1}
    assert sum(row["leads"] for row in report["confidence_histogram"]) == 4
    assert report["override_rate"] == pytest.approx(2 / 3, abs=1e-4)  # one edited and one rejected of three
    assert report["llm_share"] == 0.0  # no LLM configured: every draft from the fallback templates
    [classify] = [row for row in report["latency_by_operation"] if row["operation"] == "classify"]
    assert classify["calls"] >= 4 and classify["p95_ms"] >= classify["p50_ms"] > 0
    assert len(report["cost_per_day"]) == 31


def test_agreement_says_no_corrections_yet_until_an_operator_reviews(api, admin_client, demo_knowledge):
    lead_process(lead_id=submit_lead(HOT, email="x@shop.example").pk)
    assert api.get("/api/analytics/model-performance/").json()["agreement"] is None
    page = admin_client.get("/analytics/model/").content.decode()
    assert "no corrections yet" in page and "100%" not in page


def test_a_custom_range_every_combination_and_the_errors(api, history):
    from analytics.periods import business_zone

    today = timezone.now().astimezone(business_zone()).date()  # the business's today, as the API reckons days
    day = timedelta(days=1)

    def period(**params):
        response = api.get(
            "/api/dashboard/metrics/", {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}
        )
        assert response.status_code == 200, (params, response.json())
        return response.json()["period"], response.json()["overview"]["leads"]

    assert period(start=today - 3 * day, end=today) == (
        {"start": (today - 3 * day).isoformat(), "end": today.isoformat(), "days": 4},
        4,
    )
    assert period(start=today, end=today - 3 * day)[0]["days"] == 4  # either order
    assert period(start=today - 3 * day)[0] == {
        "start": (today - 3 * day).isoformat(),
        "end": today.isoformat(),
        "days": 4,
    }
    assert period(end=today, days=7)[0] == {"start": (today - 6 * day).isoformat(), "end": today.isoformat(), "days": 7}
    assert period(days=90, start=today - day, end=today)[0]["days"] == 2  # start and end win over days
    assert period(start="1900-01-01", end="1900-02-01")[1] == 0  # before 1970: taken as 1970
    assert period(start="2000-01-01", end="2026-01-01")[0]["days"] == 3650  # cut to the last 3650 days
    for params, field in [
        ({"days": 0}, "days"),
        ({"days": 5000}, "days"),
        ({"start": "yesterday"}, "start"),
        ({"end": "2026-13-01"}, "end"),
        ({"weeks": 2}, "weeks"),
    ]:
        response = api.get("/api/dashboard/metrics/", params)
        assert response.status_code == 400, params
        assert field in response.json()["error"]["fields"], (params, response.json())


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/analytics/", ["Leads per day by source", "Funnel", "<svg", "median time to a reply", "20 min"]),
        ("/analytics/messaging/", ["edited before approval", "50%", "By channel", "Target: under 20%"]),
        ("/analytics/model/", ["agreement with operators", "75%", "Confidence", "Latency per operation"]),
        ("/analytics/experiments/", ["Lift over the holdout", "No lift yet"]),
    ],
)
def test_every_page_has_the_header_range_comparison_and_its_numbers(admin_client, history, url, shown):
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<div id="site-name"><a href="/admin/">BizPilot</a></div>' in html  # the admin's header, not Django's
    assert 'href="?days=7"' in html and 'href="?days=90"' in html and 'name="start"' in html
    assert "compared with" in html
    for text in shown:
        assert text in html, (url, text)


def test_a_page_with_a_bad_range_says_so_and_shows_the_last_30_days(admin_client, db):
    page = admin_client.get("/analytics/", {"start": "2026-05-32"})
    assert page.status_code == 400
    assert (
        "start: Date has wrong format" in page.content.decode() and "Showing the last 30 days" in page.content.decode()
    )


def test_the_pages_need_a_staff_login(client, db):
    for url in ("/analytics/", "/analytics/messaging/", "/analytics/model/", "/analytics/experiments/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_pages_cost_a_fixed_number_of_queries(admin_client, history, django_assert_max_num_queries):
    """However many leads are stored: the numbers come from grouped queries, never a query per row."""
    for url, most in [("/analytics/", 25), ("/analytics/messaging/", 25), ("/analytics/model/", 25)]:
        with django_assert_max_num_queries(most):
            admin_client.get(url)
