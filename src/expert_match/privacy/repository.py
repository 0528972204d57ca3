"""Every row that names a person, across features (the one place that reads them all)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from expert_match.auth.models import ApiToken, LoginAttempt, WebSession
from expert_match.experts.models import ExpertProfile, ExpertSkill
from expert_match.notify.models import Notification
from expert_match.orgs.models import User
from expert_match.tickets.models import Feedback, Offer, Ticket, TicketAccess, TicketEvent


class PersonRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user(self, user_id: int) -> User | None:
        query = select(User).options(selectinload(User.org)).where(User.id == user_id)
        return self.session.scalars(query).one_or_none()

    def expert_profile(self, user_id: int) -> ExpertProfile | None:
        query = (select(ExpertProfile)
                 .options(selectinload(ExpertProfile.skills).selectinload(ExpertSkill.skill),
                          selectinload(ExpertProfile.districts), selectinload(ExpertProfile.leave),
                          selectinload(ExpertProfile.conflicts))
                 .where(ExpertProfile.user_id == user_id))
        return self.session.scalars(query).one_or_none()

    def tokens(self, user_id: int) -> Sequence[ApiToken]:
        return self.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)).all()

    def sessions(self, user_id: int) -> Sequence[WebSession]:
        query = select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.created_at)
        return self.session.scalars(query).all()

    def attempts(self, key: str) -> Sequence[LoginAttempt]:
        return self.session.scalars(select(LoginAttempt).where(LoginAttempt.key == key).order_by(LoginAttempt.at)).all()

    def tickets_filed(self, user_id: int) -> Sequence[Ticket]:
        return self.session.scalars(select(Ticket).where(Ticket.requester_id == user_id).order_by(Ticket.id)).all()

    def events_by(self, user_id: int) -> Sequence[TicketEvent]:
        query = select(TicketEvent).where(TicketEvent.actor_user_id == user_id).order_by(TicketEvent.id)
        return self.session.scalars(query).all()

    def feedback_by(self, user_id: int) -> Sequence[Feedback]:
        return self.session.scalars(select(Feedback).where(Feedback.user_id == user_id).order_by(Feedback.at)).all()

    def offers_to(self, expert_id: int) -> Sequence[Offer]:
        return self.session.scalars(select(Offer).where(Offer.expert_id == expert_id).order_by(Offer.id)).all()

    def notifications_to(self, email: str) -> Sequence[Notification]:
        query = select(Notification).where(Notification.recipient == email).order_by(Notification.id)
        return self.session.scalars(query).all()

    def accesses_by(self, user_id: int) -> Sequence[TicketAccess]:
        query = select(TicketAccess).where(TicketAccess.user_id == user_id).order_by(TicketAccess.id)
        return self.session.scalars(query).all()

    def working_tickets_of(self, expert_id: int, states: Sequence[str]) -> int:
        query = select(Ticket.id).where(Ticket.assigned_expert_id == expert_id, Ticket.status.in_(states))
        return len(self.session.scalars(query).all())

    def forget_credentials(self, user_id: int, login_key: str) -> None:
        self.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
        self.session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.key == login_key))

    def blank_notifications(self, email: str, placeholder: str) -> None:
        # Delivery copies of messages to the person: the ticket's own history keeps the content.
        self.session.execute(update(Notification).where(Notification.recipient == email)
                             .values(recipient=placeholder, subject="", body="", payload={}))
