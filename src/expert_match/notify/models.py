"""ORM model: the notification outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from expert_match.db import Base, UTCDateTime
from expert_match.orgs.models import str_enum


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until ``claimed_until``
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry
    SKIPPED = "skipped"  # the channel is not configured


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # One notification per event, channel and recipient, whatever retries or instances do.
        Index("uq_notifications_event_channel_recipient", "event_id", "channel", "recipient", unique=True),
        Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "notification_channel"))
    recipient: Mapped[str] = mapped_column(String(254))  # an e-mail address, or "webhook"
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[DeliveryState] = mapped_column(str_enum(DeliveryState, "delivery_state"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
