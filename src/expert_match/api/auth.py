"""Who is calling (bearer token or session cookie), and the login, logout and token routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.orm import Session

from expert_match.http.callers import principal
from expert_match.http.deps import (DEFERRED_WRITE, SESSION_COOKIE, SHORT_BODY_BYTES, DbSession, Now, PathId,
                                    SettingsDep, in_session)
from expert_match.http.login import sign_in
from expert_match.api.problems import Problem, problem_response, problem_responses
from expert_match.auth import service
from expert_match.auth.principal import Caller
from expert_match.auth.repository import TokenHolder
from expert_match.auth.secrets import same
from expert_match.errors import InvalidValue, NotAllowed, Unauthenticated
from expert_match.orgs.models import Role, User
from expert_match.orgs.repository import UserRepository
from expert_match.structs import Email, Input, Output, ShortText

CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CallerDep = NamedDependency[Caller]
StaffDep = NamedDependency[Caller]


def caller_of(request: Request[Any, Any, Any], session: Session, now: Any) -> Caller:
    """The authenticated caller, or 401. Bearer tokens for API clients; the session cookie for the
    browser, where every unsafe request must also echo the session's CSRF token."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    user: User | TokenHolder
    if scheme.lower() == "bearer" and credentials.strip():
        user, csrf = service.token_user(session, credentials.strip(), now), None
    elif cookie := request.cookies.get(SESSION_COOKIE):
        user, web_session = service.session_user(session, cookie, now)
        csrf = web_session.csrf_token
        if request.method in UNSAFE and not same(request.headers.get(CSRF_HEADER, ""), csrf):
            raise NotAllowed("missing or wrong CSRF token", field=CSRF_HEADER)
    else:
        raise Unauthenticated("log in or send an API token (Authorization: Bearer ...)")
    return principal(session, user, csrf)


async def provide_caller(request: Request[Any, Any, Any], db_session: DbSession, now: Now) -> Caller:
    return await in_session(db_session, caller_of, request, db_session, now)


def provide_staff(caller: CallerDep) -> Caller:
    if not caller.is_staff:
        raise NotAllowed("only coordinators and admins may do this")
    return caller


class LoginRequest(Input):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=1000)] = ""

    def __post_init__(self) -> None:  # passwords are compared as typed: no NFC, no strip
        self.email = self.email.strip()


class Me(Output):
    id: int
    email: str
    display_name: str
    role: Role
    org_id: int | None
    expert_id: int | None


class LoginResponse(Output):
    user: Me
    csrf_token: str


class TokenCreate(Input):
    name: ShortText = "api"
    days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


class TokenRead(Output):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked: bool


class TokenIssued(Output):
    token: TokenRead
    secret: str  # shown once; only its hash is stored


def me(user: User, caller: Caller) -> Me:
    return Me(id=user.id, email=user.email, display_name=user.display_name, role=user.role, org_id=user.org_id,
              expert_id=caller.expert_id)


def token_read(token: Any) -> TokenRead:
    return TokenRead(id=token.id, name=token.name, prefix=token.prefix, created_at=token.created_at,
                     expires_at=token.expires_at, revoked=token.revoked_at is not None)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", request_max_body_size=SHORT_BODY_BYTES, status_code=200, summary="Log in: sets a new session cookie",
          responses=problem_responses(400, 401, 413, 429), opt={DEFERRED_WRITE: True})
    async def login(self, request: Request[Any, Any, Any], db_session: DbSession, now: Now, settings: SettingsDep,
                    data: JSONBody[LoginRequest]) -> Response[LoginResponse | Problem]:
        signed_in = await sign_in(request, db_session, data.email, data.password, now, settings)
        result = signed_in.result
        if result.user is None or signed_in.caller is None:
            # Returned, not raised: the failed attempt is already committed for the rate limit.
            return problem_response(request, 401, Unauthenticated.code, "wrong e-mail or password")
        body = LoginResponse(user=me(result.user, signed_in.caller), csrf_token=result.csrf_token or "")
        cookie = Cookie(key=SESSION_COOKIE, value=result.session_id, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/", max_age=settings.session_hours * 3600)
        return Response(body, cookies=[cookie], headers={"Cache-Control": "no-store"})

    @post("/logout", sync_to_thread=True, status_code=204, summary="Log out (ends the session)",
          responses=problem_responses(401, 403),
          # Always clear the browser's cookie; declared statically so the 204 documents no body.
          response_cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])
    def logout(self, request: Request[Any, Any, Any], db_session: DbSession, caller: CallerDep) -> None:
        if cookie := request.cookies.get(SESSION_COOKIE):
            service.logout(db_session, cookie)

    @get("/me", sync_to_thread=True, summary="The signed-in user", responses=problem_responses(401))
    def read_me(self, db_session: DbSession, caller: CallerDep) -> Me:
        user = UserRepository(db_session).get(caller.user_id)
        assert user is not None  # the caller dependency just read it
        return me(user, caller)

    @get("/tokens", sync_to_thread=True, summary="My API tokens", responses=problem_responses(401))
    def list_tokens(self, db_session: DbSession, caller: CallerDep) -> list[TokenRead]:
        return [token_read(t) for t in service.list_tokens(db_session, caller.user_id)]

    @post("/tokens", sync_to_thread=True, request_max_body_size=SHORT_BODY_BYTES, summary="Issue an API token for myself (the secret is shown once)",
          responses=problem_responses(400, 401, 403, 413, 422))
    def create_token(self, db_session: DbSession, caller: CallerDep, now: Now, settings: SettingsDep,
                     data: JSONBody[TokenCreate]) -> TokenIssued:
        days = data.days or settings.token_days
        if not 1 <= days <= settings.token_days:
            raise InvalidValue(f"a token lives 1 to {settings.token_days} days", field="days")
        user = UserRepository(db_session).get(caller.user_id)
        assert user is not None
        token, secret = service.issue_token(db_session, user, data.name, now, days)
        return TokenIssued(token=token_read(token), secret=secret)

    @delete("/tokens/{token_id:int}", sync_to_thread=True, status_code=204, summary="Revoke one of my API tokens",
            responses=problem_responses(400, 401, 403, 404))
    def revoke_token(self, db_session: DbSession, caller: CallerDep, now: Now, token_id: PathId) -> None:
        service.revoke_token(db_session, caller.user_id, token_id, now)
