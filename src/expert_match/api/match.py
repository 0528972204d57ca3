"""Rank experts for a free-text problem."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from expert_match.api.auth import StaffDep
from expert_match.http.deps import DbSession, Index, Now
from expert_match.api.problems import problem_responses
from expert_match.experts import match_service
from expert_match.experts.match_schemas import MatchRequest, MatchResult
from expert_match.tickets.service import expert_loads


class MatchController(Controller):
    path = "/api/v1/match"
    tags = ["matching"]

    @post("/", sync_to_thread=True, status_code=200, summary="Rank experts for a problem, with explanations",
          responses=problem_responses(400, 401, 403, 413, 422))
    def match(self, db_session: DbSession, staff: StaffDep, match_index: Index, now: Now, data: JSONBody[MatchRequest]) -> MatchResult:
        return match_service.match(db_session, match_index, data, now, loads=expert_loads(db_session))
