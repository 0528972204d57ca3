"""Queries for tokens, sessions and login attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, joinedload

from expert_match.auth.models import ApiToken, LoginAttempt, WebSession
from expert_match.db.prepared import Prepared, connection_of, insert_row
from expert_match.orgs.models import Role, User


@dataclass(frozen=True, slots=True)
class TokenHolder:
    id: int
    role: Role
    org_id: int | None
    active: bool
    expires_at: datetime
    revoked_at: datetime | None


# Built once: SQLAlchemy computes a statement's cache key per statement object, and building the
# expression itself costs more than running it on SQLite. Every API request makes this query.
# On the tables, not the mapped classes: a Core statement skips the ORM's per-execution setup.
_users, _tokens = User.__table__.c, ApiToken.__table__.c
_TOKEN_HOLDER = Prepared(
    select(_users.id, _users.role, _users.org_id, _users.active, _tokens.expires_at, _tokens.revoked_at)
    .join_from(ApiToken.__table__, User.__table__, _users.id == _tokens.user_id)
    .where(_tokens.token_hash == bindparam("hashed")))
_attempts = LoginAttempt.__table__.c
_EVENTS_SINCE = Prepared(select(_attempts.key, func.count())
                         .where(_attempts.key.in_(bindparam("keys", expanding=True)), _attempts.at > bindparam("since"))
                         .group_by(_attempts.key))
_ADD_EVENT = insert_row(LoginAttempt.__table__)


# The first half of the rate limits' advisory lock keys (``hold_counts``), the second being the
# key's hash: "RL" in ASCII, apart from any other advisory lock on the server.
RATE_LOCK_SPACE = 0x524C


class AuthRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def token_holder(self, hashed: str) -> TokenHolder | None:
        """What checking a bearer token needs, in one plain query (every API request makes it)."""
        row = _TOKEN_HOLDER.one_or_none(connection_of(self.session), {"hashed": hashed})
        return TokenHolder(*row) if row is not None else None

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        return list(self.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))

    def token_of(self, user_id: int, token_id: int) -> ApiToken | None:
        return self.session.scalars(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)).one_or_none()

    def web_session(self, hashed: str) -> WebSession | None:
        query = select(WebSession).options(joinedload(WebSession.user)).where(WebSession.id_hash == hashed)
        return self.session.scalars(query).one_or_none()

    def delete_web_session(self, hashed: str) -> None:
        self.session.execute(delete(WebSession).where(WebSession.id_hash == hashed))

    def delete_sessions_of(self, user_id: int) -> None:
        self.session.execute(delete(WebSession).where(WebSession.user_id == user_id))

    def delete_expired_sessions(self, now: datetime) -> int:
        return self.session.execute(delete(WebSession).where(WebSession.expires_at <= now)).rowcount or 0

    def add_events(self, keys: Sequence[str], at: datetime) -> None:
        """One (key, time) event per key, in one statement: as objects they were one INSERT each
        on SQLite (the ORM reads their ids back, which SQLite cannot do for a batch)."""
        _ADD_EVENT.write_many(connection_of(self.session), [{"key": key, "at": at} for key in keys])

    def hold_counts(self, keys: Sequence[str]) -> None:
        """Until this transaction ends, other transactions that hold these keys wait: a count
        checked now then stays true until the new events commit. PostgreSQL takes a transaction
        advisory lock per key (sorted, so two holders never wait for each other); SQLite has
        one writer at a time already."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for key in sorted(set(keys)):
            self.session.execute(select(func.pg_advisory_xact_lock(RATE_LOCK_SPACE, func.hashtext(key))))

    def events_since(self, keys: Sequence[str], since: datetime) -> dict[str, int]:
        """How many events each key has after ``since`` (keys without any are left out); one
        query for all the keys a rate check looks at (every filing and login makes it)."""
        rows = _EVENTS_SINCE.all(connection_of(self.session), {"keys": list(keys), "since": since})
        return {key: int(count) for key, count in rows}

    def oldest_failure_since(self, key: str, since: datetime) -> datetime | None:
        return self.session.scalar(select(func.min(LoginAttempt.at)).where(LoginAttempt.key == key,
                                                                          LoginAttempt.at > since))

    def clear_failures(self, key: str) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))

    def forget_failures_before(self, before: datetime) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.at <= before))
