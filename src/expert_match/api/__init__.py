"""JSON API v1: thin Litestar controllers over the feature services. No SQL, no ORM mutation here."""
