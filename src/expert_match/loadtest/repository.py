"""The load test's queries: what to read and accept, chosen from what the filing phase left."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from expert_match.experts.models import ExpertProfile
from expert_match.orgs.models import Org, User
from expert_match.tickets.models import Offer, OfferState, Ticket
from expert_match.tickets.states import TicketStatus


class LoadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def org_ids(self) -> list[int]:
        return list(self.session.scalars(select(Org.id).order_by(Org.id)))

    def count_experts(self) -> int:
        return self.session.scalar(select(func.count()).select_from(ExpertProfile)) or 0

    def expert_users(self, expert_ids: Iterable[int]) -> dict[int, User]:
        rows = self.session.execute(
            select(ExpertProfile.id, User).join(User, User.id == ExpertProfile.user_id)
            .where(ExpertProfile.id.in_(list(expert_ids)))
        )
        return {expert_id: user for expert_id, user in rows}

    def tickets_by_org(self, limit: int) -> list[tuple[int, int]]:
        """(ticket id, org id) of the newest tickets."""
        rows = self.session.execute(select(Ticket.id, Ticket.org_id).order_by(Ticket.id.desc()).limit(limit))
        return [(ticket_id, org_id) for ticket_id, org_id in rows]

    def pending_offers(self) -> list[tuple[int, int, int]]:
        """(offer id, ticket id, expert id) of every pending offer on a ticket still matching,
        best rank first."""
        rows = self.session.execute(
            select(Offer.id, Offer.ticket_id, Offer.expert_id).join(Ticket, Ticket.id == Offer.ticket_id)
            .where(Offer.state == OfferState.PENDING, Ticket.status == TicketStatus.MATCHING)
            .order_by(Offer.ticket_id, Offer.rank)
        )
        return [(offer_id, ticket_id, expert_id) for offer_id, ticket_id, expert_id in rows]

    def capacities(self) -> dict[int, int]:
        rows = self.session.execute(select(ExpertProfile.id, ExpertProfile.capacity))
        return {expert_id: capacity for expert_id, capacity in rows}

    def tickets_in(self, status: TicketStatus, limit: int) -> list[tuple[int, int, int | None]]:
        """(ticket id, org id, assigned expert id) of the oldest tickets in ``status``."""
        rows = self.session.execute(select(Ticket.id, Ticket.org_id, Ticket.assigned_expert_id)
                                    .where(Ticket.status == status).order_by(Ticket.id).limit(limit))
        return [(ticket_id, org_id, expert_id) for ticket_id, org_id, expert_id in rows]

    def count_resolved(self) -> int:
        """Resolved and closed tickets: what the similar-ticket index draws on."""
        done = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        return self.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(done))) or 0

    def count_open(self) -> int:
        ended = (TicketStatus.CLOSED, TicketStatus.CANCELLED)
        return self.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.not_in(ended))) or 0
