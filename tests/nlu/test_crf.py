"""parlez's CRF gives exactly what the reference implementation (pytorch-crf) gives."""

from __future__ import annotations

import torch
import torchcrf

from parlez.nlu.models.crf import CRF


def _pair(tags: int) -> tuple[CRF, torchcrf.CRF]:
    torch.manual_seed(0)
    mine, reference = CRF(tags), torchcrf.CRF(tags, batch_first=True)
    with torch.no_grad():
        reference.start_transitions.copy_(mine.start)
        reference.end_transitions.copy_(mine.end)
        reference.transitions.copy_(mine.transitions)
    return mine, reference


def test_log_likelihood_and_its_gradient_match_the_reference() -> None:
    mine, reference = _pair(9)
    emissions = torch.randn(5, 7, 9, requires_grad=True)
    tags = torch.randint(0, 9, (5, 7))
    mask = torch.tensor([[1] * 7, [1] * 3 + [0] * 4, [1] + [0] * 6, [1] * 6 + [0], [1] * 7]).bool()
    ours = mine.log_likelihood(emissions, tags, mask)
    theirs = reference(emissions, tags, mask=mask, reduction="none")
    assert torch.allclose(ours, theirs, atol=1e-4)
    (grad_ours,) = torch.autograd.grad(ours.sum(), emissions)
    (grad_theirs,) = torch.autograd.grad(theirs.sum(), emissions)
    assert torch.allclose(grad_ours, grad_theirs, atol=1e-4)


def test_viterbi_decoding_matches_the_reference() -> None:
    mine, reference = _pair(5)
    emissions = torch.randn(4, 6, 5)
    mask = torch.tensor([[1] * 6, [1] * 2 + [0] * 4, [1] + [0] * 5, [1] * 5 + [0]]).bool()
    assert mine.decode(emissions, mask) == reference.decode(emissions, mask=mask)


def test_large_scores_do_not_overflow() -> None:
    mine, _ = _pair(4)
    emissions = torch.full((2, 3, 4), 500.0)
    mask = torch.ones((2, 3), dtype=torch.bool)
    assert torch.isfinite(
        mine.log_likelihood(emissions, torch.zeros((2, 3), dtype=torch.long), mask)
    ).all()


TAGS = ["O", "B-city", "I-city", "L-city", "U-city", "B-date", "I-date", "L-date", "U-date"]


def _well_formed(tags: list[str]) -> bool:
    open_label = None
    for tag in tags:
        prefix, _, label = tag.partition("-")
        if open_label is not None and (prefix not in ("I", "L") or label != open_label):
            return False
        if open_label is None and prefix in ("I", "L"):
            return False
        open_label = label if prefix in ("B", "I") else None
    return open_label is None


def test_with_bilou_tag_names_only_well_formed_spans_are_decoded() -> None:
    torch.manual_seed(1)
    crf = CRF(len(TAGS), TAGS)
    # Emissions that favour broken sequences (an I- after O, a span left open) strongly.
    emissions = torch.randn(64, 6, len(TAGS)) * 5
    mask = torch.ones((64, 6), dtype=torch.bool)
    for path in crf.decode(emissions, mask):
        assert _well_formed([TAGS[t] for t in path])


def test_with_bilou_tag_names_the_likelihood_sums_over_well_formed_sequences_only() -> None:
    tags = TAGS[:5]
    crf = CRF(len(tags), tags)
    emissions = torch.randn(1, 3, len(tags))
    mask = torch.ones((1, 3), dtype=torch.bool)
    gold = torch.tensor([[1, 3, 0]])  # B-city L-city O
    scores = []
    for a in range(5):
        for b in range(5):
            for c in range(5):
                if _well_formed([tags[a], tags[b], tags[c]]):
                    path = torch.tensor([[a, b, c]])
                    scores.append(crf._score(emissions, path, mask))
    expected = crf._score(emissions, gold, mask) - torch.logsumexp(torch.cat(scores), 0)
    assert torch.allclose(crf.log_likelihood(emissions, gold, mask), expected, atol=1e-4)
