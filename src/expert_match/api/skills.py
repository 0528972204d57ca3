"""Skill taxonomy routes."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from expert_match.api.auth import CallerDep, StaffDep
from expert_match.http.deps import DbSession, Index, Limit, Now, Offset, PathId, SearchText
from expert_match.api.problems import problem_responses
from expert_match.db.hooks import after_commit
from expert_match.db.paging import Window
from expert_match.experts import skill_service
from expert_match.experts.schemas import (
    SkillCreate,
    SkillPage,
    SkillRead,
    SkillResolveResult,
    SkillUpdate,
    resolution_read,
    skill_read,
)

SkillSort = Literal["id", "-id", "slug", "-slug", "name_vi", "-name_vi", "name_en", "-name_en"]


class SkillController(Controller):
    path = "/api/v1/skills"
    tags = ["skills"]

    @get("/", sync_to_thread=True, summary="List skills", responses=problem_responses(400, 401))
    def list_skills(
        self,
        db_session: DbSession,
        caller: CallerDep,
        q: SearchText = None,
        category: Annotated[str | None, QueryParameter(min_length=1, max_length=64)] = None,
        sort: Annotated[SkillSort, QueryParameter()] = "slug",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SkillPage:
        skills, total = skill_service.list_skills(db_session, q, category, Window(limit=limit, offset=offset, sort=sort))
        return SkillPage(items=[skill_read(s) for s in skills], total=total, limit=limit, offset=offset)

    @get("/resolve", sync_to_thread=True, summary="Map free text to a canonical skill",
         responses=problem_responses(400, 401))
    def resolve_skill(
        self,
        db_session: DbSession,
        caller: CallerDep,
        text: Annotated[str, QueryParameter(min_length=1, max_length=120, description="Skill as typed")],
    ) -> SkillResolveResult:
        taxonomy = skill_service.load_taxonomy(db_session)
        return SkillResolveResult(
            resolution=resolution_read(taxonomy.resolve(text)),
            suggestions=[resolution_read(r) for r in taxonomy.suggest(text)],
        )

    @post("/", sync_to_thread=True, summary="Add a canonical skill",
          responses=problem_responses(400, 401, 403, 409, 413, 422))
    def create_skill(self, db_session: DbSession, staff: StaffDep, now: Now, data: JSONBody[SkillCreate]) -> SkillRead:
        return skill_read(skill_service.create_skill(db_session, data, now))

    @get("/{skill_id:int}", sync_to_thread=True, summary="Read a skill", responses=problem_responses(400, 401, 404))
    def read_skill(self, db_session: DbSession, caller: CallerDep, skill_id: PathId) -> SkillRead:
        return skill_read(skill_service.get_skill(db_session, skill_id))

    @patch("/{skill_id:int}", sync_to_thread=True, summary="Update a skill",
           responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
    def update_skill(self, db_session: DbSession, staff: StaffDep, match_index: Index, now: Now, skill_id: PathId,
                     data: JSONBody[SkillUpdate]) -> SkillRead:
        skill = skill_service.update_skill(db_session, skill_id, data, now)
        # Names and aliases are evidence for every expert with this skill: refit in the background.
        after_commit(db_session, match_index.request_refit)
        return skill_read(skill)
