from __future__ import annotations

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "Meetings"
    operator_permissions = ["meetings.view_meeting", "meetings.view_availability", "meetings.view_dayoff"]
