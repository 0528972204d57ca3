"""The web pages: sign-in, requesters' problems, experts' inbox, the coordinators' desk.

Every page calls the same services as the JSON API (no SQL here); a form is validated with the
API's input Struct and shown again with the error next to its field. No GET changes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect
from sqlalchemy.orm import Session

from expert_match.auth import service as auth_service
from expert_match.auth.principal import Caller
from expert_match.db.hooks import after_commit
from expert_match.db.paging import Window
from expert_match.errors import DomainError, InvalidValue, NotAllowed
from expert_match.http.deps import (DEFERRED_WRITE, SESSION_COOKIE, SHORT_BODY_BYTES, DbSession, DeskDep, Now, PathId,
                                    SettingsDep, client_address, end_reads, in_session)
from expert_match.http.login import sign_in
from expert_match.http.tickets import accept_offer, checked_plan, logged_read, write_filing, written
from expert_match.matching.text import fold_key
from expert_match.orgs.locations import admin_units
from expert_match.orgs.models import Role
from expert_match.orgs.service import district_code, list_orgs, org_filter
from expert_match.tickets import offers, queues, service, thread, workflow
from expert_match.tickets.desk import Desk
from expert_match.tickets.models import OfferState, Ticket
from expert_match.tickets.repository import QueueFilter, TicketFilter, TicketRepository, TicketView
from expert_match.tickets.schemas import FeedbackCreate, PostCreate, TicketCreate
from expert_match.tickets.sla import History, Priority
from expert_match.tickets.states import TicketAction, TicketStatus
from expert_match.web.forms import FormErrors, domain_errors, form_struct
from expert_match.web.i18n import LANGUAGES
from expert_match.web.render import page
from expert_match.web.visitor import LANGUAGE_COOKIE, Visitor, visitor_of

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
VisitorDep = NamedDependency[Visitor]
ActionName = Annotated[str, PathParameter(max_length=20)]
CATEGORIES = ("e-government", "data", "security", "infrastructure", "software", "integration", "gis-smart-city",
              "business", "community", "sectors")
TICKET_FIELDS = ("title", "description", "category", "priority", "ward", "location", "onsite", "org_id")
STATUSES = tuple(s.value for s in TicketStatus)
PRIORITIES = tuple(p.value for p in Priority)
LIST_SORTS = ("-created_at", "created_at", "-updated_at", "status")
DESK_SORTS = ("oldest", "newest", "priority")
DESK_ROWS = 100
# Filters arrive from GET forms, where "any" is an empty string: parsed here, not by the framework.
Choice = Annotated[str | None, QueryParameter(max_length=120)]


def one_of(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise InvalidValue(f"{field} must be one of {', '.join(allowed)}", field=field)
    return value


def districts() -> list[tuple[str, str]]:
    return sorted((d.code, d.name) for d in admin_units().districts.values())


def provide_visitor(request: Request[Any, Any, Any], db_session: DbSession, now: Now, settings: SettingsDep) -> Visitor:
    return visitor_of(request, db_session, now, settings.cookie_secure)


def show(visitor: Visitor, template: str, status_code: int = 200, **context: Any) -> Response[str]:
    return page(template, visitor.language, {"visitor": visitor, "csrf": visitor.csrf, **context},
                status_code=status_code, cookies=visitor.cookies)


def home_of(role: Role) -> str:
    return {Role.REQUESTER: "/tickets", Role.EXPERT: "/inbox"}.get(role, "/desk")


def safe_next(target: str | None) -> str | None:
    # Only paths on this site: "//evil.example" and "https://..." would be open redirects.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@dataclass(frozen=True, slots=True)
class Act:
    """One ticket form submission, as the action functions below take it."""

    session: Session
    desk: Desk
    caller: Caller
    ticket_id: int
    now: datetime
    text: str
    form: dict[str, Any]

    def number(self, name: str, error_field: str) -> int:
        value = str(self.form.get(name, ""))
        if not value.isdigit():
            raise FormErrors({error_field: name})
        return int(value)


def _feedback(a: Act) -> None:
    saved = thread.give_feedback(a.session, a.caller, a.ticket_id,
                                 form_struct(a.form, FeedbackCreate, checkboxes=("bottleneck_removed",)), a.now)
    if saved.expert_id is not None:
        # A good rating makes the ticket evidence for its expert: rank with it from now on.
        expert_id, index = saved.expert_id, a.desk.index
        after_commit(a.session, lambda: index.refresh([expert_id]))


NEEDS_TEXT = frozenset({"reopen", "cancel", "resolve", "hand_back"})
TICKET_ACTIONS: dict[str, Callable[[Act], object]] = {
    "confirm": lambda a: thread.confirm(a.session, a.desk, a.caller, a.ticket_id, a.now),
    "reopen": lambda a: thread.reopen(a.session, a.desk, a.caller, a.ticket_id, a.text, a.now),
    "cancel": lambda a: thread.cancel(a.session, a.desk, a.caller, a.ticket_id, a.text, a.now),
    "resolve": lambda a: thread.resolve(a.session, a.desk, a.caller, a.ticket_id, a.text, a.now),
    "hand_back": lambda a: thread.hand_back(a.session, a.desk, a.caller, a.ticket_id, a.text, a.now),
    "rank": lambda a: service.rank_again(a.session, a.desk, a.caller, a.ticket_id, a.now),
    "rematch": lambda a: thread.rematch(a.session, a.desk, a.caller, a.ticket_id, a.now),
    "assign": lambda a: thread.assign(a.session, a.desk, a.caller, a.ticket_id, a.number("expert_id", "assign"),
                                      a.text or None, a.now),
    "merge": lambda a: thread.merge(a.session, a.desk, a.caller, a.ticket_id, a.number("into", "merge"), a.text or None, a.now),
    "feedback": _feedback,
}


class SignInPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def home(self, visitor: VisitorDep) -> Redirect:
        return Redirect(home_of(visitor.caller.role) if visitor.caller else "/login")

    @get("/login", sync_to_thread=True)
    def login_form(self, visitor: VisitorDep, next_: Annotated[str | None, QueryParameter(name="next")] = None
                   ) -> Response[str]:
        return show(visitor, "login.html", next=safe_next(next_) or "", email="", errors={})

    @post("/login", request_max_body_size=SHORT_BODY_BYTES, status_code=200, opt={DEFERRED_WRITE: True})
    async def login(self, request: Request[Any, Any, Any], db_session: DbSession, now: Now, settings: SettingsDep,
                    visitor: VisitorDep, data: Form) -> Response[Any]:
        visitor.check_csrf(data)
        email = str(data.get("email", "")).strip()
        result = (await sign_in(request, db_session, email, str(data.get("password", "")), now, settings)).result
        if result.user is None:
            return show(visitor, "login.html", status_code=401, next=safe_next(data.get("next")) or "", email=email,
                        errors={"password": "wrong"})
        cookie = Cookie(key=SESSION_COOKIE, value=result.session_id, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/", max_age=settings.session_hours * 3600)
        target = safe_next(data.get("next")) or home_of(result.user.role)
        return Redirect(target, status_code=303, cookies=[cookie])

    @post("/logout", sync_to_thread=True, request_max_body_size=SHORT_BODY_BYTES)
    def logout(self, request: Request[Any, Any, Any], db_session: DbSession, visitor: VisitorDep,
               data: Form) -> Redirect:
        visitor.signed_in
        visitor.check_csrf(data)
        if cookie := request.cookies.get(SESSION_COOKIE):
            auth_service.logout(db_session, cookie)
        return Redirect("/login", status_code=303, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])

    @post("/language", sync_to_thread=True, request_max_body_size=SHORT_BODY_BYTES)
    def language(self, visitor: VisitorDep, data: Form) -> Redirect:
        visitor.check_csrf(data)
        chosen = data.get("language")
        chosen = chosen if chosen in LANGUAGES else "vi"
        cookie = Cookie(key=LANGUAGE_COOKIE, value=chosen, samesite="lax", secure=visitor.secure_cookies, path="/",
                        max_age=365 * 24 * 3600)
        return Redirect(safe_next(data.get("next")) or "/", status_code=303, cookies=[cookie])


def ticket_rows(session: Session, desk: Desk, visitor: Visitor, views: list[TicketView], now: datetime) -> list[dict]:
    """A list's rows: each ticket (read as a view, with its history) with its service targets,
    what the visitor may do on it and its ward's name."""
    actions = service.caller_actions(session, visitor.signed_in, views)
    return [_row(desk, t, workflow.view_history(t), actions[t.id], now) for t in views]


