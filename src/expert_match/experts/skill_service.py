"""Skill taxonomy use cases: create, edit, list, and resolve free text to a canonical skill."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET
from sqlalchemy.orm import Session

from expert_match.db.flush import flush_or_conflict
from expert_match.db.paging import Window
from expert_match.errors import Conflict, NotFound
from expert_match.experts.models import Skill
from expert_match.experts.repository import SkillRepository
from expert_match.experts.schemas import SkillCreate, SkillUpdate
from expert_match.experts.skills import SkillEntry, SkillTaxonomy
from expert_match.matching.text import clean_text, fold_key


def skill_entry(skill: Skill) -> SkillEntry:
    return SkillEntry(skill.id, skill.slug, skill.name_vi, skill.name_en, tuple(skill.aliases or ()))


def load_taxonomy(session: Session, threshold: float = 88.0) -> SkillTaxonomy:
    return SkillTaxonomy((skill_entry(s) for s in SkillRepository(session).all()), threshold=threshold)


def skill_search_key(skill: Skill) -> str:
    return " | ".join(fold_key(n) for n in skill_entry(skill).names())[:2000]


def get_skill(session: Session, skill_id: int) -> Skill:
    skill = SkillRepository(session).get(skill_id)
    if skill is None:
        raise NotFound(f"skill {skill_id} not found")
    return skill


def list_skills(
    session: Session, query: str | None, category: str | None, window: Window
) -> tuple[list[Skill], int]:
    return SkillRepository(session).list(fold_key(query) if query else None, category, window)


def create_skill(session: Session, data: SkillCreate, now: datetime) -> Skill:
    repo = SkillRepository(session)
    if repo.get_by_slug(data.slug) is not None:
        raise Conflict(f"a skill with slug {data.slug!r} already exists", field="slug")
    skill = Skill(
        slug=data.slug,
        name_vi=clean_text(data.name_vi),
        name_en=clean_text(data.name_en),
        aliases=clean_aliases(data.aliases, data.slug.replace("-", " "), data.name_vi, data.name_en),
        category=data.category,
        description=data.description,
        created_at=now,
        updated_at=now,
    )
    check_names_unclaimed(session, skill, data.aliases)
    skill.search_key = skill_search_key(skill)
    repo.add(skill)
    flush_or_conflict(session, f"a skill with slug {data.slug!r} already exists", field="slug")
    return skill


def update_skill(session: Session, skill_id: int, data: SkillUpdate, now: datetime) -> Skill:
    skill = get_skill(session, skill_id)
    if data.name_vi is not UNSET:
        skill.name_vi = clean_text(data.name_vi)
    if data.name_en is not UNSET:
        skill.name_en = clean_text(data.name_en)
    if data.aliases is not UNSET:
        skill.aliases = clean_aliases(data.aliases, skill.slug.replace("-", " "), skill.name_vi, skill.name_en)
    if data.category is not UNSET:
        skill.category = data.category
    if data.description is not UNSET:
        skill.description = data.description
    check_names_unclaimed(session, skill, data.aliases if data.aliases is not UNSET else skill.aliases)
    skill.search_key = skill_search_key(skill)
    skill.updated_at = now
    flush_or_conflict(session, f"skill {skill_id} could not be saved")
    return skill


def clean_aliases(aliases: list[str], *names: str) -> list[str]:
    """Drop aliases that repeat a name or one another once folded ("Hóa đơn" and "hoa don")."""
    taken = {fold_key(n) for n in names}
    seen: dict[str, str] = {}
    for alias in aliases:
        alias = clean_text(alias)
        key = fold_key(alias)
        if key and key not in taken:
            seen.setdefault(key, alias)
    return list(seen.values())


def check_names_unclaimed(session: Session, skill: Skill, aliases_as_given: list[str]) -> None:
    """A name or alias may belong to one skill only, or free text could resolve either way.

    Fields are named by their position in the request, before duplicates were dropped.
    """
    taxonomy = load_taxonomy(session)
    names = [("name_vi", skill.name_vi), ("name_en", skill.name_en)]
    names += [(f"aliases[{i}]", a) for i, a in enumerate(aliases_as_given)]
    for field, name in names:
        hit = taxonomy.resolve(name)
        if hit.method == "exact" and hit.skill_id != skill.id:
            raise Conflict(f"{name!r} already names skill {hit.slug!r}", field=field)
