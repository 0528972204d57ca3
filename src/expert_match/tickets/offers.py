"""Offers: rounds to the best available experts, accept (first wins), decline, expiry, direct
assignment by a coordinator, and an expert handing a ticket back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.errors import Conflict, InvalidReference, InvalidValue, NotFound
from expert_match.experts.repository import ExpertRepository
from expert_match.matching.profiles import Match, Problem
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import MatchRun, Offer, OfferState, Ticket, TicketEvent
from expert_match.tickets.repository import TicketRepository
from expert_match.tickets.states import Actor, TicketAction, TicketStatus
from expert_match.tickets.workflow import actors_of, apply, note, record, record_note


def problem_of(ticket: Ticket) -> Problem:
    return Problem(text=f"{ticket.title}\n{ticket.description}", org_id=ticket.org_id,
                   district=ticket.district_code, onsite=ticket.onsite, language=ticket.language)


@dataclass(frozen=True, slots=True)
class Ranked:
    """Eligible experts for a ticket, best first, without those already offered or who handed it back."""

    matches: list[Match]
    excluded: frozenset[int]
    considered: int
    emails: dict[int, str | None]  # active expert -> address (None: inactive user), by user id

    def recipients(self, matches: list[Match]) -> list[str]:
        """The addresses to tell of offers to ``matches``, read with the ranking."""
        offered = {m.expert_id for m in matches}
        return [email for expert_id, email in self.emails.items() if expert_id in offered and email]


def explanation(found: Match) -> dict:
    return {
        "parts": {k: round(getattr(found.parts, k), 6) for k in ("text", "availability", "district", "feedback", "total")},
        "matched_terms": [{"term": t.term, "weight": round(t.weight, 6)} for t in found.matched_terms],
        "matched_skills": list(found.matched_skills),
    }


def rank_candidates(session: Session, desk: Desk, problem: Problem, now: datetime, k: int,
                    excluded: frozenset[int] = frozenset()) -> Ranked:
    """Reads only: filing ranks before it takes the write transaction (``service.plan_filing``)."""
    matches = desk.index.rank(problem, k + len(excluded), now=now, loads=TicketRepository(session).loads())
    # The index may lag a profile change made through another instance by a poll interval.
    active = ExpertRepository(session).active_with_emails([m.expert_id for m in matches])
    kept = [m for m in matches if m.expert_id not in excluded and m.expert_id in active][:k]
    return Ranked(matches=kept, excluded=excluded, considered=len(desk.index.ranker.expert_ids_), emails=active)


def match_run(ticket: Ticket, now: datetime, purpose: str, ranked: Ranked) -> MatchRun:
    return MatchRun(
        ticket_id=ticket.id, at=now, purpose=purpose, experts_considered=ranked.considered,
        excluded_expert_ids=sorted(ranked.excluded),
        candidates=[{"expert_id": m.expert_id, "rank": i, "score": round(m.score, 6), **explanation(m)}
                    for i, m in enumerate(ranked.matches, start=1)],
    )


def store_run(session: Session, ticket: Ticket, now: datetime, purpose: str, ranked: Ranked) -> None:
    TicketRepository(session).add_match_run(match_run(ticket, now, purpose, ranked))


@dataclass(frozen=True, slots=True)
class Round:
    """A round of offers as column values and the event that records it (``offered``)."""

    offers: list[dict]
    event: TicketEvent


def offer_round(ticket: Ticket, candidates: list[Match], desk: Desk, now: datetime) -> Round:
    """The next round of offers to ``candidates``, in memory: the ticket's round is counted on."""
    ticket.offer_round += 1
    expires = desk.calendar.add(now, timedelta(minutes=desk.offer_policy[ticket.priority.value][1]))
    rows = [{"ticket_id": ticket.id, "expert_id": m.expert_id, "round": ticket.offer_round, "rank": rank,
             "score": m.score, "explanation": explanation(m), "state": OfferState.PENDING, "offered_at": now,
             "expires_at": expires}
            for rank, m in enumerate(candidates, start=1)]
    event = note(ticket, "offered", Actor.SYSTEM, now,
                 data={"round": ticket.offer_round, "expert_ids": [m.expert_id for m in candidates],
                       "expires_at": expires.isoformat()})
    return Round(offers=rows, event=event)


