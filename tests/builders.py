"""Small deterministic builders for test data (no random factories)."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar.testing import TestClient


def org_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "UBND phường Hòa Cường Bắc", "kind": "ward", "ward": "20257"}
    body.update(overrides)
    return body


def expert_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "lan.nguyen@chuyengia.danang.example",
        "display_name": "Nguyễn Thị Lan",
        "headline": "Chuyên gia chữ ký số",
        "bio": "Hỗ trợ các phường cài đặt chứng thư số.",
        "skills": [{"name": "Chữ ký số", "level": 5}],
        "languages": ["vi"],
        "districts": ["492"],
        "capacity": 3,
    }
    body.update(overrides)
    return body


SKILLS = [
    {"slug": "digital-signature", "name_vi": "Chữ ký số", "name_en": "Digital signature",
     "aliases": ["CKS", "ký số từ xa", "USB token", "e-signature"], "category": "security"},
    {"slug": "cybersecurity", "name_vi": "An toàn thông tin", "name_en": "Information security",
     "aliases": ["ATTT", "an ninh mạng", "cyber security"], "category": "security"},
    {"slug": "online-public-services", "name_vi": "Dịch vụ công trực tuyến", "name_en": "Online public services",
     "aliases": ["DVCTT", "DVC", "cổng dịch vụ công"], "category": "e-government"},
    {"slug": "lgsp", "name_vi": "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)",
     "name_en": "Local government service platform (LGSP)", "aliases": ["LGSP", "trục tích hợp tỉnh"],
     "category": "integration"},
    {"slug": "gis", "name_vi": "Hệ thống thông tin địa lý (GIS)", "name_en": "Geographic information systems",
     "aliases": ["GIS", "bản đồ số"], "category": "gis"},
]


def seed_skills(client: TestClient) -> dict[str, int]:
    ids = {}
    for skill in SKILLS:
        response = client.post("/api/v1/skills", json=skill)
        assert response.status_code == 201, response.text
        ids[skill["slug"]] = response.json()["id"]
    return ids


def create_org(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/orgs", json=org_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def create_expert(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/experts", json=expert_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


@cache
def quick_hash(password: str) -> str:
    """An argon2id hash of ``password`` at the lowest cost argon2 allows, for users the tests make.

    A login verifies with the parameters stored in the hash, so users seeded with it sign in in
    well under a millisecond instead of the production profile's 125 ms here (about a minute of
    the suite went to it). Passwords set through the app still get the production profile.
    """
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


def add_user(database: Any, *, email: str, role: str, org_id: int | None = None, password: str | None = None,
             display_name: str = "Người dùng thử", now: Any = None) -> tuple[int, str]:
    """A user straight in the database, with an API token: (user id, token)."""
    from datetime import UTC, datetime

    from expert_match.auth.service import issue_token
    from expert_match.orgs.models import Role, User

    now = now or datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    with database.writer() as session:
        user = User(email=email, display_name=display_name, role=Role(role), org_id=org_id, active=True,
                    created_at=now, updated_at=now, password_hash=quick_hash(password) if password else None)
        session.add(user)
        session.flush()
        _token, secret = issue_token(session, user, "test", now, 365)
        session.commit()
        return user.id, secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(database: Any, email: str) -> str:
    """A new API token for an existing user (e.g. an expert created through the API)."""
    from datetime import UTC, datetime

    from expert_match.auth.service import issue_token, user_by_email

    with database.writer() as session:
        user = user_by_email(session, email)
        secret = issue_token(session, user, "test", datetime(2026, 11, 27, tzinfo=UTC), 365)[1]
        session.commit()
        return secret


def local_time(y: int, mo: int, d: int, h: int, mi: int = 0) -> Any:
    """A Da Nang wall-clock time as a UTC datetime."""
    from datetime import UTC, datetime, timedelta

    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=7)
