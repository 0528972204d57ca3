"""Signing in through the pages and reading their forms, for web tests."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.builders import quick_hash

PASSWORD = "mật-khẩu-thử-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUESTER = "van.thu@hoacuongbac.danang.example"
ADMIN = "admin@danang.example"


def expert_email(name: str) -> str:
    return f"{name}@chuyengia.danang.example"


def set_password(database: Any, email: str, password: str = PASSWORD) -> None:
    from expert_match.auth.service import user_by_email

    with database.writer() as session:
        user_by_email(session, email).password_hash = quick_hash(password)
        session.commit()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the login form as ``email``; returns the session's CSRF token."""
    client.cookies.clear()
    client.headers.clear()
    form = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_of(form.text), "email": email, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    landing = client.get(response.headers["location"])
    assert landing.status_code == 200, landing.text
    return csrf_of(landing.text)
