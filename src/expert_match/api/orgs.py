"""Org registry routes."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from expert_match.api.auth import CallerDep, StaffDep
from expert_match.http.deps import DbSession, Limit, Now, Offset, PathId, SearchText
from expert_match.api.problems import problem_responses
from expert_match.db.paging import Window
from expert_match.orgs import service
from expert_match.orgs.models import OrgKind
from expert_match.orgs.schemas import OrgCreate, OrgPage, OrgRead, OrgUpdate, org_read

OrgSort = Literal["id", "-id", "name", "-name", "created_at", "-created_at", "kind", "-kind"]


class OrgController(Controller):
    path = "/api/v1/orgs"
    tags = ["orgs"]

    @get("/", sync_to_thread=True, summary="List orgs", responses=problem_responses(400, 401, 422))
    def list_orgs(
        self,
        db_session: DbSession,
        caller: CallerDep,
        kind: Annotated[OrgKind | None, QueryParameter()] = None,
        district: Annotated[str | None, QueryParameter(max_length=120, description="District code or name")] = None,
        q: SearchText = None,
        sort: Annotated[OrgSort, QueryParameter()] = "name",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OrgPage:
        filters = service.org_filter(kind=kind, district=district, query=q)
        orgs, total = service.list_orgs(db_session, filters, Window(limit=limit, offset=offset, sort=sort))
        return OrgPage(items=[org_read(o) for o in orgs], total=total, limit=limit, offset=offset)

    @post("/", sync_to_thread=True, summary="Create an org", responses=problem_responses(400, 401, 403, 409, 413, 422))
    def create_org(self, db_session: DbSession, staff: StaffDep, now: Now, data: JSONBody[OrgCreate]) -> OrgRead:
        return org_read(service.create_org(db_session, data, now))

    @get("/{org_id:int}", sync_to_thread=True, summary="Read an org", responses=problem_responses(400, 401, 404))
    def read_org(self, db_session: DbSession, caller: CallerDep, org_id: PathId) -> OrgRead:
        return org_read(service.get_org(db_session, org_id))

    @patch("/{org_id:int}", sync_to_thread=True, summary="Update an org",
           responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
    def update_org(self, db_session: DbSession, staff: StaffDep, now: Now, org_id: PathId, data: JSONBody[OrgUpdate]) -> OrgRead:
        return org_read(service.update_org(db_session, org_id, data, now))
