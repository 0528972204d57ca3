"""Notifications: an outbox written in the event's transaction, delivered later by e-mail and webhook."""
