"""The ``Caller`` for a signed-in user: their role, org and expert profile."""

from __future__ import annotations

from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.auth.repository import TokenHolder
from expert_match.experts.repository import ExpertRepository
from expert_match.orgs.models import Role, User


def principal(session: Session, user: User | TokenHolder, csrf: str | None = None) -> Caller:
    expert_id = ExpertRepository(session).id_of_user(user.id) if user.role == Role.EXPERT else None
    return Caller(user_id=user.id, role=user.role, org_id=user.org_id, expert_id=expert_id, session_csrf=csrf)
