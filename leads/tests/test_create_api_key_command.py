from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from leads.api_keys import api_key_verify
from leads.models import ApiKey

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_only_a_working_key_that_is_stored_hashed():
    out = io.StringIO()
    call_command("create_api_key", "website-form", stdout=out)
    key = out.getvalue().strip()
    assert "\n" not in key and key.startswith("bp_")
    stored = ApiKey.objects.get(name="website-form")
    assert key.split("_", 2)[2] not in stored.key_hash
    assert api_key_verify(key=key) == stored


def test_create_api_key_needs_a_name():
    with pytest.raises(CommandError):
        call_command("create_api_key", "  ")
