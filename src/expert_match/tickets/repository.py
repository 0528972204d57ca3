"""Every query on tickets, their events, offers, match runs and feedback."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (Integer, Select, bindparam, case, exists, func, literal_column, null, or_, select, text,
                        type_coerce, union_all, update)
from sqlalchemy.orm import Session, joinedload

from expert_match.db.paging import Window, fetch_page, order_clauses
from expert_match.db.planning import unindexed
from expert_match.db.prepared import Prepared, connection_of, insert_row, row_columns
from expert_match.experts.models import ExpertProfile
from expert_match.orgs.models import Org, User
from expert_match.tickets.models import Feedback, MatchRun, Offer, OfferState, Ticket, TicketAccess, TicketEvent
from expert_match.tickets.sla import Priority
from expert_match.tickets.states import WORKING_STATES, TicketStatus


# Ids per IN (...) list: SQLite refuses a statement with more than 32,766 bound variables.
IN_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Scope:
    """What a caller may see: staff everything; a requester their org; an expert what was offered
    or assigned to them. Applied to every ticket query, so a foreign ticket is simply not found."""

    org_id: int | None = None
    expert_id: int | None = None
    everything: bool = False


@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: tuple[TicketStatus, ...] = ()
    priority: str | None = None
    category: str | None = None
    district_code: str | None = None
    org_id: int | None = None
    assigned_expert_id: int | None = None
    query: str | None = None  # folded text


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open tickets a queue section lists, and in what order: "id", "oldest" (filed
    first), "newest" or "priority" (urgent first, then oldest). Ties go to the ticket id."""

    district_code: str | None = None
    category: str | None = None
    order: str = "id"


QUEUE_ORDERS = ("id", "oldest", "newest", "priority")
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
_BRIEF_COLUMNS = tuple(Ticket.__table__.c[name] for name in ("id", "status", "priority", "district_code", "category",
                                                             "created_at", "alert_at_risk", "alert_breach",
                                                             "alert_basis"))


def _queue_order(order: str) -> tuple:
    tickets = Ticket.__table__.c
    if order == "oldest":
        return (tickets.created_at, tickets.id)
    if order == "newest":
        return (tickets.created_at.desc(), tickets.id.desc())
    if order == "priority":
        return (case(PRIORITY_RANK, value=tickets.priority), tickets.created_at, tickets.id)
    return (tickets.id,)


def _queue_conditions(district: bool, category: bool) -> list:
    """Open tickets in the bound ``statuses``, of the bound ``district`` and ``category`` when
    given. Through the covering index on status: SQLite, without statistics, took the district's
    or the category's own index and read the tickets' rows (``db.planning``)."""
    tickets = Ticket.__table__.c
    conditions = [tickets.status.in_(bindparam("statuses", expanding=True))]
    if district:
        conditions.append(unindexed(tickets.district_code) == bindparam("district"))
    if category:
        conditions.append(unindexed(tickets.category) == bindparam("category"))
    return conditions


def _queue_params(statuses: Iterable[TicketStatus], chosen: QueueFilter) -> dict[str, Any]:
    return {"statuses": list(statuses), "district": chosen.district_code, "category": chosen.category}


# A queue page runs a dozen statements; built per call through the ORM, they cost more Python
# than the database took to answer them (about 0.6 ms each), so each variant is built once.
@functools.cache
def _open_briefs(district: bool, category: bool, stale: bool) -> Prepared:
    conditions = _queue_conditions(district, category)
    if stale:
        basis = Ticket.__table__.c.alert_basis
        conditions.append(or_(basis.is_(None), basis != bindparam("basis")))
    return Prepared(select(*_BRIEF_COLUMNS).where(*conditions).order_by(Ticket.__table__.c.id))


@functools.cache
def _queue_section(district: bool, category: bool, alert: str | None, order: str) -> tuple[Prepared, Prepared]:
    """The section's count and its first ``limit`` tickets."""
    tickets = Ticket.__table__.c
    conditions = _queue_conditions(district, category)
    if alert is not None:
        conditions.append(tickets.alert_basis == bindparam("basis"))
        now = bindparam("now", type_=tickets.alert_breach.type)
        if alert == "breached":
            conditions.append(tickets.alert_breach <= now)
        else:
            conditions += [tickets.alert_at_risk <= now, or_(tickets.alert_breach.is_(None), tickets.alert_breach > now)]
    count = Prepared(select(func.count()).select_from(Ticket.__table__).where(*conditions))
    first = select(*_BRIEF_COLUMNS).where(*conditions).order_by(*_queue_order(order))
    return count, Prepared(first.limit(bindparam("limit", type_=Integer)))