def ticket_row(session: Session, desk: Desk, visitor: Visitor, ticket: Ticket, now: datetime) -> dict:
    """The ticket page's row: the mapped ticket, whose thread the page also shows."""
    actions = service.caller_actions(session, visitor.signed_in, [ticket])
    return _row(desk, ticket, workflow.history(session, [ticket])[ticket.id], actions[ticket.id], now)


def _row(desk: Desk, t: Ticket | TicketView, past: History, actions: list[TicketAction], now: datetime) -> dict:
    wards = admin_units().wards
    return {"ticket": t, "targets": service.targets_of(desk, t, past, now), "actions": {a.value for a in actions},
            "ward": wards[t.ward_code].name if t.ward_code in wards else ""}


def wards() -> list[str]:
    return sorted({w.name for w in admin_units().wards.values()})


class TicketPages(Controller):
    include_in_schema = False

    @get("/tickets", sync_to_thread=True)
    def list_tickets(self, db_session: DbSession, desk: DeskDep, now: Now, visitor: VisitorDep,
                     status: Choice = None, priority: Choice = None, category: Choice = None,
                     district: Choice = None, q: Choice = None, sort: Choice = None) -> Response[str]:
        caller = visitor.signed_in
        chosen = {"status": status or "", "priority": priority or "", "category": category or "",
                  "district": district or "", "q": q or "", "sort": sort or "-created_at"}
        filters = TicketFilter(
            statuses=(TicketStatus(one_of(status, STATUSES, "status")),) if status else (),
            priority=one_of(priority, PRIORITIES, "priority"), category=one_of(category, CATEGORIES, "category"),
            district_code=district_code(district) if district else None, query=fold_key(q) if q else None)
        window = Window(limit=100, offset=0, sort=one_of(chosen["sort"], LIST_SORTS, "sort") or "-created_at")
        tickets, total = service.list_tickets(db_session, caller, filters, window)
        return show(visitor, "tickets.html", rows=ticket_rows(db_session, desk, visitor, tickets, now), total=total,
                    chosen=chosen, statuses=STATUSES, priorities=PRIORITIES, categories=CATEGORIES,
                    districts=districts(), sorts=LIST_SORTS)

    @get("/tickets/new", sync_to_thread=True)
    def new_ticket(self, db_session: DbSession, visitor: VisitorDep) -> Response[str]:
        visitor.signed_in
        return self._form(db_session, visitor, {"priority": "normal"}, {})

    def _form(self, session: Session, visitor: Visitor, values: dict[str, Any], errors: dict[str, str],
              status_code: int = 200, preview: Any = None) -> Response[str]:
        # Coordinators file on behalf of an org; requesters always file for their own.
        orgs = (list_orgs(session, org_filter(kind=None, district=None, query=None),
                          Window(limit=200, offset=0, sort="name"))[0] if visitor.signed_in.is_staff else [])
        return show(visitor, "ticket_form.html", status_code=status_code, values=values, errors=errors,
                    categories=CATEGORIES, priorities=[p.value for p in Priority], wards=wards(), preview=preview,
                    orgs=orgs)

    @post("/tickets/new", status_code=200, opt={DEFERRED_WRITE: True})
    async def file_ticket(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                          settings: SettingsDep, visitor: VisitorDep, data: Form) -> Response[Any]:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        values = {name: str(data.get(name, "")) for name in TICKET_FIELDS}
        address = client_address(request)

        def check() -> tuple[TicketCreate, service.FilingPlan] | Response[str]:
            # In the read session: the form's errors and the first submit's preview (possible
            # duplicates, similar solved problems) are pages; a confirmed problem is planned here
            # and written afterwards, as the API files.
            try:
                problem = form_struct(data, TicketCreate, checkboxes=("onsite",), fields=TICKET_FIELDS)
                if data.get("confirmed") != "yes":
                    found = service.preview(db_session, desk, caller, problem, now)
                    return self._form(db_session, visitor, values, {}, preview=found)
                planned = checked_plan(db_session, desk, caller, problem, now, settings, address)
            except FormErrors as exc:
                return self._form(db_session, visitor, values, exc.errors, status_code=422)
            except DomainError as exc:
                if exc.field in TICKET_FIELDS or exc.field == "district":
                    return self._form(db_session, visitor, values, domain_errors(exc, "title").errors,
                                      status_code=422)
                raise
            end_reads(db_session)  # hand the connection back before taking the writer
            return problem, planned

        checked = await in_session(db_session, check)
        if isinstance(checked, Response):
            return checked
        problem, planned = checked
        filed = await write_filing(request, desk, caller, problem, now, settings, planned, address)
        return Redirect(f"/tickets/{filed.ticket.id}", status_code=303)

    @get("/tickets/{ticket_id:int}", opt={DEFERRED_WRITE: True})
    async def read(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                   visitor: VisitorDep, ticket_id: PathId) -> Response[str]:
        return await self._shown(request, db_session, desk, now, visitor, ticket_id)

    async def _shown(self, request: Request[Any, Any, Any], session: Session, desk: Desk, now: datetime,
                     visitor: Visitor, ticket_id: int, errors: dict[str, str] | None = None,
                     status_code: int = 200) -> Response[str]:
        """The ticket page (again, with ``errors``, after a form on it failed): read and rendered in
        the request's read session; a coordinator's or admin's read is logged after."""
        caller = visitor.signed_in
        return await logged_read(
            request, session, caller, ticket_id, now, channel="web",
            build=lambda: self._page(session, desk, now, visitor, service.get_ticket(session, caller, ticket_id),
                                     errors or {}, status_code))

    def _page(self, session: Session, desk: Desk, now: datetime, visitor: Visitor, ticket: Ticket,
              errors: dict[str, str], status_code: int = 200) -> Response[str]:
        caller = visitor.signed_in
        view = ticket_row(session, desk, visitor, ticket, now)
        events = thread.events_of(session, caller, ticket)
        candidates = service.latest_candidates(session, ticket) if caller.is_staff else []
        return show(visitor, "ticket.html", status_code=status_code, row=view, events=events, errors=errors,
                    candidates=candidates)

    # The forms below are DEFERRED_WRITE routes: the visitor is read in the request's read session,
    # then the change is made in one trip holding the writer (``written``).

    @post("/tickets/{ticket_id:int}/posts", status_code=200, opt={DEFERRED_WRITE: True})
    async def post_message(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                           visitor: VisitorDep, ticket_id: PathId, data: Form) -> Response[Any]:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        try:
            post = form_struct(data, PostCreate)
            await written(request, db_session, lambda s: thread.post(s, desk, caller, ticket_id, post, now))
        except FormErrors as exc:
            return await self._shown(request, db_session, desk, now, visitor, ticket_id, exc.errors, 422)
        return Redirect(f"/tickets/{ticket_id}", status_code=303)

    @post("/tickets/{ticket_id:int}/do/{action:str}", status_code=200, opt={DEFERRED_WRITE: True})
    async def act(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                  visitor: VisitorDep, ticket_id: PathId, action: ActionName, data: Form) -> Response[Any]:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        do = TICKET_ACTIONS.get(action)
        if do is None:
            return await self._shown(request, db_session, desk, now, visitor, ticket_id, {"action": "unknown"}, 404)
        text = str(data.get("text", "")).strip()
        try:
            if action in NEEDS_TEXT and not text:
                raise FormErrors({action: "required"})
            await written(request, db_session, lambda s: do(Act(s, desk, caller, ticket_id, now, text, data)))
        except FormErrors as exc:
            return await self._shown(request, db_session, desk, now, visitor, ticket_id, exc.errors, 422)
        except DomainError as exc:
            if exc.code in ("invalid_value", "invalid_reference"):
                return await self._shown(request, db_session, desk, now, visitor, ticket_id, {action: exc.message},
                                         422)
            raise
        return Redirect(f"/tickets/{ticket_id}", status_code=303)


