"""Login, sessions, CSRF, API tokens, the failed-login limit and the registry's guards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from expert_match.cli import main
from tests.builders import add_user, bearer, create_org

PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture
def lan(database):
    return add_user(database, email="lan@danang.example", role="coordinator", password=PASSWORD)


def login(client, email="lan@danang.example", password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def test_login_sets_a_new_session_each_time_and_logout_ends_it(anon_client, lan):
    first = login(anon_client)
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    cookie = first.cookies["em_session"]
    assert first.json()["user"]["role"] == "coordinator"
    assert anon_client.get("/api/v1/auth/me").json()["email"] == "lan@danang.example"
    # Logging in again with the old cookie rotates the ID: the old session is dead.
    second = login(anon_client)
    assert second.cookies["em_session"] != cookie
    anon_client.cookies.clear()
    anon_client.cookies.set("em_session", cookie)
    assert anon_client.get("/api/v1/auth/me").status_code == 401
    anon_client.cookies.set("em_session", second.cookies["em_session"])
    csrf = second.json()["csrf_token"]
    assert anon_client.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
    assert anon_client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf}).status_code == 204
    anon_client.cookies.set("em_session", second.cookies["em_session"])
    assert anon_client.get("/api/v1/auth/me").status_code == 401


def test_session_writes_need_the_csrf_token(anon_client, lan):
    response = login(anon_client)
    csrf = response.json()["csrf_token"]
    body = {"name": "UBND phường Hải Châu", "kind": "ward"}
    refused = anon_client.post("/api/v1/orgs", json=body)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "x-csrf-token"
    assert anon_client.post("/api/v1/orgs", json=body, headers={"x-csrf-token": "wrong"}).status_code == 403
    assert anon_client.post("/api/v1/orgs", json=body, headers={"x-csrf-token": csrf}).status_code == 201
    assert anon_client.get("/api/v1/orgs").status_code == 200  # reads need no token


def test_wrong_password_and_unknown_user_look_the_same(anon_client, lan):
    wrong = login(anon_client, password="not the password")
    unknown = login(anon_client, email="nobody@danang.example")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "em_session" not in wrong.cookies


def test_failed_logins_are_limited_per_account_until_the_window_passes(anon_client, lan, clock):
    for _ in range(5):
        assert login(anon_client, password="guess guess guess").status_code == 401
    limited = login(anon_client)  # even the right password waits
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
    clock.current += timedelta(minutes=16)
    assert login(anon_client).status_code == 200


def test_failed_logins_are_limited_per_client_address(anon_client, database, settings):
    for i in range(settings.login_failures_per_address):
        assert login(anon_client, email=f"user{i}@danang.example", password="x" * 12).status_code == 401
    assert login(anon_client, email="other@danang.example", password="x" * 12).status_code == 429


def test_api_tokens_issue_list_revoke_and_expire(anon_client, lan, clock):
    anon_client.headers.update(bearer(lan[1]))
    issued = anon_client.post("/api/v1/auth/tokens", json={"name": "tích hợp LGSP", "days": 30})
    assert issued.status_code == 201, issued.text
    secret, token_id = issued.json()["secret"], issued.json()["token"]["id"]
    assert secret.startswith("em_") and issued.json()["token"]["prefix"] == secret[:10]
    listed = anon_client.get("/api/v1/auth/tokens").json()
    assert {t["name"] for t in listed} == {"test", "tích hợp LGSP"} and all("secret" not in t for t in listed)
    assert anon_client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 200
    assert anon_client.post("/api/v1/auth/tokens", json={"days": 9999}).status_code == 400
    assert anon_client.post("/api/v1/auth/tokens", json={"days": 91}).json()["errors"][0]["field"] == "days"
    clock.current += timedelta(days=31)
    assert anon_client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401  # expired
    clock.current -= timedelta(days=31)
    assert anon_client.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 204
    revoked = anon_client.get("/api/v1/auth/me", headers=bearer(secret))
    assert revoked.status_code == 401 and revoked.headers["www-authenticate"].startswith("Bearer")
    assert anon_client.get("/api/v1/auth/me", headers=bearer("em_made-up")).status_code == 401


def test_another_users_token_is_404(anon_client, lan, database):
    other = add_user(database, email="minh@danang.example", role="coordinator")
    anon_client.headers.update(bearer(other[1]))
    mine = anon_client.get("/api/v1/auth/tokens").json()[0]["id"]
    anon_client.headers.update(bearer(lan[1]))
    assert anon_client.delete(f"/api/v1/auth/tokens/{mine}").status_code == 404


def test_registry_guards(client, database):
    org = create_org(client)
    requester = add_user(database, email="req@danang.example", role="requester", org_id=org["id"])[1]
    expert_user = add_user(database, email="exp@danang.example", role="expert")[1]
    assert client.get("/api/v1/orgs", headers={"Authorization": ""}).status_code == 401
    assert client.get("/api/v1/orgs", headers=bearer(requester)).status_code == 200
    assert client.post("/api/v1/orgs", json={"name": "X", "kind": "ward"}, headers=bearer(requester)).status_code == 403
    assert client.get("/api/v1/experts", headers=bearer(expert_user)).status_code == 403
    assert client.post("/api/v1/match", json={"text": "chữ ký số"}, headers=bearer(requester)).status_code == 403


def test_users_create_prints_a_token_and_sets_the_password(tmp_path, monkeypatch, capsys):
    import io

    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert main(["migrate"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "--email", "Boss@Danang.example", "--role", "admin", "--password-stdin",
                 "--token"]) == 0
    out = capsys.readouterr()
    assert out.out.strip().startswith("em_") and len(out.out.strip().splitlines()) == 1
    assert main(["users", "create", "--email", "boss@danang.example", "--role", "admin"]) == 1  # duplicate
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "create", "--email", "r@danang.example", "--role", "requester"]) == 1
    assert "org" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "create", "--email", "x@danang.example", "--role", "admin", "--password-stdin"]) == 1
    assert "10 characters" in capsys.readouterr().err


def test_users_password_sets_a_random_or_given_password_and_ends_sessions(tmp_path, monkeypatch, capsys):
    import io

    from datetime import UTC, datetime

    from expert_match.auth.models import WebSession
    from expert_match.auth.secrets import verify_password
    from expert_match.auth.service import login
    from expert_match.db.engine import create_database
    from expert_match.orgs.models import User
    from expert_match.settings import Settings
    from sqlalchemy import select

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert main(["users", "create", "--email", "boss@danang.example", "--role", "admin"]) == 0
    capsys.readouterr()
    assert main(["users", "password", "--email", "boss@danang.example"]) == 0
    generated = capsys.readouterr().out.strip()
    assert len(generated) >= 12
    database = create_database(Settings(database_url=url))
    with database.writer() as session:
        user = session.scalars(select(User).where(User.email == "boss@danang.example")).one()
        assert verify_password(user.password_hash, generated)
        signed_in = login(session, "boss@danang.example", generated, "127.0.0.1", datetime.now(UTC),
                          Settings(database_url=url))
        assert signed_in.user is not None
        session.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "password", "--email", "boss@danang.example", "--password-stdin"]) == 0
    assert capsys.readouterr().out == ""  # a password given on stdin is never echoed
    with database.reader() as session:
        user = session.scalars(select(User).where(User.email == "boss@danang.example")).one()
        assert verify_password(user.password_hash, PASSWORD) and not verify_password(user.password_hash, generated)
        # Set by the app: RFC 9106's second profile (the tests' own users get a cheap hash).
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert session.scalars(select(WebSession)).all() == []  # the old password's session is gone
    database.dispose()
    assert main(["users", "password", "--email", "nobody@danang.example"]) == 1
    assert "no user" in capsys.readouterr().err


def test_a_password_verifies_with_the_parameters_stored_in_its_hash():
    from expert_match.auth.secrets import hash_password, verify_password
    from tests.builders import quick_hash

    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and verify_password(stored, PASSWORD)
    cheap = quick_hash(PASSWORD)  # what the tests' seeded users hold
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$") and verify_password(cheap, PASSWORD)
    assert not verify_password(cheap, PASSWORD + "x") and not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


def paused_password_checks(monkeypatch, parties: int):
    """Make the server's password checks wait until ``parties`` of them are under way (or 10 s)."""
    import threading

    from expert_match.auth.secrets import verify_password

    barrier = threading.Barrier(parties, timeout=10)
    barrier.entered = threading.Event()  # set once a check is under way

    def paused(stored, password):
        barrier.entered.set()
        barrier.wait()
        return verify_password(stored, password)

    monkeypatch.setattr("expert_match.http.login.verify_password", paused)
    monkeypatch.setattr("expert_match.auth.service.verify_password", paused)
    return barrier


