"""Entity spans <-> per-token tags (BILOU or IO), for the sequence taggers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parlez.nlu.message import Token
from parlez.training_data.example import Entity

OUTSIDE = "O"


def tags_for(
    tokens: Sequence[Token], entities: Sequence[Entity], field: str, bilou: bool
) -> list[str]:
    """The tag of each token for `field` ("entity", "role" or "group") of the annotations."""
    tags = [OUTSIDE] * len(tokens)
    for entity in entities:
        label = getattr(entity, field)
        if label is None:
            continue
        covered = [i for i, t in enumerate(tokens) if t.start < entity.end and entity.start < t.end]
        if not covered or any(tags[i] != OUTSIDE for i in covered):
            continue  # overlapping annotations: the first one is kept, spans stay well-formed
        if not bilou:
            for i in covered:
                tags[i] = f"I-{label}"
        elif len(covered) == 1:
            tags[covered[0]] = f"U-{label}"
        else:
            tags[covered[0]] = f"B-{label}"
            for i in covered[1:-1]:
                tags[i] = f"I-{label}"
            tags[covered[-1]] = f"L-{label}"
    return tags


def truncated(tags: list[str], length: int) -> list[str]:
    """The first `length` tags, with a span cut at the end closed (B- -> U-, I- -> L-)."""
    kept = tags[:length]
    if kept and len(tags) > length:
        prefix, _, label = kept[-1].partition("-")
        if prefix in ("B", "I"):
            kept[-1] = f"{'U' if prefix == 'B' else 'L'}-{label}"
    return kept


def misaligned(tokens: Sequence[Token], entity: Entity) -> bool:
    """Whether an annotation starts or ends inside a token (the tagger will widen it)."""
    starts = {t.start for t in tokens}
    ends = {t.end for t in tokens}
    return entity.start not in starts or entity.end not in ends


def spans_from(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first token, last token, label) of each tagged span; tolerant of broken sequences."""
    spans: list[tuple[int, int, str]] = []
    start: int | None = None
    label: str | None = None
    for index, tag in enumerate([*tags, OUTSIDE]):
        prefix, _, name = tag.partition("-")
        continues = prefix in ("I", "L") and name == label and start is not None
        if start is not None and label is not None and not continues:
            spans.append((start, index - 1, label))
            start, label = None, None
        if prefix == "U":
            spans.append((index, index, name))
        elif prefix in ("B", "I", "L") and not continues:
            start, label = index, name
        if prefix == "L" and start is not None and label is not None:
            spans.append((start, index, label))
            start, label = None, None
    return spans


def entity_dicts(
    text: str,
    tokens: Sequence[Token],
    entity_tags: Sequence[str],
    confidences: Sequence[float],
    extractor: str,
    roles: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Entities in Rasa's shape, with role and group read from the tags of the same tokens."""
    found = []
    for first, last, label in spans_from(entity_tags):
        start, end = tokens[first].start, tokens[last].end
        entity: dict[str, Any] = {
            "entity": label,
            "start": start,
            "end": end,
            "confidence_entity": float(min(confidences[first : last + 1])),
        }
        for field, tags in (("role", roles), ("group", groups)):
            if tags:
                names = {t.partition("-")[2] for t in tags[first : last + 1] if t != OUTSIDE}
                if len(names) == 1:
                    entity[field] = names.pop()
        entity["value"] = text[start:end]
        entity["extractor"] = extractor
        found.append(entity)
    return found
