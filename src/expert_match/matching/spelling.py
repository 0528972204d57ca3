"""Typo tolerance: a problem word the fitted vocabulary has never seen is matched to the closest
known word (folded, same first letter, edit similarity >= 80) and the correction is added.

People type on phones: "phườg", "kkhi", "chungg thu". The misspelt word is kept (it may be a real
new word) and the correction only adds evidence, so a false correction costs little.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

MIN_LENGTH = 4  # shorter words have too many close neighbours to correct safely
CUTOFF = 80.0


class Speller:
    """Corrections against a fixed word list (the folded unigrams of the fitted vocabulary).

    >>> Speller(["phuong", "khong", "chung", "token"]).corrections(["phuog", "tokn", "abc", "phuong"])
    ['phuong', 'token']
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.known = frozenset(words)
        self._by_first: dict[str, list[str]] = {}
        for word in sorted(self.known):
            if len(word) >= MIN_LENGTH - 1:
                self._by_first.setdefault(word[0], []).append(word)

    def corrections(self, words: Iterable[str]) -> list[str]:
        words = list(words)
        unknown = set(words).difference(self.known)  # most words are known: skip them at C speed
        if not unknown:
            return []
        found = []
        for word in words:
            if word not in unknown or len(word) < MIN_LENGTH or not word.isalpha():
                continue
            choices = [w for w in self._by_first.get(word[0], ()) if abs(len(w) - len(word)) <= 1]
            best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=CUTOFF)
            if best is not None:
                found.append(best[0])
        return found
