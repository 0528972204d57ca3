"""Every text colour of the stylesheet against the backgrounds it is drawn on: WCAG 2 contrast
ratio at least 4.5:1 (normal text)."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "src" / "expert_match" / "web" / "static" / "style.css"


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_matches_known_values() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_text_colours_have_enough_contrast_on_every_background() -> None:
    css = CSS.read_text(encoding="utf-8")
    variables = dict(re.findall(r"--(\w+):\s*(#[0-9a-fA-F]{6})", css))
    texts = [variables[name] for name in ("ink", "muted", "accent", "bad")] + ["#8a4b00"]
    backgrounds = ["#ffffff", variables["bg"], "#e3e8ee", "#fff8e1"]
    weak = [(t, b, round(contrast(t, b), 2)) for t in texts for b in backgrounds if contrast(t, b) < 4.5]
    assert weak == []
    assert contrast("#ffffff", variables["accent"]) >= 4.5  # text on primary buttons
