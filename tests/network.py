"""A small network for ticket tests: one ward, a requester, six experts (three on digital
signatures), each with an API token, behind an app whose offers go out one at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from litestar.testing import TestClient

from expert_match.app import create_app
from tests.builders import add_user, bearer, create_org, expert_body, seed_skills, token_for

EXPERTS = [
    ("an", "Chuyên gia chữ ký số và USB token", "Cài đặt chứng thư số, USB token, ký số hồ sơ dịch vụ công.",
     [{"name": "Chữ ký số", "level": 5}]),
    ("binh", "Kỹ sư chữ ký số", "Hỗ trợ ký số tài liệu, chữ ký số từ xa.", [{"name": "Chữ ký số", "level": 4}]),
    ("chi", "Tư vấn dịch vụ công trực tuyến", "Nộp hồ sơ DVCTT có ký số, USB token.",
     [{"name": "Dịch vụ công trực tuyến", "level": 4}, {"name": "Chữ ký số", "level": 3}]),
    ("dung", "Chuyên gia GIS", "Bản đồ số, hệ thống thông tin địa lý.", [{"name": "GIS", "level": 5}]),
    ("giang", "Chuyên gia an toàn thông tin", "Rà soát lỗ hổng, an ninh mạng.",
     [{"name": "An toàn thông tin", "level": 5}]),
    ("hoa", "Chuyên gia LGSP", "Trục tích hợp dữ liệu cấp tỉnh.", [{"name": "LGSP", "level": 5}]),
]


@dataclass
class Network:
    client: TestClient
    admin: dict[str, str]
    requester: dict[str, str]
    org_id: int
    experts: dict[str, int] = field(default_factory=dict)  # name -> expert id
    tokens: dict[int, dict[str, str]] = field(default_factory=dict)  # expert id -> auth header

    def as_expert(self, expert_id: int) -> dict[str, str]:
        return self.tokens[expert_id]


def build_network(client: TestClient, database, admin_token: str) -> Network:
    admin = bearer(admin_token)
    client.headers.clear()
    seed_skills_as(client, admin)
    org = create_org_as(client, admin)
    requester = bearer(add_user(database, email="van.thu@hoacuongbac.danang.example", role="requester",
                                org_id=org["id"], display_name="Văn thư phường")[1])
    network = Network(client=client, admin=admin, requester=requester, org_id=org["id"])
    for name, headline, bio, skills in EXPERTS:
        email = f"{name}@chuyengia.danang.example"
        response = client.post("/api/v1/experts", headers=admin, json=expert_body(
            email=email, display_name=name.title(), headline=headline, bio=bio, skills=skills, capacity=2))
        assert response.status_code == 201, response.text
        expert_id = response.json()["expert"]["id"]
        network.experts[name] = expert_id
        network.tokens[expert_id] = bearer(token_for(database, email))
    return network


def seed_skills_as(client: TestClient, headers: dict[str, str]) -> None:
    client.headers.update(headers)
    try:
        seed_skills(client)
    finally:
        client.headers.clear()


def create_org_as(client: TestClient, headers: dict[str, str]) -> dict:
    client.headers.update(headers)
    try:
        return create_org(client)
    finally:
        client.headers.clear()


ONE_AT_A_TIME = "urgent=1/60,high=1/120,normal=1/240,low=1/480"


@pytest.fixture
def sequential_client(database, settings, clock) -> Iterator[TestClient]:
    """Offers go out one at a time, so each decline or expiry moves to exactly one next expert."""
    app = create_app(settings.__class__(**{**_fields(settings), "offer_rounds": ONE_AT_A_TIME}), clock=clock,
                     database=database)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _fields(settings) -> dict:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


@pytest.fixture
def network(sequential_client, database, admin_token) -> Network:
    return build_network(sequential_client, database, admin_token)


@pytest.fixture
def parallel_network(anon_client, database, admin_token) -> Network:
    """The default policy: three offers in parallel for normal priority."""
    return build_network(anon_client, database, admin_token)


class _ExpertTokens(dict):
    """Expert id -> auth header, issued on first use (the demo data has hundreds of experts)."""

    def __init__(self, database) -> None:
        super().__init__()
        self.database = database

    def __missing__(self, expert_id: int) -> dict[str, str]:
        from expert_match.experts.models import ExpertProfile
        from expert_match.orgs.models import User

        with self.database.reader() as session:
            email = session.get(User, session.get(ExpertProfile, expert_id).user_id).email
        self[expert_id] = headers = bearer(token_for(self.database, email))
        return headers


@pytest.fixture
def demo_network(sequential_client, database, clock) -> Network:
    """The Da Nang demo data (320 experts, 74 requesters), offers one at a time."""
    from expert_match.fixtures.loader import load_fixtures

    with database.writer() as session:
        load_fixtures(session, clock.current)
        session.commit()
    sequential_client.app.state.match_index.build()
    network = Network(client=sequential_client,
                      admin=bearer(token_for(database, "admin@cds.danang.example")),
                      requester=bearer(token_for(database, "lien.lt@ubnd-p-hoa-khanh-bac.danang.example")),
                      org_id=0)
    network.tokens = _ExpertTokens(database)
    return network