def rank_for(session: Session, desk: Desk, ticket: Ticket, now: datetime, k: int, purpose: str) -> Ranked:
    """Ranked eligible experts for the ticket minus those already offered or who handed it back;
    the ranking is stored as a match run."""
    repo = TicketRepository(session)
    excluded = frozenset(repo.offered_experts(ticket.id) | repo.handed_back_by(ticket.id))
    ranked = rank_candidates(session, desk, problem_of(ticket), now, k, excluded)
    store_run(session, ticket, now, purpose, ranked)
    return ranked


def send_round(session: Session, desk: Desk, ticket: Ticket, now: datetime, *, actors: set[Actor],
               user_id: int | None = None) -> int:
    """Offer the ticket to the next best experts; ``needs_attention`` when nobody is left.
    Returns how many offers went out. (``service.file_ticket`` writes a new ticket's first round.)"""
    if ticket.status == TicketStatus.NEEDS_ATTENTION:
        apply(session, ticket, TicketAction.REMATCH, actors, now, calendar=desk.calendar, user_id=user_id)
    ranked = rank_for(session, desk, ticket, now, desk.offer_policy[ticket.priority.value][0], "offer_round")
    if not ranked.matches:
        apply(session, ticket, TicketAction.NO_CANDIDATES, {Actor.SYSTEM}, now, calendar=desk.calendar,
              data={"round": ticket.offer_round})
        return 0
    offered = offer_round(ticket, ranked.matches, desk, now)
    TicketRepository(session).add_offers(offered.offers)
    record_note(session, ticket, offered.event, now, ranked.recipients(ranked.matches))
    session.flush()
    return len(ranked.matches)


def _own_offer(session: Session, caller: Caller, offer_id: int) -> tuple[Offer, Ticket]:
    """The caller's offer and its ticket, read after locking the ticket.

    Everything that answers an offer locks the ticket row first, so concurrent answers on one
    ticket queue up instead of each locking an offer the other needs (a deadlock on PostgreSQL,
    found by the double-accept test), and each sees the other's committed result. Whose offer it
    is comes first, from one column: the offer's row is read once, after the lock."""
    repo = TicketRepository(session)
    ticket_id = repo.ticket_of_offer(offer_id, caller.expert_id) if caller.expert_id is not None else None
    ticket = repo.lock(ticket_id, skip_locked=False) if ticket_id is not None else None
    if ticket is None:
        raise NotFound(f"offer {offer_id} not found")
    return repo.fresh_offer(offer_id), ticket


def _settle(session: Session, offer: Offer, state: OfferState, now: datetime, reason: str | None = None) -> None:
    try:
        settled = TicketRepository(session).settle_offer(offer.id, state, now, reason)
    except IntegrityError as exc:  # the one-accepted-offer index: another expert won the race
        session.rollback()
        raise Conflict("another expert has already accepted this ticket", field="offer") from exc
    if not settled:
        raise Conflict(f"the offer was already answered ({_current_state(session, offer)})", field="offer")


def _current_state(session: Session, offer: Offer) -> str:
    session.refresh(offer)
    return offer.state.value


def accept(session: Session, desk: Desk, caller: Caller, offer_id: int, now: datetime) -> Ticket:
    """The first acceptance wins; every other pending offer on the ticket is withdrawn."""
    offer, ticket = _own_offer(session, caller, offer_id)
    if offer.state == OfferState.PENDING and offer.expires_at <= now:
        raise Conflict("the offer has expired", field="offer")
    # Two columns, not the whole profile with its skills and leave: this runs under the writer.
    standing = ExpertRepository(session).standing(offer.expert_id)
    repo = TicketRepository(session)
    if standing is None or not standing[0]:
        raise Conflict("your profile is inactive; reactivate it to take tickets", field="offer")
    capacity = standing[1]
    if offer.state == OfferState.PENDING and repo.load_of(offer.expert_id) >= capacity:
        raise Conflict(f"you are at capacity ({capacity} active tickets)", field="offer")
    _settle(session, offer, OfferState.ACCEPTED, now)
    ticket.assigned_expert_id = offer.expert_id
    apply(session, ticket, TicketAction.ACCEPT_OFFER, {Actor.OFFERED_EXPERT}, now, calendar=desk.calendar,
          user_id=caller.user_id,
          data={"offer_id": offer.id, "expert_id": offer.expert_id})
    repo.withdraw_pending(ticket.id, now)
    return ticket


