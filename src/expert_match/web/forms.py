"""HTML form fields to the API's input Structs, with errors per field.

The web pages validate with exactly the Structs the JSON API uses; only the encoding differs:
empty inputs mean "not given" and a checkbox sends ``on``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from expert_match.errors import DomainError

T = TypeVar("T")
_AT_FIELD = re.compile(r"at `\$\.(\w+)|missing required field `(\w+)`")


class FormErrors(Exception):
    """Field name -> message; the form is shown again with the input kept."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def form_struct(form: dict[str, Any], struct: type[T], *, checkboxes: tuple[str, ...] = (),
                fields: tuple[str, ...] | None = None) -> T:
    """``struct`` from the submitted ``form`` or ``FormErrors`` naming the field.

    >>> from expert_match.tickets.schemas import FeedbackCreate
    >>> form_struct({"rating": "5", "comment": "", "csrf_token": "x"}, FeedbackCreate, fields=("rating", "comment"))
    FeedbackCreate(rating=5, comment=None, bottleneck_removed=None)
    >>> form_struct({"rating": "9"}, FeedbackCreate, fields=("rating",))
    Traceback (most recent call last):
    ...
    expert_match.web.forms.FormErrors: rating: Expected `int` <= 5
    """
    names = fields or tuple(getattr(struct, "__struct_fields__", ()))
    values: dict[str, Any] = {}
    for name in names:
        if name in checkboxes:
            values[name] = form.get(name) in ("on", "true", "1")
            continue
        raw = form.get(name)
        if isinstance(raw, str) and raw.strip() != "":
            values[name] = raw
    try:
        return msgspec.convert(values, struct, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _AT_FIELD.search(message)
        field = (found.group(1) or found.group(2)) if found else names[0]
        raise FormErrors({field: message.split(" - at ")[0]}) from exc


def domain_errors(exc: DomainError, default_field: str) -> FormErrors:
    """A service's refusal as a form error on the field it names."""
    return FormErrors({exc.field or default_field: exc.message})
