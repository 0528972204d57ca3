"""Strict JSON bodies: ``"capacity": "3"`` is a type error, not a silently converted 3.

Litestar validates handler arguments with msgspec in lax mode (strings become numbers and
booleans), which would let schema-breaking requests through. This ``before_request`` hook decodes
the raw body strictly against the handler's ``data`` Struct first; Litestar's own pass then sees
only valid input. It runs before any dependency, so a bad body never opens a database session.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, ValidationException


@cache
def body_struct(handler: Any) -> type[msgspec.Struct] | None:
    field = handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    annotation = field.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) else None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    model = body_struct(request.route_handler)
    if model is None:
        return None
    raw = await request.body()
    try:
        msgspec.json.decode(raw or b"null", type=model)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": str(exc), "key": None, "source": "body"}],
        ) from exc
    except msgspec.DecodeError as exc:
        raise ClientException(f"the request body is not valid JSON: {exc}") from exc
    return None
