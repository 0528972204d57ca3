"""Da Nang administrative units (GSO codes), looked up by code or by a loosely typed name.

Units are versioned because Da Nang's wards changed three times in 2025; the reference list in
``data/danang_units.json`` is the 2023 one (before any merger), which the demo data uses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from expert_match.matching.text import fold_key

REFERENCE_VERSION = "2023"
ADMIN_VERSIONS = ("2023", "2025-01", "2025-07")
_PREFIXES = re.compile(r"^(quan|huyen|phuong|xa|thi tran|q|h|p|x|tt)\s+")


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    name: str
    kind: str
    district: District

    @property
    def full_name(self) -> str:
        return f"{self.kind.capitalize()} {self.name}"


@dataclass(frozen=True, slots=True)
class AdminUnits:
    districts: dict[str, District]
    wards: dict[str, Ward]
    district_keys: dict[str, str]
    ward_keys: dict[str, str]

    def district(self, text: str) -> District | None:
        """A district by GSO code ("492") or name ("Hải Châu", "quan hai chau", "Q. Hải Châu")."""
        text = text.strip()
        if text in self.districts:
            return self.districts[text]
        code = self.district_keys.get(_name_key(text))
        return self.districts[code] if code else None

    def ward(self, text: str) -> Ward | None:
        """A ward by GSO code ("20257") or name ("Hòa Cường Bắc", "hoa cuong bac", "P. Hoà Cường Bắc")."""
        text = text.strip()
        if text in self.wards:
            return self.wards[text]
        code = self.ward_keys.get(_name_key(text))
        return self.wards[code] if code else None


def _name_key(text: str) -> str:
    return _PREFIXES.sub("", fold_key(text))


@cache
def admin_units() -> AdminUnits:
    raw = json.loads(resources.files("expert_match.orgs").joinpath("data/danang_units.json").read_text("utf-8"))
    districts: dict[str, District] = {}
    wards: dict[str, Ward] = {}
    for d in raw["versions"][REFERENCE_VERSION]["districts"]:
        district = District(code=d["code"], name=d["name"], kind=d["kind"])
        districts[district.code] = district
        for w in d["wards"]:
            wards[w["code"]] = Ward(code=w["code"], name=w["name"], kind=w["kind"], district=district)
    return AdminUnits(
        districts=districts,
        wards=wards,
        district_keys={_name_key(d.name): code for code, d in districts.items()},
        ward_keys={_name_key(w.name): code for code, w in wards.items()},
    )
