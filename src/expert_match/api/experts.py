"""Expert registry routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter
from sqlalchemy.orm import Session

from expert_match.api.auth import CallerDep, StaffDep
from expert_match.http.deps import DbSession, Index, Limit, Now, Offset, PathId, SearchText
from expert_match.api.problems import problem_responses
from expert_match.auth.principal import Caller
from expert_match.db.hooks import after_commit
from expert_match.errors import NotFound
from expert_match.db.paging import Window
from expert_match.experts import service
from expert_match.experts.match_index import MatchIndex
from expert_match.experts.schemas import (
    ExpertCreate,
    ExpertPage,
    ExpertRead,
    ExpertSaved,
    ExpertUpdate,
    expert_read,
    resolution_read,
)
from expert_match.experts.service import SavedExpert
from expert_match.orgs.models import OrgKind

ExpertSort = Literal["id", "-id", "name", "-name", "capacity", "-capacity", "created_at", "-created_at",
                     "updated_at", "-updated_at"]


def refresh_after_commit(session: Session, index: MatchIndex, expert_id: int) -> None:
    """Rankings reflect the change as soon as it is committed (never before: it may roll back)."""
    after_commit(session, lambda: index.refresh([expert_id]))


def own_profile_or_staff(caller: Caller, expert_id: int) -> None:
    """Experts reach their own profile only; another one answers 404 like a missing one."""
    if not caller.is_staff and caller.expert_id != expert_id:
        raise NotFound(f"expert {expert_id} not found")


def saved(result: SavedExpert, now: datetime) -> ExpertSaved:
    return ExpertSaved(
        expert=expert_read(result.profile, now),
        skill_report=[resolution_read(r) for r in result.resolutions],
        unrecognised_skills=result.unrecognised,
    )


class ExpertController(Controller):
    path = "/api/v1/experts"
    tags = ["experts"]

    @get("/", sync_to_thread=True, summary="List experts", responses=problem_responses(400, 401, 403, 422))
    def list_experts(
        self,
        db_session: DbSession,
        staff: StaffDep,
        now: Now,
        skill: Annotated[str | None, QueryParameter(min_length=1, max_length=120,
                                                    description="Skill slug, name or alias")] = None,
        district: Annotated[str | None, QueryParameter(max_length=120, description="District code or name")] = None,
        available_now: Annotated[bool | None, QueryParameter(description="Only experts who can take work now")] = None,
        org_kind: Annotated[OrgKind | None, QueryParameter(description="Kind of the affiliation org")] = None,
        active: Annotated[bool | None, QueryParameter()] = None,
        q: SearchText = None,
        sort: Annotated[ExpertSort, QueryParameter()] = "id",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ExpertPage:
        filters = service.expert_filter(
            db_session, skill=skill, district=district, available_at=now if available_now else None,
            org_kind=org_kind, active=active, query=q,
        )
        experts, total = service.list_experts(db_session, filters, Window(limit=limit, offset=offset, sort=sort))
        return ExpertPage(items=[expert_read(e, now) for e in experts], total=total, limit=limit, offset=offset)

    @post("/", sync_to_thread=True, summary="Register an expert (user account and profile)",
          responses=problem_responses(400, 401, 403, 409, 413, 422))
    def create_expert(self, db_session: DbSession, staff: StaffDep, match_index: Index, now: Now,
                      data: JSONBody[ExpertCreate]) -> ExpertSaved:
        result = service.create_expert(db_session, data, now)
        refresh_after_commit(db_session, match_index, result.profile.id)
        return saved(result, now)

    @get("/{expert_id:int}", sync_to_thread=True, summary="Read an expert (staff, or the expert)",
         responses=problem_responses(400, 401, 404))
    def read_expert(self, db_session: DbSession, caller: CallerDep, now: Now, expert_id: PathId) -> ExpertRead:
        own_profile_or_staff(caller, expert_id)
        return expert_read(service.get_expert(db_session, expert_id), now)

    @patch("/{expert_id:int}", sync_to_thread=True, summary="Update an expert (lists given replace lists held)",
           responses=problem_responses(400, 401, 404, 409, 413, 422))
    def update_expert(self, db_session: DbSession, caller: CallerDep, match_index: Index, now: Now,
                      expert_id: PathId, data: JSONBody[ExpertUpdate]) -> ExpertSaved:
        own_profile_or_staff(caller, expert_id)
        result = service.update_expert(db_session, expert_id, data, now)
        refresh_after_commit(db_session, match_index, expert_id)
        return saved(result, now)
