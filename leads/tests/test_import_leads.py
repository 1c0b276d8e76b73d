"""`manage.py import_leads`: encodings, delimiters, aliases, line-numbered errors, reruns, constant memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from bizpilot.models import AuditEvent
from leads.ingest import LeadInput, lead_ingest
from leads.models import InboundMessage, Lead

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "Full name,E-mail address,Mobile,Company,How can we help?,Budget\n"
    "Ruth Okafor,ruth@okafor.example,07700 900123,Okafor Salon,Need a booking site,3k\n"
    "Bad Email,not-an-email,,,hi,\n"
    '"Multi, Line",multi@example.com,,,"first line\nsecond line",\n'
    "No Contact,,,,just a message,\n"
    "Tom Short,,+44 12,,x,\n"
    "Ann Lee,ANN@shop.example,,Shop,Online shop please,5k\n"
)


def write(tmp_path: Path, text: str, *, name="leads.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_leads", *map(str, args), stdout=out)
    return out.getvalue()


def test_valid_rows_are_imported_and_broken_ones_reported_by_line(tmp_path):
    path = write(tmp_path, GOOD_AND_BAD)
    output = run(path, "--source", "expo")
    assert "6 rows: 3 new leads, 0 added to known leads, 0 already imported, 3 with errors" in output
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ANN@shop.example",
        "multi@example.com",
        "ruth@okafor.example",
    ]
    ruth = Lead.objects.get(email="ruth@okafor.example")
    assert (ruth.name, ruth.phone, ruth.company, ruth.source, ruth.metadata) == (
        "Ruth Okafor",
        "+447700900123",
        "Okafor Salon",
        "expo",
        {"Budget": "3k"},
    )
    assert ruth.inbound_messages.get().body == "Need a booking site"
    assert Lead.objects.get(email="multi@example.com").inbound_messages.get().body == "first line\nsecond line"
    report = (tmp_path / "leads.csv.errors.csv").read_text().splitlines()
    assert report == [
        "line,field,error",
        "3,email,'not-an-email' is not an email address",
        "6,email/phone,the row has neither an email address nor a phone number",
        "7,phone,'+44 12': Not a possible phone number (too short or too long for its country).",
    ]  # line numbers count the multi-line row's two lines
    assert AuditEvent.objects.filter(action="lead.ingest", actor="import:leads.csv").count() == 3


def test_importing_the_same_file_again_adds_nothing(tmp_path):
    path = write(tmp_path, GOOD_AND_BAD)
    run(path)
    output = run(path)
    assert "0 new leads, 0 added to known leads, 3 already imported" in output
    assert (Lead.objects.count(), InboundMessage.objects.count()) == (3, 3)


def test_a_known_person_gets_the_row_as_a_new_message(tmp_path):
    known = lead_ingest(
        data=LeadInput(email="ann@SHOP.example", message="hello"), channel="api", actor="t", raw_payload={}
    )
    run(write(tmp_path, GOOD_AND_BAD))
    assert Lead.objects.filter(pk=known.pk).get().inbound_messages.count() == 2
    assert Lead.objects.count() == 3


@pytest.mark.parametrize(
    "encoding, delimiter, prefix",
    [("utf-8", ",", b""), ("utf-8", ";", b"\xef\xbb\xbf"), ("latin-1", "\t", b""), ("latin-1", ";", b"")],
)
def test_encodings_and_delimiters_are_detected(tmp_path, encoding, delimiter, prefix):
    text = (
        delimiter.join(["Nom", "Email", "Message"])
        + "\n"
        + delimiter.join(["Zoë Müller", "zoe@cafe.example", '"Crème brûlée shop, à Paris"'])
        + "\n"
    )
    path = tmp_path / "export.csv"
    path.write_bytes(prefix + text.encode(encoding))
    output = run(path)
    expected = "utf-8-sig" if prefix else encoding
    assert f"{expected}, delimiter {delimiter!r}" in output
    lead = Lead.objects.get()
    assert (lead.name, lead.inbound_messages.get().body) == ("Zoë Müller", "Crème brûlée shop, à Paris")


def test_utf16_is_read_and_a_binary_file_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "excel-unicode.csv"
    path.write_bytes("Name\tEmail\nZoë\tzoe@example.com\n".encode("utf-16"))  # Excel's "Unicode text"
    assert "utf-16, delimiter '\\t'" in run(path)
    assert Lead.objects.get().name == "Zoë"
    xlsx = tmp_path / "leads.csv"
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200))
    with pytest.raises(CommandError, match="not a text CSV file"):
        run(xlsx)


def test_columns_can_be_mapped_by_hand_and_mistakes_are_explained(tmp_path):
    path = write(tmp_path, "Contact,Reach me at,Notes\nJo,jo@bakery.example,cakes\n")
    with pytest.raises(CommandError, match="No email or phone column"):
        run(path)
    with pytest.raises(CommandError, match="unknown field"):
        run(path, "--map", "Reach me at=mail")
    with pytest.raises(CommandError, match="not in the file"):
        run(path, "--map", "Where=email")
    run(path, "--map", "Reach me at=email", "--map", "Notes=message")
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.inbound_messages.get().body) == ("Jo", "jo@bakery.example", "cakes")


def test_a_dry_run_writes_nothing(tmp_path):
    output = run(write(tmp_path, GOOD_AND_BAD), "--dry-run")
    assert "6 rows: 3 valid, 3 with errors (dry run: nothing written)" in output
    assert Lead.objects.count() == 0


def test_imported_leads_wait_unless_processing_is_asked_for(
    tmp_path, demo_knowledge, django_capture_on_commit_callbacks
):
    from messaging.models import Message
    from messaging.pipeline import leads_requeue_stalled

    run(write(tmp_path, GOOD_AND_BAD, name="a.csv"))
    assert not Lead.objects.filter(auto_process=True).exists()
    Lead.objects.update(updated_at="2020-01-01T00:00:00Z")
    assert leads_requeue_stalled() == 0  # the safety-net sweep leaves them alone
    with django_capture_on_commit_callbacks(execute=True):
        run(write(tmp_path, "Email,Message\nnew@lead.example,We need a shop this month\n", name="b.csv"), "--process")
    assert Message.objects.filter(lead__email="new@lead.example").count() == 1  # the job ran (synchronous in tests)


# VmHWM is the process's own peak RSS (getrusage's ru_maxrss would carry over the forking parent's peak).
MEASURE = """
import os, re, sys
import django
django.setup()
from django.core.management import call_command
call_command("import_leads", sys.argv[1], stdout=open(os.devnull, "w"))
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""


def _peak_rss_kib_of_import(path: Path) -> int:
    """Run the command in a child process against the test database; the child reports its own peak RSS."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    database_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BIZPILOT_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "bizpilot.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_large_file_imports_in_constant_memory(tmp_path):
    def generate(name: str, rows: int) -> Path:
        path = tmp_path / name
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("Name,Email,Company,Message\n")
            for i in range(rows):
                handle.write(f'Person {i},{name}.{i}@example.com,Company {i % 500},"We need a website, row {i}"\n')
        return path

    small = _peak_rss_kib_of_import(generate("small", 2_000))
    large = _peak_rss_kib_of_import(generate("large", 40_000))  # 100,000: bench/csv_import.py
    assert Lead.objects.count() == 42_000
    # If memory grew with the rows, 20 times the rows would show in the peak; allow a little for the allocator.
    print(f"peak RSS: 2,000 rows {small / 1024:.0f} MiB, 40,000 rows {large / 1024:.0f} MiB")
    assert large < small * 1.15 + 10 * 1024, (small, large)
