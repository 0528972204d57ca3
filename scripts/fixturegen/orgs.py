"""Who files problems in Da Nang (2023 administrative units): districts, wards, departments,
businesses and community digital-technology teams. Businesses and teams are fictional but typical.
"""

import json
import re
from pathlib import Path

UNITS = Path(__file__).resolve().parents[2] / "src/expert_match/orgs/data/danang_units.json"

# (code, name, district code or None, address)
DEPARTMENTS = [
    ("so-tttt", "Sở Thông tin và Truyền thông thành phố Đà Nẵng", "492", "Tầng 15, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-noi-vu", "Sở Nội vụ thành phố Đà Nẵng", "492", "Tầng 7, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-tu-phap", "Sở Tư pháp thành phố Đà Nẵng", "492", "Tầng 12, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-tnmt", "Sở Tài nguyên và Môi trường thành phố Đà Nẵng", "492", "Tầng 18, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-xay-dung", "Sở Xây dựng thành phố Đà Nẵng", "492", "Tầng 8, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-y-te", "Sở Y tế thành phố Đà Nẵng", "492", "Tầng 20, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-gddt", "Sở Giáo dục và Đào tạo thành phố Đà Nẵng", "492", "Tầng 21, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-khdt", "Sở Kế hoạch và Đầu tư thành phố Đà Nẵng", "492", "Tầng 6, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-cong-thuong", "Sở Công Thương thành phố Đà Nẵng", "492", "Tầng 9, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-du-lich", "Sở Du lịch thành phố Đà Nẵng", "492", "Tầng 17, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-tai-chinh", "Sở Tài chính thành phố Đà Nẵng", "492", "Tầng 13, Trung tâm Hành chính, 24 Trần Phú"),
    ("so-gtvt", "Sở Giao thông vận tải thành phố Đà Nẵng", "492", "Tầng 10, Trung tâm Hành chính, 24 Trần Phú"),
    ("van-phong-ubnd-tp", "Văn phòng UBND thành phố Đà Nẵng", "492", "Tầng 4, Trung tâm Hành chính, 24 Trần Phú"),
    ("ioc-da-nang", "Trung tâm Giám sát điều hành đô thị thông minh Đà Nẵng (IOC)", "492", "Tầng 2, Trung tâm Hành chính, 24 Trần Phú"),
    ("trung-tam-dvc-1022", "Trung tâm Thông tin dịch vụ công Đà Nẵng (tổng đài 1022)", "492", "Tầng 3, Trung tâm Hành chính, 24 Trần Phú"),
    ("diti", "Trung tâm Phát triển hạ tầng công nghệ thông tin Đà Nẵng", "493", "Khu Công viên phần mềm số 2, Sơn Trà"),
    ("bv-da-nang", "Bệnh viện Đà Nẵng", "492", "124 Hải Phòng, Hải Châu"),
    ("bhxh-da-nang", "Bảo hiểm xã hội thành phố Đà Nẵng", "492", "62 Trần Phú, Hải Châu"),
    ("cuc-thue-da-nang", "Cục Thuế thành phố Đà Nẵng", "492", "08 Trần Phú, Hải Châu"),
    ("dut", "Trường Đại học Bách khoa - Đại học Đà Nẵng", "490", "54 Nguyễn Lương Bằng, Liên Chiểu"),
    ("vku", "Trường Đại học Công nghệ Thông tin và Truyền thông Việt - Hàn", "495", "470 Trần Đại Nghĩa, Ngũ Hành Sơn"),
    ("due", "Trường Đại học Kinh tế - Đại học Đà Nẵng", "494", "71 Ngũ Hành Sơn"),
]
BUSINESSES = [
    ("cty-phan-mem-song-han", "Công ty CP Phần mềm Sông Hàn", "492", "Lô A2, đường 2 Tháng 9, Hải Châu"),
    ("cty-ha-tang-so-mien-trung", "Công ty TNHH Hạ tầng số Miền Trung", "491", "Đường Hà Huy Tập, Thanh Khê"),
    ("cty-an-ninh-mang-bien-dong", "Công ty CP An ninh mạng Biển Đông", "493", "Đường Võ Văn Kiệt, Sơn Trà"),
    ("cty-gis-ngu-hanh-son", "Công ty TNHH Bản đồ số Ngũ Hành Sơn", "494", "Đường Lê Văn Hiến, Ngũ Hành Sơn"),
    ("cty-du-lich-my-khe", "Công ty TNHH Du lịch biển Mỹ Khê", "493", "Đường Võ Nguyên Giáp, Sơn Trà"),
    ("htx-rau-tuy-loan", "Hợp tác xã Nông nghiệp Túy Loan", "497", "Thôn Bồ Bản, Hòa Phong, Hòa Vang"),
    ("cty-hai-san-tho-quang", "Công ty TNHH Chế biến hải sản Thọ Quang", "493", "Khu âu thuyền Thọ Quang, Sơn Trà"),
    ("cua-hang-dien-may-hoa-khanh", "Cửa hàng điện máy Hòa Khánh", "490", "Đường Âu Cơ, Liên Chiểu"),
    ("nha-hang-hai-san-ba-lam", "Nhà hàng hải sản Bà Lâm", "494", "Đường Trường Sa, Ngũ Hành Sơn"),
    ("homestay-an-thuong", "Homestay An Thượng Garden", "494", "Khu phố An Thượng, Ngũ Hành Sơn"),
    ("cty-van-tai-han-river", "Công ty CP Vận tải Sông Hàn", "491", "Đường Điện Biên Phủ, Thanh Khê"),
    ("phong-kham-hoa-cuong", "Phòng khám đa khoa Hòa Cường", "492", "Đường Núi Thành, Hải Châu"),
    ("truong-mam-non-hoa-xuan", "Trường Mầm non tư thục Hòa Xuân", "495", "Khu đô thị Hòa Xuân, Cẩm Lệ"),
    ("cty-det-may-cam-le", "Công ty TNHH May mặc Cẩm Lệ", "495", "Khu công nghiệp Hòa Cầm, Cẩm Lệ"),
    ("cty-tu-van-cds-tien-sa", "Công ty TNHH Tư vấn chuyển đổi số Tiên Sa", "493", "Đường Ngô Quyền, Sơn Trà"),
]
TEAM_WARDS = ["20257", "20233", "20209", "20272", "20284", "20197", "20306", "20320", "20329", "20212"]


