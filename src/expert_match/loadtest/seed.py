"""The load test's database: the demo data, synthetic experts, one requester per org, and tokens.

Everything goes through the same services the API uses (accounts, experts, tokens), so the
server under load sees rows exactly like production ones. Deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from expert_match.auth import service as auth
from expert_match.db.engine import Database
from expert_match.evaluation.synthetic import Vocabulary
from expert_match.experts.schemas import ExpertCreate, SkillInput
from expert_match.experts.service import create_expert
from expert_match.experts.skill_service import load_taxonomy
from expert_match.fixtures.loader import load_fixtures
from expert_match.loadtest.repository import LoadRepository
from expert_match.orgs.models import Role

SYNTHETIC_DOMAIN = "bench.expert-match.example"
TOKEN_DAYS = 2


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the load generator needs: bearer tokens (secrets) and the orgs they file for."""

    requester_tokens: dict[int, str]  # org id -> a requester's token
    coordinator_token: str
    experts: int


def seed(database: Database, n_experts: int, now: datetime, *, seed_value: int = 2026,
         say: Callable[[str], None] = lambda _m: None) -> Seeded:
    """Fill an empty, migrated database; commits in chunks so a 13k-expert load shows progress."""
    with database.writer.begin() as session:
        load_fixtures(session, now)
    added = 0
    for batch in synthetic_experts(n_experts, seed_value):
        with database.writer.begin() as session:
            taxonomy = load_taxonomy(session)
            for data in batch:
                create_expert(session, data, now, taxonomy)
        added += len(batch)
        say(f"  synthetic experts: {added:,}/{n_experts:,}")
    with database.writer.begin() as session:
        return Seeded(requester_tokens=requesters(session, now), coordinator_token=coordinator(session, now),
                      experts=LoadRepository(session).count_experts())


def synthetic_experts(n_experts: int, seed_value: int, chunk: int = 1000) -> list[list[ExpertCreate]]:
    """Experts with 1-3 skills of the demo taxonomy and a 30-200 word bio in the same
    Zipf-distributed Vietnamese-and-English vocabulary the matching benchmark uses."""
    vocabulary = Vocabulary()
    rng = np.random.default_rng(seed_value)
    n_topics = len(vocabulary.topics)
    batches: list[list[ExpertCreate]] = [[]]
    for number in range(1, n_experts + 1):
        topics = [int(t) for t in rng.choice(n_topics, size=int(rng.integers(1, 4)), replace=False)]
        bio = vocabulary.text(rng, topics, int(rng.integers(30, 201)))[:5000]
        skills = [SkillInput(name=vocabulary.topic_skills[t].label, level=int(rng.integers(2, 6))) for t in topics]
        if len(batches[-1]) == chunk:
            batches.append([])
        batches[-1].append(ExpertCreate(
            email=f"expert-{number:06d}@{SYNTHETIC_DOMAIN}", display_name=f"Chuyên gia {number:06d}",
            headline=" ".join(bio.split()[:12]) or "Chuyên gia", bio=bio, skills=skills, languages=["vi", "en"],
            capacity=int(rng.integers(2, 7)),
        ))
    return [b for b in batches if b]


def requesters(session: Session, now: datetime) -> dict[int, str]:
    """A requester account and token for every org, so filings spread over orgs as in real
    life (duplicate detection looks at one org's recent tickets)."""
    tokens = {}
    for org_id in LoadRepository(session).org_ids():
        user = auth.create_account(session, email=f"requester-{org_id}@{SYNTHETIC_DOMAIN}", role=Role.REQUESTER,
                                   org_id=org_id, display_name=f"Cán bộ {org_id}", password=None, now=now)
        tokens[org_id] = auth.issue_token(session, user, "load test", now, TOKEN_DAYS)[1]
    return tokens


def coordinator(session: Session, now: datetime) -> str:
    user = auth.create_account(session, email=f"coordinator@{SYNTHETIC_DOMAIN}", role=Role.COORDINATOR,
                               org_id=None, display_name="Điều phối (kiểm thử tải)", password=None, now=now)
    return auth.issue_token(session, user, "load test", now, TOKEN_DAYS)[1]


def expert_tokens(database: Database, expert_ids: list[int], now: datetime) -> dict[int, str]:
    """Tokens for the experts who hold pending offers (issued after the filing phase)."""
    with database.writer.begin() as session:
        users = LoadRepository(session).expert_users(expert_ids)
        return {expert_id: auth.issue_token(session, user, "load test", now, TOKEN_DAYS)[1]
                for expert_id, user in users.items()}
