"""Jinja environments (one per language, autoescaped) and the page response."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType

from expert_match.web.i18n import LANGUAGES, local_datetime, number, translations
from expert_match.web.labels import labels


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("expert_match.web", "templates"),
        # Everything shown back is escaped: requester and expert text is untrusted.
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda value, fmt="short": local_datetime(value, language, fmt)
    env.filters["num"] = lambda value, digits=1: number(value, language, digits)
    env.globals["language"] = language
    env.globals["labels"] = labels(translations(language).gettext)
    env.globals["languages"] = LANGUAGES
    return env


def page(template: str, language: str, context: dict[str, Any], *, status_code: int = 200,
         cookies: list[Cookie] | None = None) -> Response[str]:
    html = environment(language).get_template(template).render(**context)
    return Response(html, media_type=MediaType.HTML, status_code=status_code, cookies=cookies or [])
