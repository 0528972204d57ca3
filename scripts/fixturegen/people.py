"""Experts, coordinators and requesters with Vietnamese names, built deterministically."""

import random
import unicodedata

from specialisms import SPECIALISMS
from skills import SKILLS

FAMILY = ["Nguyễn"] * 10 + ["Trần"] * 4 + ["Lê"] * 4 + ["Phạm"] * 3 + ["Huỳnh"] * 3 + ["Hoàng", "Phan", "Võ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đoàn", "Mai", "Tôn", "Lưu"]
MIDDLE_M = ["Văn", "Hữu", "Minh", "Quốc", "Đức", "Thanh", "Công", "Ngọc", "Xuân", "Tấn", "Đình", "Bá"]
MIDDLE_F = ["Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hoài", "Mỹ", "Bảo", "Kim", "Phương", "Diễm"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hòa", "Hùng", "Huy", "Khánh", "Khoa", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Trí", "Trung", "Tuấn", "Việt", "Vũ"]
GIVEN_F = ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Yến", "Xuân"]
FOREIGN = [("Daniel Kim", "en"), ("Sarah O'Brien", "en"), ("Lukas Becker", "en"), ("Hiroshi Tanaka", "en"), ("Park Ji-won", "en"), ("Emma Laurent", "en"), ("Michael Tran", "en"), ("Priya Raman", "en")]
UNKNOWN_SKILLS = ["Lập trình PLC", "Thiết kế đồ họa", "Quay dựng video", "Phong thủy văn phòng", "Tiếng Hàn giao tiếp", "Nhiếp ảnh flycam", "Autodesk Revit", "Kỹ năng thuyết trình"]
DISTRICTS = ["490", "491", "492", "493", "494", "495", "497"]
DISTRICT_NAMES = {"490": "Liên Chiểu", "491": "Thanh Khê", "492": "Hải Châu", "493": "Sơn Trà", "494": "Ngũ Hành Sơn", "495": "Cẩm Lệ", "497": "Hòa Vang"}
WARD_ORGS_FOR_CONFLICT = ["ubnd-p-hoa-cuong-bac", "ubnd-p-thach-thang", "ubnd-p-an-hai-bac", "ubnd-x-hoa-phong", "ubnd-p-my-an", "ubnd-p-xuan-ha", "so-tnmt", "so-y-te"]

SKILL_FORMS = {slug: (vi, en, aliases) for slug, vi, en, aliases, _ in SKILLS}


def ascii_fold(text):
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def vietnamese_name(rng):
    female = rng.random() < 0.45
    family = rng.choice(FAMILY)
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{family} {middle} {given}", given


def email_for(name, used):
    parts = ascii_fold(name).lower().replace("'", "").split()
    base = f"{parts[-1]}.{''.join(p[0] for p in parts[:-1])}"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}{n}"
    used.add(candidate)
    return f"{candidate}@chuyengia.danang.example"


def typed_skill(rng, slug, english):
    """How an expert types a skill: canonical name, an alias, or the name without diacritics."""
    vi, en, aliases = SKILL_FORMS[slug]
    if english:
        return rng.choice([en, en, *[a for a in aliases if a.isascii()][:2]] or [en])
    roll = rng.random()
    if roll < 0.55:
        return vi
    if roll < 0.8 and aliases:
        return rng.choice(aliases)
    return ascii_fold(vi)


def build_bio(rng, spec, english, years, districts, onsite):
    if english:
        parts = [f"{years} years of experience in {spec['area_en']}."]
        parts += rng.sample(spec["did_en"], k=min(len(spec["did_en"]), rng.choice([1, 2])))
        parts.append("Available for on-site visits in " + ", ".join(DISTRICT_NAMES[d] for d in districts) + "."
                     if onsite else "Prefers remote advice by video call and e-mail.")
        return " ".join(parts)
    parts = [f"Có {years} năm kinh nghiệm về {spec['area_vi']}."]
    parts += rng.sample(spec["did_vi"], k=min(len(spec["did_vi"]), rng.choice([1, 2, 2])))
    parts.append("Có thể hỗ trợ trực tiếp tại " + ", ".join(DISTRICT_NAMES[d] for d in districts) + "."
                 if onsite else "Ưu tiên tư vấn trực tuyến qua điện thoại, Zalo hoặc họp trực tuyến.")
    return " ".join(parts)