class ExpertPages(Controller):
    include_in_schema = False

    @get("/inbox", sync_to_thread=True)
    def inbox(self, db_session: DbSession, desk: DeskDep, now: Now, visitor: VisitorDep) -> Response[str]:
        caller = visitor.signed_in
        repo = TicketRepository(db_session)
        pending = repo.offers_of_expert(caller.expert_id, (OfferState.PENDING,)) if caller.expert_id else []
        mine: list[TicketView] = []
        if caller.expert_id is not None:
            mine, _ = service.list_tickets(db_session, caller, TicketFilter(assigned_expert_id=caller.expert_id),
                                           Window(limit=100, offset=0, sort="-updated_at"))
        return show(visitor, "inbox.html", offers=pending, rows=ticket_rows(db_session, desk, visitor, mine, now))

    @post("/offers/{offer_id:int}/accept", request_max_body_size=SHORT_BODY_BYTES, opt={DEFERRED_WRITE: True})
    async def accept(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                     visitor: VisitorDep, offer_id: PathId, data: Form) -> Redirect:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        ticket_id = await accept_offer(request, db_session, desk, caller, offer_id, now)
        return Redirect(f"/tickets/{ticket_id}", status_code=303)

    @post("/offers/{offer_id:int}/decline", request_max_body_size=SHORT_BODY_BYTES, opt={DEFERRED_WRITE: True})
    async def decline(self, request: Request[Any, Any, Any], db_session: DbSession, desk: DeskDep, now: Now,
                      visitor: VisitorDep, offer_id: PathId, data: Form) -> Redirect:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        reason = str(data.get("reason", "")).strip()[:1000] or None
        await written(request, db_session, lambda s: offers.decline(s, desk, caller, offer_id, reason, now))
        return Redirect("/inbox", status_code=303)


