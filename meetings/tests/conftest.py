"""Meetings in tests: the business meets Monday to Friday, 09:00-17:00 London time, for 30 minutes with 15 minutes
between, at least four hours ahead, at most four a day; a real CalDAV server (Radicale) when a test reads a
calendar."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from meetings.calendar_busy import forget_cached_busy
from meetings.models import Availability
from messaging.tests.conftest import browser_page, contacted_lead  # noqa: F401 (shared fixtures)
from messaging.tests.test_email_tracking import sendgrid  # noqa: F401 (SendGrid's API served by a local stub)

WORKDAY = "09:00-17:00"


@pytest.fixture
def week(db, settings) -> Availability:
    settings.PUBLIC_BASE_URL = "https://bizpilot.example.com"
    forget_cached_busy()
    return Availability.objects.create(
        monday=WORKDAY,
        tuesday=WORKDAY,
        wednesday=WORKDAY,
        thursday=WORKDAY,
        friday=WORKDAY,
        meeting_minutes=30,
        buffer_minutes=15,
        minimum_notice_minutes=240,
        max_per_day=4,
        slots_offered=3,
        location="+44 113 496 0000",
        invite_email="diary@northwind.example",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    """A real CalDAV server (Radicale, from PyPI) on a free local port, with one calendar: ann/work."""
    folder: Path = tmp_path_factory.mktemp("radicale")
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            f"--storage-filesystem-folder={folder / 'collections'}",
            "--auth-type=none",
            "--rights-type=owner_only",
            f"--server-hosts=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(base, timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("Radicale did not start") from None
            time.sleep(0.1)
    calendar = f"{base}/ann/work/"
    assert requests.request("MKCALENDAR", calendar, auth=("ann", "pw"), timeout=5).status_code == 201
    yield calendar
    server.terminate()
    server.wait(timeout=10)


def put_event(calendar: str, uid: str, ics_body: str) -> None:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    text = f"{head}UID:{uid}\r\n{ics_body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    response = requests.put(
        f"{calendar}{uid}.ics",
        data=text.encode(),
        headers={"Content-Type": "text/calendar"},
        auth=("ann", "pw"),
        timeout=5,
    )
    assert response.status_code in (201, 204), response.text
