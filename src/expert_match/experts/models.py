"""ORM models: the skill taxonomy and expert profiles with their skills, districts, leave and conflicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from expert_match.db import Base, TimestampedMixin, UTCDateTime
from expert_match.orgs.models import Org, User


class Skill(TimestampedMixin, Base):
    """A canonical skill. Free-text input is mapped onto these by ``experts/skills.py``."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # Abbreviations and synonyms in both languages ("CKS", "chữ ký số từ xa", "e-signature").
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(64))
    # Folded slug, names and aliases, so a search for "chu ky so" finds "Chữ ký số" on every engine.
    search_key: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))


class ExpertProfile(TimestampedMixin, Base):
    __tablename__ = "expert_profiles"
    __table_args__ = (
        CheckConstraint("capacity >= 0 AND capacity <= 50", name="capacity_range"),
        # The matcher index polls for profiles changed since its watermark.
        Index("ix_expert_profiles_updated_at", "updated_at"),
        # The desk lists experts who took no capacity; a handful among thousands.
        Index("ix_expert_profiles_no_capacity", "id", sqlite_where=text("capacity = 0"),
              postgresql_where=text("capacity = 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    headline: Mapped[str] = mapped_column(String(200))
    bio: Mapped[str] = mapped_column(Text, default="")
    # Folded display name + headline for diacritic-insensitive search on every engine.
    search_key: Mapped[str] = mapped_column(String(400))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    onsite_possible: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer)
    affiliation_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("orgs.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # Optimistic locking: a PATCH based on an old version loses with 409 instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    user: Mapped[User] = relationship(lazy="raise")
    affiliation: Mapped[Org | None] = relationship(lazy="raise")
    skills: Mapped[list[ExpertSkill]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExpertSkill.position"
    )
    districts: Mapped[list[ExpertDistrict]] = relationship(lazy="raise", cascade="all, delete-orphan")
    leave: Mapped[list[ExpertLeave]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExpertLeave.starts_at"
    )
    conflicts: Mapped[list[ExpertConflict]] = relationship(lazy="raise", cascade="all, delete-orphan")


class ExpertSkill(Base):
    """One skill of an expert: a canonical skill, or free text kept as typed when none matched."""

    __tablename__ = "expert_skills"
    __table_args__ = (
        UniqueConstraint("expert_id", "skill_id"),
        CheckConstraint("level >= 1 AND level <= 5", name="level_range"),
        CheckConstraint("skill_id IS NOT NULL OR free_text IS NOT NULL", name="skill_or_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id", ondelete="RESTRICT"), index=True)
    free_text: Mapped[str | None] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    skill: Mapped[Skill | None] = relationship(lazy="raise")


class ExpertDistrict(Base):
    __tablename__ = "expert_districts"

    expert_id: Mapped[int] = mapped_column(
        ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    district_code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class ExpertLeave(Base):
    """A period when the expert cannot take work (leave, travel, exams)."""

    __tablename__ = "expert_leave"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))


class ExpertConflict(Base):
    """An org the expert must never advise (declared conflict of interest)."""

    __tablename__ = "expert_conflicts"

    expert_id: Mapped[int] = mapped_column(
        ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id", ondelete="RESTRICT"), primary_key=True, index=True)
    reason: Mapped[str | None] = mapped_column(String(200))

    org: Mapped[Org] = relationship(lazy="raise")
