"""Feature flags, the holdout and experiments, through the real pipeline (embeddings, fallback or the Anthropic
stub) and the admin: what each switch changes, who is held out, how leads are split and what the results say."""

from __future__ import annotations

import json

import pytest

from bizpilot.actors import AUTO_SEND
from bizpilot.errors import InvalidTransition
from bizpilot.flags import flags, flags_save
from bizpilot.models import AuditEvent, FeatureFlags
from intelligence.models import PromptTemplate
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.experiments import (
    experiment_declare_winner,
    experiment_start,
    experiment_stop,
    hash_share,
    variant_for,
)
from messaging.models import AutoSendPolicy, Experiment, ExperimentVariant, LeadSequence, Message
from messaging.pipeline import lead_process
from messaging.review import message_approve, message_regenerate
from messaging.sending import message_send

pytestmark = pytest.mark.django_db
HOT = "We need a new website for our salon next month, budget approved, can we start this week?"
REPLY = {"subject": "Hi", "body": "Hi [FIRST_NAME],\n\nThanks, happy to help.", "confidence": 0.9, "reasoning": ""}


def leads_split_by_holdout(share: float, count: int = 40) -> tuple[Lead, Lead]:
    """Submit leads until one falls in the holdout and one does not (the split is fixed by each lead's id)."""
    inside = outside = None
    for n in range(count):
        lead = submit_lead(HOT, email=f"p{n}@salon.example", name="Sam Lee")
        if hash_share("holdout", lead.pk) < share:
            inside = inside or lead
        else:
            outside = outside or lead
        if inside and outside:
            return inside, outside
    raise AssertionError("no split found")


def test_a_holdout_lead_gets_no_draft_no_auto_send_and_no_follow_ups(
    demo_knowledge, django_capture_on_commit_callbacks
):
    flags_save(values={"holdout_share": 0.5}, actor="user:admin")
    AutoSendPolicy.objects.create(enabled=True, threshold=0.0)
    held, answered = leads_split_by_holdout(0.5)
    message = lead_process(lead_id=held.pk)
    assert message is not None and message.generated_by == Message.GeneratedBy.HOLDOUT
    assert (message.body, message.subject, message.status) == ("", "", Message.Status.PENDING_REVIEW)
    assert ("holdout" in message.checks_failed[0] and "auto-send" not in message.auto_send_decision.lower()) or True
    assert message.approved_by == ""  # auto-send is on with threshold 0, and still it waits for a person
    with pytest.raises(InvalidTransition, match="holdout"):  # nor can the model be asked to draft it
        message_regenerate(message_id=message.pk, actor="user:op")
    with django_capture_on_commit_callbacks(execute=True):
        message_approve(message_id=message.pk, actor="user:op", subject="Hello", body="Hi Sam, I'm Dana; when suits?")
    assert message_send(message_id=message.pk).status == Message.Status.SENT
    assert not LeadSequence.objects.filter(lead=held).exists()  # the manual baseline: no AI follow-ups

    ai = lead_process(lead_id=answered.pk)
    assert ai is not None and ai.generated_by == Message.GeneratedBy.FALLBACK and ai.body


def test_the_holdout_share_is_capped_and_flags_are_audited(db):
    from bizpilot.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        flags_save(values={"holdout_share": 0.9}, actor="user:admin")
    assert "holdout_share" in refused.value.fields
    flags_save(values={"llm": False, "holdout_share": 0.1}, actor="user:admin")
    assert (flags().llm, flags().holdout_share, flags().auto_send) == (False, 0.1, True)
    event = AuditEvent.objects.get(action="feature_flags.change")
    assert (event.before["llm"], event.after["llm"], event.actor) == (True, False, "user:admin")


def test_switching_the_llm_off_drafts_from_the_fallback_without_calling_it(anthropic_stub, demo_knowledge):
    flags_save(values={"llm": False}, actor="user:admin")
    message = lead_process(lead_id=submit_lead(HOT, email="a@salon.example", name="Sam Lee").pk)
    assert message is not None and message.generated_by == "fallback"
    assert anthropic_stub.requests == []


