"""Reading a lead's answer to a meeting offer: which time it names, or that none of those work, or that the meeting
is to be cancelled or moved. "Thursday at 2pm works", "el jueves a las 10", "tomorrow 3", "thu 14:00", "the second
one" name one time; "any time after 4" and "next week?" name none, and are never read as a time they did not name.

Days (weekday names, today and tomorrow, "10 December") and times ("2pm", "14:00", "a las 10", "um 10 Uhr") are
found by the words in answer_words.py; a calendar date's month is read by `dateparser`, which knows the month
names of every language. A time without am/pm from 1 to 7 is read as afternoon (meetings are in working hours)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from meetings.answer_words import (
    AM_WORDS,
    CANCEL,
    MORNING_PHRASES,
    NEXT_WEEK,
    NONE_WORK,
    NOON_WORDS,
    ORDINAL_NOUNS,
    ORDINALS,
    PM_WORDS,
    PORTUGUESE_DAY_LEAD,
    PORTUGUESE_SHORT_DAYS,
    RANGE_CUES,
    RELATIVE_DAYS,
    RESCHEDULE,
    WEEKDAYS,
    fold,
)


@dataclass(frozen=True)
class AnswerReading:
    """kind: "time" (one time named: `start`), "none_work", "cancel", "reschedule" (with `start` when the new time
    is named), or "open" (no one time named: a range, a week, a question)."""

    kind: str
    start: datetime | None = None
    named: list[datetime] = field(default_factory=list)  # every time named, in order (several: "2pm or Fri 10")
    reason: str = ""


_TIME = re.compile(
    r"(?<![\d/.])(?P<h>\d{1,2})(?:\s*[:.h]\s*(?P<m>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)?(?P<unit>\s*(?:uhr|uur|h\b))?"
    r"(?![\d/]|\.\d|\s*(?:de\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|[a-z]{3,}\s+\d{4}))"
)
# Words that make a bare number a time of day: "at 3", "a las 10", "um 10", "alle 3", "om 3", "o 10".
_AT = re.compile(
    r"(?:\bat|@|\ba las|\ba la|\bsobre las|\bum|\bgegen|\ba|\bvers|\balle|\bverso le|\bas|\bpelas|\bom|\brond|"
    r"\bo godz\.?|\bo godzinie|\bo|\bgodz\.?)\s*$"
)
_DATES = (
    re.compile(r"\b\d{1,2}(?:st|nd|rd|th|\.|º)?\s+(?:de\s+)?[a-z]{3,12}\.?"),  # 10 December, 10 de diciembre
    re.compile(r"\b[a-z]{3,12}\.?\s+\d{1,2}(?:st|nd|rd|th)?\b"),  # December 10
)
# "or" between two times, per language ("o" is Spanish "or" but Polish "at").
OR_WORDS = {"es": "o|u", "de": "oder", "fr": "ou", "it": "o|oppure", "pt": "ou", "nl": "of", "pl": "lub|albo"}
# A calendar date's month: the first letters of the month names in the languages read (folded).
MONTH_STEMS = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "ene", "abr", "ago", "dic",
    "mai", "okt", "dez", "fev", "out", "set", "gen", "giu", "lug", "ott", "mei", "mrt", "sty", "lut", "kwi", "cze",
    "lip", "sie", "wrz", "paz", "lis", "gru", "jui", "avr", "aou", "mag", "maa", "dec",
)  # fmt: skip
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")


def meeting_answer_read(
    text: str, *, language: str, offered: list[datetime], zone: str, now: datetime
) -> AnswerReading:
    """Read `text` against the times `offered` (aware, in any zone), in the lead's `zone`, `now` being when it
    was written."""
    lead_zone = ZoneInfo(zone)
    local_now = now.astimezone(lead_zone)
    offered_local = [o.astimezone(lead_zone) for o in offered]
    folded = fold(text)
    cancel = any(cue in folded for cue in CANCEL)
    move = any(cue in folded for cue in RESCHEDULE)
    none = any(cue in folded for cue in NONE_WORK)

    named = _ordinal_choice(folded, offered_local) or _named_times(
        folded, language, local_now, offered_local, lead_zone
    )
    if cancel and not named:
        return AnswerReading("cancel", reason="asked to cancel")
    if move:
        return AnswerReading("reschedule", named[0] if named else None, named, reason="asked to move the meeting")
    if none and not named:
        return AnswerReading("none_work", reason="none of the times suit")
    if named:
        return AnswerReading("time", named[0], named, reason="named a time")
    return AnswerReading("open", reason="named no one time")


def _ordinal_choice(folded: str, offered: list[datetime]) -> list[datetime]:
    """ "the second one", "option 2", "la primera": one of the offered times."""
    if not offered:
        return []
    found = re.search(r"\b(?:option|opcion|opcao|optie|opcja|opzione|nr\.?|number|#)\s*([1-5])\b", folded)
    if found and int(found.group(1)) <= len(offered):
        return [offered[int(found.group(1)) - 1]]
    for word, index in ORDINALS.items():
        for hit in re.finditer(rf"\b{re.escape(word.strip())}\b", folded):
            around = folded[max(0, hit.start() - 25) : hit.end() + 25]
            short = len(folded.split()) <= 4
            if (short or any(noun in around for noun in ORDINAL_NOUNS)) and (index == -1 or index < len(offered)):
                return [offered[index]]
    return []


def _named_times(folded: str, language: str, now: datetime, offered: list[datetime], zone: ZoneInfo) -> list[datetime]:
    if any(cue in folded for cue in NEXT_WEEK) and not _days(folded, language, now)[0]:
        return []  # "next week?": a week, not a time
    joiner = OR_WORDS.get(language, "or")
    clauses = [c for c in re.split(rf"\s+(?:or|{joiner})\s+|[;\n]", folded) if c]
    short = len(folded.split()) <= 4
    results: list[datetime] = []
    for clause in clauses:
        days, dates = _days(clause, language, now)
        if _is_range(clause, language):
            continue
        times = _times(_blank(clause, dates), bool(days), short=short)
        for found in _combine(days, times, offered, zone):
            if found not in results:
                results.append(found)
    return results


def _is_range(clause: str, language: str) -> bool:
    """ "any time after 4", "between 2 and 4", "from 3": a window, not a time."""
    cues = RANGE_CUES["en"] + RANGE_CUES.get(language, ())
    has_cue = any(re.search(rf"(?<![\w-]){re.escape(cue)}(?![\w-])", clause) for cue in cues)
    return has_cue and (bool(re.search(r"\d", clause)) or any(w in clause for w in NOON_WORDS))


def _blank(clause: str, spans: list[tuple[int, int]]) -> str:
    """The clause with calendar dates blanked out, so "11. Dezember" is no eleven o'clock."""
    for start, end in spans:
        clause = clause[:start] + " " * (end - start) + clause[end:]
    return clause


