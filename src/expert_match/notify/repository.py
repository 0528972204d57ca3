"""Queries on the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from expert_match.notify.models import DeliveryState, Notification


class NotificationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, notification: Notification) -> Notification:
        self.session.add(notification)
        return notification

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