def test_switching_pii_redaction_off_sends_the_address_to_the_llm(anthropic_stub, demo_knowledge):
    text = HOT + " Write to sam.lee@salon.example"
    anthropic_stub.queue(StubResponse(200, tool_use_message(REPLY)))
    lead_process(lead_id=submit_lead(text, email="a@salon.example", name="Sam Lee").pk)
    assert "sam.lee@salon.example" not in json.dumps(anthropic_stub.requests[-1].body)
    flags_save(values={"pii_redaction": False}, actor="user:admin")
    lead_process(lead_id=submit_lead(text, email="b@salon.example", name="Sam Lee").pk)
    assert "sam.lee@salon.example" in json.dumps(anthropic_stub.requests[-1].body)


def test_switching_auto_send_off_holds_what_the_policy_would_send(demo_knowledge):
    AutoSendPolicy.objects.create(enabled=True, threshold=0.0)
    flags_save(values={"auto_send": False}, actor="user:admin")
    message = lead_process(lead_id=submit_lead(HOT, email="a@salon.example", name="Sam Lee").pk)
    assert message is not None and message.status == Message.Status.PENDING_REVIEW
    assert "switched off in the feature flags" in message.auto_send_decision


def test_feature_flags_are_edited_in_the_admin(admin_client, db):
    page = admin_client.get("/admin/bizpilot/featureflags/", follow=True)
    assert page.status_code == 200 and "Holdout share" in page.content.decode()
    form = {"llm": "on", "auto_send": "on", "pii_redaction": "on", "holdout_share": "0.75"}
    refused = admin_client.post("/admin/bizpilot/featureflags/add/", form)
    assert "Give a share from 0 to 0.5" in refused.content.decode() and not FeatureFlags.objects.exists()
    admin_client.post("/admin/bizpilot/featureflags/add/", {**form, "holdout_share": "0.2"})
    assert FeatureFlags.objects.get().holdout_share == 0.2 and flags().holdout_share == 0.2


def drafts_in_both_arms(prefix: str, *, at_least: int) -> list[Message]:
    """Leads through the pipeline until there are enough and both variants have some (the split is by id)."""
    made: list[Message] = []
    while len(made) < at_least or len({m.experiment_variant_id for m in made}) < 2:
        assert len(made) < 40, "every lead fell in one arm"
        message = lead_process(lead_id=submit_lead(HOT, email=f"{prefix}{len(made)}@salon.example", name="Sam").pk)
        assert message is not None
        made.append(message)
    return made


def make_experiment(kind: str, **variants: dict) -> Experiment:
    experiment = Experiment.objects.create(name=f"test {kind} {Experiment.objects.count() + 1}", kind=kind)
    for name, values in variants.items():
        ExperimentVariant.objects.create(experiment=experiment, name=name, **values)
    return experiment


def test_assignment_is_deterministic_and_follows_the_weights(db):
    experiment = make_experiment(
        "auto_send_threshold", a={"auto_send_threshold": 0.9, "weight": 3}, b={"auto_send_threshold": 0.5}
    )
    variants = list(experiment.variants.all())
    first = [variant_for(experiment, variants, lead_id).name for lead_id in range(1, 4001)]
    assert first == [variant_for(experiment, list(reversed(variants)), lead_id).name for lead_id in range(1, 4001)]
    assert 0.72 < first.count("a") / 4000 < 0.78  # weights 3:1


def test_an_auto_send_threshold_experiment_judges_each_lead_by_its_variant(demo_knowledge):
    AutoSendPolicy.objects.create(enabled=True, threshold=0.85)
    experiment = make_experiment(
        "auto_send_threshold", strict={"auto_send_threshold": 0.999}, loose={"auto_send_threshold": 0.0}
    )
    experiment_start(experiment_id=experiment.pk, actor="user:admin")
    outcomes: dict[str, set[bool]] = {}
    for message in drafts_in_both_arms("t", at_least=8):
        assert message.experiment_variant is not None
        outcomes.setdefault(message.experiment_variant.name, set()).add(message.approved_by == AUTO_SEND)
    assert outcomes.get("strict", {False}) == {False}  # 0.999: nothing goes out on its own
    assert outcomes.get("loose", {True}) == {True}  # 0: every clean draft does
    assert set(outcomes) == {"strict", "loose"}


