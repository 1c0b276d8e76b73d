"""Streaming CSV import of leads: constant memory for any number of rows.

The file is read twice, a chunk at a time: once to detect its encoding (UTF-8, UTF-8 with a BOM, else Latin-1),
then row by row. Every row is validated; valid rows are written in batches (one short transaction each, see
`leads_import_batch`), the others go to a line-numbered error report. Each row's identity is a hash of its content,
so importing the same file again (or an overlapping export) adds nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from leads.contacts import InvalidPhone, normalize_email, normalize_phone
from leads.mapping import LEAD_FIELDS, field_for, normalize_key
from leads.models import InboundMessage, Lead
from leads.serializers import MAX_MESSAGE_CHARS


def _max_length(model: type[Lead] | type[InboundMessage], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


MAX_LENGTHS = {
    **{f: _max_length(Lead, f) for f in ("name", "email", "phone", "company")},
    "subject": _max_length(InboundMessage, "subject"),
    "message": MAX_MESSAGE_CHARS,  # the same limit as the API's
}
IMPORT_FIELDS = (*LEAD_FIELDS, "first_name", "last_name")
csv.field_size_limit(1_000_000)


class CsvImportError(Exception):
    """The file as a whole cannot be imported (no header, no usable column, unknown --map field)."""


@dataclass
class ImportRow:
    line: int
    name: str
    email: str
    phone: str
    company: str
    subject: str
    message: str
    metadata: dict[str, str]
    row_id: str


@dataclass
class ImportReport:
    encoding: str = ""
    delimiter: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # header -> lead field
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    attached: int = 0
    duplicates: int = 0
    first_errors: list[str] = field(default_factory=list)

    def summary(self, *, dry_run: bool = False) -> str:
        if dry_run:
            return f"{self.rows} rows: {self.valid} valid, {self.invalid} with errors (dry run: nothing written)"
        return (
            f"{self.rows} rows: {self.created} new leads, {self.attached} added to known leads, "
            f"{self.duplicates} already imported, {self.invalid} with errors"
        )


def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """utf-8-sig when the file starts with a BOM (utf-16 with its BOM); utf-8 when every byte decodes as UTF-8;
    else latin-1. A file with NUL bytes and no UTF-16 BOM is not a text CSV (a spreadsheet, say) and is refused."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head:
            raise CsvImportError(
                "This is not a text CSV file (it contains NUL bytes: an Excel or other binary file?). "
                "Save it as 'CSV UTF-8' and import that."
            )
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def detect_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(",;\t", key=header.count)


def map_columns(headers: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """Each header's lead field: `--map col=field` first, else the header's common name; others become metadata."""
    unknown = {f for f in overrides.values() if f not in IMPORT_FIELDS}
    if unknown:
        raise CsvImportError(
            f"--map names unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(IMPORT_FIELDS)}"
        )
    missing = [col for col in overrides if col not in headers and normalize_key(col) not in map(normalize_key, headers)]
    if missing:
        raise CsvImportError(f"--map names column(s) not in the file: {', '.join(missing)}")
    by_key = {normalize_key(col): field_name for col, field_name in overrides.items()}
    columns: dict[str, str] = {}
    for header in headers:
        target = overrides.get(header) or by_key.get(normalize_key(header)) or field_for(header)
        if target and target not in columns.values():
            columns[header] = target
    if not {"email", "phone"} & set(columns.values()):
        raise CsvImportError(
            f"No email or phone column among: {', '.join(headers)}. Map one with --map COLUMN=email (or phone)."
        )
    return columns


def validate_row(line: int, values: dict[str, str], columns: dict[str, str]) -> tuple[ImportRow | None, list[str]]:
    """The row as a lead, or the reasons it cannot be one ("field: problem")."""
    data = {f: "" for f in IMPORT_FIELDS}
    metadata: dict[str, str] = {}
    for header, value in values.items():
        value = (value or "").strip()
        if header in columns:
            data[columns[header]] = value
        elif value and header:
            metadata[header[:100]] = value[:1000]
    if not data["name"] and (data["first_name"] or data["last_name"]):
        data["name"] = f"{data['first_name']} {data['last_name']}".strip()
    errors = [f"{f}: longer than {n} characters" for f, n in MAX_LENGTHS.items() if len(data[f]) > n]
    email = normalize_email(data["email"])
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"email: '{email[:80]}' is not an email address")
    try:
        phone = normalize_phone(data["phone"])
    except InvalidPhone as exc:
        errors.append(f"phone: '{data['phone'][:40]}': {exc}")
        phone = ""
    if not email and not phone and not any(e.startswith(("email", "phone")) for e in errors):
        errors.append("email/phone: the row has neither an email address nor a phone number")
    if errors:
        return None, errors
    identity = "\x1f".join([email.lower(), phone, data["subject"], data["message"], data["name"], data["company"]])
    row_id = "csv:" + hashlib.sha256(identity.encode()).hexdigest()[:40]
    return ImportRow(
        line, data["name"], email, phone, data["company"], data["subject"], data["message"], metadata, row_id
    ), []


