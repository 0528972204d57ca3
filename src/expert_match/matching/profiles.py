"""Plain data the matcher works on: expert profiles, problems, and the matches it returns.

Built by the caller (from the database, a CSV, an evaluation set); nothing here knows where the
data came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SKILLS = "skills"
HEADLINE = "headline"
BIO = "bio"
TICKET = "ticket"  # text of a ticket the expert resolved with good feedback


@dataclass(frozen=True, slots=True)
class Document:
    """One piece of evidence about an expert; ``field`` selects its weight."""

    text: str
    field: str = BIO


@dataclass(frozen=True, slots=True)
class Period:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class SkillEvidence:
    """A skill an expert has, with every name it goes by (both languages, abbreviations)."""

    label: str
    names: tuple[str, ...]
    level: int = 3


@dataclass(frozen=True, slots=True)
class ExpertProfile:
    expert_id: int
    documents: tuple[Document, ...]
    skills: tuple[SkillEvidence, ...] = ()
    languages: frozenset[str] = frozenset({"vi"})
    districts: frozenset[str] = frozenset()
    onsite_possible: bool = False
    capacity: int = 3
    leave: tuple[Period, ...] = ()
    affiliation_org_id: int | None = None
    conflict_org_ids: frozenset[int] = frozenset()
    active: bool = True
    feedback: float | None = None  # mean requester rating (1-5) on resolved tickets

    def evidence(self) -> tuple[Document, ...]:
        """Documents plus one skills document naming every skill in every language."""
        if not self.skills:
            return self.documents
        names = "\n".join(name for skill in self.skills for name in (skill.label, *skill.names))
        return (*self.documents, Document(names, SKILLS))


@dataclass(frozen=True, slots=True)
class Problem:
    text: str
    org_id: int | None = None
    district: str | None = None
    onsite: bool = False
    window_start: datetime | None = None
    window_end: datetime | None = None
    language: str | None = None  # the expert must speak it when given


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """How a score was made: ``total = text * availability * (1 + district + feedback)``."""

    text: float
    availability: float
    district: float
    feedback: float
    total: float


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    term: str
    weight: float


@dataclass(frozen=True, slots=True)
class Match:
    expert_id: int
    rank: int
    score: float
    parts: ScoreParts
    matched_terms: tuple[MatchedTerm, ...] = ()
    matched_skills: tuple[str, ...] = field(default=())
