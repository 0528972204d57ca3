"""Every string a page shows goes through the catalog, and the Vietnamese catalog is complete."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from expert_match.web.i18n import catalog_path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "expert_match" / "web" / "templates"
# Literal text allowed outside the catalog: markup, punctuation, numbers, and the other
# language's own name on the language switch (always shown in that language).
ALLOWED = {"English", "Tiếng", "Việt"}


def literal_text(source: str) -> list[str]:
    """Words a template would show that are not produced by an expression (the catalog's ``_()``
    calls are expressions): Jinja syntax, then tags with their attributes, then entities removed."""
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.DOTALL)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&\w+;", " ", text)
    return [w for w in re.split(r"[\s·:()/,.%#|+\-]+", text) if re.search(r"[^\W\d_]", w) and w not in ALLOWED]


def test_templates_have_no_untranslated_text() -> None:
    offenders = {path.name: literal_text(path.read_text(encoding="utf-8")) for path in TEMPLATES.glob("*.html")}
    assert {name: words for name, words in offenders.items() if words} == {}


def test_the_check_catches_a_literal_string() -> None:
    assert literal_text("<p>{{ _('Hello') }} Xin chào</p>") == ["Xin", "chào"]


def test_every_message_has_a_vietnamese_translation() -> None:
    with open(catalog_path("vi"), "rb") as handle:
        catalog = read_po(handle, locale="vi")
    messages = {m for _f, _l, m, _c, _x in extract_from_dir(
        TEMPLATES, [("**.html", "jinja2")], {"**.html": {"extensions": "jinja2.ext.i18n"}})}
    # Names of codes live in Python (web/labels.py), marked with ``N_``.
    coded = {m for _f, _l, m, _c, _x in extract_from_dir(TEMPLATES.parent, [("*.py", "python")])}
    assert "Finding an expert" in coded and "E-government and public services" in coded
    untranslated = sorted(m for m in messages | coded if not (catalog.get(m) and catalog.get(m).string))
    assert untranslated == []
    assert len(messages) > 100


def test_names_of_codes_are_translated_once_per_language_and_escaped() -> None:
    from expert_match.web.labels import LABELS
    from expert_match.web.render import environment

    vi, en = environment("vi").globals["labels"], environment("en").globals["labels"]
    assert set(vi) == set(en) == set(LABELS)
    assert en["status"]["matching"] == "Finding an expert" and vi["status"]["matching"] == "Đang tìm chuyên gia"
    assert all(vi[group][code] != name for group, names in LABELS.items() for code, name in names.items())
    macros = environment("vi").from_string('{% from "_labels.html" import status, kind, category %}'
                                           '{{ status("matching") }}|{{ kind("post_advice") }}|{{ category("x<y") }}')
    assert macros.render() == '<span class="badge status-matching">Đang tìm chuyên gia</span>|Tư vấn|x&lt;y'