def _combine(days: list[date], times: list[time], offered: list[datetime], zone: ZoneInfo) -> list[datetime]:
    if days and times:
        return [datetime.combine(d, t, tzinfo=zone) for d in days[:1] for t in times[:1]]
    if days and not times:  # "Thursday works": the one offered time that day, if exactly one
        same = [o for o in offered if o.date() == days[0]]
        return same if len(same) == 1 else []
    if times and not days:  # "2pm works": the one offered time at that hour, if exactly one
        same = [o for o in offered if (o.hour, o.minute) == (times[0].hour, times[0].minute)]
        return same if len(same) == 1 else []
    return []


def _days(clause: str, language: str, now: datetime) -> tuple[list[date], list[tuple[int, int]]]:
    """The days a clause names, in order, and where its calendar dates are written."""
    found: list[tuple[int, date]] = []
    spans: list[tuple[int, int]] = []
    today = now.date()
    for phrase, offset in sorted(RELATIVE_DAYS.items(), key=lambda kv: -len(kv[0])):
        for hit in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", clause):
            if phrase in ("manana", "morgen") and any(
                m in clause[max(0, hit.start() - 8) : hit.end()] for m in MORNING_PHRASES
            ):
                continue  # "por la manana", "am Morgen": the morning, not tomorrow
            if not any(start <= hit.start() < start + 20 for start, _ in found):
                found.append((hit.start(), today + timedelta(days=offset)))
    for word, weekday in WEEKDAYS.items():
        for hit in re.finditer(rf"(?<![\w-]){re.escape(word)}\.?(?![\w-])", clause):
            found.append((hit.start(), _next_weekday(today, weekday, clause)))
    if language == "pt":
        for word, weekday in PORTUGUESE_SHORT_DAYS.items():
            for hit in re.finditer(rf"\b({'|'.join(PORTUGUESE_DAY_LEAD)})\s+{word}\b", clause):
                found.append((hit.start(), _next_weekday(today, weekday, clause)))
    for pattern in _DATES:
        for hit in pattern.finditer(clause):
            words = re.findall(r"[a-z]{3,}", hit.group(0))
            if not words or not words[0].startswith(MONTH_STEMS):
                continue
            if (day := _calendar_date(hit.group(0), language, now)) is not None:
                found = [(p, d) for p, d in found if not (abs(p - hit.start()) < 15)]  # "Thu 10 December": one day
                found.append((hit.start(), day))
                spans.append(hit.span())
    for hit in _NUMERIC_DATE.finditer(clause):
        day_n, month_n = int(hit.group(1)), int(hit.group(2))
        if 1 <= month_n <= 12 and 1 <= day_n <= 31:
            try:
                candidate = date(today.year, month_n, day_n)
            except ValueError:
                continue
            found.append((hit.start(), candidate if candidate >= today else candidate.replace(year=today.year + 1)))
            spans.append(hit.span())
    found.sort()
    days: list[date] = []
    for _, day in found:
        if day not in days:
            days.append(day)
    return days, spans