class DeskPages(Controller):
    include_in_schema = False

    @get("/desk", sync_to_thread=True)
    def desk(self, db_session: DbSession, desk: DeskDep, now: Now, visitor: VisitorDep, district: Choice = None,
             category: Choice = None, sort: Choice = None) -> Response[str]:
        caller = visitor.signed_in
        if not caller.is_staff:
            raise NotAllowed("only coordinators and admins may see the desk")
        code = district_code(district) if district else None
        wanted = one_of(category, CATEGORIES, "category")
        order = one_of(sort, DESK_SORTS, "sort") or "oldest"
        # A section shows its first DESK_ROWS tickets and says how many there are in all.
        found = queues.queues(db_session, desk, now, limit=DESK_ROWS, loads_limit=30,
                              chosen=QueueFilter(district_code=code, category=wanted, order=order))
        sections = [(name, ticket_rows(db_session, desk, visitor, queues.shown(db_session, section.briefs), now),
                     section.total) for name, section in found.sections.items()]
        return show(visitor, "desk.html", sections=sections, by_district=found.by_district,
                    by_category=found.by_category, loads=found.loads,
                    district_names={c: name for c, name in districts()}, districts=districts(),
                    categories=CATEGORIES, sorts=DESK_SORTS,
                    chosen={"district": district or "", "category": category or "", "sort": order})


def login_redirect(request: Request[Any, Any, Any]) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?next={quote(target)}", status_code=303)
