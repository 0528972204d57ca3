"""Domain errors with stable codes. No HTTP here: ``api/problems.py`` maps them to statuses once."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure. ``code`` is stable and safe to show to clients."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist, or the caller may not see it (the two look the same)."""

    code = "not_found"


class InvalidReference(DomainError):
    """A field names another object that does not exist (e.g. an unknown org id)."""

    code = "invalid_reference"


class InvalidValue(DomainError):
    """A value is well-formed but breaks a domain rule (e.g. leave ending before it starts)."""

    code = "invalid_value"


class Conflict(DomainError):
    """The change collides with existing data or a concurrent change (duplicate, stale version)."""

    code = "conflict"


class ImportFailed(DomainError):
    """A bulk import was refused as a whole; ``problems`` lists every (where, field, message).

    ``where`` names the place in the file: "line 7" for CSV, "item 3" for JSON.
    """

    code = "import_failed"

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        lines = "; ".join(f"{where}: {field}: {msg}" for where, field, msg in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"import refused, nothing was saved: {lines}{more}")
        self.problems = problems


class NotAllowed(DomainError):
    """The caller may see the object but not take this action on it (403)."""

    code = "not_allowed"


class Unauthenticated(DomainError):
    """No valid session or token (401)."""

    code = "unauthenticated"


class TooManyRequests(DomainError):
    """A rate limit was hit (429); ``retry_after`` is in seconds."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
