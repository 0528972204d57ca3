"""`expert-match eval ranking` and the shipped labelled set."""

import json
import unicodedata

from expert_match.cli import main
from expert_match.fixtures import fixture_path, read_fixture

FORMS = {"vi", "vi_nodiac", "vi_nfd_newtone", "en", "vi_typo"}


def test_shipped_set_has_every_problem_in_every_form():
    data = read_fixture("eval/ranking.json")
    assert len(data["experts"]) >= 40
    groups = {}
    for query in data["queries"]:
        groups.setdefault(query["group"], set()).add(query["form"])
        assert all(1 <= g <= 3 for g in query["relevance"].values())
        assert set(query["relevance"]) <= {e["id"] for e in data["experts"]}
    assert len(groups) >= 30
    assert all(forms == FORMS for forms in groups.values())
    nfd = [q["text"] for q in data["queries"] if q["form"] == "vi_nfd_newtone"]
    assert not any(unicodedata.is_normalized("NFC", t) for t in nfd)


def test_eval_ranking_reports_every_form(capsys, tmp_path):
    out = tmp_path / "scores.json"
    assert main(["eval", "ranking", str(fixture_path("eval/ranking.json")), "--json", "--scores-out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["forms"]) == FORMS
    assert set(report["overall"]) == {"ndcg5", "mrr", "recall10"}
    vi = report["forms"]["vi"]["ndcg5"]
    assert vi > 0.6
    scores = json.loads(out.read_text())
    assert len(scores) == 150 and all(isinstance(v, dict) for v in scores.values())


def test_tiny_set_metrics_by_hand(tmp_path, capsys):
    data = {"experts": [{"id": "A", "language": "vi", "documents": ["chữ ký số USB token"], "skills": []},
                        {"id": "B", "language": "vi", "documents": ["mạng LAN Wi-Fi"], "skills": []}],
            "queries": [{"id": "q1", "group": "g", "form": "vi", "text": "lỗi chữ ký số", "relevance": {"A": 3}},
                        {"id": "q2", "group": "g", "form": "vi_nodiac", "text": "mang lan", "relevance": {"A": 3}}]}
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    assert main(["eval", "ranking", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["forms"]["vi"] == {"ndcg5": 1.0, "mrr": 1.0, "recall10": 1.0}
    assert report["forms"]["vi_nodiac"] == {"ndcg5": 0.0, "mrr": 0.0, "recall10": 0.0}  # only B matches


def test_bad_files_are_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"experts": []}')
    assert main(["eval", "ranking", str(bad)]) == 2
    assert main(["eval", "ranking", str(tmp_path / "missing.json")]) == 2
