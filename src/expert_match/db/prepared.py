"""Hot statements run on the driver's cursor, compiled once per dialect.

``Connection.execute`` spends 25-30 us of Python per statement before and after the driver's
own 2-5 us: the compiled-cache lookup, the execution context, the result object. The token
check, a ticket's view and its history run on every API read, so ``Prepared`` keeps what
SQLAlchemy would work out each time (the SQL text, the bind order and the bind and result
processors of the column types) and runs the driver's cursor itself: 29 -> 6 us for the token
check on SQLite. Statements with an expanding ``IN`` are expanded per call by SQLAlchemy's own
compiler. Engine ``before_cursor_execute`` listeners still see every statement, and the driver's
errors arrive as SQLAlchemy's (``IntegrityError`` and the rest).

A filing writes its new rows the same way (``insert_row``, ``write``, ``write_many``): through
the ORM's unit of work they cost the writer about 3 ms of CPU per filing, as column values 1 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    compiler: SQLCompiler
    sql: str
    positional: tuple[str, ...] | None  # bind names in order (qmark, format), None: named binds
    binds: dict[str, Processor]
    defaults: dict[str, Any]  # literal values in the statement (``kind == "file"``)
    expanding: bool
    names: dict[str, str]  # bind name -> the driver's name for it (escaped), named binds only


class Prepared:
    """A Core statement that runs without SQLAlchemy's per-execution machinery.

    The result rows are plain tuples with SQLAlchemy's type processing applied (UTC datetimes,
    enums, JSON), equal to ``Connection.execute(statement, params).all()``; tested so on both
    engines.
    """

    __slots__ = ("statement", "_compiled", "_results")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._results: dict[str, list[Processor]] = {}

    def all(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[tuple]:
        sql, args = self._arguments(self._compiled_for(connection), params or {})
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            _run(connection, cursor, sql, args)
            rows = cursor.fetchall()
            processors = self._results.get(connection.dialect.name)
            if processors is None:
                processors = self._result_processors(connection, cursor)
        finally:
            cursor.close()
        if not any(processors):
            return [tuple(row) for row in rows]
        return [tuple(value if process is None else process(value) for value, process in zip(row, processors))
                for row in rows]

    def one_or_none(self, connection: Connection, params: Mapping[str, Any] | None = None) -> tuple | None:
        rows = self.all(connection, params)
        if len(rows) > 1:
            raise ValueError(f"expected at most one row, got {len(rows)}")
        return rows[0] if rows else None

    def _compiled_for(self, connection: Connection) -> _Compiled:
        return self._compiled.get(connection.dialect.name) or self._compile(connection)

    def _compile(self, connection: Connection) -> _Compiled:
        compiler = self.statement.compile(dialect=connection.dialect)
        assert isinstance(compiler, SQLCompiler)
        binds = dict(compiler._bind_processors)
        expanding = bool(compiler.post_compile_params or compiler.literal_execute_params)
        compiled = _Compiled(compiler=compiler, sql=compiler.string,
                             positional=tuple(compiler.positiontup) if compiler.positional else None,
                             binds=binds, defaults={name: bind.effective_value for name, bind in compiler.binds.items()
                                                    if not bind.required},
                             expanding=expanding,
                             names={name: compiler.escaped_bind_names.get(name, name) for name in compiler.binds})
        self._compiled[connection.dialect.name] = compiled
        return compiled

    @staticmethod
    def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        values = {**compiled.defaults, **params}
        if compiled.expanding:
            state = compiled.compiler.construct_expanded_state(values)
            # The expanded state holds the processors of the expanded lists only; a datetime bound
            # beside one went to the driver unprocessed (on SQLite, a local time as it was given).
            processors = {**compiled.binds, **state.processors}
            if compiled.positional is not None:
                return state.statement, tuple(_processed(processors.get(name), state.parameters[name])
                                              for name in state.positiontup or ())
            return state.statement, {name: _processed(processors.get(name), value)
                                     for name, value in state.parameters.items()}
        binds = compiled.binds
        if compiled.positional is not None:
            return compiled.sql, tuple(_processed(binds.get(name), values[name]) for name in compiled.positional)
        names = compiled.names
        return compiled.sql, {names.get(name, name): _processed(binds.get(name), value)
                              for name, value in values.items()}

    def write(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; returns the rows it touched. Bind values are given
        for every column: SQLAlchemy's Python-side column defaults are not applied here."""
        sql, args = self._arguments(self._compiled_for(connection), params)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            _run(connection, cursor, sql, args)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def write_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run an INSERT once per row of column values, in one call to the driver (a plain
        ``INSERT``: no ``RETURNING``, no expanding binds, every column given)."""
        compiled = self._compiled_for(connection)
        assert not compiled.expanding
        args = [self._arguments(compiled, row)[1] for row in rows]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            _run(connection, cursor, compiled.sql, args, many=True)
        finally:
            cursor.close()

    def _result_processors(self, connection: Connection, cursor: Any) -> list[Processor]:
        """The column types' result processors, for the driver's types of these columns (known
        from the first cursor's description, as SQLAlchemy does per result)."""
        compiled = self._compiled[connection.dialect.name]
        description = cursor.description or ()
        processors = [entry.type._cached_result_processor(connection.dialect, column[1])
                      for entry, column in zip(compiled.compiler._result_columns, description)]
        self._results[connection.dialect.name] = processors
        return processors


def _run(connection: Connection, cursor: Any, sql: str, args: Any, *, many: bool = False) -> None:
    if connection._has_events or connection.engine._has_events:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, args, None, many)
    try:
        if many:
            cursor.executemany(sql, args)
        else:
            cursor.execute(sql, args)
    except Exception as exc:
        # As SQLAlchemy reports a driver's error: IntegrityError and the rest wrapped, a
        # connection that dropped invalidated so the pool does not hand it out again.
        connection._handle_dbapi_exception(exc, sql, args, cursor, None)


def _processed(process: Processor, value: Any) -> Any:
    return value if process is None else process(value)


def row_columns(table: Table) -> tuple[str, ...]:
    """The columns ``insert_row`` binds: all but the ``id`` the database assigns."""
    return tuple(column.key for column in table.columns if column.key != "id")


def insert_row(table: Table, *, returning: ColumnElement[Any] | None = None) -> Prepared:
    """An INSERT of every column of ``table`` but its ``id``, each bound by the column's name:
    ``write``/``write_many`` take every column's value, ``all`` runs it with ``returning``."""
    statement = insert(table).values({name: bindparam(name) for name in row_columns(table)})
    return Prepared(statement.returning(returning) if returning is not None else statement)


def connection_of(session: Session) -> Connection:
    """The session's connection for a ``Prepared`` statement, after the flush that
    ``Session.execute`` would have made first (autoflush), so pending objects are seen."""
    if session.autoflush:
        session.flush()
    return session.connection()
