"""``Caller``: who is making a request, as every service sees it."""

from __future__ import annotations

from dataclasses import dataclass

from expert_match.orgs.models import Role


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    role: Role
    org_id: int | None
    # The caller's expert profile, when the account has one (filled by the API layer).
    expert_id: int | None = None
    session_csrf: str | None = None  # set for web sessions: forms must echo it

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)