def build_experts(count=320, seed=2026):
    rng = random.Random(seed)
    used = set()
    experts = []
    foreign = list(FOREIGN)
    for i in range(count):
        spec = SPECIALISMS[i % len(SPECIALISMS)] if i < len(SPECIALISMS) * 4 else rng.choice(SPECIALISMS)
        if foreign and i % 37 == 11:
            name, _ = foreign.pop(0)
            english, languages = True, ["en"]
        else:
            name, _ = vietnamese_name(rng)
            english = rng.random() < 0.08
            languages = ["vi", "en"] if english or rng.random() < 0.35 else ["vi"]
        years = rng.randint(2, 22)
        onsite = rng.random() < 0.6
        districts = sorted(rng.sample(DISTRICTS, k=rng.choice([1, 1, 2, 3])))
        skills = [{"name": typed_skill(rng, slug, english), "level": max(1, min(5, level - rng.choice([0, 0, 1])))}
                  for slug, level in spec["skills"]]
        for slug in rng.sample(spec["extra"], k=min(len(spec["extra"]), rng.choice([1, 2, 3]))):
            skills.append({"name": typed_skill(rng, slug, english), "level": rng.choice([2, 3, 3, 4])})
        if rng.random() < 0.08:
            skills.append({"name": rng.choice(UNKNOWN_SKILLS), "level": rng.choice([2, 3])})
        affiliation = rng.choice(spec["orgs"])
        record = {
            "email": email_for(name, used),
            "display_name": name,
            "headline": rng.choice(spec["head_en" if english else "head_vi"]),
            "bio": build_bio(rng, spec, english, years, districts, onsite),
            "skills": skills,
            "languages": languages,
            "districts": districts,
            "onsite_possible": onsite,
            "capacity": rng.choice([0, 1, 2, 2, 3, 3, 3, 4, 5, 6]) if i % 29 else 0,
            "active": rng.random() > 0.04,
        }
        if affiliation:
            record["affiliation_org"] = affiliation
        if rng.random() < 0.12:
            record["conflict_orgs"] = rng.sample(WARD_ORGS_FOR_CONFLICT, k=rng.choice([1, 2]))
        leave = leave_periods(rng)
        if leave:
            record["unavailable"] = leave
        experts.append(record)
    return experts


def leave_periods(rng):
    roll = rng.random()
    if roll < 0.06:   # away now (around the demo date)
        return [{"starts_at": "2026-11-20T00:00:00+07:00", "ends_at": "2026-12-06T00:00:00+07:00", "reason": "Nghỉ phép năm"}]
    if roll < 0.16:   # Tết Đinh Mùi: 6 Feb 2027 is the first day of the lunar year
        return [{"starts_at": "2027-02-03T00:00:00+07:00", "ends_at": "2027-02-13T00:00:00+07:00", "reason": "Nghỉ Tết Nguyên đán"}]
    if roll < 0.22:
        return [{"starts_at": "2026-12-14T00:00:00+07:00", "ends_at": "2026-12-19T00:00:00+07:00", "reason": "Công tác Hà Nội"}]
    return []


def build_users(orgs, seed=7):
    rng = random.Random(seed)
    used = set()
    users = [
        {"email": "admin@cds.danang.example", "display_name": "Quản trị hệ thống", "role": "admin", "org_code": "so-tttt"},
        {"email": "dieuphoi.lan@cds.danang.example", "display_name": "Nguyễn Thị Lan", "role": "coordinator", "org_code": "so-tttt"},
        {"email": "dieuphoi.minh@cds.danang.example", "display_name": "Trần Quang Minh", "role": "coordinator", "org_code": "so-tttt"},
        {"email": "dieuphoi.thuy@cds.danang.example", "display_name": "Lê Thị Thu Thủy", "role": "coordinator", "org_code": "diti"},
    ]
    for org in orgs:
        if org["kind"] == "district" or (org["kind"] == "ward" and rng.random() < 0.5):
            continue
        name, _ = vietnamese_name(rng)
        local = ascii_fold(name).lower().split()
        handle = f"{local[-1]}.{''.join(p[0] for p in local[:-1])}"
        n = 1
        while handle in used:
            n += 1
            handle = f"{local[-1]}.{''.join(p[0] for p in local[:-1])}{n}"
        used.add(handle)
        users.append({"email": f"{handle}@{org['code']}.danang.example", "display_name": name, "role": "requester", "org_code": org["code"]})
    return users
