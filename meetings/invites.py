"""Meeting invitations as RFC 5545 iCalendar (METHOD:REQUEST to book or move, METHOD:CANCEL to cancel), written with
`icalendar`. The same UID for the life of a meeting and a SEQUENCE raised on every change, so calendars update the
one event instead of adding another."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress, vText

from bizpilot.business import business
from meetings.models import Availability, Meeting

PRODID = "-//BizPilot//Meetings//EN"


def organizer_address(row: Availability | None) -> tuple[str, str]:
    """(name, email) of the business as organizer."""
    name, address = parseaddr(business().from_email)
    return (name or business().name), (row.invite_email if row and row.invite_email else address)


def meeting_invite(meeting: Meeting, *, row: Availability | None, method: str = "REQUEST") -> str:
    """The iCalendar text of `meeting` (METHOD:REQUEST, or CANCEL)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{meeting.uid}@bizpilot")
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    title = (row.meeting_title if row else "Call with {business}").replace("{business}", business().name)
    event.add("summary", title)
    if row and row.location:
        event.add("location", row.location)
    name, address = organizer_address(row)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name)
    event.add("organizer", organizer)
    if meeting.attendee_email:
        attendee = vCalAddress(f"mailto:{meeting.attendee_email}")
        attendee.params["cn"] = vText(meeting.attendee_name or meeting.attendee_email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode()
