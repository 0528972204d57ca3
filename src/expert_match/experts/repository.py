"""All SQL about experts and skills."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, column, exists, func, select, table, union_all
from sqlalchemy.orm import Session, selectinload

from expert_match.db.paging import Window, fetch_page, order_clauses
from expert_match.db.prepared import Prepared, connection_of
from expert_match.experts.models import (
    ExpertConflict,
    ExpertDistrict,
    ExpertLeave,
    ExpertProfile,
    ExpertSkill,
    Skill,
)
from expert_match.orgs.models import Org, OrgKind, User

# The tickets feature's tables, named here without importing it (tickets depends on experts, not
# the reverse): the matcher reads experts' resolved, well-rated tickets as evidence of what they know.
_TICKETS = table("tickets", column("id"), column("assigned_expert_id"), column("title"), column("description"),
                 column("resolution_summary"), column("status"))
_FEEDBACK = table("ticket_feedback", column("ticket_id"), column("rating"), column("at"))
_profiles = ExpertProfile.__table__.c
# Built once: every filing runs these, and building one cost about as much as running it.
_users = User.__table__.c
# Active profiles among some experts, with their users' addresses: a ranking leaves inactive
# profiles out, and the offers it leads to are e-mailed to these (read before the writer).
_ACTIVE_WITH_EMAILS = Prepared(select(_profiles.id, _users.email, _users.active)
                               .join_from(ExpertProfile.__table__, User.__table__, _profiles.user_id == _users.id)
                               .where(_profiles.id.in_(bindparam("ids", expanding=True)), _profiles.active.is_(True))
                               .order_by(_users.id))
# The caller's profile id alone: loading the profile with its skills, districts, leave and
# conflicts (seven queries) for it cost an expert's every request 2 ms.
_PROFILE_OF_USER = Prepared(select(_profiles.id).where(_profiles.user_id == bindparam("user_id")))
_STANDING = Prepared(select(_profiles.active, _profiles.capacity).where(_profiles.id == bindparam("expert_id")))
_EMAILS = (select(_users.email).join_from(User.__table__, ExpertProfile.__table__, _profiles.user_id == _users.id)
           .where(_profiles.id.in_(bindparam("ids", expanding=True)), _users.active.is_(True)).order_by(_users.id))
GOOD_RATING = 4
EVIDENCE_PER_EXPERT = 30  # the most recent well-rated tickets; older ones add little and cost index space

EXPERT_SORTS = {
    "id": ExpertProfile.id,
    "name": ExpertProfile.search_key,
    "capacity": ExpertProfile.capacity,
    "created_at": ExpertProfile.created_at,
    "updated_at": ExpertProfile.updated_at,
}
SKILL_SORTS = {"id": Skill.id, "slug": Skill.slug, "name_vi": Skill.name_vi, "name_en": Skill.name_en}

_EXPERT_LOADS = (
    selectinload(ExpertProfile.user),
    selectinload(ExpertProfile.affiliation),
    selectinload(ExpertProfile.skills).selectinload(ExpertSkill.skill),
    selectinload(ExpertProfile.districts),
    selectinload(ExpertProfile.leave),
    selectinload(ExpertProfile.conflicts).selectinload(ExpertConflict.org),
)


@dataclass(frozen=True, slots=True)
class ExpertFilter:
    skill_id: int | None = None
    district_code: str | None = None
    available_at: datetime | None = None
    org_kind: OrgKind | None = None
    active: bool | None = None
    search_key: str | None = None


class ExpertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, expert_id: int) -> ExpertProfile | None:
        return self.session.scalar(select(ExpertProfile).where(ExpertProfile.id == expert_id).options(*_EXPERT_LOADS))

    def standing(self, expert_id: int) -> tuple[bool, int] | None:
        """(active, capacity) of an expert, None when there is no such expert: what accepting an
        offer checks, inside the write transaction."""
        row = _STANDING.one_or_none(connection_of(self.session), {"expert_id": expert_id})
        return (bool(row[0]), int(row[1])) if row is not None else None

    def id_of_user(self, user_id: int) -> int | None:
        """The expert profile id of a user (every request an expert makes asks for it)."""
        row = _PROFILE_OF_USER.one_or_none(connection_of(self.session), {"user_id": user_id})
        return row[0] if row is not None else None

    def add(self, profile: ExpertProfile) -> ExpertProfile:
        self.session.add(profile)
        return profile

    def list(self, filters: ExpertFilter, window: Window) -> tuple[list[ExpertProfile], int]:
        query = select(ExpertProfile).options(*_EXPERT_LOADS)
        if filters.skill_id is not None:
            query = query.where(
                exists().where(ExpertSkill.expert_id == ExpertProfile.id, ExpertSkill.skill_id == filters.skill_id)
            )
        if filters.district_code is not None:
            query = query.where(
                exists().where(
                    ExpertDistrict.expert_id == ExpertProfile.id,
                    ExpertDistrict.district_code == filters.district_code,
                )
            )
        if filters.available_at is not None:
            at = filters.available_at
            # Ticket load joins this filter when tickets exist (workflow issue); until then the
            # rules are: active, some capacity, and no leave period covering the moment.
            query = query.where(
                ExpertProfile.active.is_(True),
                ExpertProfile.capacity > 0,
                ~exists().where(
                    ExpertLeave.expert_id == ExpertProfile.id, ExpertLeave.starts_at <= at, ExpertLeave.ends_at > at
                ),
            )
        if filters.org_kind is not None:
            query = query.where(
                exists().where(Org.id == ExpertProfile.affiliation_org_id, Org.kind == filters.org_kind)
            )
        if filters.active is not None:
            query = query.where(ExpertProfile.active.is_(filters.active))
        if filters.search_key:
            query = query.where(ExpertProfile.search_key.contains(filters.search_key, autoescape=True))
        return fetch_page(self.session, query, window, order_clauses(window.sort, EXPERT_SORTS, ExpertProfile.id))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(ExpertProfile)) or 0

    def all_for_matching(self) -> list[ExpertProfile]:
        """Every profile with what the matcher needs, loaded in a fixed number of queries."""
        return list(self.session.scalars(select(ExpertProfile).options(*_EXPERT_LOADS).order_by(ExpertProfile.id)))

    def for_matching(self, expert_ids: Iterable[int]) -> list[ExpertProfile]:
        wanted = list(set(expert_ids))
        if not wanted:
            return []
        query = select(ExpertProfile).where(ExpertProfile.id.in_(wanted)).options(*_EXPERT_LOADS)
        return list(self.session.scalars(query.order_by(ExpertProfile.id)))

    def active_with_emails(self, expert_ids: Iterable[int]) -> dict[int, str | None]:
        """The active experts among ``expert_ids``, each with its user's e-mail address (None when
        the user account is inactive), in the order of their user ids."""
        wanted = list(set(expert_ids))
        if not wanted:
            return {}
        return {expert_id: email if active else None
                for expert_id, email, active in _ACTIVE_WITH_EMAILS.all(connection_of(self.session), {"ids": wanted})}

    def changed_since(self, moment: datetime) -> list[tuple[int, datetime]]:
        """(id, latest change) of experts whose profile was written, or who got a rating on a
        resolved ticket, at or after ``moment`` (the matcher's watermark)."""
        profiles = select(ExpertProfile.id.label("expert_id"), ExpertProfile.updated_at.label("at")).where(
            ExpertProfile.updated_at >= moment)
        ratings = (select(_TICKETS.c.assigned_expert_id.label("expert_id"), _FEEDBACK.c.at.label("at"))
                   .join(_FEEDBACK, _FEEDBACK.c.ticket_id == _TICKETS.c.id)
                   .where(_FEEDBACK.c.at >= moment, _TICKETS.c.assigned_expert_id.is_not(None)))
        changes = union_all(profiles, ratings).subquery()
        query = (select(changes.c.expert_id, func.max(changes.c.at)).group_by(changes.c.expert_id)
                 .order_by(changes.c.expert_id))
        return [(int(row[0]), row[1]) for row in self.session.execute(query)]

    def resolved_evidence(self, expert_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
        """Title, description and resolution of the tickets each expert resolved and the requester
        rated well (4-5), newest first: the matcher's evidence of what the expert can solve."""
        query = (select(_TICKETS.c.assigned_expert_id, _TICKETS.c.title, _TICKETS.c.description,
                        _TICKETS.c.resolution_summary)
                 .join(_FEEDBACK, _FEEDBACK.c.ticket_id == _TICKETS.c.id)
                 .where(_FEEDBACK.c.rating >= GOOD_RATING, _TICKETS.c.status.in_(("resolved", "closed")),
                        _TICKETS.c.assigned_expert_id.is_not(None))
                 .order_by(_TICKETS.c.assigned_expert_id, _TICKETS.c.id.desc()))
        if expert_ids is not None:
            query = query.where(_TICKETS.c.assigned_expert_id.in_(list(set(expert_ids))))
        found: dict[int, list[str]] = {}
        for expert_id, title, description, summary in self.session.execute(query):
            texts = found.setdefault(int(expert_id), [])
            if len(texts) < EVIDENCE_PER_EXPERT:
                texts.append("\n".join(part for part in (title, description, summary) if part))
        return found

    def emails(self, expert_ids: Iterable[int]) -> list[str]:
        """E-mail addresses of the active users behind ``expert_ids``, by user id (one query: every
        offer round looks them up while it holds the writer)."""
        wanted = list(set(expert_ids))
        if not wanted:
            return []
        return list(self.session.scalars(_EMAILS, {"ids": wanted}))

    def capacities(self, *, ids: Iterable[int] | None = None, first: int | None = None,
                   no_capacity: bool = False) -> list[tuple[int, str, int]]:
        """(expert id, display name, capacity) of active experts, by id: all of them, or those
        in ``ids``, or the ``first`` few, or those with no capacity at all."""
        query = (select(ExpertProfile.id, User.display_name, ExpertProfile.capacity)
                 .join(User, User.id == ExpertProfile.user_id)
                 .where(ExpertProfile.active.is_(True)).order_by(ExpertProfile.id))
        if ids is not None:
            query = query.where(ExpertProfile.id.in_(list(ids)))
        if no_capacity:
            query = query.where(ExpertProfile.capacity == 0)
        if first is not None:
            query = query.limit(first)
        return [(int(i), str(n), int(c)) for i, n, c in self.session.execute(query)]

    def user_has_profile(self, user: User) -> bool:
        return self.session.scalar(select(exists().where(ExpertProfile.user_id == user.id))) or False


class SkillRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, skill_id: int) -> Skill | None:
        return self.session.get(Skill, skill_id)

    def get_by_slug(self, slug: str) -> Skill | None:
        return self.session.scalar(select(Skill).where(Skill.slug == slug))

    def all(self) -> list[Skill]:
        return list(self.session.scalars(select(Skill).order_by(Skill.id)))

    def add(self, skill: Skill) -> Skill:
        self.session.add(skill)
        return skill

    def list(self, search_key: str | None, category: str | None, window: Window) -> tuple[list[Skill], int]:
        query = select(Skill)
        if category is not None:
            query = query.where(Skill.category == category)
        if search_key:
            query = query.where(Skill.search_key.contains(search_key, autoescape=True))
        return fetch_page(self.session, query, window, order_clauses(window.sort, SKILL_SORTS, Skill.id))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Skill)) or 0
