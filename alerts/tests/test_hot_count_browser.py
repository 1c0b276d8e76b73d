"""An operator with the admin open sees the count of hot leads appear on the page, and gets a browser notification,
when a hot lead arrives: Debian's Chromium driven by playwright against the live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from alerts.tests.conftest import HOT
from bizpilot.tests.factories import UserFactory
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = "operator-pass-123"
# Records each notification the page shows (the browser's own Notification still runs).
RECORD_NOTIFICATIONS = """
window.BP_HOT_POLL_MS = 500;
window.shown = [];
const Real = window.Notification;
window.Notification = function (title, options) { window.shown.push(title); return new Real(title, options); };
Object.defineProperty(window.Notification, "permission", { get: () => Real.permission });
window.Notification.requestPermission = (...a) => Real.requestPermission(...a);
"""


@pytest.mark.django_db(transaction=True)
def test_an_operator_sees_the_hot_count_appear_and_is_notified(live_server, browser_page, demo_knowledge):
    UserFactory(username="olivia", password=PASSWORD, operator=True)
    page = browser_page
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/lead/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#bp-hot-link:has-text('0 hot leads waiting')")

    lead = submit_lead(HOT, name="Ruth Okafor", email="ruth@okaforsalon.example")
    lead_process(lead_id=lead.pk)  # (a no-op when its on-commit job drafted it already)

    link = page.wait_for_selector("#bp-hot-link:has-text('1 hot lead waiting')", timeout=10_000)
    assert link is not None and "bp-hot-some" in (page.get_attribute("#bp-hot", "class") or "")
    page.wait_for_function("window.shown.length === 1", timeout=10_000)
    assert page.evaluate("window.shown") == ["BizPilot: a hot lead is waiting"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hot-count.png"))

    # The count links to the hot drafts in the review queue, on every admin page.
    link.click()
    page.wait_for_selector("#result_list")
    assert "Ruth Okafor" in page.inner_text("#result_list")
    # The new page polls the count on load: wait for its first answer rather than read it before it came.
    assert page.wait_for_selector("#bp-hot-link:has-text('1 hot lead waiting')", timeout=10_000) is not None
    page.wait_for_timeout(1200)  # more polls: the same hot lead is no news
    assert page.evaluate("window.shown") == []  # (a new page: nothing shown on it)
