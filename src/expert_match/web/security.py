"""Headers every response carries.

Pages get a strict Content Security Policy (scripts, styles and images from this origin only, no
inline script, no framing); API responses are data and get ``default-src 'none'``. Anything a
signed-in caller receives is ``Cache-Control: no-store`` so a shared computer's back button or a
proxy never shows it to the next person. Set in ``before_send`` so error responses get them too.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from litestar.datastructures import MutableScopeHeaders

from expert_match.http.deps import SESSION_COOKIE

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
# The interactive API docs load their own scripts and styles; they get no CSP of ours.
DOCS_PREFIXES = ("/schema", "/swagger")


def signed_in(scope: Any) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return True
        if name == b"cookie":
            cookies = SimpleCookie()
            cookies.load(value.decode("latin-1"))
            if cookies.get(SESSION_COOKIE) and cookies[SESSION_COOKIE].value:
                return True
    return False


async def security_headers(message: Any, scope: Any) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    path = scope.get("path", "")
    if not path.startswith(DOCS_PREFIXES):
        html = (headers.get("content-type") or "").startswith("text/html")
        headers.setdefault("Content-Security-Policy", PAGE_CSP if html else DATA_CSP)
    if signed_in(scope) and not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
