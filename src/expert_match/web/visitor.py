"""Who is looking at a page: the signed-in caller (session cookie) or an anonymous visitor, the
CSRF token their forms must echo, and their language.

Signed-in forms echo the session's CSRF token. Before login there is no session, so the login and
language forms use a double-submit token: a random cookie the form must repeat (a foreign site
can make the browser send the cookie but cannot read it to put it in the form).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from sqlalchemy.orm import Session

from expert_match.http.callers import principal
from expert_match.http.deps import SESSION_COOKIE
from expert_match.auth import service
from expert_match.auth.principal import Caller
from expert_match.auth.secrets import same
from expert_match.errors import DomainError, NotAllowed
from expert_match.orgs.models import User
from expert_match.web.i18n import pick_language

ANON_CSRF_COOKIE = "em_csrf"
LANGUAGE_COOKIE = "em_lang"
CSRF_FIELD = "csrf_token"


class LoginRequired(DomainError):
    """A page needs a signed-in user; the browser is sent to the login page."""

    code = "login_required"


@dataclass(slots=True)
class Visitor:
    caller: Caller | None
    user: User | None
    csrf: str
    language: str
    secure_cookies: bool
    cookies: list[Cookie] = field(default_factory=list)  # to set on the response

    @property
    def signed_in(self) -> Caller:
        if self.caller is None:
            raise LoginRequired("log in to see this page")
        return self.caller

    def check_csrf(self, form: dict[str, Any]) -> None:
        """403 unless the form echoes this visitor's token (every state-changing form)."""
        if not same(str(form.get(CSRF_FIELD, "")), self.csrf):
            raise NotAllowed("the form has expired or did not come from this site; reload the page", field=CSRF_FIELD)


def visitor_of(request: Request[Any, Any, Any], session: Session, now: datetime, secure_cookies: bool) -> Visitor:
    language = pick_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language", ""))
    if cookie := request.cookies.get(SESSION_COOKIE):
        try:
            user, web_session = service.session_user(session, cookie, now)
        except DomainError:
            user = None
        else:
            return Visitor(principal(session, user, web_session.csrf_token), user, web_session.csrf_token,
                           language, secure_cookies)
    token = request.cookies.get(ANON_CSRF_COOKIE) or ""
    visitor = Visitor(None, None, token, language, secure_cookies)
    if len(token) < 32:
        visitor.csrf = secrets.token_urlsafe(32)
        visitor.cookies.append(Cookie(key=ANON_CSRF_COOKIE, value=visitor.csrf, httponly=True, samesite="lax",
                                      secure=secure_cookies, path="/"))
    return visitor
