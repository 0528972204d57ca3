"""The web pages as one router: its own error pages (HTML, not problem JSON) and static files."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.static_files import create_static_files_router

from expert_match.errors import Conflict, DomainError, NotAllowed, NotFound, TooManyRequests, Unauthenticated
from expert_match.web.i18n import pick_language
from expert_match.web.pages import DeskPages, ExpertPages, SignInPages, TicketPages, login_redirect, provide_visitor
from expert_match.web.people import ProfilePages, StaffPages
from expert_match.web.render import page
from expert_match.web.visitor import LANGUAGE_COOKIE, LoginRequired

STATUS = {NotFound: 404, NotAllowed: 403, Conflict: 409, TooManyRequests: 429}


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, (LoginRequired, Unauthenticated)):
        return login_redirect(request)
    language = pick_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language", ""))
    if isinstance(exc, DomainError):
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 422)
        message = exc.message
    elif isinstance(exc, ValidationException):
        status, message = 400, "bad request"
    elif isinstance(exc, HTTPException):
        status, message = exc.status_code, exc.detail
    else:
        raise exc
    response = page("error.html", language, {"status": status, "message": message, "visitor": None, "csrf": ""},
                    status_code=status)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def web_router() -> Router:
    return Router(
        path="/",
        route_handlers=[SignInPages, TicketPages, ExpertPages, DeskPages, ProfilePages, StaffPages],
        dependencies={"visitor": Provide(provide_visitor, sync_to_thread=True)},
        exception_handlers={DomainError: error_page, HTTPException: error_page},
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(path="/static", directories=[str(files("expert_match.web") / "static")],
                                      include_in_schema=False)