def _next_weekday(today: date, weekday: int, clause: str) -> date:
    if any(cue in clause for cue in NEXT_WEEK):  # "Thursday next week": in the week that starts next Monday
        return today + timedelta(days=7 - today.weekday() + weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def _calendar_date(phrase: str, language: str, now: datetime) -> date | None:
    import dateparser

    parsed = dateparser.parse(
        phrase,
        languages=list(dict.fromkeys([language, "en"])),
        settings={
            "PREFER_DATES_FROM": "future",
            "REQUIRE_PARTS": ["day", "month"],
            "RELATIVE_BASE": now.replace(tzinfo=None),
        },
    )
    return parsed.date() if parsed else None


def _times(clause: str, has_day: bool, *, short: bool = False) -> list[time]:
    """The times of day a clause names: those written as times ("2pm", "14:00", "a las 10") first; a bare number
    straight after a day ("tomorrow 3"), or alone in a short answer ("11 works"), only when there is none."""
    explicit: list[time] = []
    loose: list[time] = []
    if any(re.search(rf"\b{w}\b", clause) for w in NOON_WORDS):
        explicit.append(time(12, 0))
    numbers = _TIME.findall(clause)
    for hit in _TIME.finditer(clause):
        hour, minute = int(hit.group("h")), int(hit.group("m") or 0)
        before = clause[: hit.start()]
        marked = bool(hit.group("m") or hit.group("ap") or hit.group("unit") or _AT.search(before))
        if not marked and not (has_day and _right_after_day(before)) and not (short and len(numbers) == 1):
            continue  # a bare number ("6 pages") is no time
        if hour > 23 or minute > 59:
            continue
        after = clause[hit.end() : hit.end() + 30]
        ampm = (hit.group("ap") or "").replace(".", "")
        if ampm == "pm" or (not ampm and hour < 12 and any(w in after for w in PM_WORDS)):
            hour = hour + 12 if hour < 12 else hour
        elif ampm == "am" or any(w in after[:20] for w in AM_WORDS):
            hour = 0 if hour == 12 else hour
        elif 1 <= hour <= 7:
            hour += 12  # "at 3": working hours, so the afternoon
        (explicit if marked else loose).append(time(hour, minute))
    return explicit or loose


def _right_after_day(before: str) -> bool:
    """ "tomorrow 3", "thu 3", "jueves 10": a bare number straight after a day is its hour."""
    words = before.split()
    if not words:
        return False
    last = words[-1].strip(".,")
    return last in WEEKDAYS or last in RELATIVE_DAYS or last in ("morning", "afternoon")
