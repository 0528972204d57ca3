"""Pages about people and the service as a whole: the expert's own profile, the experts
directory with load against capacity, and the metrics with their charts."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from expert_match.db.hooks import after_commit
from expert_match.db.paging import Window
from expert_match.errors import NotAllowed, NotFound
from expert_match.experts import service as expert_service
from expert_match.experts.repository import ExpertFilter
from expert_match.experts.skills import SkillResolution
from expert_match.http.deps import DbSession, DeskDep, Now
from expert_match.matching.text import fold_key
from expert_match.tickets import queues, service
from expert_match.tickets.desk import Desk
from expert_match.tickets.states import TicketStatus
from expert_match.web.forms import FormErrors
from expert_match.web.pages import Form, VisitorDep, show
from expert_match.web.profile import leave_rows, profile_update, skill_rows
from expert_match.web.visitor import Visitor

SearchText = Annotated[str | None, QueryParameter(max_length=120)]


class ProfilePages(Controller):
    include_in_schema = False

    @get("/profile", sync_to_thread=True)
    def profile(self, db_session: DbSession, visitor: VisitorDep) -> Response[str]:
        return self._page(db_session, visitor, {}, [])

    def _page(self, session: Session, visitor: Visitor, errors: dict[str, str], report: list[SkillResolution],
              status_code: int = 200, saved: bool = False) -> Response[str]:
        caller = visitor.signed_in
        if caller.expert_id is None:
            raise NotFound("this account has no expert profile")
        profile = expert_service.get_expert(session, caller.expert_id)
        names = sorted({n for s in expert_service.skill_names(session) for n in s})
        return show(visitor, "profile.html", status_code=status_code, profile=profile, skills=skill_rows(profile),
                    leave=leave_rows(profile), skill_names=names, errors=errors, report=report, saved=saved)

    @post("/profile", sync_to_thread=True, status_code=200)
    def save(self, db_session: DbSession, desk: DeskDep, now: Now, visitor: VisitorDep, data: Form) -> Response[str]:
        caller = visitor.signed_in
        visitor.check_csrf(data)
        if caller.expert_id is None:
            raise NotFound("this account has no expert profile")
        try:
            result = expert_service.update_expert(db_session, caller.expert_id, profile_update(data), now)
        except FormErrors as exc:
            return self._page(db_session, visitor, exc.errors, [], status_code=422)
        expert_id, index = caller.expert_id, desk.index
        after_commit(db_session, lambda: index.refresh([expert_id]))  # ranked with the new profile at once
        db_session.flush()
        return self._page(db_session, visitor, {}, result.resolutions, saved=True)


def staff_only(visitor: Visitor) -> None:
    if not visitor.signed_in.is_staff:
        raise NotAllowed("only coordinators and admins may see this page")


class StaffPages(Controller):
    include_in_schema = False

    @get("/experts", sync_to_thread=True)
    def experts(self, db_session: DbSession, now: Now, visitor: VisitorDep, q: SearchText = None) -> Response[str]:
        staff_only(visitor)
        found, total = expert_service.list_experts(
            db_session, ExpertFilter(search_key=fold_key(q) if q else None),
            Window(limit=200, offset=0, sort="name"))
        loads = service.expert_loads(db_session)
        rows = [{"expert": e, "load": loads.get(e.id, 0),
                 "on_leave": any(p.starts_at <= now < p.ends_at for p in e.leave)} for e in found]
        return show(visitor, "experts.html", rows=rows, total=total, q=q or "")

    @get("/metrics", sync_to_thread=True)
    def metrics(self, db_session: DbSession, desk: DeskDep, now: Now, visitor: VisitorDep) -> Response[str]:
        staff_only(visitor)
        return show(visitor, "metrics.html", **metrics_view(db_session, desk, now))


def metrics_view(session: Session, desk: Desk, now: Any) -> dict[str, Any]:
    found = queues.metrics(session, desk, now)
    weeks = queues.weekly_tickets(session, now)
    statuses = [s.value for s in TicketStatus]
    loads = queues.expert_loads(session, 20)
    return {
        "metrics": found,
        "weeks": weeks,
        "statuses": statuses,
        "week_max": max([sum(c.values()) for _w, c in weeks] + [1]),
        "loads": loads,
        "times": [("assignment", found.median_hours_to_assignment), ("resolution", found.median_hours_to_resolution)],
        "time_max": max([h or 0 for h in (found.median_hours_to_assignment, found.median_hours_to_resolution)] + [1]),
    }
