"""ORM models: tickets, their append-only event history, offers, match runs and feedback."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expert_match.db import Base, TimestampedMixin, UTCDateTime
from expert_match.experts.models import ExpertProfile
from expert_match.orgs.models import Org, User, str_enum
from expert_match.tickets.sla import Priority
from expert_match.tickets.states import TicketStatus


class OfferState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # another expert accepted, or the ticket left matching


class Ticket(TimestampedMixin, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created_at", "status", "created_at"),
        Index("ix_tickets_assigned_expert_id_status", "assigned_expert_id", "status"),
        # Every column the coordinators' queues and the experts' loads read, so they never read
        # the long rows (0008).
        Index("ix_tickets_queue", "status", "alert_basis", "alert_breach", "alert_at_risk", "priority",
              "district_code", "category", "created_at", "assigned_expert_id", "id"),
        Index("ix_tickets_status_resolved_at", "status", "resolved_at"),  # auto-close candidates
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "CDS-2026-000123": the year of filing and the id, so it is unique without a counter row
    # that every filing would have to lock.
    reference: Mapped[str | None] = mapped_column(String(24), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    # Folded title and description: duplicate detection and diacritic-insensitive search.
    search_key: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, "ticket_priority"))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="RESTRICT"), index=True)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(8), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(300))
    onsite: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    assigned_expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"))
    offer_round: Mapped[int] = mapped_column(Integer, default=0)
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    # Times the scheduler needs without reading the history: when the ticket was last resolved
    # (reopen window, auto-close) and when its status last changed.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # From when the ticket is at risk / breached if nothing more happens to it (``sla.Alerts``),
    # written with every status change so the queues need not replay every open ticket's history;
    # ``alert_basis`` fingerprints the calendar they were computed with (None: not yet computed).
    alert_at_risk: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alert_breach: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    alert_basis: Mapped[str | None] = mapped_column(String(16))
    # Optimistic locking: two concurrent changes cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    org: Mapped[Org] = relationship(lazy="raise")
    requester: Mapped[User | None] = relationship(lazy="raise")
    assigned_expert: Mapped[ExpertProfile | None] = relationship(lazy="raise")


class TicketEvent(Base):
    """Append-only history: never updated, never deleted (status times and targets derive from it)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))  # states.Actor value
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    # Internal notes are seen by coordinators and the assigned expert only.
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor_user: Mapped[User | None] = relationship(lazy="raise")


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        # An expert is offered a ticket once: a decline or an expiry moves on to someone else.
        Index("uq_offers_ticket_id_expert_id", "ticket_id", "expert_id", unique=True),
        # At most one accepted offer per ticket, whatever the application does (double accept).
        Index("uq_offers_one_accepted", "ticket_id", unique=True,
              sqlite_where=text("state = 'accepted'"), postgresql_where=text("state = 'accepted'")),
        Index("ix_offers_state_expires_at", "state", "expires_at"),
        Index("ix_offers_expert_id_state", "expert_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    round: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[OfferState] = mapped_column(str_enum(OfferState, "offer_state"))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(500))

    expert: Mapped[ExpertProfile] = relationship(lazy="raise")
    ticket: Mapped[Ticket] = relationship(lazy="raise")


class MatchRun(Base):
    """Every ranking shown or used, with each candidate's score parts (audit and evaluation)."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(32))  # offer_round, coordinator_view
    experts_considered: Mapped[int] = mapped_column(Integer)
    excluded_expert_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Feedback(Base):
    __tablename__ = "ticket_feedback"
    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("expert_profiles.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    bottleneck_removed: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketAccess(Base):
    """A coordinator's or admin's read of a ticket (personal-data accountability): who, when, how.
    Requesters and experts reading their own tickets are not logged; staff can read any."""

    __tablename__ = "ticket_accesses"
    __table_args__ = (Index("ix_ticket_accesses_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(8))  # "api" or "web"
