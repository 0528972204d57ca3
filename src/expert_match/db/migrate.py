"""Run Alembic migrations programmatically (``expert-match migrate`` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from expert_match.db.engine import Database

SCRIPT_LOCATION = "expert_match:migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(database), revision)


def downgrade(database: Database, revision: str) -> None:
    command.downgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()
