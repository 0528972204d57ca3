"""The gold-standard loss on hand-computed toy data, and the loader on a tiny folder shaped like
the real one (the real data is never copied into the repository)."""

import json

import pytest

from expert_match.cli import main
from expert_match.evaluation import goldstandard as gs
from expert_match.matching.metrics import PairTally, accuracy, loss, pair_tally


def test_loss_by_hand():
    # Researcher 1 rated a=5, b=4, c=1.  Pairs: (a,b) w=1, (a,c) w=4, (b,c) w=3; total weight 8.
    # Scores order b > a (wrong, costs 1), tie a == c (costs 4/2), b > c (right, costs 0).
    one = pair_tally({"a": 5, "b": 4, "c": 1}, {"a": 0.8, "b": 0.9, "c": 0.8})
    assert (one.penalty, one.weight) == (3.0, 8.0)
    # Researcher 2 rated d=2, e=3 and the scores agree: weight 1, no penalty.
    two = pair_tally({"d": 2, "e": 3}, {"d": 0.1, "e": 0.2})
    assert loss([one, two]) == pytest.approx(3.0 / 9.0)
    # Easy pairs: (a,c) tied = wrong, (b,c) right. Hard pairs: (a,b) both >= 4, wrong.
    assert (one.easy_right, one.easy_total, one.hard_right, one.hard_total) == (1, 2, 0, 1)
    assert accuracy([one, two], "easy") == 0.5


def test_constant_scorer_loses_half():
    tally = pair_tally({"a": 5, "b": 3, "c": 1}, {"a": 0.3, "b": 0.3, "c": 0.3})
    assert loss([tally]) == 0.5


def test_nested_cv_scores_each_fold_with_a_config_chosen_without_it():
    good_for_r1 = {"r1": PairTally(0, 10, 0, 0, 0, 0), "r2": PairTally(5, 10, 0, 0, 0, 0)}
    good_for_r2 = {"r1": PairTally(5, 10, 0, 0, 0, 0), "r2": PairTally(1, 10, 0, 0, 0, 0)}
    per_config = {"A": good_for_r1, "B": good_for_r2}
    estimate, chosen = gs.nested_cv(per_config, [["r1"], ["r2"]])
    # Holding out r1, config B wins on r2 and is scored on r1 (5/10); and the other way round.
    assert chosen == ["B", "A"]
    assert estimate == pytest.approx((5 + 5) / 20)


def write_folder(root):
    (root / "data" / "papers").mkdir(parents=True)
    papers = {
        "p1": ("Digital signatures for ward officials", "USB token signing of documents and certificates."),
        "p2": ("Mapping apartment buildings with GIS", "A web map of boarding houses with spatial data."),
        "p3": ("Network cabling in offices", "LAN and Wi-Fi design for town halls."),
    }
    for pid, (title, abstract) in papers.items():
        (root / "data" / "papers" / f"{pid}.json").write_text(json.dumps({"title": title, "abstract": abstract}))
    header = "ParticipantID\t" + "\t".join(f"Paper{i}" for i in range(1, 11)) + "\t" + "\t".join(
        f"Expertise{i}" for i in range(1, 11))
    rows = ["r1\tp1\tp2\tp3" + "\t" * 7 + "\t5.0\t2.0\t1.0" + "\t" * 7,
            "r2\tp2\tp3" + "\t" * 8 + "\t4.5\t1.5" + "\t" * 8]
    (root / "data" / "evaluations.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    for version in (1, 2):
        archive = root / "evaluation_datasets" / f"d_20_{version}" / "archives"
        archive.mkdir(parents=True)
        (archive / "~r1.jsonl").write_text(json.dumps(
            {"id": "x", "content": {"title": "Remote digital signature", "abstract": "Certificates and USB tokens."}}))
        (archive / "~r2.jsonl").write_text(json.dumps(
            {"id": "y", "content": {"title": "WebGIS for cities", "abstract": "Spatial data and web maps."}}))
    return root


def test_loader_and_evaluation_on_a_tiny_folder(tmp_path):
    gold = gs.load(write_folder(tmp_path))
    assert gold.researchers == ["r1", "r2"]
    assert gold.expertise["r1"] == {"p1": 5.0, "p2": 2.0, "p3": 1.0}
    assert list(gold.versions) == ["d_20_1", "d_20_2"]
    result, predictions = gs.evaluate(gold, lambda: gs.ExpertRanker(**gs.DEFAULT))
    assert set(predictions) == {"d_20_1", "d_20_2"}
    assert predictions["d_20_1"]["r1"]["p1"] > predictions["d_20_1"]["r1"]["p3"]
    assert result.loss < 0.25


def test_eval_command_prints_json_and_predictions(tmp_path, capsys):
    folder = write_folder(tmp_path / "gold")
    out = tmp_path / "predictions.json"
    assert main(["eval", "goldstandard", str(folder), "--json", "--predictions-out", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"loss", "ci", "easy_acc", "hard_acc"}
    assert figures["ci"][0] <= figures["loss"] <= figures["ci"][1]
    assert set(json.loads(out.read_text())["d_20_1"]) == {"r1", "r2"}
    assert main(["eval", "goldstandard", str(tmp_path / "missing")]) == 2
