"""Bulk import of experts from CSV or JSON: all or nothing, every error names its line and field.

CSV columns (header row required; only ``email``, ``display_name`` and ``headline`` are mandatory):
``email, display_name, headline, bio, skills, languages, districts, onsite_possible, capacity,
affiliation_org, conflict_orgs, unavailable, active``. List cells use ``;`` between items; a skill
may carry a level after a colon (``Chữ ký số:4; ATTT:3``); leave periods are ``start/end`` in ISO
8601 (``2026-12-01/2026-12-10`` for whole days, Vietnam time). JSON is a list of objects with the
same keys, lists as JSON arrays. Orgs are named by their ``code``.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from expert_match.errors import DomainError, ImportFailed
from expert_match.experts.schemas import ExpertCreate
from expert_match.experts.service import create_expert
from expert_match.experts.skill_service import load_taxonomy
from expert_match.orgs.repository import OrgRepository, UserRepository
from expert_match.structs import Code, split_validation_error

VIETNAM_TIME = timezone(timedelta(hours=7))
MAX_RECORDS = 100_000
_TRUE = {"1", "true", "yes", "y", "có", "co", "x"}
_FALSE = {"0", "false", "no", "n", "không", "khong", ""}


class ExpertRecord(ExpertCreate):
    """An import row: like ``ExpertCreate`` but orgs are named by code, not id."""

    affiliation_org: Code | None = None
    conflict_orgs: list[Code] = []


@dataclass(frozen=True, slots=True)
class CellError:
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    skipped: int
    unrecognised_skills: dict[str, int]


def import_experts(session: Session, path: Path, now: datetime, *, skip_existing: bool = False) -> ImportReport:
    """Validate every record, then create them all in the caller's transaction, or raise ``ImportFailed``."""
    problems: list[tuple[str, str, str]] = []
    records = parse_file(path, problems)
    check_duplicate_emails(records, problems)
    orgs = OrgRepository(session).by_codes(
        code for _, r in records for code in [r.affiliation_org, *r.conflict_orgs] if code
    )
    existing = UserRepository(session).by_emails(r.email for _, r in records)
    todo: list[tuple[str, ExpertRecord]] = []
    for where, record in records:
        check_org_codes(where, record, orgs, problems)
        if record.email.lower() in existing:
            if not skip_existing:
                problems.append((where, "email", f"{record.email} is already registered (use --skip-existing)"))
            continue
        todo.append((where, record))
    if problems:
        raise ImportFailed(problems)
    taxonomy = load_taxonomy(session)
    unrecognised: dict[str, int] = {}
    for where, record in todo:
        try:
            result = create_expert(session, to_create(record, orgs), now, taxonomy)
        except DomainError as exc:
            problems.append((where, exc.field or "-", exc.message))
            continue
        for text in result.unrecognised:
            unrecognised[text] = unrecognised.get(text, 0) + 1
    if problems:
        raise ImportFailed(problems)
    return ImportReport(created=len(todo), skipped=len(records) - len(todo), unrecognised_skills=unrecognised)


