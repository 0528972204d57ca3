"""Shared msgspec building blocks for the feature ``schemas.py`` modules.

Every input Struct derives from ``Input``: unknown fields are refused (no mass assignment), and
every string is NFC-composed with look-alike and invisible characters replaced before any rule
sees it, so stored Vietnamese text has exactly one form.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated

import msgspec

from expert_match.matching.text import nfc

MAX_ID = 2**31 - 1

Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID, description="Numeric id")]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=5000)]
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="E-mail address",
        examples=["lan.nguyen@chuyengia.danang.example"],
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Stable lowercase key: letters, digits and hyphens",
    ),
]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: strings cleaned to NFC, blank required text refused."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, str) and not isinstance(value, Enum):  # enum members keep their type
                cleaned = nfc(value).strip()
                if not cleaned and value:
                    raise ValueError(f"`{name}`: must not be blank")
                setattr(self, name, cleaned)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                setattr(self, name, [nfc(v).strip() for v in value])


class Output(msgspec.Struct, kw_only=True):
    """Base of response bodies."""


_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_LEADING_FIELD = re.compile(r"^`(?P<field>[^`]+)`: (?P<message>.*)$", re.S)
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
_MISSING_FIELD = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def split_validation_error(text: str) -> tuple[str | None, str]:
    """Split a msgspec error into (field path, message).

    >>> split_validation_error("Expected `int` <= 5 - at `$.skills[0].level`")
    ('skills[0].level', 'Expected `int` <= 5')
    >>> split_validation_error("Object contains unknown field `salary` - at `$`")
    ('salary', 'unknown field (not allowed)')
    >>> split_validation_error("Object missing required field `title`")
    ('title', 'required field missing')
    """
    match = _AT_PATH.match(text)
    message, path = (match.group("message"), match.group("path") or "") if match else (text, "")
    field = path.lstrip(".") or None
    if lead := _LEADING_FIELD.match(message):  # raised by Input.__post_init__
        return ".".join(p for p in (field, lead.group("field")) if p), lead.group("message")
    if unknown := _UNKNOWN_FIELD.match(message):
        return ".".join(p for p in (field, unknown.group("field")) if p), "unknown field (not allowed)"
    if missing := _MISSING_FIELD.match(message):
        return ".".join(p for p in (field, missing.group("field")) if p), "required field missing"
    return field, message
