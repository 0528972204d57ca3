"""Problem statements for demo tickets: Vietnamese (some typed without diacritics) and English."""

import random

from people import ascii_fold
from problem_types import PROBLEM_TYPES

PRIORITIES = ["low", "normal", "normal", "normal", "high", "high", "urgent"]
URGENT_TYPES = {"ransomware", "onestop-sync", "signature", "wan"}


def opening(org):
    kind = org["kind"]
    if kind == "ward":
        return f"{org['name']} báo cáo:"
    if kind == "community_team":
        return f"{org['name']} đề nghị hỗ trợ:"
    if kind == "business":
        return f"{org['name']} xin tư vấn:"
    return f"{org['name']} đề nghị:"


def build_problems(orgs, per_type=4, seed=48):
    rng = random.Random(seed)
    by_kind = {}
    for org in orgs:
        by_kind.setdefault(org["kind"], []).append(org)
    problems = []
    for ptype in PROBLEM_TYPES:
        for variant in range(per_type):
            org = rng.choice(by_kind[rng.choice(ptype["kinds"])])
            title = ptype["titles"][variant % len(ptype["titles"])]
            situations = rng.sample(ptype["situations"], k=min(2, len(ptype["situations"])))
            description = " ".join([opening(org), *situations, rng.choice(ptype["asks"])])
            language = "vi"
            if variant == 3 and ptype["en"]:
                title, description = ptype["en"]
                language = "en"
            elif variant == 2 or (variant == 3 and rng.random() < 0.5):
                title, description = ascii_fold(title), ascii_fold(description)
                language = "vi-unaccented"
            priority = "urgent" if ptype["key"] in URGENT_TYPES and variant == 0 else rng.choice(PRIORITIES)
            problems.append({
                "ref": f"DEMO-{len(problems) + 1:03d}",
                "type": ptype["key"],
                "title": title,
                "description": description,
                "language": language,
                "priority": priority,
                "org_code": org["code"],
                "onsite_needed": ptype["key"] in {"camera", "lan", "pcs", "video-conf", "wan", "ransomware"} and rng.random() < 0.8,
                "expected_skills": ptype["skills"],
            })
    return problems