class _CountingReader(io.RawIOBase):
    """Wraps the binary file to report how many bytes have been read (for progress bars and the admin page)."""

    def __init__(self, raw, on_read: Callable[[int], None] | None):
        self.raw, self.on_read = raw, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n and self.on_read:
            self.on_read(n)
        return n


def read_rows(
    path: Path, *, encoding: str, delimiter: str, on_bytes: Callable[[int], None] | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]], TextIO]:
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned text handle
    text = io.TextIOWrapper(io.BufferedReader(_CountingReader(raw, on_bytes), 1 << 16), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        text.close()
        raise CsvImportError("The file is empty.") from None
    if not any(headers):
        text.close()
        raise CsvImportError("The first line must name the columns.")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        previous = reader.line_num
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if len(record) > len(headers):
                yield start, {"\x00extra": "x", **dict(zip(headers, record, strict=False))}
                continue
            yield start, dict(zip(headers, record + [""] * (len(headers) - len(record)), strict=True))

    return headers, rows(), text


def import_csv(
    path: Path,
    *,
    write_batch: Callable[[list[ImportRow]], tuple[int, int, int]] | None,
    column_overrides: dict[str, str] | None = None,
    batch_size: int = 1000,
    errors_out: TextIO | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Validate every row and hand valid ones to `write_batch` (None: a dry run) in batches; invalid rows go to
    `errors_out` as `line,field,error` CSV. Returns the counts."""
    report = ImportReport(encoding=detect_encoding(path))
    with open(path, encoding=report.encoding, newline="") as handle:
        report.delimiter = detect_delimiter(handle.read(64 * 1024))
    headers, rows, text = read_rows(path, encoding=report.encoding, delimiter=report.delimiter, on_bytes=on_bytes)
    errors = csv.writer(errors_out) if errors_out is not None else None
    if errors:
        errors.writerow(["line", "field", "error"])
    batch: list[ImportRow] = []

    def flush() -> None:
        if batch and write_batch is not None:
            created, attached, duplicates = write_batch(batch)
            report.created += created
            report.attached += attached
            report.duplicates += duplicates
        batch.clear()
        if on_batch:
            on_batch(report)

    with text:
        report.columns = map_columns(headers, column_overrides or {})
        for line, values in rows:
            report.rows += 1
            if values.pop("\x00extra", None):
                row, problems = None, [f"row: more cells than the {len(headers)} columns of the header"]
            else:
                row, problems = validate_row(line, values, report.columns)
            if row is None:
                report.invalid += 1
                for problem in problems:
                    name, _, message = problem.partition(": ")
                    if errors:
                        errors.writerow([line, name, message])
                    if len(report.first_errors) < 20:
                        report.first_errors.append(f"line {line}: {problem}")
                continue
            report.valid += 1
            batch.append(row)
            if len(batch) >= batch_size:
                flush()
        flush()
    return report
