"""The ``expert-match`` command as operators script it (names and exit codes are relied on)."""

import json

import pytest

from expert_match.cli import main


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("EXPERT_MATCH_DATABASE_URL", url)
    return url


def test_commands_refuse_an_unmigrated_database(cli_db, capsys):
    assert main(["load-fixtures"]) == 2
    assert "expert-match migrate" in capsys.readouterr().err


def test_migrate_is_idempotent(cli_db, capsys):
    assert main(["migrate"]) == 0
    assert "was None" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_load_fixtures_twice_creates_then_finds_everything(cli_db, capsys):
    main(["migrate"])
    capsys.readouterr()
    assert main(["load-fixtures"]) == 0
    first = capsys.readouterr().out
    assert "experts  created  320, already present    0" in first
    assert main(["load-fixtures"]) == 0
    assert "experts  created    0, already present  320" in capsys.readouterr().out


def test_import_experts_reports_line_and_field(cli_db, tmp_path, capsys):
    main(["migrate"])
    bad = tmp_path / "bad.csv"
    bad.write_text("email,display_name,headline,capacity\na@x.vn,Lê A,Chuyên gia,nhiều\n", encoding="utf-8")
    assert main(["import-experts", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was saved" in err
    assert "line 2: capacity" in err
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"email": "a@x.vn", "display_name": "Lê A", "headline": "Chuyên gia",
                                 "skills": [{"name": "Kỹ năng lạ"}]}]), encoding="utf-8")
    assert main(["import-experts", str(good)]) == 0
    out = capsys.readouterr().out
    assert "imported 1 experts" in out
    assert "'Kỹ năng lạ'" in out
    assert main(["import-experts", str(tmp_path / "missing.csv")]) == 2


def test_bad_setting_is_reported(monkeypatch, capsys):
    monkeypatch.setenv("EXPERT_MATCH_PORT", "abc")
    assert main(["migrate"]) == 2
    assert "EXPERT_MATCH_PORT" in capsys.readouterr().err


def test_rank_prints_explained_matches(cli_db, capsys):
    main(["migrate"])
    main(["load-fixtures"])
    capsys.readouterr()
    assert main(["rank", "May tinh khong nhan USB token, khong ky so duoc", "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. ")
    assert "skills: Chữ ký số" in out
    assert main(["rank", "lỗi chữ ký số", "-k", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["matches"]) == 2 and result["experts_considered"] == 320
    assert main(["rank", "x", "-k", "0"]) == 2


def test_bench_assign_prints_json(capsys):
    assert main(["bench", "assign", "--tickets", "30", "--experts", "200", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"tickets", "experts", "seconds", "total", "optimum", "greedy"}
    assert figures["total"] == pytest.approx(figures["optimum"], rel=1e-6)
    assert figures["greedy"] <= figures["total"] + 1e-9
    assert main(["bench", "assign", "--tickets", "0"]) == 2


def test_bench_matching_prints_the_figures(capsys):
    assert main(["bench", "matching", "--experts", "300", "--queries", "10", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"experts", "build_s", "index_mb", "p50_ms", "p99_ms", "batch_qps", "exact_top10",
                            "fts5_p50_ms", "tantivy_p50_ms"}
    assert figures["experts"] == 300
    assert figures["exact_top10"] is True
    assert figures["p50_ms"] <= figures["p99_ms"]
    if figures["tantivy_p50_ms"] is not None:  # timed in turn with ours, ticket by ticket
        assert figures["tantivy_ratio"] == round(figures["tantivy_p50_ms"] / figures["p50_ms_beside_tantivy"], 2)


def test_scheduler_once_runs_a_pass_and_reports(cli_db, capsys):
    assert main(["scheduler", "--once"]) == 2  # no schema yet
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["scheduler", "--once"]) == 0
    out = capsys.readouterr().out
    assert "offers expired 0" in out and "notifications sent 0" in out


def test_load_benches_refuse_bad_options_and_name_an_unreachable_database(capsys):
    assert main(["bench", "api", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert main(["bench", "soak", "--minutes", "0"]) == 2
    assert "--minutes" in capsys.readouterr().err
    unreachable = "postgresql://postgres@127.0.0.1:9/postgres"
    assert main(["bench", "api", "--database", "postgresql", "--postgres-url", unreachable]) == 2
    assert f"cannot reach the database for the bench ({unreachable})" in capsys.readouterr().err
