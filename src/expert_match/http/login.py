"""Signing in, for the JSON API and the login form alike (``DEFERRED_WRITE`` routes).

The password is checked between the request's reads and its write transaction, in a worker
thread: argon2id takes about 125 ms of CPU here on purpose. When the whole login held the
request's writer session, every other write in every server process waited those 125 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anyio import to_thread
from litestar import Request
from sqlalchemy.orm import Session

from expert_match.auth import service as auth_service
from expert_match.auth.principal import Caller
from expert_match.auth.secrets import verify_password
from expert_match.http.callers import principal
from expert_match.http.deps import SESSION_COOKIE, client_address, end_reads, in_session, write_transaction
from expert_match.settings import Settings


@dataclass(frozen=True, slots=True)
class SignedIn:
    result: auth_service.LoginResult
    caller: Caller | None  # None when the login failed


async def sign_in(request: Request[Any, Any, Any], db_session: Session, email: str, password: str, now: datetime,
                  settings: Settings) -> SignedIn:
    """Check the limit and read the account in the request's read session, verify the password
    outside any transaction, then record the failure or open the web session in a write
    transaction of its own (``auth_service.finish_login`` checks the limit again there)."""
    address = client_address(request)
    previous = request.cookies.get(SESSION_COOKIE)

    def read() -> auth_service.LoginCandidate:
        candidate = auth_service.login_candidate(db_session, email, address, now, settings)
        end_reads(db_session)
        return candidate

    candidate = await in_session(db_session, read)
    # An unknown e-mail is verified against a dummy hash too: both answers take as long.
    password_ok = await to_thread.run_sync(verify_password, candidate.password_hash, password)

    def write(session: Session) -> SignedIn:
        result = auth_service.finish_login(session, email, candidate, password_ok, address, now, settings,
                                           previous_session_id=previous)
        caller = principal(session, result.user, result.csrf_token) if result.user is not None else None
        return SignedIn(result=result, caller=caller)

    return await write_transaction(request, write)
