"""msgspec Structs for the org API (inputs separate from outputs, separate from ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from expert_match.orgs.models import Org, OrgKind, Role
from expert_match.structs import Code, Email, Input, Output, ShortText
from expert_match.orgs.locations import admin_units

AdminVersion = Literal["2023", "2025-01", "2025-07"]
PlaceText = Annotated[str, msgspec.Meta(min_length=1, max_length=120, description="GSO code or name")]
Address = Annotated[str, msgspec.Meta(max_length=300)]


class OrgCreate(Input):
    name: ShortText
    kind: OrgKind
    code: Code | None = None
    district: PlaceText | None = None
    ward: PlaceText | None = None
    admin_version: AdminVersion = "2023"
    address: Address | None = None
    contact_email: Email | None = None


class OrgUpdate(Input):
    name: ShortText | UnsetType = UNSET
    kind: OrgKind | UnsetType = UNSET
    district: PlaceText | None | UnsetType = UNSET
    ward: PlaceText | None | UnsetType = UNSET
    admin_version: AdminVersion | UnsetType = UNSET
    address: Address | None | UnsetType = UNSET
    contact_email: Email | None | UnsetType = UNSET


class OrgRead(Output):
    id: int
    code: str
    name: str
    kind: OrgKind
    district_code: str | None
    district_name: str | None
    ward_code: str | None
    ward_name: str | None
    admin_version: str
    address: str | None
    contact_email: str | None
    created_at: datetime
    updated_at: datetime


class OrgRef(Output):
    id: int
    code: str
    name: str
    kind: OrgKind


class OrgPage(Output):
    items: list[OrgRead]
    total: int
    limit: int
    offset: int


def org_read(org: Org) -> OrgRead:
    district = admin_units().districts.get(org.district_code) if org.district_code else None
    return OrgRead(
        id=org.id,
        code=org.code,
        name=org.name,
        kind=org.kind,
        district_code=org.district_code,
        district_name=district.name if district else None,
        ward_code=org.ward_code,
        ward_name=org.ward_name,
        admin_version=org.admin_version,
        address=org.address,
        contact_email=org.contact_email,
        created_at=org.created_at,
        updated_at=org.updated_at,
    )


def org_ref(org: Org) -> OrgRef:
    return OrgRef(id=org.id, code=org.code, name=org.name, kind=org.kind)


class UserCreate(Input):
    email: Email
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    role: Role
    org_code: Code | None = None
