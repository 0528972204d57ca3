"""Request and response Structs for tickets, offers, thread posts and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from expert_match.structs import Code, Id, Input, Output
from expert_match.tickets.sla import Priority, TargetName, TargetState
from expert_match.tickets.states import TicketAction, TicketStatus

Title = Annotated[str, msgspec.Meta(min_length=3, max_length=200, description="Short title of the problem")]
Description = Annotated[str, msgspec.Meta(min_length=10, max_length=20_000, description="The problem, in full")]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
PostBody = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class TicketCreate(Input):
    title: Title
    description: Description
    category: Code | None = None
    priority: Priority = Priority.NORMAL
    district: Annotated[str, msgspec.Meta(max_length=120)] | None = None  # code or name
    ward: Annotated[str, msgspec.Meta(max_length=120)] | None = None
    location: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    onsite: bool = False
    language: Literal["vi", "en"] | None = None
    # Staff may file on behalf of an org; requesters always file for their own.
    org_id: Id | None = None


class AccessRead(Output):
    user_id: int
    at: datetime
    channel: str


class TargetRead(Output):
    name: TargetName
    state: TargetState
    target_hours: float
    elapsed_hours: float
    remaining_hours: float
    due_at: datetime | None
    completed_at: datetime | None


class OrgBrief(Output):
    id: int
    name: str


class TicketRead(Output):
    id: int
    reference: str
    title: str
    description: str
    category: str | None
    priority: Priority
    status: TicketStatus
    org: OrgBrief
    requester_id: int | None
    district_code: str | None
    ward_code: str | None
    location: str | None
    onsite: bool
    assigned_expert_id: int | None
    merged_into_id: int | None
    resolution_summary: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    service_targets: list[TargetRead]
    actions: list[TicketAction]  # what the caller may do now


class SimilarTicket(Output):
    id: int
    reference: str
    title: str
    status: TicketStatus
    similarity: float


class TicketFiled(Output):
    ticket: TicketRead
    possible_duplicates: list[SimilarTicket]
    similar_resolved: list[SimilarTicket]


class TicketPage(Output):
    items: list[TicketRead]
    total: int
    limit: int
    offset: int


class EventRead(Output):
    id: int
    at: datetime
    kind: str
    actor: str
    actor_user_id: int | None
    actor_name: str | None
    from_status: str | None
    to_status: str | None
    body: str | None
    internal: bool
    data: dict[str, Any]


class OfferRead(Output):
    id: int
    ticket_id: int
    ticket_reference: str | None
    ticket_title: str | None
    expert_id: int
    round: int
    rank: int
    score: float
    state: str
    offered_at: datetime
    expires_at: datetime
    responded_at: datetime | None
    reason: str | None
    explanation: dict[str, Any]


class MatchRunRead(Output):
    id: int
    at: datetime
    purpose: str
    experts_considered: int
    excluded_expert_ids: list[int]
    candidates: list[dict[str, Any]]


class PostCreate(Input):
    body: PostBody
    # "advice" (public, the assigned expert), "note" (internal: staff and the assigned expert),
    # "answer" (the requester replies; ends waiting_on_requester), "ask_info" (the expert asks the
    # requester for information: the service-target clock stops).
    kind: Literal["advice", "note", "answer", "ask_info"] = "advice"


class ResolveRequest(Input):
    summary: PostBody


class ReasonRequest(Input):
    reason: Reason


class OptionalReason(Input):
    reason: Reason | None = None


class AssignRequest(Input):
    expert_id: Id
    reason: Reason | None = None  # required when the expert is at capacity


class MergeRequest(Input):
    into_ticket_id: Id
    reason: Reason | None = None


class FeedbackCreate(Input):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    bottleneck_removed: bool | None = None


class FeedbackRead(Output):
    rating: int
    comment: str | None
    bottleneck_removed: bool | None
    at: datetime


class LoadRead(Output):
    expert_id: int
    name: str
    load: int
    capacity: int


class QueuesRead(Output):
    """Each queue oldest first, cut at ``limit``; ``totals`` counts every ticket in each queue."""

    unassigned: list[TicketRead]
    needs_attention: list[TicketRead]
    at_risk: list[TicketRead]
    breached: list[TicketRead]
    totals: dict[str, int]
    by_district: dict[str, int]
    by_category: dict[str, int]
    expert_loads: list[LoadRead]  # most loaded relative to capacity first, cut at ``limit``


class MetricsRead(Output):
    tickets_by_status: dict[str, int]
    median_hours_to_assignment: float | None
    median_hours_to_resolution: float | None
    offers_by_state: dict[str, int]
    acceptance_rate: float | None
    utilisation: float | None
