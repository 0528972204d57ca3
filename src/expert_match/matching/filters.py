"""Hard filters and availability, vectorised over all fitted experts.

Hard filters remove an expert outright (never a penalty that a strong text score could outweigh):
inactive, at capacity, on leave for the whole window, a conflict of interest (affiliated with the
requester org, or a declared conflict), or not speaking the required language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from expert_match.matching.profiles import ExpertProfile, Period, Problem


@dataclass(frozen=True, slots=True)
class Eligibility:
    active: np.ndarray
    capacity: np.ndarray
    affiliation: np.ndarray  # org id, -1 for none
    feedback: np.ndarray  # past ratings mapped to [-1, 1] (3 of 5 is 0); 0 when unknown
    leave: Leave
    conflicts_by_org: dict[int, np.ndarray]
    languages: dict[str, np.ndarray]
    onsite_districts: dict[str, np.ndarray]
    sorted_ids: np.ndarray  # the experts' ids ascending ...
    id_order: np.ndarray  # ... and the position of each

    @classmethod
    def build(cls, profiles: Sequence[ExpertProfile]) -> Eligibility:
        n = len(profiles)
        conflicts: dict[int, list[int]] = {}
        # Positions first, masks once at the end: ``setdefault(key, np.zeros(n))`` allocated a
        # mask per expert and language (26,000 of 13,000 bytes: 58 ms of every update).
        speakers: dict[str, list[int]] = {}
        on_site: dict[str, list[int]] = {}
        for index, profile in enumerate(profiles):
            for org in profile.conflict_org_ids:
                conflicts.setdefault(org, []).append(index)
            for language in profile.languages:
                speakers.setdefault(language, []).append(index)
            if profile.onsite_possible:
                for district in profile.districts:
                    on_site.setdefault(district, []).append(index)
        languages = {language: _mask(n, positions) for language, positions in speakers.items()}
        districts = {district: _mask(n, positions) for district, positions in on_site.items()}
        ids = np.array([p.expert_id for p in profiles], dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        return cls(
            sorted_ids=ids[order],
            id_order=order,
            active=np.array([p.active for p in profiles], dtype=bool),
            capacity=np.array([p.capacity for p in profiles], dtype=np.int64),
            affiliation=np.array([p.affiliation_org_id if p.affiliation_org_id is not None else -1
                                  for p in profiles], dtype=np.int64),
            # Mapped once here, not for every ranking (0.1 ms at 13,000 experts).
            feedback=np.nan_to_num(np.clip((np.array([p.feedback if p.feedback is not None else np.nan
                                                      for p in profiles]) - 3.0) / 2.0, -1.0, 1.0)),
            leave=Leave.build(profiles),
            conflicts_by_org={org: np.asarray(idx, dtype=np.int64) for org, idx in conflicts.items()},
            languages=languages,
            onsite_districts=districts,
        )

    def availability(
        self,
        problem: Problem,
        loads: Mapping[int, int],
        window_start: datetime,
        window_end: datetime,
        min_availability: float,
    ) -> np.ndarray:
        """0 for filtered experts, else a factor in [min_availability * 0.5, 1] from free capacity and
        the share of the window not on leave."""
        free = self.capacity - self.loads_by_position(loads)
        eligible = self.active & (free > 0)
        if problem.org_id is not None:
            eligible &= self.affiliation != problem.org_id
            if problem.org_id in self.conflicts_by_org:
                eligible[self.conflicts_by_org[problem.org_id]] = False
        if problem.language:
            eligible &= self.languages.get(problem.language, np.zeros(len(eligible), dtype=bool))
        with np.errstate(divide="ignore", invalid="ignore"):
            share_free = np.where(self.capacity > 0, free / self.capacity, 0.0)
        factor = min_availability + (1.0 - min_availability) * np.clip(share_free, 0.0, 1.0)
        away, present = self.leave.present_shares(window_start, window_end)
        eligible[away[present <= 0]] = False
        factor[away] *= 0.5 + 0.5 * np.maximum(present, 0.0)
        return np.where(eligible, factor, 0.0)

    def loads_by_position(self, loads: Mapping[int, int]) -> np.ndarray:
        """Each fitted expert's active tickets from ``loads`` (expert id -> count; unknown ids are
        left out), found in the sorted ids: a dict of every expert's position, built for each
        ranking, cost 2 ms at 13,000 experts once any expert had work.

        >>> from expert_match.matching.profiles import Document, ExpertProfile
        >>> e = Eligibility.build([ExpertProfile(7, (Document("a"),)), ExpertProfile(3, (Document("b"),))])
        >>> e.loads_by_position({3: 2, 99: 1}).tolist()
        [0, 2]
        """
        load = np.zeros(len(self.sorted_ids), dtype=np.int64)
        if not loads or not len(self.sorted_ids):
            return load
        ids = np.fromiter(loads.keys(), dtype=np.int64, count=len(loads))
        counts = np.fromiter(loads.values(), dtype=np.int64, count=len(loads))
        at = np.minimum(np.searchsorted(self.sorted_ids, ids), len(self.sorted_ids) - 1)
        known = self.sorted_ids[at] == ids
        load[self.id_order[at[known]]] = counts[known]
        return load

    def serves_on_site(self, district: str) -> np.ndarray:
        found = self.onsite_districts.get(district)
        return found.astype(np.float64) if found is not None else np.zeros(len(self.active))


@dataclass(frozen=True, slots=True)
class Leave:
    """Every expert's leave as disjoint intervals (overlapping and touching periods merged), in
    seconds, grouped by expert: a window's overlap is a few vector operations. A loop over the
    experts with leave cost 3.5 us each per ranking (0.28 ms for the 80 of the load test's
    13,000), and the profiles keep past leave, so in a few years that would be most experts."""

    owner: np.ndarray  # expert position, ascending
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def build(cls, profiles: Sequence[ExpertProfile]) -> Leave:
        owner: list[int] = []
        start: list[float] = []
        end: list[float] = []
        for index, profile in enumerate(profiles):
            for begin, finish in _merged(profile.leave):
                owner.append(index)
                start.append(begin)
                end.append(finish)
        return cls(np.array(owner, dtype=np.int64), np.array(start, dtype=np.float64), np.array(end, dtype=np.float64))

    def present_shares(self, window_start: datetime, window_end: datetime) -> tuple[np.ndarray, np.ndarray]:
        """The experts whose leave meets [start, end), and the share of the window each is not
        on leave (0 when away for all of it)."""
        start, end = _seconds(window_start), _seconds(window_end)
        if end <= start:  # an instant: away when a period holds it
            hit = (self.start <= start) & (start < self.end)
            return self.owner[hit], np.zeros(int(hit.sum()))
        overlap = np.minimum(self.end, end) - np.maximum(self.start, start)
        hit = overlap > 0
        away, first = np.unique(self.owner[hit], return_index=True)
        covered = np.add.reduceat(overlap[hit], first) if len(first) else np.zeros(0)
        return away, np.maximum(0.0, 1.0 - covered / (end - start))


def _merged(periods: Sequence[Period]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for begin, finish in sorted((_seconds(p.starts_at), _seconds(p.ends_at)) for p in periods):
        if finish <= begin:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    return [(begin, finish) for begin, finish in merged]


def _seconds(moment: datetime) -> float:
    # Naive times are UTC, as the database stores them.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _mask(n: int, positions: list[int]) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return mask
