"""All SQL about orgs and users."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from expert_match.db.paging import Window, fetch_page, order_clauses
from expert_match.db.prepared import Prepared, connection_of
from expert_match.orgs.models import Org, OrgKind, Role, User

ORG_SORTS = {"id": Org.id, "name": Org.search_key, "created_at": Org.created_at, "kind": Org.kind}


@dataclass(frozen=True, slots=True)
class OrgFilter:
    kind: OrgKind | None = None
    district_code: str | None = None
    search_key: str | None = None


@dataclass(frozen=True, slots=True)
class OrgPlace:
    """What filing needs of an org: its name and where it is."""

    id: int
    name: str
    district_code: str | None
    ward_code: str | None


_orgs = Org.__table__.c
# Built once: a filing reads it, and the whole ORM object cost 0.2 ms against 0.05.
_PLACE = Prepared(select(_orgs.id, _orgs.name, _orgs.district_code, _orgs.ward_code).where(_orgs.id == bindparam("id")))


class OrgRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def place(self, org_id: int) -> OrgPlace | None:
        row = _PLACE.one_or_none(connection_of(self.session), {"id": org_id})
        return OrgPlace(*row) if row is not None else None

    def get(self, org_id: int) -> Org | None:
        return self.session.get(Org, org_id)

    def get_by_code(self, code: str) -> Org | None:
        return self.session.scalar(select(Org).where(Org.code == code))

    def codes_taken(self, codes: Iterable[str]) -> set[str]:
        wanted = list(set(codes))
        if not wanted:
            return set()
        return set(self.session.scalars(select(Org.code).where(Org.code.in_(wanted))))

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        return set(self.session.scalars(select(Org.id).where(Org.id.in_(wanted))))

    def by_ids(self, ids: Iterable[int]) -> dict[int, Org]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        return {org.id: org for org in self.session.scalars(select(Org).where(Org.id.in_(wanted)))}

    def by_codes(self, codes: Iterable[str]) -> dict[str, Org]:
        wanted = list(set(codes))
        if not wanted:
            return {}
        return {org.code: org for org in self.session.scalars(select(Org).where(Org.code.in_(wanted)))}

    def add(self, org: Org) -> Org:
        self.session.add(org)
        return org

    def list(self, filters: OrgFilter, window: Window) -> tuple[list[Org], int]:
        query = select(Org)
        if filters.kind is not None:
            query = query.where(Org.kind == filters.kind)
        if filters.district_code is not None:
            query = query.where(Org.district_code == filters.district_code)
        if filters.search_key:
            query = query.where(Org.search_key.contains(filters.search_key, autoescape=True))
        return fetch_page(self.session, query, window, order_clauses(window.sort, ORG_SORTS, Org.id))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Org)) or 0


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.lower()))

    def by_emails(self, emails: Iterable[str]) -> dict[str, User]:
        wanted = list({e.lower() for e in emails})
        if not wanted:
            return {}
        return {u.email: u for u in self.session.scalars(select(User).where(User.email.in_(wanted)))}

    def add(self, user: User) -> User:
        self.session.add(user)
        return user

    def emails(self, user_ids: Iterable[int]) -> list[str]:
        """E-mail addresses of the active users among ``user_ids``."""
        wanted = list(set(user_ids))
        if not wanted:
            return []
        query = select(User.email).where(User.id.in_(wanted), User.active.is_(True)).order_by(User.id)
        return list(self.session.scalars(query))

    def emails_by_role(self, role: Role) -> list[str]:
        query = select(User.email).where(User.role == role, User.active.is_(True)).order_by(User.id)
        return list(self.session.scalars(query))

    def count_by_role(self, role: Role) -> int:
        return self.session.scalar(select(func.count()).select_from(User).where(User.role == role)) or 0
