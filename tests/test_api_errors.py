"""Cross-cutting error behaviour: every error is problem+json with the right status."""

import pytest

from tests.builders import expert_body


def test_oversized_body_is_413_and_saves_nothing(client, settings):
    body = expert_body(bio="x" * (settings.max_body_bytes + 10))
    response = client.post("/api/v1/experts", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/experts").json()["total"] == 0


# (method, OpenAPI path template, a concrete path)
BODY_ROUTES = [
    ("post", "/api/v1/orgs", "/api/v1/orgs"),
    ("patch", "/api/v1/orgs/{org_id}", "/api/v1/orgs/1"),
    ("post", "/api/v1/experts", "/api/v1/experts"),
    ("patch", "/api/v1/experts/{expert_id}", "/api/v1/experts/1"),
    ("post", "/api/v1/skills", "/api/v1/skills"),
    ("patch", "/api/v1/skills/{skill_id}", "/api/v1/skills/1"),
    ("post", "/api/v1/match", "/api/v1/match"),
    ("post", "/api/v1/auth/login", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/tokens", "/api/v1/auth/tokens"),
    ("post", "/api/v1/tickets", "/api/v1/tickets"),
    ("post", "/api/v1/tickets/{ticket_id}/posts", "/api/v1/tickets/1/posts"),
    ("post", "/api/v1/tickets/{ticket_id}/resolve", "/api/v1/tickets/1/resolve"),
    ("post", "/api/v1/tickets/{ticket_id}/reopen", "/api/v1/tickets/1/reopen"),
    ("post", "/api/v1/tickets/{ticket_id}/cancel", "/api/v1/tickets/1/cancel"),
    ("post", "/api/v1/tickets/{ticket_id}/merge", "/api/v1/tickets/1/merge"),
    ("post", "/api/v1/tickets/{ticket_id}/assign", "/api/v1/tickets/1/assign"),
    ("post", "/api/v1/tickets/{ticket_id}/hand-back", "/api/v1/tickets/1/hand-back"),
    ("post", "/api/v1/tickets/{ticket_id}/feedback", "/api/v1/tickets/1/feedback"),
    ("post", "/api/v1/offers/{offer_id}/decline", "/api/v1/offers/1/decline"),
]


def test_every_route_with_a_body_is_covered_below(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    with_body = {(method, path) for path, item in paths.items() for method, op in item.items() if "requestBody" in op}
    assert with_body == {(method, template) for method, template, _ in BODY_ROUTES}


@pytest.mark.parametrize(("method", "template", "path"), BODY_ROUTES)
def test_oversized_body_is_413_on_every_body_route(client, settings, method, template, path):
    raw = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'
    response = client.request(method, path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "request_entity_too_large"


def test_unknown_route_and_method_are_problems(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong_method = client.delete("/api/v1/orgs")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_body_must_be_a_json_object_of_the_right_types(client):
    for raw in [b"[]", b"null", b'"text"', b"{"]:
        response = client.post("/api/v1/orgs", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400, raw
        assert response.json()["status"] == 400


def test_numbers_given_as_strings_are_refused_not_coerced(client):
    response = client.post("/api/v1/experts", json=expert_body(capacity="3"))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "capacity", "message": "Expected `int`, got `str`", "source": "body"}]
    response = client.post("/api/v1/experts", json=expert_body(onsite_possible="true"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "onsite_possible"


def test_path_ids_are_bounded(client):
    for path in ["/api/v1/orgs/0", "/api/v1/orgs/-1", "/api/v1/experts/2147483648", "/api/v1/skills/99999999999999999999"]:
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert response.headers["content-type"].startswith("application/problem+json"), path


def test_unexpected_errors_are_500_without_internals(client, monkeypatch):
    from expert_match.orgs import service

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret connection string postgresql://user:pw@db")

    monkeypatch.setattr(service, "list_orgs", explode)
    response = client.get("/api/v1/orgs")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text
