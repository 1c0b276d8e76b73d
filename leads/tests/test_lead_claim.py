"""Claiming a lead for the pipeline: one run at a time, and a run whose process died is taken over at once."""

from __future__ import annotations

import socket
import subprocess

import psutil
import pytest

from bizpilot.processes import process_gone, this_process
from leads.lifecycle import lead_claim_for_processing
from leads.models import Lead
from leads.tests.factories import submit_lead

pytestmark = pytest.mark.django_db


def claimant_of(process: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{process.pid}:{int(psutil.Process(process.pid).create_time())}"


def test_a_claim_held_by_a_live_run_is_not_taken():
    lead = submit_lead()
    assert lead_claim_for_processing(lead_id=lead.pk) is not None
    assert Lead.objects.get(pk=lead.pk).processing_by == this_process()
    assert lead_claim_for_processing(lead_id=lead.pk) is None  # this process is alive and holds it


def test_a_claim_whose_process_died_is_taken_over_at_once():
    lead = submit_lead()
    worker = subprocess.Popen(["sleep", "60"])
    claimant = claimant_of(worker)
    assert lead_claim_for_processing(lead_id=lead.pk) is not None
    Lead.objects.filter(pk=lead.pk).update(processing_by=claimant)
    assert lead_claim_for_processing(lead_id=lead.pk) is None and not process_gone(claimant)

    worker.kill()
    worker.wait()
    assert process_gone(claimant)
    claimed = lead_claim_for_processing(lead_id=lead.pk)
    assert claimed is not None and claimed.processing_attempts == 2


def test_a_claim_from_another_host_waits_for_its_lease():
    assert not process_gone("another-host.example:1:0")
