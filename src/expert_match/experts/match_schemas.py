"""msgspec Structs for ranking experts against a free-text problem (``POST /api/v1/match``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from expert_match.experts.schemas import AwareTime, Language
from expert_match.orgs.schemas import PlaceText
from expert_match.structs import Id, Input, Output


class MatchRequest(Input):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000, description="The problem as written")]
    org_id: Id | None = None
    district: PlaceText | None = None
    onsite: bool = False
    window_start: AwareTime | None = None
    window_end: AwareTime | None = None
    language: Language | None = None
    k: Annotated[int, msgspec.Meta(ge=1, le=50)] = 10


class ScorePartsRead(Output):
    text: float
    availability: float
    district: float
    feedback: float
    total: float


class MatchedTermRead(Output):
    term: str
    weight: float


class MatchedExpert(Output):
    id: int
    display_name: str
    headline: str


class MatchRead(Output):
    rank: int
    score: float
    expert: MatchedExpert
    parts: ScorePartsRead
    matched_terms: list[MatchedTermRead]
    matched_skills: list[str]


class MatchResult(Output):
    matches: list[MatchRead]
    experts_considered: int
