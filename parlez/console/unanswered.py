"""The customers' questions the knowledge base could not answer, grouped by meaning and
named by the words most of them use.

"do you do finance", "can I pay in instalments?" and "monthly payments possible?" are one
missing entry: each question is embedded with the encoder the knowledge base already
searches with, and joins the first group whose centre it is close to (`SAME_QUESTION`),
else starts one. The biggest groups come first: they are the entries most worth writing.
Each group is also searched against the knowledge base as it is now, and says which entry
the assistant would answer it with today: one written since, or a near one that may well
be wrong (the designer tries it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from parlez.console.index import Miss
from parlez.knowledge.index import Hit

#: the cosine at which two questions ask the same thing: the packaged encoder scores
#: paraphrases 0.7-0.85 ("is there free wifi?" / "do you have wifi for customers?" 0.71,
#: "can i pay in instalments" / "do you offer payment in instalments" 0.85) and questions
#: on other things under 0.5 (instalments / "spread the cost over a few months" 0.47)
SAME_QUESTION = 0.62
#: the most groups a page shows, and the most examples a group lists
MAX_GROUPS = 50
MAX_EXAMPLES = 5
#: the most words a topic's name has
TOPIC_WORDS = 2
#: a word of a topic, in any of the assistant's languages (no digits, at least 3 letters)
WORD = re.compile(r"[^\W\d_]{3,}")


@dataclass
class Group:
    """Questions that ask one thing."""

    question: str  # the one closest to the group's centre
    count: int
    last_at: float
    examples: list[str] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    #: the entry the assistant would answer it with today, if one reaches the bar
    answered_by: str | None = None
    #: what the group is about: its questions' most common words ("gift cards")
    topic: str = ""


@cache
def _stop_words() -> frozenset[str]:
    """The words that name no topic, in the assistant's four languages (spaCy's lists)."""
    from spacy.lang.de.stop_words import STOP_WORDS as GERMAN
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
    from spacy.lang.es.stop_words import STOP_WORDS as SPANISH
    from spacy.lang.fr.stop_words import STOP_WORDS as FRENCH

    return frozenset(ENGLISH | FRENCH | GERMAN | SPANISH)


def topic_of(questions: Sequence[str]) -> str:
    """A group's name: the words that more than half of its questions use (at most two,
    the most used), in the order the first question has them ("pay instalments"); none
    for a question asked once."""
    if len(questions) < 2:
        return ""  # a question asked once is its own name
    stop = _stop_words()
    seen: Counter[str] = Counter()
    for question in questions:
        seen.update({w for w in WORD.findall(question.lower()) if w not in stop})
    first = WORD.findall(questions[0].lower())

    def place(word: str) -> int:
        return first.index(word) if word in first else len(first)

    enough = len(questions) // 2 + 1  # more than half of them
    common = sorted((w for w, n in seen.items() if n >= enough), key=lambda w: (-seen[w], place(w)))
    return " ".join(sorted(common[:TOPIC_WORDS], key=place))


def grouped(
    misses: Sequence[Miss],
    embed: Callable[[Sequence[str]], np.ndarray],
    limit: int = MAX_GROUPS,
) -> list[Group]:
    """`misses` (newest first) as groups of one meaning, the biggest first."""
    if not misses:
        return []
    texts = [m.question.strip() for m in misses]
    vectors = embed(texts)
    members: list[list[int]] = []
    centres: list[np.ndarray] = []
    for number, vector in enumerate(vectors):
        scores = [float(c @ vector) for c in centres]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= SAME_QUESTION:
            members[best].append(number)
            centre = vectors[members[best]].mean(axis=0)
            centres[best] = centre / (np.linalg.norm(centre) or 1.0)
        else:
            members.append([number])
            centres.append(vector)
    groups = []
    for indices, centre in zip(members, centres, strict=True):
        closest = max(indices, key=lambda i: float(vectors[i] @ centre))
        distinct = list(dict.fromkeys(texts[i] for i in indices))
        counted = Counter(misses[i].sender_id for i in indices)
        groups.append(
            Group(
                question=texts[closest],
                count=len(indices),
                last_at=max(misses[i].at for i in indices),
                examples=[t for t in distinct if t != texts[closest]][: MAX_EXAMPLES - 1],
                conversations=list(counted)[:MAX_EXAMPLES],
                topic=topic_of([texts[i] for i in sorted(indices, key=lambda i: i != closest)]),
            )
        )
    groups.sort(key=lambda g: (-g.count, -g.last_at))
    return groups[:limit]


def mark_answered(groups: Sequence[Group], search: Callable[[str], list[Hit]], bar: float) -> None:
    """Note, on each group, the entry its question would be answered with now, if one
    reaches `bar`."""
    for group in groups:
        hits = search(group.question)
        if hits and hits[0].confidence >= bar:
            group.answered_by = hits[0].passage.title or hits[0].passage.id
