from expert_match.db.engine import Database


def test_health_reports_ok_and_the_engine(client, migrated):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0", "database": migrated.dialect}


def test_liveness_answers_without_the_database(client, migrated, monkeypatch):
    def unreachable(_database: Database) -> None:
        raise RuntimeError("the database is down")

    monkeypatch.setattr(Database, "ping", unreachable)
    assert client.get("/health").status_code == 500
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema_lists_every_api_route(client):
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/orgs", "/api/v1/orgs/{org_id}", "/api/v1/experts", "/api/v1/experts/{expert_id}",
                 "/api/v1/skills", "/api/v1/skills/{skill_id}", "/api/v1/skills/resolve", "/health"]:
        assert path in paths, path
