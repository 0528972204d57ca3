"""Rank experts for a free-text problem: the ``/api/v1/match`` and ``expert-match rank`` use case."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from expert_match.errors import InvalidReference, InvalidValue
from expert_match.experts.match_index import MatchIndex
from expert_match.experts.match_schemas import (
    MatchedExpert,
    MatchedTermRead,
    MatchRead,
    MatchRequest,
    MatchResult,
    ScorePartsRead,
)
from expert_match.experts.repository import ExpertRepository
from expert_match.matching.profiles import Problem
from expert_match.orgs.repository import OrgRepository
from expert_match.orgs.service import district_code


def match(session: Session, index: MatchIndex, request: MatchRequest, now: datetime,
          loads: Mapping[int, int] | None = None) -> MatchResult:
    """Rank experts for ``request``; ``loads`` are the active tickets per expert (the tickets
    feature knows them), so experts at capacity are filtered out."""
    if request.org_id is not None and OrgRepository(session).get(request.org_id) is None:
        raise InvalidReference(f"org {request.org_id} does not exist", field="org_id")
    if request.window_start and request.window_end and request.window_end <= request.window_start:
        raise InvalidValue("the window must end after it starts", field="window_end")
    problem = Problem(
        text=request.text,
        org_id=request.org_id,
        district=district_code(request.district),
        onsite=request.onsite,
        window_start=request.window_start,
        window_end=request.window_end,
        language=request.language,
    )
    matches = index.rank(problem, request.k, now=now, loads=loads or {})
    experts = {p.id: p for p in ExpertRepository(session).for_matching([m.expert_id for m in matches])}
    items = []
    for found in matches:
        expert = experts.get(found.expert_id)
        if expert is None:  # removed since the index last looked: skip rather than show a ghost
            continue
        items.append(MatchRead(
            rank=len(items) + 1,
            score=round(found.score, 6),
            expert=MatchedExpert(id=expert.id, display_name=expert.user.display_name, headline=expert.headline),
            parts=ScorePartsRead(**{k: round(getattr(found.parts, k), 6)
                                    for k in ("text", "availability", "district", "feedback", "total")}),
            matched_terms=[MatchedTermRead(term=t.term, weight=t.weight) for t in found.matched_terms],
            matched_skills=list(found.matched_skills),
        ))
    return MatchResult(matches=items, experts_considered=len(index.ranker.expert_ids_))
