"""Flush helpers: constraint violations become a named ``Conflict`` inside the request."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from expert_match.errors import Conflict


def flush_or_conflict(session: Session, message: str, *, field: str | None = None) -> None:
    """Flush now so a duplicate or stale row is reported as 409 before the handler returns."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(message, field=field) from exc
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("the object was changed by someone else; reload it and try again") from exc
