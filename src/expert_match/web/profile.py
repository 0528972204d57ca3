"""The expert's own profile form: what it sends, turned into the API's ``ExpertUpdate``.

Skills are rows of (name, level): the name box offers the taxonomy's names (a datalist), and the
server's fuzzy skill matcher understands "cks" or "chu ky so" too; the page then shows what each
typed name was recognised as. Leave is given as whole days in Da Nang time; an end day counts
in full.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import msgspec

from expert_match.experts.models import ExpertProfile
from expert_match.experts.schemas import ExpertUpdate
from expert_match.timeutil import CITY_TIME
from expert_match.web.forms import FormErrors

EMPTY_SKILL_ROWS = 3
_PATH = re.compile(r"at `\$\.(\w+)")


def skill_rows(profile: ExpertProfile) -> list[dict[str, Any]]:
    rows = [{"name": s.skill.name_vi if s.skill else (s.free_text or ""), "level": s.level} for s in profile.skills]
    return rows + [{"name": "", "level": 3} for _ in range(EMPTY_SKILL_ROWS)]


def leave_rows(profile: ExpertProfile) -> list[dict[str, Any]]:
    return [{"start": period.starts_at.astimezone(CITY_TIME).date().isoformat(),
             "end": (period.ends_at.astimezone(CITY_TIME) - timedelta(seconds=1)).date().isoformat(),
             "reason": period.reason or ""} for period in profile.leave]


def day_start(text: str, field: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), CITY_TIME)
    except ValueError as exc:
        raise FormErrors({field: "YYYY-MM-DD"}) from exc


def _leave(form: dict[str, Any]) -> list[dict[str, Any]]:
    periods = []
    index = 0
    while f"leave_start_{index}" in form:
        if form.get(f"leave_remove_{index}") != "on":
            periods.append((str(form[f"leave_start_{index}"]), str(form.get(f"leave_end_{index}", "")),
                            str(form.get(f"leave_reason_{index}", "")).strip()))
        index += 1
    new_start, new_end = str(form.get("new_leave_start", "")).strip(), str(form.get("new_leave_end", "")).strip()
    if new_start or new_end:
        periods.append((new_start, new_end or new_start, str(form.get("new_leave_reason", "")).strip()))
    out = []
    for start, end, reason in periods:
        starts_at, ends_at = day_start(start, "leave"), day_start(end, "leave") + timedelta(days=1)
        if ends_at <= starts_at:
            raise FormErrors({"leave": "end before start"})
        out.append({"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "reason": reason or None})
    return out


def profile_update(form: dict[str, Any]) -> ExpertUpdate:
    """The submitted profile form as an ``ExpertUpdate`` (every list replaces the one held), or
    ``FormErrors`` naming the field."""
    skills = []
    index = 0
    while f"skill_{index}" in form:
        name = str(form[f"skill_{index}"]).strip()
        if name:
            skills.append({"name": name, "level": str(form.get(f"level_{index}", "3"))})
        index += 1
    values: dict[str, Any] = {
        "version": str(form.get("version", "")),
        "headline": str(form.get("headline", "")).strip(),
        "bio": str(form.get("bio", "")).strip(),
        "capacity": str(form.get("capacity", "")),
        "skills": skills,
        "unavailable": _leave(form),
    }
    try:
        return msgspec.convert(values, ExpertUpdate, strict=False)
    except msgspec.ValidationError as exc:
        found = _PATH.search(str(exc))
        field = {"unavailable": "leave"}.get(found.group(1), found.group(1)) if found else "headline"
        raise FormErrors({field: str(exc).split(" - at ")[0]}) from exc