def test_other_writes_go_on_while_a_password_is_checked(anon_client, lan, admin_token, monkeypatch):
    """The slow argon2 check holds no transaction: an org is created meanwhile (on SQLite a
    login that held the writer for its whole request made every write wait for it)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.builders import org_body

    barrier = paused_password_checks(monkeypatch, parties=2)
    with ThreadPoolExecutor(max_workers=1) as pool:
        signing_in = pool.submit(login, anon_client)
        assert barrier.entered.wait(10)
        created = anon_client.post("/api/v1/orgs", json=org_body(name="Sở Nội vụ"), headers=bearer(admin_token))
        assert created.status_code == 201, created.text
        barrier.wait()  # only now may the login's check finish
        assert signing_in.result(timeout=30).status_code == 200


def test_parallel_guesses_cannot_outrun_the_failed_login_limit(anon_client, lan, database, settings, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from expert_match.auth.models import LoginAttempt

    guesses = settings.login_failures_per_account + 3
    paused_password_checks(monkeypatch, parties=guesses)  # every guess passed the first check
    with ThreadPoolExecutor(max_workers=guesses) as pool:
        answers = list(pool.map(lambda i: login(anon_client, password=f"guess number {i}"), range(guesses)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * settings.login_failures_per_account + [429] * 3
    with database.reader() as session:
        recorded = session.scalar(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.key == "account:lan@danang.example"))
    assert recorded == settings.login_failures_per_account
    monkeypatch.undo()
    assert login(anon_client).status_code == 429  # the right password waits too
