"""The business's own copy of each invitation: booked, moved or cancelled, emailed to the invite address (or the
sender address) with the iCalendar event, so it lands in the business's calendar."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from bizpilot.business import business
from meetings.availability import availability
from meetings.invites import meeting_invite, organizer_address
from meetings.models import Meeting

SUBJECTS = {"booked": "Meeting booked", "rescheduled": "Meeting moved", "cancelled": "Meeting cancelled"}


def business_invite_send(*, meeting_id: int, change: str) -> bool:
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return False
    row = availability()
    method = "CANCEL" if change == "cancelled" else "REQUEST"
    invite = meeting_invite(meeting, row=row, method=method)
    _, address = organizer_address(row)
    who = f"lead #{meeting.lead_id}" if meeting.lead_id else "a booking from your scheduling page"
    when = meeting.starts_at.strftime("%Y-%m-%d %H:%M UTC")
    email = EmailMultiAlternatives(
        subject=f"{business().name}: {SUBJECTS.get(change, 'Meeting')} with {who}, {when}",
        body=f"{SUBJECTS.get(change, 'Meeting')}: {when} with {who}. The calendar event is attached.",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    email.attach("invite.ics", invite, "text/calendar")
    email.tags = ["bizpilot-meeting"]  # type: ignore[attr-defined]
    return email.send(fail_silently=False) == 1
