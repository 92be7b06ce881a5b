"""The customers' questions the knowledge base could not answer, grouped by meaning.

"do you do finance", "can I pay in instalments?" and "monthly payments possible?" are one
missing entry: each question is embedded with the encoder the knowledge base already
searches with, and joins the first group whose centre it is close to (`SAME_QUESTION`),
else starts one. The biggest groups come first: they are the entries most worth writing.
Each group is also searched against the knowledge base as it is now, and says which entry
the assistant would answer it with today: one written since, or a near one that may well
be wrong (the designer tries it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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
