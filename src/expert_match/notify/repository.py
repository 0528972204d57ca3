"""Queries on the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from expert_match.db.prepared import connection_of, insert_row
from expert_match.notify.models import DeliveryState, Notification


# Prepared on the table: the ORM's bulk insert cost more than the statement on SQLite.
_INSERT = insert_row(Notification.__table__)
_UNSENT = {"claimed_until": None, "sent_at": None, "last_error": None}  # a new row's delivery columns


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_all(self, rows: Sequence[dict[str, Any]]) -> None:
        """Notifications as column values, in one statement. Added as objects, each was an
        INSERT of its own on SQLite: the ORM reads new ids back, and SQLite cannot tell which
        returned id belongs to which row of a batch. Nothing reads these ids in the transaction."""
        if rows:
            _INSERT.write_many(connection_of(self.session), [{**_UNSENT, **row} for row in rows])

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
