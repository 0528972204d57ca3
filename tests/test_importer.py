"""Bulk expert import from CSV and JSON: all or nothing, errors name line and field."""

import json

import pytest

from expert_match.errors import ImportFailed
from expert_match.experts.importer import import_experts
from expert_match.experts.schemas import SkillCreate
from expert_match.experts.skill_service import create_skill
from expert_match.orgs.schemas import OrgCreate
from expert_match.orgs.service import create_org
from expert_match.experts.repository import ExpertRepository

HEADER = "email,display_name,headline,bio,skills,languages,districts,onsite_possible,capacity,affiliation_org,conflict_orgs,unavailable,active\n"


@pytest.fixture
def registry(database, clock):
    with database.writer.begin() as session:
        create_skill(session, SkillCreate(slug="digital-signature", name_vi="Chữ ký số", name_en="Digital signature",
                                          aliases=["CKS"]), clock.now())
        create_skill(session, SkillCreate(slug="gis", name_vi="Bản đồ số GIS", name_en="GIS"), clock.now())
        create_org(session, OrgCreate(name="Công ty CP Phần mềm Sông Hàn", kind="business", code="song-han"), clock.now())
        create_org(session, OrgCreate(name="UBND phường Thạch Thang", kind="ward", ward="20233", code="ubnd-p-thach-thang"),
                   clock.now())
    return database


def run_import(database, path, now, **kwargs):
    with database.writer.begin() as session:
        return import_experts(session, path, now, **kwargs)


def count_experts(database):
    with database.reader() as session:
        return ExpertRepository(session).count()


def test_csv_import_creates_experts_with_everything(registry, tmp_path, clock):
    path = tmp_path / "experts.csv"
    path.write_text(HEADER + (
        'lan@x.vn,Nguyễn Thị Lan,Chuyên gia ký số,"Hỗ trợ ký số, gia hạn chứng thư",chu ky so:5; GIS:3; Lập trình PLC,'
        'vi;en,Hải Châu;son tra,có,4,song-han,ubnd-p-thach-thang,2026-12-01/2026-12-03,true\n'
        "binh@x.vn,Trần Văn Bình,Kỹ sư GIS,,GIS,,,,,,,,\n"), encoding="utf-8")
    report = run_import(registry, path, clock.now())
    assert (report.created, report.skipped) == (2, 0)
    assert report.unrecognised_skills == {"Lập trình PLC": 1}
    with registry.reader() as session:
        lan = ExpertRepository(session).list(*_all())[0][0]
        assert [s.level for s in lan.skills] == [5, 3, 3]  # no level given: 3
        assert lan.skills[2].free_text == "Lập trình PLC"
        assert sorted(d.district_code for d in lan.districts) == ["492", "493"]
        assert lan.onsite_possible is True and lan.capacity == 4
        assert lan.affiliation.code == "song-han"
        assert [c.org.code for c in lan.conflicts] == ["ubnd-p-thach-thang"]
        # Whole days in Vietnam time: 1 Dec 00:00 +07 to the end of 3 Dec.
        assert lan.leave[0].starts_at.isoformat() == "2026-11-30T17:00:00+00:00"
        assert lan.leave[0].ends_at.isoformat() == "2026-12-03T17:00:00+00:00"


def _all():
    from expert_match.db.paging import Window
    from expert_match.experts.repository import ExpertFilter
    return ExpertFilter(), Window(limit=10, sort="id")


def test_csv_errors_name_every_line_and_field_and_save_nothing(registry, tmp_path, clock):
    path = tmp_path / "experts.csv"
    path.write_text(HEADER + (
        "ok@x.vn,Người Tốt,Chuyên gia,,CKS,,,,,,,,\n"
        "bad-email,Lê Văn A,Chuyên gia,,,,,,,,,,\n"
        "c@x.vn,Lê Văn C,Chuyên gia,,,,,,99,,,,\n"
        "d@x.vn,Lê Văn D,Chuyên gia,,,,,maybe,,,,,\n"
        "e@x.vn,Lê Văn E,Chuyên gia,,,,,,,no-such-org,,,\n"
        "ok@x.vn,Người Trùng,Chuyên gia,,,,,,,,,,\n"
        "f@x.vn,Lê Văn F,Chuyên gia,,,,Quận 9,,,,,,\n"), encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    problems = {(where, field) for where, field, _ in caught.value.problems}
    assert problems == {("line 3", "email"), ("line 4", "capacity"), ("line 5", "onsite_possible"),
                        ("line 6", "affiliation_org"), ("line 7", "email")}
    assert count_experts(registry) == 0
    # Fix those rows: the district error on line 8 is found once the file passes the first checks.
    path.write_text(HEADER + "f@x.vn,Lê Văn F,Chuyên gia,,,,Quận 9,,,,,,\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert caught.value.problems == [("line 2", "districts[0]", "unknown Da Nang district 'Quận 9'")]
    assert count_experts(registry) == 0


def test_csv_with_multiline_cells_counts_physical_lines(registry, tmp_path, clock):
    path = tmp_path / "experts.csv"
    path.write_text(HEADER + 'a@x.vn,Lê A,Chuyên gia,"dòng một\ndòng hai",,,,,,,,,\nbad,Lê B,Chuyên gia,,,,,,,,,,\n',
                    encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert [(w, f) for w, f, _ in caught.value.problems] == [("line 4", "email")]


def test_unknown_csv_column_is_refused(registry, tmp_path, clock):
    path = tmp_path / "experts.csv"
    path.write_text("email,display_name,headline,salary\na@x.vn,A,B,1000\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert caught.value.problems == [("line 1", "salary", "unknown column")]


def test_json_import_and_skip_existing(registry, tmp_path, clock):
    path = tmp_path / "experts.json"
    records = [{"email": "lan@x.vn", "display_name": "Nguyễn Thị Lan", "headline": "Chuyên gia ký số",
                "skills": [{"name": "CKS", "level": 5}], "affiliation_org": "song-han",
                "unavailable": [{"starts_at": "2026-12-01T08:00:00+07:00", "ends_at": "2026-12-02T17:00:00+07:00"}]}]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert run_import(registry, path, clock.now()).created == 1
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert caught.value.problems[0][:2] == ("item 1", "email")
    again = run_import(registry, path, clock.now(), skip_existing=True)
    assert (again.created, again.skipped) == (0, 1)


def test_json_errors_name_item_and_path(registry, tmp_path, clock):
    path = tmp_path / "experts.json"
    path.write_text(json.dumps([{"email": "a@x.vn", "display_name": "A", "headline": "H",
                                 "skills": [{"name": "GIS", "level": 9}]},
                                {"email": "b@x.vn", "display_name": "B", "headline": "H", "salary": 5}]),
                    encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert [(w, f) for w, f, _ in caught.value.problems] == [("item 1", "skills[0].level"), ("item 2", "salary")]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("x.json", b"{not json", "invalid JSON"),
    ("x.json", b'{"email": "a@x.vn"}', "expected a JSON array"),
    ("x.xlsx", b"PK", "unsupported file type"),
    ("x.csv", "email\n".encode("utf-16"), "not UTF-8"),
])
def test_unreadable_files_are_refused_clearly(registry, tmp_path, clock, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as caught:
        run_import(registry, path, clock.now())
    assert message in caught.value.problems[0][2]
