"""Work to run only once a transaction has committed (e.g. refresh the matcher's index)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

_KEY = "after_commit"
log = logging.getLogger("expert_match.db")


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` after ``session`` commits; dropped if it rolls back."""
    session.info.setdefault(_KEY, []).append(callback)


def run_after_commit(session: Session) -> None:
    """Run the callbacks. The data is already committed, so a failing callback is logged and
    never turns the (successful) request into an error."""
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - logged; the commit stands
            log.exception("after-commit callback %r failed", callback)


def has_after_commit(session: Session) -> bool:
    return bool(session.info.get(_KEY))


def discard_after_commit(session: Session) -> None:
    session.info.pop(_KEY, None)
