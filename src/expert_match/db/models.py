"""Imports every feature's models so ``metadata`` is complete (Alembic and test setup use it)."""

from expert_match.db.base import Base
from expert_match.experts import models as _experts  # noqa: F401
from expert_match.orgs import models as _orgs  # noqa: F401

metadata = Base.metadata
