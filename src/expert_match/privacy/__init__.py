"""Personal data (Vietnam's Personal Data Protection Law 2025): export everything held about a
person, and erase a person's identity while the tickets' history stays coherent."""
