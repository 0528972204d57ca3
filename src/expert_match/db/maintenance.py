"""Planner statistics and dead rows: what PostgreSQL's autovacuum keeps up without being asked.

The tickets, offers, events and notifications tables start empty and grow by thousands of rows
an hour, and half their rows are updated soon after they are written. PostgreSQL plans a query
from statistics that only ANALYZE gathers; without them it guesses that any value of a column
matches 0.5 % of its rows. Measured in a soak on a server with autovacuum off: after 3 minutes
the filing's "pending offers of this ticket" query combined the ticket's index with the index
of every offer in state "pending" (27,000 rows read to find none, 2-6 ms), and mixed load fell
from 340 to 107 req/s while the tables grew. So the service says at start-up when autovacuum is
off, and the benchmarks, which measure the service and not a server's settings, vacuum as
autovacuum would have.
"""

from __future__ import annotations

import time

from sqlalchemy import text

from expert_match.db.engine import Database

AUTOVACUUM_OFF = ("PostgreSQL's autovacuum is off on this server: the planner's statistics go stale "
                  "as tickets grow and queries slow down. Turn it on (autovacuum = on, the default), "
                  "or run VACUUM (ANALYZE) on this database at least hourly.")


def autovacuum_on(database: Database) -> bool:
    """Whether the server keeps statistics and dead rows up by itself (SQLite has no dead rows
    to sweep and plans well enough from its indexes, so there the answer is yes)."""
    if database.dialect != "postgresql":
        return True
    with database.engine.connect() as connection:
        return connection.execute(text("SELECT current_setting('autovacuum')")).scalar_one() == "on"


def autovacuum_warning(database: Database) -> str | None:
    """The start-up warning when the database will not keep its own statistics, else None."""
    return None if autovacuum_on(database) else AUTOVACUUM_OFF


def vacuum_analyze(database: Database) -> float:
    """VACUUM (ANALYZE) every table of a PostgreSQL database (a no-op elsewhere); the seconds taken.

    VACUUM cannot run inside a transaction, hence the autocommit connection."""
    started = time.perf_counter()
    if database.dialect == "postgresql":
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM (ANALYZE)"))
    return time.perf_counter() - started
