"""Queries for tokens, sessions and login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from expert_match.auth.models import ApiToken, LoginAttempt, WebSession


class AuthRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def token(self, hashed: str) -> ApiToken | None:
        query = select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == hashed)
        return self.session.scalars(query).one_or_none()

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

    def failures_since(self, key: str, since: datetime) -> int:
        query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at > since)
        return int(self.session.scalar(query) or 0)

    def oldest_failure_since(self, key: str, since: datetime) -> datetime | None:
        return self.session.scalar(select(func.min(LoginAttempt.at)).where(LoginAttempt.key == key,
                                                                          LoginAttempt.at > since))

    def clear_failures(self, key: str) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))

    def forget_failures_before(self, before: datetime) -> None:
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.at <= before))
