"""Which events notify whom, in Vietnamese: the outbox rows are written with the event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from expert_match.experts.repository import ExpertRepository
from expert_match.notify.outbox import Message, enqueue
from expert_match.orgs.models import Role
from expert_match.orgs.repository import UserRepository
from expert_match.tickets.models import Ticket, TicketEvent

# event kind -> (who is told, what they are told)
NOTICES = {
    "offered": ("offered_experts", "Đề nghị tư vấn mới / new consultation offer"),
    "accept_offer": ("requester", "Chuyên gia đã nhận phiếu / an expert took your ticket"),
    "assign": ("assigned_expert", "Bạn được phân công phiếu / you were assigned a ticket"),
    "post_advice": ("requester", "Có tư vấn mới / new advice"),
    "ask_info": ("requester", "Chuyên gia cần thêm thông tin / the expert needs information"),
    "answer": ("assigned_expert", "Đơn vị đã trả lời / the requester answered"),
    "resolve": ("requester", "Phiếu đã được giải quyết / your ticket was resolved"),
    "reopen": ("assigned_expert", "Phiếu được mở lại / the ticket was reopened"),
    "no_candidates": ("coordinators", "Cần điều phối: không còn chuyên gia phù hợp / needs attention"),
    "breach": ("coordinators", "Quá hạn mục tiêu dịch vụ / service target breached"),
}


def notify(session: Session, ticket: Ticket, event: TicketEvent, now: datetime,
           recipients: list[str] | None = None) -> None:
    """Queue the notifications an event calls for (none for internal notes), e-mailed to its
    audience's active users, or to ``recipients`` when the caller read them already (a filing
    reads its offers' with the ranking, not while it holds the writer)."""
    if event.kind not in NOTICES or event.internal:
        return
    audience, label = NOTICES[event.kind]
    if event.id is None:  # the outbox rows are keyed by the event's id
        session.flush()
    message = Message(
        kind=event.kind,
        subject=f"[{ticket.reference}] {label}: {ticket.title}"[:300],
        body=f"{label}\n\n{ticket.reference}: {ticket.title}\n\n{event.body or ''}".strip(),
        payload={"event_id": event.id, "event": event.kind, "ticket_id": ticket.id, "reference": ticket.reference,
                 "status": ticket.status.value, "data": event.data or {}},
    )
    emails = recipients if recipients is not None else _emails(session, ticket, event, audience)
    enqueue(session, event.id, message, emails, now)


def _emails(session: Session, ticket: Ticket, event: TicketEvent, audience: str) -> list[str]:
    users = UserRepository(session)
    experts = ExpertRepository(session)
    if audience == "offered_experts":
        return experts.emails((event.data or {}).get("expert_ids", []))
    if audience == "requester":
        return users.emails([ticket.requester_id] if ticket.requester_id else [])
    if audience == "assigned_expert":
        return experts.emails([ticket.assigned_expert_id] if ticket.assigned_expert_id else [])
    return users.emails_by_role(Role.COORDINATOR)