# Priority sorts by urgency, low to urgent ("-priority": urgent first), not by its stored text,
# which put "high" before "low" and "urgent" last.
SORT_COLUMNS = {"id": Ticket.id, "created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
                "priority": case({p: 3 - rank for p, rank in PRIORITY_RANK.items()}, value=Ticket.priority),
                "status": Ticket.status}


@dataclass(frozen=True, slots=True)
class TicketBrief:
    id: int
    status: TicketStatus
    priority: Priority
    district_code: str | None
    category: str | None
    created_at: datetime
    # The stored ``sla.Alerts`` and the calendar fingerprint they were computed with.
    alert_at_risk: datetime | None = None
    alert_breach: datetime | None = None
    alert_basis: str | None = None


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as a reader sees it: its fields, its org's name, and the (time, kind, new status)
    of its status changes and advice, in order, which its service targets are computed from."""

    id: int
    reference: str | None
    title: str
    description: str
    category: str | None
    priority: Priority
    status: TicketStatus
    org_id: int
    org_name: str
    requester_id: int | None
    district_code: str | None
    ward_code: str | None
    location: str | None
    onsite: bool
    assigned_expert_id: int | None
    merged_into_id: int | None
    resolution_summary: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    changes: tuple[tuple[datetime, str, str | None], ...]


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- tickets ---------------------------------------------------------------------------------
    def get(self, ticket_id: int, scope: Scope) -> Ticket | None:
        query = _ticket_by_id(scope.everything, scope.org_id is not None, scope.expert_id is not None)
        params = {"ticket_id": ticket_id, "org_id": scope.org_id, "expert_id": scope.expert_id}
        return self.session.scalars(query, params).one_or_none()

    def view(self, ticket_id: int, scope: Scope) -> TicketView | None:
        """The ticket with its org's name and its history, for reads that only show it: one Core
        statement on the session's connection (``_ticket_view``). The ORM's load of ticket and
        org and its history query cost 0.38 ms of a 1 ms ticket read (in one process):
        ``Session.execute`` takes the ORM's row path even for a Core select (87 against 44 us
        for the same statement)."""
        query = _ticket_view(scope.everything, scope.org_id is not None, scope.expert_id is not None)
        params = {"ticket_id": ticket_id, "org_id": scope.org_id, "expert_id": scope.expert_id}
        rows = query.all(connection_of(self.session), params)
        if not rows:
            return None
        ticket, *history = rows
        return TicketView(*ticket[1:_VIEW_END], changes=tuple(row[_VIEW_END + 1:] for row in history))

    def views(self, ticket_ids: Sequence[int]) -> list[TicketView]:
        """``view`` for many tickets (any org's: for staff), in the order of ``ticket_ids``: two
        Core statements, the tickets with their orgs' names and their histories. A queue page
        shows up to 200; loading them as ORM objects with their orgs cost it 3.9 ms of 17."""
        if not ticket_ids:
            return []
        connection = connection_of(self.session)
        rows = {row[0]: row for row in _TICKET_VIEWS.all(connection, {"ids": list(ticket_ids)})}
        changes = self.status_changes(list(rows))
        return [TicketView(*rows[i], changes=tuple(changes[i])) for i in ticket_ids if i in rows]

    def reload(self, ticket_id: int) -> Ticket:
        """The ticket as now stored, with its org (after changes made in this session)."""
        query = (select(Ticket).options(joinedload(Ticket.org)).where(Ticket.id == ticket_id)
                 .execution_options(populate_existing=True))
        return self.session.scalars(query).one()

    def get_by_reference(self, reference: str, scope: Scope) -> Ticket | None:
        query = self._scoped(select(Ticket), scope).where(Ticket.reference == reference)
        return self.session.scalars(query.options(joinedload(Ticket.org))).one_or_none()

    def list(self, scope: Scope, filters: TicketFilter, window: Window) -> tuple[list[TicketView], int]:
        """A page of the tickets in ``scope`` that pass ``filters``, as views, and how many pass:
        the page's ids first, then ``views``. Loading a page of 100 as ORM objects with their orgs
        cost about as much as the rest of the list (see ``views``)."""
        query = self._filtered(self._scoped(select(Ticket.id), scope), filters)
        ids, total = fetch_page(self.session, query, window, order_clauses(window.sort, SORT_COLUMNS, Ticket.id))
        return self.views(ids), total

    def matching(self, scope: Scope, filters: TicketFilter) -> list[Ticket]:
        query = self._filtered(self._scoped(select(Ticket), scope), filters).options(joinedload(Ticket.org))
        return list(self.session.scalars(query.order_by(Ticket.id)))

    def _scoped(self, query: Select, scope: Scope) -> Select:
        return _scoped(query, scope.everything, scope.org_id, scope.expert_id)

    @staticmethod
    def _filtered(query: Select, filters: TicketFilter) -> Select:
        if filters.statuses:
            query = query.where(Ticket.status.in_(filters.statuses))
        if filters.priority:
            query = query.where(Ticket.priority == filters.priority)
        if filters.category:
            query = query.where(Ticket.category == filters.category)
        if filters.district_code:
            query = query.where(Ticket.district_code == filters.district_code)
        if filters.org_id is not None:
            query = query.where(Ticket.org_id == filters.org_id)
        if filters.assigned_expert_id is not None:
            query = query.where(Ticket.assigned_expert_id == filters.assigned_expert_id)
        if filters.query:
            query = query.where(Ticket.search_key.contains(filters.query, autoescape=True))
        return query

    def same_org_recent(self, org_id: int, since: datetime) -> list[tuple[int, str]]:
        """(id, search key) of the org's tickets filed since ``since`` (duplicate candidates),
        newest first: keys only, as most candidates are compared and dropped."""
        rows = _SAME_ORG_RECENT.all(connection_of(self.session), {"org_id": org_id, "since": since})
        return [(ticket_id, key) for ticket_id, key in rows]

    def by_ids(self, ticket_ids: Iterable[int]) -> list[Ticket]:
        ids = list(ticket_ids)
        if not ids:
            return []
        return list(self.session.scalars(select(Ticket).where(Ticket.id.in_(ids))))

    def open_briefs(self, statuses: Iterable[TicketStatus], *, stale_for: str | None = None,
                    chosen: QueueFilter = QueueFilter()) -> list[TicketBrief]:
        """What the queues need of every open ticket, without its text (thousands of them); with
        ``stale_for``, only those whose alert instants were computed on another calendar basis,
        or never (the scheduler fills them in, so there are few)."""
        statement = _open_briefs(chosen.district_code is not None, chosen.category is not None, stale_for is not None)
        rows = statement.all(connection_of(self.session), {**_queue_params(statuses, chosen), "basis": stale_for})
        return [TicketBrief(*row) for row in rows]

    def queue_section(self, statuses: Iterable[TicketStatus], chosen: QueueFilter, limit: int, *,
                      alert: str | None = None, now: datetime | None = None,
                      basis: str | None = None) -> tuple[list[TicketBrief], int]:
        """The first ``limit`` open tickets of a queue in the chosen order, and how many it holds.
        ``alert`` ("at_risk" or "breached") keeps the tickets whose stored instants, computed on
        ``basis``, put them there at ``now`` (as ``sla.Alerts.state``); stale ones are the
        caller's to replay."""
        count, first = _queue_section(chosen.district_code is not None, chosen.category is not None, alert,
                                      chosen.order)
        connection = connection_of(self.session)
        params = {**_queue_params(statuses, chosen), "basis": basis, "now": now, "limit": limit}
        [(total,)] = count.all(connection, params)
        return [TicketBrief(*row) for row in first.all(connection, params)], int(total or 0)

    def open_counts(self, statuses: Iterable[TicketStatus]) -> list[tuple[str | None, str | None, int]]:
        """(district code, category, tickets) of the tickets in ``statuses``, None where a ticket
        has none: one pass over the open tickets serves both of the desk's tallies."""
        rows = _OPEN_COUNTS.all(connection_of(self.session), {"statuses": list(statuses)})
        return [(district, category, int(count)) for district, category, count in rows]

    def most_loaded(self, limit: int | None) -> list[tuple[int, str, int, int]]:
        """(expert id, name, active tickets, capacity) of active experts, most loaded relative to
        capacity first (no capacity counts as full), then by id; the first ``limit``. A city has
        thousands of experts and the desk shows a few, so only those who can be among them are
        read: the busy ones, those with no capacity, and the first ``limit`` idle ones by id (one
        ordered query over every expert cost the queue page more than the rest of it)."""
        connection = connection_of(self.session)
        busy, full = _BUSY_EXPERTS.all(connection), _FULL_IDLE_EXPERTS.all(connection)
        rest = _idle_experts(limit is not None).all(connection, {"limit": limit})
        loaded = [(int(i), str(n), int(x), int(c)) for i, n, c, x in busy]
        loaded += [(int(i), str(n), 0, int(c)) for i, n, c in full]
        loaded.sort(key=lambda row: (-(row[2] / row[3] if row[3] > 0 else 1.0), row[0]))
        loaded += [(int(i), str(n), 0, int(c)) for i, n, c in rest]
        return loaded[:limit]

    def stale_alerts(self, statuses: Iterable[TicketStatus], basis: str, limit: int) -> list[int]:
        """Tickets whose alert instants were computed on another calendar, or never."""
        query = (select(Ticket.id).where(Ticket.status.in_(list(statuses)),
                                         or_(Ticket.alert_basis.is_(None), Ticket.alert_basis != basis))
                 .order_by(Ticket.id).limit(limit))
        return list(self.session.scalars(query))

    def loads(self) -> dict[int, int]:
        """Active tickets per expert (what counts against capacity)."""
        return {int(expert): int(count) for expert, count in _LOADS.all(connection_of(self.session))}

    def load_of(self, expert_id: int) -> int:
        return int(_LOAD_OF.all(connection_of(self.session), {"expert_id": expert_id})[0][0] or 0)

    def resolved_quietly_before(self, moment: datetime, limit: int) -> list[int]:
        """Resolved tickets whose resolution is older than ``moment`` (auto-close candidates)."""
        query = (select(Ticket.id).where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at <= moment)
                 .order_by(Ticket.id).limit(limit))
        return list(self.session.scalars(query))

    def lock(self, ticket_id: int, *, skip_locked: bool) -> Ticket | None:
        """The ticket row locked for this transaction (``FOR UPDATE``; on SQLite the writer's
        ``BEGIN IMMEDIATE`` already serialises writers and the clause is ignored)."""
        query = (select(Ticket).where(Ticket.id == ticket_id).with_for_update(skip_locked=skip_locked)
                 .execution_options(populate_existing=True))
        return self.session.scalars(query).one_or_none()

    # -- events ------------------------------------------------------------------------------------
    def add_event(self, event: TicketEvent) -> TicketEvent:
        self.session.add(event)
        return event

    def insert_new(self, ticket: Ticket) -> int:
        """A new ticket's row from the unattached ``ticket`` (every column set); returns its id.
        A filing writes its rows as column values, not through the unit of work
        (``service.file_ticket``)."""
        return int(_INSERT_TICKET.all(connection_of(self.session), _values(ticket, _TICKET_COLUMNS))[0][0])

    def update_filed(self, ticket: Ticket) -> None:
        """A ticket being filed, as its first round left it: reference, status, round, alerts."""
        _UPDATE_FILED.write(connection_of(self.session), {"ticket_id": ticket.id, **_values(ticket, _FILED_COLUMNS)})

    def insert_event(self, event: TicketEvent) -> int:
        """An unattached event's row; returns its id (notifications are keyed by it)."""
        return int(_INSERT_EVENT.all(connection_of(self.session), _values(event, _EVENT_COLUMNS))[0][0])

    def insert_match_run(self, run: MatchRun) -> None:
        _INSERT_MATCH_RUN.write(connection_of(self.session), _values(run, _MATCH_RUN_COLUMNS))

    def event(self, event_id: int) -> TicketEvent:
        query = select(TicketEvent).options(joinedload(TicketEvent.actor_user)).where(TicketEvent.id == event_id)
        return self.session.scalars(query.execution_options(populate_existing=True)).one()

    def events(self, ticket_id: int, *, include_internal: bool) -> list[TicketEvent]:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
        if not include_internal:
            query = query.where(TicketEvent.internal.is_(False))
        return list(self.session.scalars(query.options(joinedload(TicketEvent.actor_user)).order_by(TicketEvent.id)))

    def recorded_breaches(self, ticket_ids: Iterable[int]) -> dict[int, set[str]]:
        """The service targets already recorded as breached, per ticket."""
        ids = list(ticket_ids)
        found: dict[int, set[str]] = {}
        if not ids:
            return found
        query = select(TicketEvent.ticket_id, TicketEvent.data).where(TicketEvent.kind == "breach",
                                                                      TicketEvent.ticket_id.in_(ids))
        for ticket_id, data in self.session.execute(query):
            found.setdefault(ticket_id, set()).add((data or {}).get("target"))
        return found

    def status_changes(self, ticket_ids: Iterable[int]) -> dict[int, list[tuple[datetime, str, str | None]]]:
        """(time, kind, new status) of the status-changing and advice events per ticket, in order."""
        ids = list(ticket_ids)
        found: dict[int, list[tuple[datetime, str, str | None]]] = {i: [] for i in ids}
        if not ids:
            return found
        for ticket_id, at, kind, to_status in _STATUS_CHANGES.all(connection_of(self.session), {"ids": ids}):
            found[ticket_id].append((at, kind, to_status))
        return found

    def handed_back_by(self, ticket_id: int) -> set[int]:
        query = select(TicketEvent.data).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "hand_back")
        return {int(d["expert_id"]) for d in self.session.scalars(query) if d and "expert_id" in d}

    # -- offers ------------------------------------------------------------------------------------
    def add_offers(self, rows: Sequence[dict[str, Any]]) -> None:
        """Offers as column values, in one statement. As objects they were one INSERT each on
        SQLite (the ORM reads new ids back, and SQLite cannot match a batch's ids to its rows);
        a round's offers are read back by query, never through these objects."""
        if rows:
            _ADD_OFFERS.write_many(connection_of(self.session), [{**_NO_ANSWER, **row} for row in rows])

    def ticket_of_offer(self, offer_id: int, expert_id: int) -> int | None:
        """The ticket of ``expert_id``'s offer ``offer_id``; None for no such offer of theirs."""
        rows = _TICKET_OF_OFFER.all(connection_of(self.session), {"offer_id": offer_id, "expert_id": expert_id})
        return rows[0][0] if rows else None

    def fresh_offer(self, offer_id: int) -> Offer:
        """The offer as now stored, even if this session holds it already."""
        return self.session.get_one(Offer, offer_id, populate_existing=True)

    def offers_of_ticket(self, ticket_id: int) -> list[Offer]:
        query = select(Offer).options(joinedload(Offer.expert)).where(Offer.ticket_id == ticket_id)
        return list(self.session.scalars(query.order_by(Offer.round, Offer.rank)))

    def offers_of_expert(self, expert_id: int, states: tuple[OfferState, ...]) -> list[Offer]:
        query = (select(Offer).options(joinedload(Offer.ticket)).where(Offer.expert_id == expert_id,
                                                                       Offer.state.in_(states))
                 .order_by(Offer.offered_at.desc(), Offer.id.desc()))
        return list(self.session.scalars(query))

    def offered_experts(self, ticket_id: int) -> set[int]:
        return set(self.session.scalars(select(Offer.expert_id).where(Offer.ticket_id == ticket_id)))

    def pending_experts(self, ticket_ids: Iterable[int]) -> dict[int, set[int]]:
        """Experts holding a pending offer, per ticket."""
        ids = list(ticket_ids)
        found: dict[int, set[int]] = {}
        if not ids:
            return found
        for ticket_id, expert_id in _PENDING_EXPERTS.all(connection_of(self.session), {"ids": ids}):
            found.setdefault(ticket_id, set()).add(expert_id)
        return found

    def pending_count(self, ticket_id: int) -> int:
        query = select(func.count()).select_from(Offer).where(Offer.ticket_id == ticket_id,
                                                              Offer.state == OfferState.PENDING)
        return int(self.session.scalar(query) or 0)

    def settle_offer(self, offer_id: int, state: OfferState, now: datetime, reason: str | None = None) -> bool:
        """Move one pending offer to ``state``; False when it was no longer pending (someone
        else settled it first: the conditional UPDATE is the race guard)."""
        settled = _SETTLE_OFFER.write(connection_of(self.session),
                                      {"offer_id": offer_id, "new_state": state, "at": now, "why": reason})
        self._forget_answers(lambda values: values.get("id") == offer_id)
        return settled == 1

    def withdraw_pending(self, ticket_id: int, now: datetime) -> int:
        withdrawn = _WITHDRAW_PENDING.write(connection_of(self.session), {"ticket_id": ticket_id, "at": now})
        self._forget_answers(lambda values: values.get("ticket_id") == ticket_id)
        return withdrawn

    def _forget_answers(self, changed: Callable[[dict[str, Any]], bool]) -> None:
        """Expire the answer columns of the offers this session holds that an UPDATE above may have
        changed (it ran on the table, not through the session), so they are read again on use."""
        for instance in list(self.session.identity_map.values()):
            if isinstance(instance, Offer) and changed(instance.__dict__):
                self.session.expire(instance, ["state", "responded_at", "reason"])

    def expired_offer_tickets(self, now: datetime, limit: int) -> list[int]:
        """Tickets with a pending offer past its deadline (the scheduler's work list)."""
        query = (select(Offer.ticket_id).where(Offer.state == OfferState.PENDING, Offer.expires_at <= now)
                 .distinct().order_by(Offer.ticket_id).limit(limit))
        return list(self.session.scalars(query))

    def expired_offers_of(self, ticket_id: int, now: datetime) -> list[Offer]:
        query = select(Offer).where(Offer.ticket_id == ticket_id, Offer.state == OfferState.PENDING,
                                    Offer.expires_at <= now).order_by(Offer.id)
        return list(self.session.scalars(query))

    # -- match runs and feedback -------------------------------------------------------------------
    def add_match_run(self, run: MatchRun) -> MatchRun:
        self.session.add(run)
        return run

    def match_runs(self, ticket_id: int) -> list[MatchRun]:
        return list(self.session.scalars(select(MatchRun).where(MatchRun.ticket_id == ticket_id).order_by(MatchRun.id)))

    def feedback(self, ticket_id: int) -> Feedback | None:
        return self.session.get(Feedback, ticket_id)

    def add_feedback(self, feedback: Feedback) -> Feedback:
        self.session.add(feedback)
        return feedback

    # -- what the similar-resolved-ticket index follows (``similar.ResolvedSource``) ---------------
    @property
    def event_ids_in_commit_order(self) -> bool:
        """Whether no event can commit below an id already committed: true on SQLite, where one
        writer at a time takes the ids; PostgreSQL's sequence hands them out before commit."""
        return self.session.get_bind().dialect.name == "sqlite"

    def last_event_id(self) -> int:
        return self.session.execute(select(func.max(_events.id))).scalar() or 0

    def status_events_since(self, event_id: int) -> list[tuple[int, int]]:
        """(event id, ticket id) of every status change logged after ``event_id``."""
        return [(e, t) for e, t in _STATUS_EVENTS_SINCE.all(connection_of(self.session), {"event_id": event_id})]

    def resolved_among(self, ticket_ids: list[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(ticket_ids), IN_CHUNK):
            found.update(ticket_id for ticket_id, in _RESOLVED_AMONG.all(connection_of(self.session),
                                                                         {"ids": ticket_ids[start:start + IN_CHUNK]}))
        return found

    def newest_resolved_ids(self, limit: int) -> list[int]:
        query = select(_tickets.id).where(_tickets.status.in_(_RESOLVED)).order_by(_tickets.id.desc()).limit(limit)
        return sorted(self.session.scalars(query))

    def texts(self, ticket_ids: list[int]) -> list[tuple[int, str]]:
        """(id, title, description and resolution) for the similar-ticket index, in id order."""
        found = []
        # In chunks: a city's resolved tickets outnumber SQLite's limit on bound variables.
        for start in range(0, len(ticket_ids), IN_CHUNK):
            query = (select(Ticket.id, Ticket.title, Ticket.description, Ticket.resolution_summary)
                     .where(Ticket.id.in_(ticket_ids[start:start + IN_CHUNK])))
            found += [(i, "\n".join(p for p in (t, d, r) if p)) for i, t, d, r in self.session.execute(query)]
        return sorted(found)

    def offer_counts(self) -> dict[str, int]:
        query = select(Offer.state, func.count()).group_by(Offer.state)
        return {str(state.value if hasattr(state, "value") else state): int(n) for state, n in self.session.execute(query)}

    def add_access(self, access: TicketAccess) -> None:
        self.session.add(access)

    def accesses(self, ticket_id: int) -> list[TicketAccess]:
        query = select(TicketAccess).where(TicketAccess.ticket_id == ticket_id).order_by(TicketAccess.id)
        return list(self.session.scalars(query))

    def created_since(self, since: datetime) -> list[tuple[datetime, str]]:
        """(filed at, current status) of every ticket filed since ``since``."""
        query = select(Ticket.created_at, Ticket.status).where(Ticket.created_at >= since).order_by(Ticket.created_at)
        return [(at, str(status.value if hasattr(status, "value") else status)) for at, status in self.session.execute(query)]

    def status_counts(self) -> dict[str, int]:
        query = select(Ticket.status, func.count()).group_by(Ticket.status)
        return {str(status.value if hasattr(status, "value") else status): int(n)
                for status, n in self.session.execute(query)}


def _scoped(query: Select, everything: bool, org_id: object, expert_id: object) -> Select:
    """``query`` limited to the tickets a scope may see (the ids may be bound parameters)."""
    if everything:
        return query
    conditions = []
    if org_id is not None:
        conditions.append(Ticket.org_id == org_id)
    if expert_id is not None:
        conditions.append(Ticket.assigned_expert_id == expert_id)
        conditions.append(exists().where(Offer.ticket_id == Ticket.id, Offer.expert_id == expert_id))
    return query.where(or_(*conditions)) if conditions else query.where(False)


# The queries of every ticket read, built once per shape: building an expression and its cache
# key cost more than running it on SQLite (profiled under ``expert-match bench api``).
@functools.cache
def _ticket_by_id(everything: bool, by_org: bool, by_expert: bool) -> Select:
    query = select(Ticket).options(joinedload(Ticket.org)).where(Ticket.id == bindparam("ticket_id"))
    return _scoped(query, everything, bindparam("org_id") if by_org else None,
                   bindparam("expert_id") if by_expert else None)


@functools.cache
def _ticket_view(everything: bool, by_org: bool, by_expert: bool) -> Prepared:
    """A ticket read in one statement, both parts limited to the scope: the ticket with its
    org's name (part 0), then its history, a row per status change or advice in order (part 1,
    the ticket's columns null). Each statement is a round trip to PostgreSQL, about 100 us of
    the driver's CPU even for ``SELECT 1``; the history had a statement of its own. Not the
    events joined to the ticket's row: each would repeat the ticket's text (up to 20,000
    characters a field) for every advice posted (3.52 instead of 0.22 ms for 60 posts)."""
    tickets = Ticket.__table__
    fields = _view_fields()
    history = (_events.id, _events.at, _events.kind, _events.to_status)
    ticket_part = (_with_org(select(literal_column("0", Integer).label("part"), *fields,
                                    *(type_coerce(null(), column.type).label(f"event_{column.name}")
                                      for column in history)))
                   .where(tickets.c.id == bindparam("ticket_id")))
    history_part = (select(literal_column("1", Integer), *(null() for _ in fields), *history)
                    .join_from(TicketEvent.__table__, tickets, tickets.c.id == _events.ticket_id)
                    .where(_events.ticket_id == bindparam("ticket_id"), _IN_HISTORY))
    org_id, expert_id = bindparam("org_id") if by_org else None, bindparam("expert_id") if by_expert else None
    both = union_all(_scoped(ticket_part, everything, org_id, expert_id),
                     _scoped(history_part, everything, org_id, expert_id))
    return Prepared(both.order_by(literal_column("part"), literal_column("event_id")))


def _view_fields() -> list[Any]:
    """A ``TicketView``'s columns in order (its org's name from the org joined by ``_with_org``)."""
    tickets, orgs = Ticket.__table__.c, Org.__table__.c
    return [(orgs.name if name == "org_name" else tickets[name]).label(name) for name in _VIEW_FIELDS]


def _with_org(query: Select) -> Select:
    return query.join_from(Ticket.__table__, Org.__table__, Org.__table__.c.id == Ticket.__table__.c.org_id)


_VIEW_FIELDS = tuple(name for name in TicketView.__dataclass_fields__ if name != "changes")
_VIEW_END = 1 + len(_VIEW_FIELDS)  # a view row: part, the ticket's fields, the event's id, then the history's
_TICKET_VIEWS = Prepared(_with_org(select(*_view_fields()))
                         .where(Ticket.__table__.c.id.in_(bindparam("ids", expanding=True))))


# Column queries on the tables, not the mapped classes: Core statements skip the ORM's setup.
_events, _offers, _tickets = TicketEvent.__table__.c, Offer.__table__.c, Ticket.__table__.c
# Statements every filing runs, built once: building one cost 50-60 us, about what it takes to run.
_SAME_ORG_RECENT = Prepared(select(_tickets.id, _tickets.search_key)
                            .where(_tickets.org_id == bindparam("org_id"), _tickets.created_at >= bindparam("since"),
                                   _tickets.status != TicketStatus.CANCELLED)
                            .order_by(_tickets.created_at.desc()).limit(200))
_LOADS = Prepared(select(_tickets.assigned_expert_id, func.count())
                  .where(_tickets.status.in_(WORKING_STATES), _tickets.assigned_expert_id.is_not(None))
                  .group_by(_tickets.assigned_expert_id))
# Accepting an offer checks the expert's load and settles the offers: run on every acceptance,
# built once (as ORM statements they were about a fifth of an acceptance's CPU).
_LOAD_OF = Prepared(select(func.count()).select_from(Ticket.__table__)
                    .where(_tickets.status.in_(WORKING_STATES), _tickets.assigned_expert_id == bindparam("expert_id")))
_TICKET_OF_OFFER = Prepared(select(_offers.ticket_id).where(_offers.id == bindparam("offer_id"),
                                                            _offers.expert_id == bindparam("expert_id")))
_SETTLE_OFFER = Prepared(update(Offer.__table__)
                         .where(_offers.id == bindparam("offer_id"), _offers.state == OfferState.PENDING)
                         .values(state=bindparam("new_state"), responded_at=bindparam("at"), reason=bindparam("why")))
_WITHDRAW_PENDING = Prepared(update(Offer.__table__)
                             .where(_offers.ticket_id == bindparam("ticket_id"), _offers.state == OfferState.PENDING)
                             .values(state=OfferState.WITHDRAWN, responded_at=bindparam("at")))
_RESOLVED = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
# Every filing reads the status changes since the similar-ticket index's watermark.
_STATUS_EVENTS_SINCE = Prepared(select(_events.id, _events.ticket_id)
                                .where(_events.id > bindparam("event_id"), _events.to_status.is_not(None))
                                .order_by(_events.id))
_RESOLVED_AMONG = Prepared(select(_tickets.id).where(_tickets.id.in_(bindparam("ids", expanding=True)),
                                                     _tickets.status.in_(_RESOLVED)))
# The events a ticket's history (``workflow.History``) is made of: status changes and advice.
_IN_HISTORY = or_(_events.to_status.is_not(None), _events.kind == "post_advice")
_STATUS_CHANGES = Prepared(select(_events.ticket_id, _events.at, _events.kind, _events.to_status)
                           .where(_events.ticket_id.in_(bindparam("ids", expanding=True)), _IN_HISTORY)
                           .order_by(_events.id))


def _values(row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in columns}


_TICKET_COLUMNS = row_columns(Ticket.__table__)
_EVENT_COLUMNS = row_columns(TicketEvent.__table__)
_MATCH_RUN_COLUMNS = row_columns(MatchRun.__table__)
_INSERT_TICKET = insert_row(Ticket.__table__, returning=_tickets.id)
_FILED_COLUMNS = ("reference", "status", "status_changed_at", "offer_round", "alert_at_risk", "alert_breach",
                  "alert_basis", "updated_at")
_UPDATE_FILED = Prepared(update(Ticket.__table__).where(_tickets.id == bindparam("ticket_id"))
                         .values({name: bindparam(name) for name in _FILED_COLUMNS}))
_INSERT_EVENT = insert_row(TicketEvent.__table__, returning=_events.id)
_INSERT_MATCH_RUN = insert_row(MatchRun.__table__)
_ADD_OFFERS = insert_row(Offer.__table__)
_NO_ANSWER = {"responded_at": None, "reason": None}  # a new offer's columns the caller leaves out
# Experts without capacity, by the partial index ix_expert_profiles_no_capacity: its condition is
# written as there, since SQLite uses a partial index only for a query that repeats its WHERE term
# (a bound parameter never does).
_NO_CAPACITY = select(ExpertProfile.__table__.c.id).where(text("expert_profiles.capacity = 0"))
_OPEN_COUNTS = Prepared(select(_tickets.district_code, _tickets.category, func.count())
                        .where(_tickets.status.in_(bindparam("statuses", expanding=True)))
                        .group_by(_tickets.district_code, _tickets.category))
_profiles, _users = ExpertProfile.__table__.c, User.__table__.c
_LOAD_COLUMNS = (_profiles.id, _users.display_name, _profiles.capacity)
_EXPERTS_WITH_NAMES = select(*_LOAD_COLUMNS).join_from(ExpertProfile.__table__, User.__table__,
                                                       _users.id == _profiles.user_id)
# The desk's most loaded experts (``most_loaded``); the working tickets counted from the queue's
# covering index (by the (expert, status) index they would visit every ticket ever assigned).
_WORKING_COUNTS = (select(_tickets.assigned_expert_id.label("expert_id"), func.count().label("load"))
                   .where(_tickets.status.in_(WORKING_STATES), _tickets.assigned_expert_id.is_not(None))
                   .group_by(_tickets.assigned_expert_id).subquery())
_BUSY_EXPERTS = Prepared(_EXPERTS_WITH_NAMES.add_columns(_WORKING_COUNTS.c.load)
                         .join(_WORKING_COUNTS, _WORKING_COUNTS.c.expert_id == _profiles.id)
                         .where(_profiles.active.is_(True)))
# The id, not ``*``: SQLite then answers from the (expert, status) index alone.
_IDLE = ~(select(_tickets.id).where(_tickets.assigned_expert_id == _profiles.id, _tickets.status.in_(WORKING_STATES))
          .exists())
# Their ids from the partial index of experts without capacity first: given both conditions at
# once, SQLite (no statistics) chose the index on ``active`` and read every active expert (6 ms
# of a 17 ms queue page at 13,000 experts).
_FULL_IDLE_EXPERTS = Prepared(_EXPERTS_WITH_NAMES.where(_profiles.id.in_(_NO_CAPACITY), _profiles.active.is_(True),
                                                        _IDLE))


@functools.cache
def _idle_experts(limited: bool) -> Prepared:
    """Active idle experts with capacity, by id: the first bound ``limit`` of them if ``limited``."""
    rest = _EXPERTS_WITH_NAMES.where(_profiles.active.is_(True), _profiles.capacity > 0, _IDLE).order_by(_profiles.id)
    return Prepared(rest.limit(bindparam("limit", type_=Integer)) if limited else rest)
_PENDING_EXPERTS = Prepared(select(_offers.ticket_id, _offers.expert_id)
                            .where(_offers.ticket_id.in_(bindparam("ids", expanding=True)),
                                   _offers.state == OfferState.PENDING))
