"""Offset pagination and allowlisted sorting shared by the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Window:
    limit: int = 50
    offset: int = 0
    sort: str = "id"


def order_clauses(sort: str, columns: Mapping[str, Any], tie_breaker: Any) -> list[Any]:
    """Turn ``"-name"`` into ``[name DESC, id ASC]``. Keys outside ``columns`` raise ``KeyError``.

    The API validates sort keys against the same allowlist first; the tie-breaker makes pages
    deterministic when many rows share a value.
    """
    descending = sort.startswith("-")
    column = columns[sort.lstrip("-")]
    return [column.desc() if descending else column.asc(), tie_breaker.asc()]


def fetch_page(session: Session, query: Select[Any], window: Window, order: Sequence[Any]) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.order_by(*order).limit(window.limit).offset(window.offset)).unique().all()
    return list(rows), int(total)