def decline(session: Session, desk: Desk, caller: Caller, offer_id: int, reason: str | None, now: datetime) -> Offer:
    offer, ticket = _own_offer(session, caller, offer_id)
    _settle(session, offer, OfferState.DECLINED, now, reason)
    record(session, ticket, "decline_offer", Actor.OFFERED_EXPERT, now, user_id=caller.user_id,
           data={"offer_id": offer.id, "expert_id": offer.expert_id, "reason": reason})
    _next_round_if_idle(session, desk, ticket, now)
    return offer


def expire_due(session: Session, desk: Desk, ticket: Ticket, now: datetime) -> int:
    """Expire the ticket's overdue offers and move on (the scheduler holds the ticket's lock)."""
    expired = 0
    for offer in TicketRepository(session).expired_offers_of(ticket.id, now):
        if TicketRepository(session).settle_offer(offer.id, OfferState.EXPIRED, now):
            record(session, ticket, "offer_expired", Actor.SYSTEM, now,
                   data={"offer_id": offer.id, "expert_id": offer.expert_id})
            expired += 1
    if expired:
        _next_round_if_idle(session, desk, ticket, now)
    return expired


def _next_round_if_idle(session: Session, desk: Desk, ticket: Ticket, now: datetime) -> None:
    session.flush()
    if ticket.status == TicketStatus.MATCHING and TicketRepository(session).pending_count(ticket.id) == 0:
        send_round(session, desk, ticket, now, actors={Actor.SYSTEM})


def assign_directly(session: Session, desk: Desk, caller: Caller, ticket: Ticket, expert_id: int,
                    reason: str | None, now: datetime) -> Ticket:
    """A coordinator's assignment: conflicts of interest always hold; capacity may be overridden
    with a recorded reason."""
    expert = ExpertRepository(session).for_matching([expert_id])
    if not expert:
        raise InvalidReference(f"expert {expert_id} does not exist", field="expert_id")
    profile = expert[0]
    if not profile.active:
        raise Conflict(f"expert {expert_id} is inactive", field="expert_id")
    if profile.affiliation_org_id == ticket.org_id or ticket.org_id in {c.org_id for c in profile.conflicts}:
        raise Conflict(f"expert {expert_id} has a conflict of interest with the requesting org", field="expert_id")
    load = TicketRepository(session).load_of(expert_id)
    over_capacity = load >= profile.capacity and ticket.assigned_expert_id != expert_id
    if over_capacity and not reason:
        raise InvalidValue(f"expert {expert_id} is at capacity ({load}/{profile.capacity}); "
                           "give a reason to override", field="reason")
    ticket.assigned_expert_id = expert_id
    apply(session, ticket, TicketAction.ASSIGN, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id,
          body=reason, data={"expert_id": expert_id, "capacity_override": over_capacity})
    TicketRepository(session).withdraw_pending(ticket.id, now)
    return ticket


def hand_back(session: Session, desk: Desk, caller: Caller, ticket: Ticket, reason: str, now: datetime) -> Ticket:
    """The assigned expert gives the ticket back; it is matched again without them."""
    expert_id = ticket.assigned_expert_id
    apply(session, ticket, TicketAction.HAND_BACK, actors_of(caller, ticket), now, calendar=desk.calendar,
          user_id=caller.user_id,
          body=reason, data={"expert_id": expert_id})
    ticket.assigned_expert_id = None
    send_round(session, desk, ticket, now, actors={Actor.SYSTEM})
    return ticket
