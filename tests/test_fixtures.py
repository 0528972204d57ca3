"""The Da Nang demo data: size, realism checks, and idempotent loading."""

import collections
import json
import unicodedata

from expert_match.experts.skills import SkillEntry, SkillTaxonomy
from expert_match.fixtures import read_fixture
from expert_match.fixtures.loader import load_fixtures
from expert_match.matching.text import fold
from expert_match.orgs.locations import admin_units


def test_demo_data_is_large_enough():
    assert len(read_fixture("orgs.json")) >= 60
    assert len(read_fixture("experts.json")) >= 300
    assert len(read_fixture("skills.json")) >= 80
    assert len(read_fixture("problems.json")) >= 150


def test_orgs_cover_every_pre_merger_ward_and_all_org_kinds():
    orgs = read_fixture("orgs.json")
    wards = {o["ward"] for o in orgs if o["kind"] == "ward"}
    assert wards == set(admin_units().wards)
    assert len(wards) == 56
    assert {o["kind"] for o in orgs} == {"department", "ward", "district", "business", "community_team"}


def test_every_text_fixture_is_nfc():
    for name in ["orgs.json", "experts.json", "skills.json", "problems.json", "users.json"]:
        text = json.dumps(read_fixture(name), ensure_ascii=False)
        assert unicodedata.is_normalized("NFC", text), name


def test_skill_aliases_are_unambiguous():
    skills = read_fixture("skills.json")
    entries = [SkillEntry(i, s["slug"], s["name_vi"], s["name_en"], tuple(s["aliases"])) for i, s in enumerate(skills)]
    taxonomy = SkillTaxonomy(entries)
    for entry in entries:
        for name in entry.names():
            assert taxonomy.resolve(name).slug == entry.slug, (name, entry.slug)


def test_problems_mix_languages_and_typing_styles():
    problems = read_fixture("problems.json")
    languages = collections.Counter(p["language"] for p in problems)
    assert languages["vi"] >= 75 and languages["vi-unaccented"] >= 20 and languages["en"] >= 15
    for problem in problems:
        if problem["language"] == "vi-unaccented":
            assert fold(problem["description"]) == problem["description"].casefold()
    org_codes = {o["code"] for o in read_fixture("orgs.json")}
    skill_slugs = {s["slug"] for s in read_fixture("skills.json")}
    assert all(p["org_code"] in org_codes for p in problems)
    assert all(set(p["expected_skills"]) <= skill_slugs for p in problems)


def test_experts_are_varied():
    experts = read_fixture("experts.json")
    assert sum(1 for e in experts if e["languages"] == ["en"]) >= 5
    assert len({e["capacity"] for e in experts}) >= 5
    assert sum(1 for e in experts if e.get("unavailable")) >= 30
    assert sum(1 for e in experts if e.get("conflict_orgs")) >= 20
    assert len({e.get("affiliation_org") for e in experts}) >= 20
    assert len({e["email"] for e in experts}) == len(experts)


def test_loading_twice_changes_nothing(database, clock):
    with database.writer.begin() as session:
        first = load_fixtures(session, clock.now())
    assert first.created == {"skills": 117, "orgs": 111, "users": 78, "experts": 320}
    with database.writer.begin() as session:
        second = load_fixtures(session, clock.now())
    assert second.created == {"skills": 0, "orgs": 0, "users": 0, "experts": 0}
    assert second.existing == first.created


def test_loaded_experts_are_listed_by_the_api(database, client, clock):
    with database.writer.begin() as session:
        load_fixtures(session, clock.now())
    page = client.get("/api/v1/experts", params={"limit": 200}).json()
    assert page["total"] == 320
    signature = client.get("/api/v1/experts", params={"skill": "CKS", "limit": 200}).json()
    assert signature["total"] >= 8
    assert all(any(s["slug"] == "digital-signature" for s in e["skills"]) for e in signature["items"])
    away = client.get("/api/v1/experts", params={"available_now": "true", "limit": 200}).json()
    assert 0 < away["total"] < 320
