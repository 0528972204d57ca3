"""Small deterministic builders for test data (no random factories)."""

from __future__ import annotations

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
