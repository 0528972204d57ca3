"""ORM models: Org and User."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expert_match.db import Base, TimestampedMixin


class OrgKind(StrEnum):
    DEPARTMENT = "department"
    WARD = "ward"
    DISTRICT = "district"
    BUSINESS = "business"
    COMMUNITY_TEAM = "community_team"


class Role(StrEnum):
    REQUESTER = "requester"
    EXPERT = "expert"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """Store an enum as its value in a VARCHAR with a CHECK (no native PG enum to migrate)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Org(TimestampedMixin, Base):
    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable external key (used by fixtures and imports to stay idempotent).
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Folded name ("ubnd phuong hoa cuong bac") so search ignores diacritics on every engine.
    search_key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(8), index=True)
    ward_code: Mapped[str | None] = mapped_column(String(8))
    ward_name: Mapped[str | None] = mapped_column(String(120))
    admin_version: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(254))


class User(TimestampedMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Filled by the authentication issue (argon2id); NULL means "cannot log in with a password".
    password_hash: Mapped[str | None] = mapped_column(String(255))

    org: Mapped[Org | None] = relationship(lazy="raise")
