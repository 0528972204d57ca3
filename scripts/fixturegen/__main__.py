"""Write the demo fixtures: ``python scripts/fixturegen`` (deterministic; output is committed)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgs import build_orgs  # noqa: E402
from people import build_experts, build_users  # noqa: E402
from problems import build_problems  # noqa: E402
from skills import SKILLS  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "src/expert_match/fixtures"


def write(name, rows):
    path = OUT / name
    text = "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n"
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(OUT.parents[2])}: {len(rows)} rows")


def main():
    skills = [{"slug": s, "name_vi": vi, "name_en": en, "aliases": aliases, "category": cat}
              for s, vi, en, aliases, cat in SKILLS]
    orgs = build_orgs()
    write("skills.json", skills)
    write("orgs.json", orgs)
    write("users.json", build_users(orgs))
    write("experts.json", build_experts())
    write("problems.json", build_problems(orgs))


main()
