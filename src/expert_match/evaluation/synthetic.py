"""A deterministic synthetic corpus for benchmarks: Vietnamese-and-English CĐS vocabulary.

Topics are the canonical skills of the demo taxonomy; each topic's words are its names and
aliases in both languages. Background words follow a Zipf law over the vocabulary of the demo
problem statements and bios, so texts look like the real ones statistically (common syllables
everywhere, topic words concentrated). Same seed, same corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from expert_match.fixtures import read_fixture
from expert_match.matching.profiles import Document, ExpertProfile, SkillEvidence

_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Corpus:
    experts: list[ExpertProfile]
    tickets: list[str]
    ticket_topics: list[int]


class Vocabulary:
    def __init__(self) -> None:
        skills = read_fixture("skills.json")
        self.topics = [self._words(" ".join([s["name_vi"], s["name_en"], *s["aliases"]])) for s in skills]
        self.topic_skills = [SkillEvidence(s["name_vi"], (s["name_en"], *s["aliases"])) for s in skills]
        background = " ".join([p["description"] for p in read_fixture("problems.json")] +
                              [e["bio"] for e in read_fixture("experts.json")])
        words, counts = np.unique(np.array(self._words(background)), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        self.background = words[order]
        ranks = np.arange(1, len(self.background) + 1)
        self.zipf = (1.0 / ranks) / (1.0 / ranks).sum()

    @staticmethod
    def _words(text: str) -> list[str]:
        return [w.lower() for w in _WORD.findall(text)]

    def text(self, rng: np.random.Generator, topics: list[int], length: int, topical: float = 0.4) -> str:
        n_topic = int(length * topical)
        topic_words = [w for t in topics for w in self.topics[t]]
        chosen = list(rng.choice(topic_words, size=n_topic)) if topic_words else []
        chosen += list(rng.choice(self.background, size=length - n_topic, p=self.zipf))
        rng.shuffle(chosen)
        return " ".join(chosen)


def build(n_experts: int, n_tickets: int, seed: int = 2026) -> Corpus:
    vocabulary = Vocabulary()
    rng = np.random.default_rng(seed)
    n_topics = len(vocabulary.topics)
    experts = []
    for expert_id in range(1, n_experts + 1):
        topics = list(rng.choice(n_topics, size=int(rng.integers(1, 4)), replace=False))
        text = vocabulary.text(rng, topics, int(rng.integers(30, 201)))
        experts.append(ExpertProfile(
            expert_id=expert_id,
            documents=(Document(text),),
            skills=tuple(vocabulary.topic_skills[t] for t in topics),
            capacity=int(rng.integers(1, 6)),
            languages=frozenset({"vi", "en"}),
        ))
    ticket_topics = [int(t) for t in rng.integers(0, n_topics, size=n_tickets)]
    tickets = [vocabulary.text(rng, [t], int(rng.integers(50, 301)), topical=0.25) for t in ticket_topics]
    return Corpus(experts=experts, tickets=tickets, ticket_topics=ticket_topics)
