"""Setup tests: the shared Chromium page for the website-form browser test."""

from messaging.tests.conftest import browser_page  # noqa: F401 (the shared Chromium fixture)
