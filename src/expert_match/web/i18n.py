"""Languages of the web pages: Vietnamese by default, English selectable.

Message catalogs are Babel ``.po`` files read at start-up (no compile step, nothing to build):
English text is the message id, ``locale/vi/LC_MESSAGES/messages.po`` holds its Vietnamese.
Dates and numbers are formatted with Babel for ``vi_VN`` or ``en``, in Da Nang's time zone.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from importlib.resources import files

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from expert_match.timeutil import CITY_TIME

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
BABEL_LOCALES = {"vi": Locale.parse("vi_VN"), "en": Locale.parse("en_GB")}


def catalog_path(language: str) -> str:
    return str(files("expert_match.web") / "locale" / language / "LC_MESSAGES" / "messages.po")


@cache
def translations(language: str) -> NullTranslations:
    """The gettext translations for ``language`` (English needs none: the ids are English)."""
    if language == "en":
        return NullTranslations()
    with open(catalog_path(language), "rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(wanted: str | None, accept_language: str = "") -> str:
    """The language cookie when it names one we have, else Vietnamese (the city's default),
    unless the browser asks for English only."""
    if wanted in LANGUAGES:
        return wanted
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else DEFAULT_LANGUAGE


def local_datetime(value: datetime | None, language: str, fmt: str = "short") -> str:
    """A UTC time shown in Da Nang's time zone, formatted for the page's language.

    >>> from datetime import timezone
    >>> local_datetime(datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc), "vi")
    '09:30 27/11/26'
    """
    if value is None:
        return ""
    return format_datetime(value.astimezone(CITY_TIME), fmt, locale=BABEL_LOCALES[language])


def number(value: float, language: str, digits: int = 1) -> str:
    """A number with the language's separators.

    >>> number(1234.5, "vi"), number(1234.5, "en")
    ('1.234,5', '1,234.5')
    """
    pattern = "#,##0." + "#" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=BABEL_LOCALES[language])
