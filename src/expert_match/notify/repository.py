"""Queries on the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from expert_match.notify.models import DeliveryState, Notification


# On the table, built once: the ORM's bulk insert costs more than the statement on SQLite.
_INSERT = insert(Notification.__table__)


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_all(self, rows: Sequence[dict[str, Any]]) -> None:
        """Notifications as column values, in one statement. Added as objects, each was an
        INSERT of its own on SQLite: the ORM reads new ids back, and SQLite cannot tell which
        returned id belongs to which row of a batch. Nothing reads these ids in the transaction."""
        if rows:
            self.session.execute(_INSERT, list(rows))

    def claimable(self, now: datetime, limit: int) -> list[Notification]:
        """Due notifications, locked for this transaction; rows another worker holds are skipped
        (PostgreSQL); a claim whose worker died is taken over once it lapses."""
        due = or_(
            (Notification.state == DeliveryState.PENDING) & (Notification.next_attempt_at <= now),
            (Notification.state == DeliveryState.SENDING) & (Notification.claimed_until <= now),
        )
        query = select(Notification).where(due).order_by(Notification.id).limit(limit)
        return list(self.session.scalars(query.with_for_update(skip_locked=True)))

    def get(self, notification_id: int) -> Notification | None:
        return self.session.get(Notification, notification_id)

    def all(self) -> list[Notification]:
        return list(self.session.scalars(select(Notification).order_by(Notification.id)))
