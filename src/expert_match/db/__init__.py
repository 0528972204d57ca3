"""Database plumbing: declarative base, column types, engine and session factory."""

from expert_match.db.base import Base, TimestampedMixin, UTCDateTime
from expert_match.db.engine import Database, create_database

__all__ = ["Base", "Database", "TimestampedMixin", "UTCDateTime", "create_database"]
