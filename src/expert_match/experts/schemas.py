"""msgspec Structs for the expert and skill API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from expert_match.experts.availability import is_available, on_leave
from expert_match.experts.models import ExpertProfile, Skill
from expert_match.experts.skills import SkillResolution
from expert_match.orgs.locations import admin_units
from expert_match.orgs.schemas import OrgRef, PlaceText, org_ref
from expert_match.structs import Code, Email, Id, Input, LongText, Output, ShortText

SkillName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Alias = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Level = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 = basic ... 5 = leading expert")]
Capacity = Annotated[int, msgspec.Meta(ge=0, le=50, description="Most active tickets at once")]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$", description="ISO 639-1 code", examples=["vi"])]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True, description="With a UTC offset")]
Reason = Annotated[str, msgspec.Meta(max_length=200)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class SkillInput(Input):
    name: SkillName
    level: Level = 3


class LeaveInput(Input):
    starts_at: AwareTime
    ends_at: AwareTime
    reason: Reason | None = None


class ConflictInput(Input):
    org_id: Id
    reason: Reason | None = None


class ExpertCreate(Input):
    email: Email
    display_name: DisplayName
    headline: ShortText
    bio: LongText = ""
    skills: Annotated[list[SkillInput], msgspec.Meta(max_length=40)] = []
    languages: Annotated[list[Language], msgspec.Meta(min_length=1, max_length=6)] = msgspec.field(default_factory=lambda: ["vi"])
    districts: Annotated[list[PlaceText], msgspec.Meta(max_length=10)] = []
    onsite_possible: bool = False
    capacity: Capacity = 3
    affiliation_org_id: Id | None = None
    conflicts: Annotated[list[ConflictInput], msgspec.Meta(max_length=50)] = []
    unavailable: Annotated[list[LeaveInput], msgspec.Meta(max_length=50)] = []
    active: bool = True


class ExpertUpdate(Input):
    """Partial update; a list given replaces the whole list. ``version`` guards against lost updates."""

    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | UnsetType = UNSET
    display_name: DisplayName | UnsetType = UNSET
    headline: ShortText | UnsetType = UNSET
    bio: LongText | UnsetType = UNSET
    skills: Annotated[list[SkillInput], msgspec.Meta(max_length=40)] | UnsetType = UNSET
    languages: Annotated[list[Language], msgspec.Meta(min_length=1, max_length=6)] | UnsetType = UNSET
    districts: Annotated[list[PlaceText], msgspec.Meta(max_length=10)] | UnsetType = UNSET
    onsite_possible: bool | UnsetType = UNSET
    capacity: Capacity | UnsetType = UNSET
    affiliation_org_id: Id | None | UnsetType = UNSET
    conflicts: Annotated[list[ConflictInput], msgspec.Meta(max_length=50)] | UnsetType = UNSET
    unavailable: Annotated[list[LeaveInput], msgspec.Meta(max_length=50)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ExpertSkillRead(Output):
    skill_id: int | None
    slug: str | None
    name_vi: str | None
    name_en: str | None
    free_text: str | None
    level: int


class DistrictRead(Output):
    code: str
    name: str


class LeaveRead(Output):
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


class ConflictRead(Output):
    org: OrgRef
    reason: str | None


class ExpertRead(Output):
    id: int
    user_id: int
    email: str
    display_name: str
    headline: str
    bio: str
    skills: list[ExpertSkillRead]
    languages: list[str]
    districts: list[DistrictRead]
    onsite_possible: bool
    capacity: int
    affiliation: OrgRef | None
    conflicts: list[ConflictRead]
    unavailable: list[LeaveRead]
    active: bool
    on_leave_now: bool
    available_now: bool
    version: int
    created_at: datetime
    updated_at: datetime


class SkillResolutionRead(Output):
    input: str
    slug: str | None
    method: Literal["exact", "fuzzy", "unknown"]
    score: float
    matched_name: str | None


class ExpertSaved(Output):
    """Write result: the profile plus how every typed skill was understood."""

    expert: ExpertRead
    skill_report: list[SkillResolutionRead]
    unrecognised_skills: list[str]


class ExpertPage(Output):
    items: list[ExpertRead]
    total: int
    limit: int
    offset: int


class SkillCreate(Input):
    slug: Code
    name_vi: SkillName
    name_en: SkillName
    aliases: Annotated[list[Alias], msgspec.Meta(max_length=40)] = []
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class SkillUpdate(Input):
    name_vi: SkillName | UnsetType = UNSET
    name_en: SkillName | UnsetType = UNSET
    aliases: Annotated[list[Alias], msgspec.Meta(max_length=40)] | UnsetType = UNSET
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None | UnsetType = UNSET
    description: Annotated[str, msgspec.Meta(max_length=500)] | None | UnsetType = UNSET


class SkillRead(Output):
    id: int
    slug: str
    name_vi: str
    name_en: str
    aliases: list[str]
    category: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime


class SkillPage(Output):
    items: list[SkillRead]
    total: int
    limit: int
    offset: int


class SkillResolveResult(Output):
    resolution: SkillResolutionRead
    suggestions: list[SkillResolutionRead]


def skill_read(skill: Skill) -> SkillRead:
    return SkillRead(
        id=skill.id,
        slug=skill.slug,
        name_vi=skill.name_vi,
        name_en=skill.name_en,
        aliases=list(skill.aliases or []),
        category=skill.category,
        description=skill.description,
        created_at=skill.created_at,
        updated_at=skill.updated_at,
    )


def resolution_read(resolution: SkillResolution) -> SkillResolutionRead:
    return SkillResolutionRead(
        input=resolution.text,
        slug=resolution.slug,
        method=resolution.method,
        score=round(resolution.score, 1),
        matched_name=resolution.matched_name,
    )


def expert_read(profile: ExpertProfile, now: datetime) -> ExpertRead:
    units = admin_units()
    leave_now = on_leave(profile.leave, now)
    return ExpertRead(
        id=profile.id,
        user_id=profile.user_id,
        email=profile.user.email,
        display_name=profile.user.display_name,
        headline=profile.headline,
        bio=profile.bio,
        skills=[
            ExpertSkillRead(
                skill_id=s.skill_id,
                slug=s.skill.slug if s.skill else None,
                name_vi=s.skill.name_vi if s.skill else None,
                name_en=s.skill.name_en if s.skill else None,
                free_text=s.free_text,
                level=s.level,
            )
            for s in profile.skills
        ],
        languages=list(profile.languages or []),
        districts=[
            DistrictRead(code=d.district_code, name=units.districts[d.district_code].name)
            for d in sorted(profile.districts, key=lambda d: d.district_code)
            if d.district_code in units.districts
        ],
        onsite_possible=profile.onsite_possible,
        capacity=profile.capacity,
        affiliation=org_ref(profile.affiliation) if profile.affiliation else None,
        conflicts=[
            ConflictRead(org=org_ref(c.org), reason=c.reason) for c in sorted(profile.conflicts, key=lambda c: c.org_id)
        ],
        unavailable=[LeaveRead(id=p.id, starts_at=p.starts_at, ends_at=p.ends_at, reason=p.reason) for p in profile.leave],
        active=profile.active,
        on_leave_now=leave_now,
        # Ticket load is added to this rule by the workflow issue (experts have no tickets yet).
        available_now=is_available(
            active=profile.active, capacity=profile.capacity, load=0, periods=profile.leave, at=now
        ),
        version=profile.version,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )
