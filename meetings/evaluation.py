"""How well answers to a meeting offer are read, on a labelled CSV (language, text, kind, expected local time):
of the answers that name one time, the share read as exactly that time; and how many were read as a time they did
not name (the number that must be zero). The context is fixed: written on Monday 7 December 2026 at 09:00 in
London, after an offer of Tuesday 10:00, Wednesday 14:30 and Thursday 11:00."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from meetings.answers import meeting_answer_read

ZONE = "Europe/London"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo(ZONE))
OFFERED = [datetime(2026, 12, d, h, m, tzinfo=ZoneInfo(ZONE)) for d, h, m in ((8, 10, 0), (9, 14, 30), (10, 11, 0))]
DEFAULT_SET = Path(__file__).resolve().parent / "eval" / "meeting_answers.csv"


@dataclass
class AnswerScores:
    n: int = 0
    naming_one: int = 0
    matched: int = 0
    wrong_time: int = 0  # read as a time it did not name
    kind_right: int = 0
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def matched_share(self) -> float:
        return self.matched / self.naming_one if self.naming_one else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "naming_one_time": self.naming_one,
            "matched": self.matched,
            "matched_share": round(self.matched_share, 4),
            "read_as_a_time_not_named": self.wrong_time,
            "kind_accuracy": round(self.kind_right / self.n, 4) if self.n else 0.0,
            "by_language": self.by_language,
            "errors": self.errors,
        }


def evaluate_meeting_answers(path: Path = DEFAULT_SET) -> AnswerScores:
    scores = AnswerScores()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            reading = meeting_answer_read(row["text"], language=row["language"], offered=OFFERED, zone=ZONE, now=NOW)
            got = reading.start.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M") if reading.start else ""
            expected = row["expected"].strip()
            language = scores.by_language.setdefault(row["language"], {"n": 0, "matched": 0, "naming_one": 0})
            scores.n += 1
            language["n"] += 1
            scores.kind_right += reading.kind == row["kind"]
            if expected:
                scores.naming_one += 1
                language["naming_one"] += 1
                if got == expected:
                    scores.matched += 1
                    language["matched"] += 1
            if got and got != expected:
                scores.wrong_time += 1
            if got != expected or reading.kind != row["kind"]:
                scores.errors.append(
                    {"text": row["text"], "expected": f"{row['kind']} {expected}", "got": f"{reading.kind} {got}"}
                )
    return scores
