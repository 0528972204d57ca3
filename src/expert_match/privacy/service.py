"""Export a person's data as JSON, and erase their identity.

Erasing keeps every ticket and event (the org's record of its problem and the advice given) and
keeps the rows that point at the person, so history stays coherent; what identifies them goes:
e-mail, name, password, tokens, sessions, failed-login records, the expert profile's text,
skills, districts, leave and conflicts, and their copies of notifications. Their user row stays,
de-identified and inactive, so "who did this" reads "erased user #id".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from expert_match.auth.principal import Caller
from expert_match.auth.service import account_key
from expert_match.errors import Conflict, NotAllowed, NotFound
from expert_match.experts.models import ExpertProfile
from expert_match.matching.text import fold_key
from expert_match.orgs.models import Role, User
from expert_match.privacy.repository import PersonRepository
from expert_match.tickets.states import WORKING_STATES

ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): nothing can be sent there


def _admin(caller: Caller) -> None:
    if caller.role != Role.ADMIN:
        raise NotAllowed("only admins may export or erase a person's data")


def _person(repo: PersonRepository, user_id: int) -> User:
    user = repo.user(user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_person(session: Session, caller: Caller, user_id: int, now: datetime) -> dict[str, Any]:
    """Everything held about the user, as plain JSON values (secrets are never included: only
    whether a password is set, and token prefixes)."""
    _admin(caller)
    repo = PersonRepository(session)
    user = _person(repo, user_id)
    profile = repo.expert_profile(user.id)
    return {
        "exported_at": now.isoformat(),
        "user": {"id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role.value,
                 "org": {"id": user.org.id, "name": user.org.name} if user.org else None, "active": user.active,
                 "has_password": user.password_hash is not None, "created_at": _iso(user.created_at),
                 "updated_at": _iso(user.updated_at)},
        "expert_profile": _profile(profile) if profile else None,
        "api_tokens": [{"name": t.name, "prefix": t.prefix, "created_at": _iso(t.created_at),
                        "expires_at": _iso(t.expires_at), "revoked_at": _iso(t.revoked_at)} for t in repo.tokens(user.id)],
        "web_sessions": [{"created_at": _iso(s.created_at), "expires_at": _iso(s.expires_at)}
                         for s in repo.sessions(user.id)],
        "failed_logins": [_iso(a.at) for a in repo.attempts(account_key(user.email))],
        "tickets_filed": [{"id": t.id, "reference": t.reference, "title": t.title, "description": t.description,
                           "location": t.location, "status": t.status.value, "created_at": _iso(t.created_at)}
                          for t in repo.tickets_filed(user.id)],
        "ticket_events": [{"ticket_id": e.ticket_id, "kind": e.kind, "at": _iso(e.at), "body": e.body,
                           "internal": e.internal} for e in repo.events_by(user.id)],
        "feedback_given": [{"ticket_id": f.ticket_id, "rating": f.rating, "comment": f.comment,
                            "bottleneck_removed": f.bottleneck_removed, "at": _iso(f.at)}
                           for f in repo.feedback_by(user.id)],
        "offers_received": [{"ticket_id": o.ticket_id, "state": o.state.value, "offered_at": _iso(o.offered_at),
                             "responded_at": _iso(o.responded_at), "reason": o.reason}
                            for o in (repo.offers_to(profile.id) if profile else [])],
        "notifications": [{"kind": n.kind, "channel": n.channel.value, "subject": n.subject, "state": n.state.value,
                           "created_at": _iso(n.created_at)} for n in repo.notifications_to(user.email)],
        "tickets_read": [{"ticket_id": a.ticket_id, "at": _iso(a.at), "channel": a.channel}
                         for a in repo.accesses_by(user.id)],
    }


def _profile(profile: ExpertProfile) -> dict[str, Any]:
    return {"id": profile.id, "headline": profile.headline, "bio": profile.bio, "capacity": profile.capacity,
            "languages": list(profile.languages or []), "onsite_possible": profile.onsite_possible,
            "active": profile.active,
            "skills": [{"name": s.skill.name_vi if s.skill else s.free_text, "level": s.level} for s in profile.skills],
            "districts": sorted(d.district_code for d in profile.districts),
            "leave": [{"starts_at": _iso(p.starts_at), "ends_at": _iso(p.ends_at), "reason": p.reason}
                      for p in profile.leave],
            "conflicts": [{"org_id": c.org_id, "reason": c.reason} for c in profile.conflicts]}


def erase_person(session: Session, caller: Caller, user_id: int, now: datetime) -> int | None:
    """De-identify the user; returns their expert profile's id (the ranker must drop it) or None.
    An expert still working on tickets must hand them back first (409)."""
    _admin(caller)
    if caller.user_id == user_id:
        raise Conflict("admins cannot erase themselves; ask another admin")
    repo = PersonRepository(session)
    user = _person(repo, user_id)
    profile = repo.expert_profile(user.id)
    if profile and repo.working_tickets_of(profile.id, [s.value for s in WORKING_STATES]):
        raise Conflict("the expert still works on tickets; reassign or hand them back first")
    old_email = user.email
    placeholder = f"erased-{user.id}@{ERASED_DOMAIN}"
    repo.forget_credentials(user.id, account_key(old_email))
    repo.blank_notifications(old_email, placeholder)
    user.email = placeholder
    user.display_name = f"erased user #{user.id}"
    user.password_hash = None
    user.active = False
    user.updated_at = now
    if profile is None:
        return None
    profile.headline = "erased"
    profile.bio = ""
    profile.search_key = fold_key(user.display_name)
    profile.skills = []
    profile.districts = []
    profile.leave = []
    profile.conflicts = []
    profile.affiliation_org_id = None
    profile.active = False
    profile.updated_at = now
    return profile.id
