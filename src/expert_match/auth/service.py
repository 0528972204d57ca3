"""Log in and out, check sessions and tokens, issue and revoke tokens, limit failed logins."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from sqlalchemy.orm import Session

from expert_match.auth.models import ApiToken, WebSession
from expert_match.auth.repository import AuthRepository, TokenHolder
from expert_match.auth.secrets import MIN_PASSWORD_LENGTH, hash_password, new_token, token_hash, verify_password
from expert_match.errors import InvalidReference, InvalidValue, NotFound, TooManyRequests, Unauthenticated
from expert_match.orgs.models import Role, User
from expert_match.orgs.repository import OrgRepository, UserRepository
from expert_match.orgs.schemas import UserCreate
from expert_match.orgs.service import create_user
from expert_match.settings import Settings


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A login either succeeds (``user`` and a new session) or fails (``user`` is None).

    A failure is returned, not raised, so the request still commits the failed attempt that the
    rate limit counts."""

    user: User | None
    session_id: str | None = None
    csrf_token: str | None = None


def check_login_rate(session: Session, email: str, address: str, now: datetime, settings: Settings) -> None:
    """429 when the account or the client address has failed too often in the window."""
    _check_rate(session, ((account_key(email), settings.login_failures_per_account),
                          (_address_key(address), settings.login_failures_per_address)),
                timedelta(minutes=settings.login_window_minutes), now, "too many failed logins; try again later")


FILING_WINDOW = timedelta(hours=1)


def _filing_keys(user_id: int, address: str, settings: Settings) -> tuple[tuple[str, int], ...]:
    return ((f"file|user|{user_id}", settings.filings_per_hour_per_account),
            (f"file|addr|{address}", settings.filings_per_hour_per_address))


def check_filing_rate(session: Session, user_id: int, address: str, now: datetime, settings: Settings) -> None:
    """429 when the account or the client address has filed too many tickets in the last hour."""
    _check_rate(session, _filing_keys(user_id, address, settings), FILING_WINDOW, now,
                "too many problems filed in the last hour; try again later")


def record_filing(session: Session, user_id: int, address: str, now: datetime, settings: Settings) -> None:
    # Counted in the same table as failed logins: both are (key, time) events read by window.
    AuthRepository(session).add_events([key for key, _limit in _filing_keys(user_id, address, settings)], now)
    # No sweep here: filings are frequent and the scheduler's housekeeping drops old events.


def forget_old_events(session: Session, now: datetime, settings: Settings) -> None:
    """Drop events older than the longest window that reads them (older ones are never counted)."""
    _forget_old_events(AuthRepository(session), now, settings)


def _forget_old_events(repo: AuthRepository, now: datetime, settings: Settings) -> None:
    repo.forget_failures_before(now - max(timedelta(minutes=settings.login_window_minutes), FILING_WINDOW))


def _check_rate(session: Session, limits: tuple[tuple[str, int], ...], window: timedelta, now: datetime,
                message: str) -> None:
    repo = AuthRepository(session)
    counts = repo.events_since([key for key, _limit in limits], now - window)
    for key, limit in limits:
        if counts.get(key, 0) >= limit:
            oldest = repo.oldest_failure_since(key, now - window) or now
            retry = max(1, math.ceil((oldest + window - now).total_seconds()))
            raise TooManyRequests(message, retry_after=retry)


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """What a login reads before the password is checked: the account's id, stored hash and
    whether it may sign in (all None or False for an unknown e-mail)."""

    user_id: int | None
    password_hash: str | None
    active: bool


def login_candidate(session: Session, email: str, address: str, now: datetime, settings: Settings) -> LoginCandidate:
    """A login's reading half: 429 when the account or the address is limited (before any
    password is hashed), then the account. The password is checked outside every transaction:
    argon2 takes about 125 ms here, and a login that held SQLite's writer for it held every
    other write in every server process."""
    check_login_rate(session, email, address, now, settings)
    user = UserRepository(session).get_by_email(email)
    if user is None:
        return LoginCandidate(user_id=None, password_hash=None, active=False)
    return LoginCandidate(user_id=user.id, password_hash=user.password_hash, active=user.active)


