"""`make run` prepares an empty install for a real business (setup_install); `make demo` (DEMO=1) loads the demo
business on top (seed_demo). Both print the logins and an API key, the same on every run."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from alerts.models import AlertRecipient
from intelligence.models import KnowledgeDocument
from meetings.models import Availability

pytestmark = pytest.mark.django_db


def run(command: str) -> str:
    out = io.StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def test_a_new_install_gets_logins_and_a_key_but_no_demo_business_and_the_demo_adds_it(
    demo_knowledge, tmp_path, monkeypatch
):
    monkeypatch.setenv("BIZPILOT_DATA_DIR", str(tmp_path))
    KnowledgeDocument.objects.all().delete()  # (the fixture's demo knowledge: this install starts without it)
    first = run("setup_install")
    assert re.search(r"Admin login: admin / \S+", first) and re.search(r"API key: bp_\S+", first)
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    assert not KnowledgeDocument.objects.exists() and not Availability.objects.exists()
    assert not AlertRecipient.objects.exists()
    assert run("setup_install").splitlines()[1:] == first.splitlines()[1:]  # the same logins and key again

    demo = run("seed_demo")
    assert KnowledgeDocument.objects.exists() and Availability.objects.exists() and AlertRecipient.objects.exists()
    assert re.search(r"API key: (bp_\S+)", demo).group(1) == re.search(r"API key: (bp_\S+)", first).group(1)