def ward_orgs(units):
    rows = []
    for district in units["districts"]:
        level = "quận" if district["kind"] == "quận" else "huyện"
        rows.append({
            "code": f"ubnd-{level[0]}-{slug(district['name'])}",
            "name": f"UBND {level} {district['name']}",
            "kind": "district",
            "district": district["code"],
        })
        for ward in district["wards"]:
            rows.append({
                "code": f"ubnd-{'p' if ward['kind'] == 'phường' else 'x'}-{slug(ward['name'])}",
                "name": f"UBND {ward['kind']} {ward['name']}",
                "kind": "ward",
                "ward": ward["code"],
            })
    return rows


def team_orgs(units):
    wards = {w["code"]: w for d in units["districts"] for w in d["wards"]}
    rows = []
    for code in TEAM_WARDS:
        ward = wards[code]
        rows.append({
            "code": f"to-cns-{slug(ward['name'])}",
            "name": f"Tổ Công nghệ số cộng đồng {ward['kind']} {ward['name']}",
            "kind": "community_team",
            "ward": code,
        })
    return rows


def slug(text):
    import unicodedata
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def build_orgs():
    units = json.loads(UNITS.read_text("utf-8"))["versions"]["2023"]
    rows = ward_orgs(units)
    for code, name, district, address in DEPARTMENTS:
        rows.append({"code": code, "name": name, "kind": "department", "district": district, "address": address})
    for code, name, district, address in BUSINESSES:
        rows.append({"code": code, "name": name, "kind": "business", "district": district, "address": address})
    rows.extend(team_orgs(units))
    return rows