def finish_login(session: Session, email: str, candidate: LoginCandidate, password_ok: bool, address: str,
                 now: datetime, settings: Settings, *, previous_session_id: str | None = None) -> LoginResult:
    """A login's writing half, given whether the password matched ``candidate``'s hash.

    The limit is checked again: failures committed since the reading half (parallel guesses)
    count, so parallel requests cannot outrun it, and a limited attempt learns nothing of its
    password. A password or state changed meanwhile fails the login."""
    repo = AuthRepository(session)
    repo.hold_counts([account_key(email), _address_key(address)])
    check_login_rate(session, email, address, now, settings)
    user = UserRepository(session).get(candidate.user_id) if password_ok and candidate.user_id else None
    if user is None or not user.active or user.password_hash != candidate.password_hash:
        repo.add_events([account_key(email), _address_key(address)], now)
        _forget_old_events(repo, now, settings)
        return LoginResult(user=None)
    repo.clear_failures(account_key(email))
    # A new session ID at every login (session fixation): the one the browser had is dropped.
    if previous_session_id:
        repo.delete_web_session(token_hash(previous_session_id))
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=token_hash(session_id), user_id=user.id, csrf_token=csrf, created_at=now,
                           expires_at=now + timedelta(hours=settings.session_hours)))
    session.flush()
    return LoginResult(user=user, session_id=session_id, csrf_token=csrf)


def login(session: Session, email: str, password: str, address: str, now: datetime, settings: Settings,
          *, previous_session_id: str | None = None) -> LoginResult:
    """Both halves in one session (the command line; the server runs them apart)."""
    candidate = login_candidate(session, email, address, now, settings)
    return finish_login(session, email, candidate, verify_password(candidate.password_hash, password), address,
                        now, settings, previous_session_id=previous_session_id)


def logout(session: Session, session_id: str) -> None:
    AuthRepository(session).delete_web_session(token_hash(session_id))


def session_user(session: Session, session_id: str, now: datetime) -> tuple[User, WebSession]:
    found = AuthRepository(session).web_session(token_hash(session_id))
    if found is None or found.expires_at <= now or not found.user.active:
        raise Unauthenticated("the session has expired; log in again")
    return found.user, found


def token_user(session: Session, token: str, now: datetime) -> TokenHolder:
    """The account behind a bearer token (its id, role and org), or 401."""
    found = AuthRepository(session).token_holder(token_hash(token))
    if found is None or found.revoked_at is not None or found.expires_at <= now or not found.active:
        # One answer for unknown, revoked and expired tokens: nothing to learn by probing.
        raise Unauthenticated("the API token is not valid")
    return found


def issue_token(session: Session, user: User, name: str, now: datetime, days: int) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the secret is returned once and only its hash is kept."""
    raw = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(raw), prefix=raw[:10], created_at=now,
                     expires_at=now + timedelta(days=days))
    session.add(token)
    session.flush()
    return token, raw


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return AuthRepository(session).tokens_of(user_id)


def revoke_token(session: Session, user_id: int, token_id: int, now: datetime) -> ApiToken:
    token = AuthRepository(session).token_of(user_id, token_id)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def _address_key(address: str) -> str:
    return "address:" + address


def create_account(session: Session, *, email: str, role: Role, org_id: int | None, display_name: str | None,
                   password: str | None, now: datetime) -> User:
    """A user of any role (``expert-match users create``); experts get their profile through the API."""
    org = None
    if org_id is not None:
        org = OrgRepository(session).get(org_id)
        if org is None:
            raise InvalidReference(f"org {org_id} does not exist", field="org")
    try:
        data = msgspec.convert({"email": email, "display_name": display_name or email.split("@")[0], "role": role,
                                "org_code": org.code if org else None}, UserCreate)
    except msgspec.ValidationError as exc:
        raise InvalidValue(str(exc), field="email") from exc
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user = create_user(session, data, now)
    if password is not None:
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, email: str, password: str) -> User:
    """A new password for the user; every browser signed in as them is signed out."""
    user = user_by_email(session, email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user.password_hash = hash_password(password)
    AuthRepository(session).delete_sessions_of(user.id)
    return user


def user_by_email(session: Session, email: str) -> User:
    user = UserRepository(session).get_by_email(email)
    if user is None:
        raise NotFound(f"no user with e-mail {email}", field="email")
    return user