def parse_file(path: Path, problems: list[tuple[str, str, str]]) -> list[tuple[str, ExpertRecord]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([("file", "-", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]) from exc
    if path.suffix.lower() == ".json":
        raw = json_rows(text)
    elif path.suffix.lower() in {".csv", ".txt"}:
        raw = csv_rows(text)
    else:
        raise ImportFailed([("file", "-", f"unsupported file type {path.suffix!r}: use .csv or .json")])
    if len(raw) > MAX_RECORDS:
        raise ImportFailed([("file", "-", f"{len(raw)} records; at most {MAX_RECORDS} per import")])
    records = []
    for where, row in raw:
        if isinstance(row, CellError):
            problems.append((where, row.field, row.message))
            continue
        try:
            records.append((where, msgspec.convert(row, ExpertRecord, strict=False)))
        except msgspec.ValidationError as exc:
            field, message = split_validation_error(str(exc))
            problems.append((where, field or "-", message))
        except (ValueError, TypeError) as exc:
            problems.append((where, "-", str(exc)))
    return records


def json_rows(text: str) -> list[tuple[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([(f"line {exc.lineno}", "-", f"invalid JSON: {exc.msg}")]) from exc
    if not isinstance(data, list):
        raise ImportFailed([("file", "-", "expected a JSON array of expert objects")])
    return [(f"item {i}", row) for i, row in enumerate(data, start=1)]


def csv_rows(text: str) -> list[tuple[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ImportFailed([("line 1", "-", "empty file: a header row is required")])
    unknown = [f for f in reader.fieldnames if f and f.strip() not in CSV_COLUMNS]
    if unknown:
        raise ImportFailed([("line 1", name, "unknown column") for name in unknown])
    rows: list[tuple[str, Any]] = []
    start = 2
    for row in reader:
        where = f"line {start}"
        start = reader.line_num + 1
        try:
            rows.append((where, csv_record(row)))
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            rows.append((where, CellError(field, message)))
    return rows


def csv_record(row: dict[str, Any]) -> dict[str, Any]:
    if None in row:
        raise ValueError("-: more cells than header columns")
    cells = {k.strip(): (v or "").strip() for k, v in row.items() if k}
    record: dict[str, Any] = {k: cells[k] for k in ("email", "display_name", "headline", "bio") if cells.get(k)}
    record["skills"] = [parse_skill(item) for item in split_list(cells.get("skills", ""))]
    for key in ("languages", "districts", "conflict_orgs"):
        if cells.get(key):
            record[key] = split_list(cells[key])
    for key in ("onsite_possible", "active"):
        if cells.get(key):
            record[key] = parse_bool(key, cells[key])
    if cells.get("capacity"):
        record["capacity"] = cells["capacity"]
    if cells.get("affiliation_org"):
        record["affiliation_org"] = cells["affiliation_org"]
    if cells.get("unavailable"):
        record["unavailable"] = [parse_period(item) for item in split_list(cells["unavailable"])]
    return record


CSV_COLUMNS = frozenset(
    {"email", "display_name", "headline", "bio", "skills", "languages", "districts", "onsite_possible",
     "capacity", "affiliation_org", "conflict_orgs", "unavailable", "active"}
)


def split_list(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def parse_skill(item: str) -> dict[str, Any]:
    name, sep, level = item.rpartition(":")
    if sep and level.strip().isdigit() and name.strip():
        return {"name": name.strip(), "level": int(level)}
    return {"name": item}


def parse_bool(field: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{field}: expected true/false (or có/không), got {value!r}")


def parse_period(item: str) -> dict[str, Any]:
    start, sep, end = item.partition("/")
    if not sep:
        raise ValueError(f"unavailable: expected start/end, got {item!r}")
    starts_at = parse_moment(start.strip(), end_of_day=False)
    ends_at = parse_moment(end.strip(), end_of_day=True)
    return {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}


def parse_moment(text: str, *, end_of_day: bool) -> datetime:
    """An ISO date is a whole day in Vietnam time (an end date includes that day)."""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), VIETNAM_TIME)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"unavailable: {text!r} is not an ISO date or date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM_TIME)


def check_duplicate_emails(records: list[tuple[str, ExpertRecord]], problems: list[tuple[str, str, str]]) -> None:
    first: dict[str, str] = {}
    for where, record in records:
        email = record.email.lower()
        if email in first:
            problems.append((where, "email", f"{email} already appears at {first[email]}"))
        first.setdefault(email, where)


def check_org_codes(where: str, record: ExpertRecord, orgs: dict[str, Any], problems: list[tuple[str, str, str]]) -> None:
    if record.affiliation_org and record.affiliation_org not in orgs:
        problems.append((where, "affiliation_org", f"no org with code {record.affiliation_org!r}"))
    for i, code in enumerate(record.conflict_orgs):
        if code not in orgs:
            problems.append((where, f"conflict_orgs[{i}]", f"no org with code {code!r}"))


def to_create(record: ExpertRecord, orgs: dict[str, Any]) -> ExpertCreate:
    fields = {name: getattr(record, name) for name in ExpertCreate.__struct_fields__}
    fields["affiliation_org_id"] = orgs[record.affiliation_org].id if record.affiliation_org else None
    fields["conflicts"] = [{"org_id": orgs[code].id} for code in dict.fromkeys(record.conflict_orgs)]
    fields["skills"] = [msgspec.to_builtins(s) for s in record.skills]
    fields["unavailable"] = [msgspec.to_builtins(p) for p in record.unavailable]
    return msgspec.convert(fields, ExpertCreate)


