"""Org use cases. Services flush; the request or CLI scope commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from msgspec import UNSET
from sqlalchemy.orm import Session

from expert_match.db.flush import flush_or_conflict
from expert_match.db.paging import Window
from expert_match.errors import Conflict, InvalidReference, InvalidValue, NotFound
from expert_match.matching.text import clean_text, fold_key
from expert_match.orgs.locations import REFERENCE_VERSION, admin_units
from expert_match.orgs.models import Org, OrgKind, Role, User
from expert_match.orgs.repository import OrgFilter, OrgRepository, UserRepository
from expert_match.orgs.schemas import OrgCreate, OrgUpdate, UserCreate


@dataclass(frozen=True, slots=True)
class Place:
    district_code: str | None
    ward_code: str | None
    ward_name: str | None


def slugify(text: str) -> str:
    """'UBND phường Hòa Cường Bắc' -> 'ubnd-phuong-hoa-cuong-bac' (stable, ASCII, <= 64 chars)."""
    return re.sub(r"[^a-z0-9]+", "-", fold_key(text)).strip("-")[:64].rstrip("-") or "org"


def resolve_place(district: str | None, ward: str | None, admin_version: str) -> Place:
    """Check a district/ward against the reference list when the org uses the reference version.

    Later administrative versions are kept as typed: the reference list for them is not vendored.
    """
    if admin_version != REFERENCE_VERSION:
        return Place(district_code=None, ward_code=None, ward_name=clean_text(ward) if ward else None)
    units = admin_units()
    district_code = None
    if district:
        found = units.district(district)
        if found is None:
            raise InvalidValue(f"unknown Da Nang district {district!r} ({admin_version} list)", field="district")
        district_code = found.code
    if not ward:
        return Place(district_code=district_code, ward_code=None, ward_name=None)
    found_ward = units.ward(ward)
    if found_ward is None:
        raise InvalidValue(f"unknown Da Nang ward {ward!r} ({admin_version} list)", field="ward")
    if district_code and found_ward.district.code != district_code:
        raise InvalidValue(
            f"ward {found_ward.name} is in district {found_ward.district.name}, not the one given", field="ward"
        )
    return Place(district_code=found_ward.district.code, ward_code=found_ward.code, ward_name=found_ward.name)


def get_org(session: Session, org_id: int) -> Org:
    org = OrgRepository(session).get(org_id)
    if org is None:
        raise NotFound(f"org {org_id} not found")
    return org


def district_code(text: str | None, field: str = "district") -> str | None:
    """GSO code of a district given by code or name; unknown names are a 422 naming ``field``."""
    if not text:
        return None
    found = admin_units().district(text)
    if found is None:
        raise InvalidValue(f"unknown Da Nang district {text!r}", field=field)
    return found.code


def org_filter(*, kind: OrgKind | None, district: str | None, query: str | None) -> OrgFilter:
    return OrgFilter(kind=kind, district_code=district_code(district), search_key=fold_key(query) if query else None)


def list_orgs(session: Session, filters: OrgFilter, window: Window) -> tuple[list[Org], int]:
    return OrgRepository(session).list(filters, window)


def create_org(session: Session, data: OrgCreate, now: datetime) -> Org:
    place = resolve_place(data.district, data.ward, data.admin_version)
    name = clean_text(data.name)
    org = Org(
        code=data.code or slugify(name),
        name=name,
        search_key=fold_key(name),
        kind=data.kind,
        district_code=place.district_code,
        ward_code=place.ward_code,
        ward_name=place.ward_name,
        admin_version=data.admin_version,
        address=data.address,
        contact_email=data.contact_email.lower() if data.contact_email else None,
        created_at=now,
        updated_at=now,
    )
    OrgRepository(session).add(org)
    flush_or_conflict(session, f"an org with code {org.code!r} already exists", field="code")
    return org


def update_org(session: Session, org_id: int, data: OrgUpdate, now: datetime) -> Org:
    org = get_org(session, org_id)
    if data.name is not UNSET:
        org.name = clean_text(data.name)
        org.search_key = fold_key(org.name)
    if data.kind is not UNSET:
        org.kind = data.kind
    if data.admin_version is not UNSET:
        org.admin_version = data.admin_version
    if data.district is not UNSET or data.ward is not UNSET or data.admin_version is not UNSET:
        # A new ward alone brings its own district; an unchanged ward is re-checked against a new district.
        if data.district is not UNSET:
            district = data.district
        else:
            district = None if data.ward is not UNSET else org.district_code
        ward = data.ward if data.ward is not UNSET else (org.ward_code or org.ward_name)
        place = resolve_place(district, ward, org.admin_version)
        org.district_code, org.ward_code, org.ward_name = place.district_code, place.ward_code, place.ward_name
    if data.address is not UNSET:
        org.address = data.address
    if data.contact_email is not UNSET:
        org.contact_email = data.contact_email.lower() if data.contact_email else None
    org.updated_at = now
    flush_or_conflict(session, "the org could not be saved")
    return org


def create_user(session: Session, data: UserCreate, now: datetime) -> User:
    """Create a user of any role (expert users come with a profile: ``experts.service.create_expert``)."""
    users = UserRepository(session)
    email = data.email.lower()
    if users.get_by_email(email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists", field="email")
    org_id = None
    if data.org_code:
        org = OrgRepository(session).get_by_code(data.org_code)
        if org is None:
            raise InvalidReference(f"no org with code {data.org_code!r}", field="org_code")
        org_id = org.id
    if data.role == Role.REQUESTER and org_id is None:
        raise InvalidValue("a requester files problems for an org: give org_code", field="org_code")
    user = User(email=email, display_name=clean_text(data.display_name), role=data.role, org_id=org_id,
                active=True, created_at=now, updated_at=now)
    users.add(user)
    flush_or_conflict(session, f"a user with e-mail {email} already exists", field="email")
    return user
