"""The names shown for codes that pages print on every row (statuses, priorities, service targets
and their states, event kinds, categories), translated once per language (``render.environment``).

They were dictionaries built inside the Jinja macros, so every call translated every entry: a
list or desk page of 100 tickets made some 5,000 catalog lookups to show about 400 names.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:
    """Marks ``message`` for the catalog (``scripts/update-messages``); ``labels`` translates it."""
    return message


LABELS: dict[str, dict[str, str]] = {
    "status": {
        "new": N_("New"), "matching": N_("Finding an expert"), "needs_attention": N_("Needs attention"),
        "assigned": N_("Assigned"), "in_progress": N_("In progress"), "waiting_on_requester": N_("Waiting for your reply"),
        "resolved": N_("Resolved"), "closed": N_("Closed"), "cancelled": N_("Cancelled")},
    "priority": {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal"), "low": N_("Low")},
    "target": {"assignment": N_("Assignment"), "first_advice": N_("First advice"), "resolution": N_("Resolution")},
    "target_state": {
        "on_track": N_("on track"), "paused": N_("paused"), "met": N_("met"), "at_risk": N_("at risk"),
        "breached": N_("breached"), "not_applicable": N_("not applicable")},
    "kind": {
        "file": N_("Filed"), "advice": N_("Advice"), "note": N_("Internal note"), "answer": N_("Answer"),
        "ask_info": N_("Question"), "resolve": N_("Resolved"), "confirm": N_("Confirmed"), "reopen": N_("Reopened"),
        "cancel": N_("Cancelled"), "merge": N_("Merged"), "accept_offer": N_("Offer accepted"), "assign": N_("Assigned"),
        "start_matching": N_("Matching started"), "no_candidates": N_("No expert available"),
        "rematch": N_("Matched again"), "hand_back": N_("Handed back"), "auto_close": N_("Closed automatically"),
        "post_advice": N_("Advice"), "feedback": N_("Feedback")},
    "category": {
        "e-government": N_("E-government and public services"), "data": N_("Data and databases"),
        "security": N_("Information security"), "infrastructure": N_("Infrastructure and networks"),
        "software": N_("Software and applications"), "integration": N_("Integration and interoperability"),
        "gis-smart-city": N_("GIS and smart city"), "business": N_("Digital business"),
        "community": N_("Digital skills and community"), "sectors": N_("Sector applications"),
        "uncategorised": N_("Not sure")},
}


def labels(gettext: Callable[[str], str]) -> dict[str, dict[str, str]]:
    """Every group's names in one language (``gettext`` of that language's catalog)."""
    return {group: {code: gettext(name) for code, name in names.items()} for group, names in LABELS.items()}
