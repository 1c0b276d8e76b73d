"""Merging two leads of one person: each app moves its own rows (through leads.signals.lead_merging), nothing is lost
and nothing is left pointing at the merged lead."""

from __future__ import annotations

import pytest

from intelligence.models import Classification, ModelCall
from leads.identity import leads_merge
from leads.models import InboundMessage, Lead
from leads.signals import lead_merging
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db


def test_merging_moves_every_apps_rows_to_the_kept_lead(demo_knowledge):
    keep = submit_lead("We need a website for the salon, can you quote?", email="ruth@okafor.example")
    merged = submit_lead("Do you also do booking systems? Ready to start", phone="07700 900123")
    for lead in (keep, merged):
        assert lead_process(lead_id=lead.pk) is not None
    merged_rows = {
        "messages": Message.objects.filter(lead=merged).count(),
        "classifications": Classification.objects.filter(lead=merged).count(),
        "model_calls": ModelCall.objects.filter(lead=merged).count(),
    }
    assert all(merged_rows.values())
    kept_calls = ModelCall.objects.filter(lead=keep).count()

    leads_merge(keep_id=keep.pk, merge_id=merged.pk, actor="user:admin")

    assert list(Lead.objects.values_list("pk", flat=True)) == [keep.pk]
    assert InboundMessage.objects.filter(lead=keep).count() == 2
    assert Message.objects.filter(lead=keep).count() == 2
    assert Classification.objects.filter(lead=keep).count() == 2
    assert ModelCall.objects.filter(lead=keep).count() == kept_calls + merged_rows["model_calls"]


def test_a_merge_that_fails_in_any_app_changes_nothing(demo_knowledge):
    keep = submit_lead("We need a website", email="ruth@okafor.example")
    merged = submit_lead("And a logo", phone="07700 900123")
    lead_process(lead_id=merged.pk)

    def broken(sender, **kwargs):
        raise RuntimeError("this app could not move its rows")

    lead_merging.connect(broken, dispatch_uid="test.broken")
    try:
        with pytest.raises(RuntimeError):
            leads_merge(keep_id=keep.pk, merge_id=merged.pk, actor="user:admin")
    finally:
        lead_merging.disconnect(dispatch_uid="test.broken")
    assert Lead.objects.count() == 2
    assert Message.objects.filter(lead=merged).count() == 1
    assert InboundMessage.objects.filter(lead=merged).count() == 1
