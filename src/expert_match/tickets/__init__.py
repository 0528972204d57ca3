"""Consultation tickets: workflow table, offers, SLA, history. Filled by the ticket-workflow issue."""
