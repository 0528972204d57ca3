"""Write notifications into the outbox (inside the caller's transaction) and deliver them later.

Delivery never blocks the workflow: the event's transaction only inserts rows. A worker claims due
rows in a short transaction (state ``sending`` with a lease), sends outside any transaction (an
SMTP or HTTP call must not hold the SQLite write lock), then records the result. Failures retry
with exponential backoff; a lease that lapses (the worker died) is taken over. Webhook receivers
get the notification id in ``X-Expert-Match-Delivery`` to drop the rare duplicate of a retry after
a crash between sending and recording.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from expert_match.db.engine import Database
from expert_match.notify.models import Channel, DeliveryState, Notification
from expert_match.notify.repository import NotificationRepository
from expert_match.settings import Settings

log = logging.getLogger("expert_match.notify")
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
BATCH = 50


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    subject: str
    body: str
    payload: dict[str, Any]


def enqueue(session: Session, event_id: int, message: Message, emails: Sequence[str], now: datetime) -> None:
    """One e-mail per recipient and one webhook call, in the event's transaction."""
    recipients = [(Channel.EMAIL, email) for email in dict.fromkeys(emails)] + [(Channel.WEBHOOK, "webhook")]
    NotificationRepository(session).add_all([
        {"event_id": event_id, "kind": message.kind, "channel": channel, "recipient": recipient,
         "subject": message.subject, "body": message.body, "payload": message.payload,
         "state": DeliveryState.PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now}
        for channel, recipient in recipients])


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes, at most six hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


Sender = Callable[[Notification, Settings], None]


def deliver_due(database: Database, settings: Settings, now: datetime, *, send_email: Sender | None = None,
                post_webhook: Sender | None = None) -> DeliveryReport:
    senders = {Channel.EMAIL: send_email or smtp_send, Channel.WEBHOOK: post_webhook or webhook_post}
    configured = {Channel.EMAIL: bool(settings.smtp_host), Channel.WEBHOOK: bool(settings.webhook_url)}
    report = DeliveryReport()
    for notification_id, channel in _claim(database, now):
        if not configured[channel]:
            _finish(database, notification_id, now, DeliveryState.SKIPPED, None)
            report.skipped += 1
            continue
        with database.reader() as session:
            notification = NotificationRepository(session).get(notification_id)
        try:
            senders[channel](notification, settings)
        except Exception as exc:  # any transport failure is retried, never raised into the workflow
            log.warning("notification %s (%s) failed: %s", notification_id, channel, exc)
            failed = _finish(database, notification_id, now, None, str(exc)[:500])
            report.failed += failed
            report.retried += not failed
            continue
        _finish(database, notification_id, now, DeliveryState.SENT, None)
        report.sent += 1
    return report


def _claim(database: Database, now: datetime) -> list[tuple[int, Channel]]:
    with database.writer() as session, session.begin():
        claimed = NotificationRepository(session).claimable(now, BATCH)
        for notification in claimed:
            notification.state = DeliveryState.SENDING
            notification.claimed_until = now + LEASE
        return [(n.id, n.channel) for n in claimed]


def _finish(database: Database, notification_id: int, now: datetime, state: DeliveryState | None,
            error: str | None) -> bool:
    """Record the outcome; with ``state`` None, schedule a retry (or give up). True when given up."""
    with database.writer() as session, session.begin():
        notification = NotificationRepository(session).get(notification_id)
        assert notification is not None
        notification.claimed_until = None
        if state is not None:
            notification.state = state
            notification.sent_at = now if state == DeliveryState.SENT else None
            return False
        notification.attempts += 1
        notification.last_error = error
        if notification.attempts >= MAX_ATTEMPTS:
            notification.state = DeliveryState.FAILED
            return True
        notification.state = DeliveryState.PENDING
        notification.next_attempt_at = now + backoff(notification.attempts)
        return False


def smtp_send(notification: Notification, settings: Settings) -> None:
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = settings.smtp_from
    message["To"] = notification.recipient
    message["Message-ID"] = f"<notification-{notification.id}@expert-match>"
    link = f"{settings.public_url.rstrip('/')}/tickets/{notification.payload.get('ticket_id', '')}"
    message.set_content(f"{notification.body}\n\n{link}\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_post(notification: Notification, settings: Settings) -> None:
    body = json.dumps({"id": notification.id, "kind": notification.kind, "subject": notification.subject,
                       **notification.payload}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(settings.webhook_url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "X-Expert-Match-Delivery": str(notification.id),
        "X-Expert-Match-Signature": signature(settings.webhook_secret, body),
    })
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the operator's URL
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(settings.webhook_url, response.status, "not 2xx", response.headers, None)
