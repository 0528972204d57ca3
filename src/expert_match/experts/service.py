"""Expert use cases: create and update profiles with their skills, districts, leave and conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from msgspec import UNSET
from sqlalchemy.orm import Session

from expert_match.db.flush import flush_or_conflict
from expert_match.db.paging import Window
from expert_match.errors import Conflict, InvalidReference, InvalidValue, NotFound
from expert_match.experts.models import ExpertConflict, ExpertDistrict, ExpertLeave, ExpertProfile, ExpertSkill
from expert_match.experts.repository import ExpertFilter, ExpertRepository, SkillRepository
from expert_match.experts.schemas import ConflictInput, ExpertCreate, ExpertUpdate, LeaveInput, SkillInput
from expert_match.experts.skill_service import load_taxonomy
from expert_match.experts.skills import SkillResolution, SkillTaxonomy
from expert_match.matching.text import clean_text, fold_key
from expert_match.orgs.locations import admin_units
from expert_match.orgs.models import OrgKind, Role, User
from expert_match.orgs.repository import OrgRepository, UserRepository
from expert_match.orgs.service import district_code


@dataclass(frozen=True, slots=True)
class SavedExpert:
    profile: ExpertProfile
    resolutions: list[SkillResolution]

    @property
    def unrecognised(self) -> list[str]:
        return [r.text for r in self.resolutions if not r.known]


def get_expert(session: Session, expert_id: int) -> ExpertProfile:
    profile = ExpertRepository(session).get(expert_id)
    if profile is None:
        raise NotFound(f"expert {expert_id} not found")
    return profile


def expert_filter(
    session: Session,
    *,
    skill: str | None,
    district: str | None,
    available_at: datetime | None,
    org_kind: OrgKind | None,
    active: bool | None,
    query: str | None,
) -> ExpertFilter:
    """Turn list query parameters into a filter; an unknown skill or district is a 422 naming it."""
    skill_id = None
    if skill:
        taxonomy = load_taxonomy(session)
        resolution = taxonomy.resolve(skill)
        if not resolution.known:
            hints = ", ".join(s.slug or "" for s in taxonomy.suggest(skill, limit=3))
            raise InvalidValue(f"unknown skill {skill!r}" + (f"; closest: {hints}" if hints else ""), field="skill")
        skill_id = resolution.skill_id
    return ExpertFilter(
        skill_id=skill_id,
        district_code=district_code(district),
        available_at=available_at,
        org_kind=org_kind,
        active=active,
        search_key=fold_key(query) if query else None,
    )


def list_experts(session: Session, filters: ExpertFilter, window: Window) -> tuple[list[ExpertProfile], int]:
    return ExpertRepository(session).list(filters, window)


def create_expert(
    session: Session, data: ExpertCreate, now: datetime, taxonomy: SkillTaxonomy | None = None
) -> SavedExpert:
    """Create the expert's user account and profile in one flush."""
    users = UserRepository(session)
    email = data.email.lower()
    if users.get_by_email(email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists", field="email")
    check_org_references(session, data.affiliation_org_id, data.conflicts)
    taxonomy = taxonomy or load_taxonomy(session)
    skills, resolutions = build_skills(data.skills, taxonomy)
    display_name = clean_text(data.display_name)
    user = User(
        email=email,
        display_name=display_name,
        role=Role.EXPERT,
        org_id=data.affiliation_org_id,
        active=True,
        created_at=now,
        updated_at=now,
    )
    profile = ExpertProfile(
        user=user,
        headline=clean_text(data.headline),
        bio=data.bio,
        search_key=fold_key(f"{display_name} {data.headline}")[:400],
        languages=dedupe(data.languages),
        onsite_possible=data.onsite_possible,
        capacity=data.capacity,
        affiliation_org_id=data.affiliation_org_id,
        active=data.active,
        skills=skills,
        districts=build_districts(data.districts),
        leave=build_leave(data.unavailable),
        conflicts=build_conflicts(data.conflicts),
        created_at=now,
        updated_at=now,
    )
    users.add(user)
    ExpertRepository(session).add(profile)
    flush_or_conflict(session, f"a user with e-mail {email} already exists", field="email")
    return SavedExpert(profile=get_expert(session, profile.id), resolutions=resolutions)


def update_expert(session: Session, expert_id: int, data: ExpertUpdate, now: datetime) -> SavedExpert:
    profile = get_expert(session, expert_id)
    if data.version is not UNSET and data.version != profile.version:
        raise Conflict(
            f"expert {expert_id} is at version {profile.version}, not {data.version}; reload and retry",
            field="version",
        )
    affiliation = profile.affiliation_org_id if data.affiliation_org_id is UNSET else data.affiliation_org_id
    check_org_references(session, affiliation, [] if data.conflicts is UNSET else data.conflicts)
    resolutions: list[SkillResolution] = []
    if data.skills is not UNSET:
        new_skills, resolutions = build_skills(data.skills, load_taxonomy(session))
        # Delete the old rows first: the unit of work inserts before it deletes, which would
        # trip the (expert, skill) unique constraint when a skill is kept.
        profile.skills.clear()
        session.flush()
        profile.skills = new_skills
    apply_scalar_changes(profile, data)
    if data.districts is not UNSET:
        profile.districts = build_districts(data.districts)
    if data.unavailable is not UNSET:
        profile.leave = build_leave(data.unavailable)
    if data.conflicts is not UNSET:
        profile.conflicts = build_conflicts(data.conflicts)
    if data.affiliation_org_id is not UNSET:
        profile.affiliation_org_id = data.affiliation_org_id
        profile.user.org_id = data.affiliation_org_id
    profile.search_key = fold_key(f"{profile.user.display_name} {profile.headline}")[:400]
    profile.updated_at = profile.user.updated_at = now
    flush_or_conflict(session, f"expert {expert_id} could not be saved")
    session.expire(profile)
    return SavedExpert(profile=get_expert(session, expert_id), resolutions=resolutions)


def apply_scalar_changes(profile: ExpertProfile, data: ExpertUpdate) -> None:
    if data.display_name is not UNSET:
        profile.user.display_name = clean_text(data.display_name)
    if data.headline is not UNSET:
        profile.headline = clean_text(data.headline)
    if data.bio is not UNSET:
        profile.bio = data.bio
    if data.languages is not UNSET:
        profile.languages = dedupe(data.languages)
    if data.onsite_possible is not UNSET:
        profile.onsite_possible = data.onsite_possible
    if data.capacity is not UNSET:
        profile.capacity = data.capacity
    if data.active is not UNSET:
        profile.active = data.active


def check_org_references(session: Session, affiliation_org_id: int | None, conflicts: list[ConflictInput]) -> None:
    wanted = {c.org_id for c in conflicts} | ({affiliation_org_id} if affiliation_org_id else set())
    existing = OrgRepository(session).existing_ids(wanted)
    if affiliation_org_id is not None and affiliation_org_id not in existing:
        raise InvalidReference(f"org {affiliation_org_id} does not exist", field="affiliation_org_id")
    for i, conflict in enumerate(conflicts):
        if conflict.org_id not in existing:
            raise InvalidReference(f"org {conflict.org_id} does not exist", field=f"conflicts[{i}].org_id")


def build_skills(inputs: list[SkillInput], taxonomy: SkillTaxonomy) -> tuple[list[ExpertSkill], list[SkillResolution]]:
    """Resolve typed skills; duplicates of one canonical skill merge, keeping the highest level."""
    rows: dict[object, ExpertSkill] = {}
    resolutions = []
    for skill_input in inputs:
        resolution = taxonomy.resolve(skill_input.name)
        resolutions.append(resolution)
        key: object = resolution.skill_id if resolution.known else ("text", fold_key(skill_input.name))
        if key in rows:
            rows[key].level = max(rows[key].level, skill_input.level)
            continue
        rows[key] = ExpertSkill(
            skill_id=resolution.skill_id,
            # Keep what the expert typed when it is not a canonical skill: never silently dropped.
            free_text=None if resolution.known else clean_text(skill_input.name),
            level=skill_input.level,
            position=len(rows),
        )
    return list(rows.values()), resolutions


def build_districts(texts: list[str]) -> list[ExpertDistrict]:
    units = admin_units()
    codes: list[str] = []
    for i, text in enumerate(texts):
        district = units.district(text)
        if district is None:
            raise InvalidValue(f"unknown Da Nang district {text!r}", field=f"districts[{i}]")
        if district.code not in codes:
            codes.append(district.code)
    return [ExpertDistrict(district_code=code) for code in codes]


def build_leave(periods: list[LeaveInput]) -> list[ExpertLeave]:
    for i, period in enumerate(periods):
        if period.ends_at <= period.starts_at:
            raise InvalidValue("a leave period must end after it starts", field=f"unavailable[{i}].ends_at")
    return [ExpertLeave(starts_at=p.starts_at, ends_at=p.ends_at, reason=p.reason or None) for p in periods]


def build_conflicts(conflicts: list[ConflictInput]) -> list[ExpertConflict]:
    seen: dict[int, ExpertConflict] = {}
    for conflict in conflicts:
        seen.setdefault(conflict.org_id, ExpertConflict(org_id=conflict.org_id, reason=conflict.reason or None))
    return list(seen.values())


def dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def skill_names(session: Session) -> list[tuple[str, str]]:
    """(Vietnamese name, English name) of every skill in the taxonomy, for pickers."""
    return [(s.name_vi, s.name_en) for s in SkillRepository(session).all()]
