"""Bilingual skill glossary: a problem that names a skill in one language also asks for it in the
other. The research measured language mismatch as the main failure of lexical matching
(Vietnamese ticket vs English profile: top-1 below 0.12), and bilingual skill names as its cure.

Names are matched as whole word sequences ("digital signature", "chữ ký số", "GIS"), never as
fragments, so "an" or "to" cannot trigger anything. A problem typed with diacritics is matched on
accented words ("nhận" is not "nhãn"); one typed without them on folded words.
"""

from __future__ import annotations

from collections.abc import Iterable

from expert_match.matching.analysis import Analyzer, has_diacritics
from expert_match.matching.profiles import SkillEvidence

MIN_SINGLE_WORD = 3  # one-word names shorter than this (AI, BA, QA) are too ambiguous to expand


class Glossary:
    """Maps skill names found in a text to every name of those skills.

    >>> from expert_match.matching.profiles import SkillEvidence
    >>> g = Glossary(Analyzer(), [SkillEvidence("Chữ ký số", ("digital signature", "CKS"))])
    >>> g.expand("our digital signature token fails")
    'Chữ ký số\\ndigital signature\\nCKS'
    >>> g.expand("an unrelated problem")
    ''
    """

    def __init__(self, analyzer: Analyzer, skills: Iterable[SkillEvidence]) -> None:
        self.analyzer = analyzer
        # One-word names by their word; longer ones by their first two words (indexed by the
        # first word alone, a common word such as "so" or "he" started dozens of names, each
        # compared at every occurrence: 0.1 ms per ticket).
        self._singles: dict[bool, dict[str, list[int]]] = {True: {}, False: {}}
        self._pairs: dict[bool, dict[tuple[str, str], list[tuple[tuple[str, ...], int]]]] = {True: {}, False: {}}
        self._names: list[tuple[str, ...]] = []
        seen: dict[tuple[str, tuple[str, ...]], int] = {}
        for skill in skills:
            key = (skill.label, skill.names)
            if key in seen:
                continue
            index = seen[key] = len(self._names)
            self._names.append((skill.label, *skill.names))
            for name in self._names[index]:
                for accented, words in zip((True, False), self.analyzer.tokens(name)):
                    words = tuple(words)
                    if not words or (len(words) == 1 and len(words[0]) < MIN_SINGLE_WORD):
                        continue
                    if len(words) == 1:
                        self._singles[accented].setdefault(words[0], []).append(index)
                    else:
                        self._pairs[accented].setdefault(words[:2], []).append((words, index))

    def __len__(self) -> int:
        return len(self._names)

    def found(self, text: str) -> list[int]:
        accented = has_diacritics(text)
        words = self.analyzer.tokens(text)[0 if accented else 1]
        singles, pairs = self._singles[accented], self._pairs[accented]
        # Set intersections first (C-level): a ticket of 300 words names a handful of skills, and
        # a loop over every word cost more than the rest of the ticket's analysis.
        hits: set[int] = set()
        for word in singles.keys() & set(words):
            hits.update(singles[word])
        starts = pairs.keys() & set(zip(words, words[1:]))
        longer = [pair for pair in starts if not self._two_words(pairs[pair], hits)]
        if longer:
            wanted = set(longer)
            for start, pair in enumerate(zip(words, words[1:])):
                if pair in wanted:
                    for name, index in pairs[pair]:
                        if tuple(words[start : start + len(name)]) == name:
                            hits.add(index)
        return sorted(hits)

    @staticmethod
    def _two_words(names: list[tuple[tuple[str, ...], int]], hits: set[int]) -> bool:
        """Adds the two-word names' entries to ``hits``; False when longer names need their
        positions checked."""
        complete = True
        for name, index in names:
            if len(name) == 2:
                hits.add(index)
            else:
                complete = False
        return complete

    def expand(self, text: str) -> str:
        """Every name of every entry ``text`` mentions, one per line ("" when none)."""
        return "\n".join(self.entry(index) for index in self.found(text))

    def entry(self, index: int) -> str:
        """Every name of entry ``index`` (from ``found``), one per line."""
        return "\n".join(self._names[index])
