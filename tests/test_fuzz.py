"""Schema fuzzing: schemathesis generates requests for every operation of the app's own OpenAPI
document, as each role, and checks that nothing answers 5xx, that every status code and content
type is documented, and that every body and header matches the schema.

A bounded run is part of the suite (EXPERT_MATCH_FUZZ_EXAMPLES per operation and role, default
4). The long run, with at least 1,000 examples per operation:

    EXPERT_MATCH_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from expert_match.app import create_app
from expert_match.db.engine import create_database
from expert_match.db.migrate import upgrade
from expert_match.fixtures.loader import load_fixtures
from expert_match.settings import Settings
from expert_match.timeutil import FixedClock
from tests.builders import token_for

EXAMPLES = int(os.environ.get("EXPERT_MATCH_FUZZ_EXAMPLES", "4"))
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ROLES = {"admin": "admin@cds.danang.example", "coordinator": "dieuphoi.lan@cds.danang.example",
         "requester": "lien.lt@ubnd-p-hoa-khanh-bac.danang.example", "expert": "phuong.nk@chuyengia.danang.example"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def build_app() -> tuple[object, dict[str, str]]:
    """A migrated SQLite file with the demo data, the app over it, and a token per role. Built at
    collection: schemathesis generates its tests from the app's own OpenAPI document."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='expert-match-fuzz-')) / 'fuzz.sqlite3'}"
    database = create_database(Settings(database_url=url))
    upgrade(database)
    with database.writer() as session:
        load_fixtures(session, NOW)
        session.commit()
    tokens = {role: token_for(database, email) for role, email in ROLES.items()}
    # Generous limits: the fuzzer files far more than a person would in an hour.
    app = create_app(Settings(database_url=url, cookie_secure=False, filings_per_hour_per_account=10**6,
                              filings_per_hour_per_address=10**6, login_failures_per_address=10**6),
                     clock=FixedClock(NOW), database=database)
    return app, tokens


APP, TOKENS = build_app()
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", APP).include(path_regex="^/api/")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_and_every_answer_matches_the_schema(case) -> None:
    # The same generated request from each role: what one may do, another is refused, and every
    # answer (2xx or problem) must be documented.
    for role in ROLES:
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS[role]}"}, checks=CHECKS)