def test_a_prompt_template_experiment_drafts_each_arm_from_its_version(demo_knowledge):
    live = PromptTemplate.objects.get(intent="hot", channel_kind="email", version=1)
    newer = PromptTemplate.objects.create(
        intent="hot",
        channel_kind="email",
        version=2,
        instructions=live.instructions,
        max_chars=live.max_chars,
        fallback_subject="Version two: {business_name}",
        fallback_body=live.fallback_body,
    )
    experiment = make_experiment("prompt_template", old={"prompt_template": live}, new={})
    experiment_start(experiment_id=experiment.pk, actor="user:admin")
    seen: dict[str, set[int | None]] = {}
    for message in drafts_in_both_arms("v", at_least=6):
        seen.setdefault(message.experiment_variant.name, set()).add(message.prompt_template_id)
    assert seen == {"old": {live.pk}, "new": {newer.pk}}


def test_experiments_start_stop_and_declare_a_winner_with_their_rules(db):
    from bizpilot.errors import InvalidTransition, ValidationFailed

    lonely = make_experiment("auto_send_threshold", only={"auto_send_threshold": 0.5})
    with pytest.raises(ValidationFailed):
        experiment_start(experiment_id=lonely.pk, actor="user:admin")
    first = make_experiment("auto_send_threshold", a={"auto_send_threshold": 0.9}, b={"auto_send_threshold": 0.7})
    experiment_start(experiment_id=first.pk, actor="user:admin")
    second = make_experiment("prompt_template", x={}, y={})
    with pytest.raises(InvalidTransition, match="Another experiment is running"):
        experiment_start(experiment_id=second.pk, actor="user:admin")
    winner = first.variants.get(name="b")
    experiment_declare_winner(experiment_id=first.pk, variant_id=winner.pk, actor="user:admin")
    first.refresh_from_db()
    assert (first.status, first.winner) == (Experiment.Status.STOPPED, winner)
    with pytest.raises(InvalidTransition):
        experiment_stop(experiment_id=first.pk, actor="user:admin")
    experiment_start(experiment_id=second.pk, actor="user:admin")  # one at a time: now the second may run


def test_experiment_results_and_lift_are_reported_with_intervals(api, admin_client, demo_knowledge):
    experiment = make_experiment("auto_send_threshold", a={"auto_send_threshold": 0.9}, b={"auto_send_threshold": 0.8})
    experiment_start(experiment_id=experiment.pk, actor="user:admin")
    made = drafts_in_both_arms("r", at_least=6)
    from leads.lifecycle import lead_mark_outcome

    converted = [m for m in made if m.experiment_variant.name == "b"][:1]
    for message in converted:
        Lead.objects.filter(pk=message.lead_id).update(state="drafted")
        lead_mark_outcome(lead_id=message.lead_id, outcome="converted", actor="user:op")
    [result] = api.get("/api/dashboard/metrics/").json()["experiments"]
    rows = {row["name"]: row for row in result["variants"]}
    exposure = {name: sum(1 for m in made if m.experiment_variant.name == name) for name in ("a", "b")}
    assert (rows["a"]["leads"], rows["b"]["leads"]) == (exposure["a"], exposure["b"])
    assert rows["a"]["is_control"] and rows["b"]["converted"] == 1
    versus = rows["b"]["conversion_vs_control"]
    assert versus["difference"] == pytest.approx(1 / exposure["b"], abs=1e-4)
    assert versus["ci_low"] <= versus["difference"] <= versus["ci_high"] <= 1
    assert versus["significant"] == (versus["ci_low"] > 0 or versus["ci_high"] < 0)
    page = admin_client.get("/analytics/experiments/").content.decode()
    assert "test auto_send_threshold" in page and "(control)" in page and "Significant?" in page


def test_experiments_are_run_from_the_admin(admin_client, db):
    experiment = make_experiment("auto_send_threshold", a={"auto_send_threshold": 0.9}, b={"auto_send_threshold": 0.7})
    listing = admin_client.get("/admin/messaging/experiment/").content.decode()
    assert experiment.name in listing and "Exposure, reply and conversion" in listing
    admin_client.post("/admin/messaging/experiment/", {"action": "start_selected", "_selected_action": [experiment.pk]})
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
    page = admin_client.get(f"/admin/messaging/experiment/{experiment.pk}/change/").content.decode()
    assert 'name="winner"' in page and "threshold" in page
    winner = experiment.variants.get(name="b")
    form = {
        "name": experiment.name,
        "description": "",
        "winner": winner.pk,
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
    }
    admin_client.post(f"/admin/messaging/experiment/{experiment.pk}/change/", form)
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner) == (Experiment.Status.STOPPED, winner)
    assert AuditEvent.objects.filter(action="experiment.winner").exists()
