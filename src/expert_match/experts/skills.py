"""Free-text skill input mapped onto the canonical taxonomy with rapidfuzz over folded keys.

Every name of a skill (slug, Vietnamese and English names, aliases, abbreviations) becomes a
``fold_key``: "Chữ ký số", "chu ki so" and "CHỮ KÍ SỐ" share one key, so the exact lookup already
covers unaccented, NFD and i/y-variant input. Only what misses the exact lookup goes to fuzzy
matching, and very short strings never do: "CKS" must not fuzz into "CSS".
Unknown input is returned as ``unknown`` so callers keep it as free text and report it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from expert_match.matching.text import fold_key

# Shorter folded keys are abbreviations or too ambiguous for edit distance.
MIN_FUZZY_LENGTH = 5


@dataclass(frozen=True, slots=True)
class SkillEntry:
    id: int
    slug: str
    name_vi: str
    name_en: str
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """Names in priority order: an exact key collision goes to the earlier, stronger name."""
        return [self.slug.replace("-", " "), self.name_vi, self.name_en, *self.aliases]


@dataclass(frozen=True, slots=True)
class SkillResolution:
    text: str
    skill_id: int | None
    slug: str | None
    method: Literal["exact", "fuzzy", "unknown"]
    score: float
    matched_name: str | None = None

    @property
    def known(self) -> bool:
        return self.skill_id is not None


class SkillTaxonomy:
    """Lookup of canonical skills by any of their names.

    >>> tax = SkillTaxonomy([SkillEntry(1, "digital-signature", "Chữ ký số", "Digital signature", ("CKS",))])
    >>> [tax.resolve(t).slug for t in ["chu ki so", "CKS", "Digital signatures", "kế toán"]]
    ['digital-signature', 'digital-signature', 'digital-signature', None]
    """

    def __init__(self, entries: Iterable[SkillEntry], threshold: float = 88.0) -> None:
        self.threshold = threshold
        self._entries = {e.id: e for e in entries}
        self._by_key: dict[str, tuple[int, str]] = {}
        for entry in self._entries.values():
            for name in entry.names():
                key = fold_key(name)
                if key:
                    self._by_key.setdefault(key, (entry.id, name))
        self._keys = list(self._by_key)

    def __len__(self) -> int:
        return len(self._entries)

    def resolve(self, text: str) -> SkillResolution:
        key = fold_key(text)
        hit = self._by_key.get(key)
        if hit is not None:
            return self._found(text, hit, "exact", 100.0)
        if len(key) >= MIN_FUZZY_LENGTH and self._keys:
            best = process.extractOne(key, self._keys, scorer=fuzz.token_sort_ratio, score_cutoff=self.threshold)
            if best is not None:
                return self._found(text, self._by_key[best[0]], "fuzzy", float(best[1]))
        return SkillResolution(text=text, skill_id=None, slug=None, method="unknown", score=0.0)

    def suggest(self, text: str, limit: int = 5) -> list[SkillResolution]:
        """Closest skills for a picker, best first, one entry per skill."""
        key = fold_key(text)
        if not key or not self._keys:
            return []
        found: dict[int, SkillResolution] = {}
        for candidate, score, _ in process.extract(key, self._keys, scorer=fuzz.WRatio, limit=limit * 4):
            skill_id, name = self._by_key[candidate]
            if skill_id not in found:
                found[skill_id] = self._found(text, (skill_id, name), "fuzzy", float(score))
        return sorted(found.values(), key=lambda r: (-r.score, r.slug or ""))[:limit]

    def _found(self, text: str, hit: tuple[int, str], method: Literal["exact", "fuzzy"], score: float) -> SkillResolution:
        skill_id, name = hit
        return SkillResolution(
            text=text, skill_id=skill_id, slug=self._entries[skill_id].slug, method=method, score=score, matched_name=name
        )
