"""django-q2 jobs of the meetings app: thin wrappers that take ids and call one service."""

from __future__ import annotations

from meetings.notices import business_invite_send


def send_business_invite(meeting_id: int, change: str) -> bool:
    return business_invite_send(meeting_id=meeting_id, change=change)
