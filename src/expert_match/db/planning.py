"""Steering SQLite's query planner where it cannot know better.

SQLite plans without statistics (nobody runs ``ANALYZE`` on a newcomer's file), and then an
equality on a one-column index looks cheaper than any other path. For the queues that was the
wrong choice: the district's index leads to the tickets' long rows, where the covering index
(``ix_tickets_queue``) holds every column the statement needs. SQLite's documented way to keep
a term from choosing an index is a unary ``+`` in front of its column; PostgreSQL keeps
statistics and needs no help (and has no unary ``+`` for text).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class unindexed(FunctionElement[Any]):  # noqa: N801 - used like a SQL function
    """``column`` as a value SQLite does not look up through an index (``+column``); the bare
    column on other engines."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type  # binds compared with it are processed as the column's


@compiles(unindexed)
def _plain(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _no_index(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)
