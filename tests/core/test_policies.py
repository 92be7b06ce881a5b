"""Memoization remembers stories; TEDPolicy generalises beyond them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from parlez.core.policies.memoization import AugmentedMemoizationPolicy, MemoizationPolicy
from parlez.core.policies.ted import EXPORTED, TEDPolicy
from parlez.events import ActionExecuted, UserUttered
from parlez.nlu.progress import Convergence, listen
from parlez.tracker import DialogueStateTracker
from tests.core.helpers import MOOD_DOMAIN, domain, trackers

DOMAIN = """
version: "3.1"
intents: [greet, ask_price, ask_hours, thank, bot_challenge]
responses:
  utter_greet: [{text: "Hello"}]
  utter_price: [{text: "10 euros"}]
  utter_hours: [{text: "9 to 5"}]
  utter_welcome: [{text: "You're welcome"}]
  utter_iamabot: [{text: "I am a bot"}]
  utter_anything_else: [{text: "Anything else?"}]
"""

STORIES = """
stories:
- story: price
  steps:
  - intent: greet
  - action: utter_greet
  - intent: ask_price
  - action: utter_price
  - action: utter_anything_else
  - intent: thank
  - action: utter_welcome
- story: hours
  steps:
  - intent: ask_hours
  - action: utter_hours
  - action: utter_anything_else
- story: greet then hours
  steps:
  - intent: greet
  - action: utter_greet
  - intent: ask_hours
  - action: utter_hours
  - action: utter_anything_else
"""


def _tracker(dom: object, turns: list[tuple[str, list[str]]]) -> DialogueStateTracker:
    tracker = DialogueStateTracker.for_domain("t", dom)  # type: ignore[arg-type]
    tracker.update(ActionExecuted("action_listen"))
    for intent, actions in turns:
        tracker.update(UserUttered(intent={"name": intent, "confidence": 1.0}))
        for action in actions:
            tracker.update(ActionExecuted(action))
    return tracker


def _best(policy: object, tracker: DialogueStateTracker, dom: object) -> tuple[str, float]:
    prediction = policy.predict(tracker, dom)  # type: ignore[attr-defined]
    names = dom.action_names_or_texts  # type: ignore[attr-defined]
    return names[prediction.max_confidence_index], prediction.max_confidence


def test_memoization_recalls_a_story_exactly() -> None:
    dom = domain(DOMAIN)
    policy = MemoizationPolicy({"max_history": 5}).train(trackers(STORIES), dom)
    tracker = _tracker(dom, [("greet", ["utter_greet", "action_listen"]), ("ask_price", [])])
    assert _best(policy, tracker, dom) == ("utter_price", 1.0)


def test_memoization_knows_nothing_outside_its_stories() -> None:
    dom = domain(DOMAIN)
    policy = MemoizationPolicy({"max_history": 5}).train(trackers(STORIES), dom)
    tracker = _tracker(
        dom, [("bot_challenge", ["utter_iamabot", "action_listen"]), ("ask_price", [])]
    )
    assert _best(policy, tracker, dom)[1] == 0.0


def test_augmented_memoization_forgets_the_unknown_beginning() -> None:
    dom = domain(DOMAIN)
    policy = AugmentedMemoizationPolicy({"max_history": 5}).train(trackers(STORIES), dom)
    tracker = _tracker(
        dom, [("bot_challenge", ["utter_iamabot", "action_listen"]), ("ask_hours", [])]
    )
    assert _best(policy, tracker, dom) == ("utter_hours", 1.0)


def test_ted_generalises_to_a_combination_no_story_has() -> None:
    """No story asks for the price without greeting first; TED still answers it, and then
    follows the pattern 'answer, then ask if there is anything else' that the stories share."""
    dom = domain(DOMAIN)
    training = trackers(STORIES)
    ted = TEDPolicy({"epochs": 80, "max_history": 3, "random_seed": 1}).train(training, dom)
    memo = MemoizationPolicy({"max_history": 3}).train(training, dom)
    tracker = _tracker(dom, [("ask_price", [])])
    assert _best(memo, tracker, dom)[1] == 0.0  # not memorised
    assert _best(ted, tracker, dom)[0] == "utter_price"
    tracker.update(ActionExecuted("utter_price"))
    assert _best(ted, tracker, dom)[0] == "utter_anything_else"
    tracker.update(ActionExecuted("utter_anything_else"))
    assert _best(ted, tracker, dom)[0] == "action_listen"


def test_ted_stops_once_converged_says_so_and_can_be_told_not_to() -> None:
    """Every training example right and the loss under 0.01 for five epochs: the training
    stops there and says how to train every epoch instead; `early_stopping: false` does."""
    dom = domain(DOMAIN)
    epochs: dict[bool, list[int]] = {True: [], False: []}
    notes: list[str] = []
    for early in (True, False):
        config = {"epochs": 60, "random_seed": 1, "early_stopping": early}
        record = epochs[early]
        with listen(lambda _c, epoch, _n, _m, into=record: into.append(epoch), notes.append):
            TEDPolicy(config).train(trackers(STORIES), dom)
    assert epochs[False][-1] == 60
    assert 5 <= epochs[True][-1] < 60
    (note,) = notes
    assert f"stopped at epoch {epochs[True][-1]} of 60" in note
    assert "early_stopping: false" in note


def test_convergence_needs_patience_with_every_example_right() -> None:
    calm = Convergence({"early_stopping_patience": 3, "early_stopping_loss": 0.01})
    said = [
        calm.converged("TEDPolicy", epoch, 100, loss, acc)
        for epoch, (loss, acc) in enumerate(
            [(0.005, 1.0), (0.004, 0.99), (0.003, 1.0), (0.002, 1.0), (0.001, 1.0)], start=1
        )
    ]
    assert said == [False, False, False, False, True]  # the miss at epoch 2 starts again
    assert not Convergence({"early_stopping": False}).converged("x", 50, 100, 0.0, 1.0)


def test_ted_predicts_the_same_after_persist_and_load(tmp_path: Path) -> None:
    dom = domain(DOMAIN)
    ted = TEDPolicy({"epochs": 20, "random_seed": 1}).train(trackers(STORIES), dom)
    ted.persist(tmp_path)
    loaded = TEDPolicy.load(tmp_path, ted.config)
    # served from the exported graph: the torch network is not even built
    assert loaded.runtime_ is not None and loaded.model_ is None
    tracker = _tracker(dom, [("ask_price", [])])
    assert ted.predict(tracker, dom).probabilities == loaded.predict(tracker, dom).probabilities


def test_ted_with_a_damaged_export_warns_and_serves_its_weights_in_torch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dom = domain(DOMAIN)
    ted = TEDPolicy({"epochs": 20, "random_seed": 1}).train(trackers(STORIES), dom)
    ted.persist(tmp_path)
    (tmp_path / EXPORTED).write_bytes(b"\x00 not a graph")
    with caplog.at_level(logging.WARNING):
        loaded = TEDPolicy.load(tmp_path, ted.config)
    assert loaded.runtime_ is None and loaded.model_ is not None
    assert EXPORTED in caplog.text
    tracker = _tracker(dom, [("ask_price", [])])
    ours, theirs = ted.predict(tracker, dom), loaded.predict(tracker, dom)
    assert np.allclose(ours.probabilities, theirs.probabilities, atol=1e-5)


def test_ted_that_cannot_be_exported_trains_and_serves_in_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Unsupported: ONNX export of operator my_op")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    dom = domain(DOMAIN)
    with caplog.at_level(logging.WARNING):
        ted = TEDPolicy({"epochs": 80, "max_history": 3, "random_seed": 1}).train(
            trackers(STORIES), dom
        )
    assert ted.runtime_ is None and "runs in torch" in caplog.text
    assert _best(ted, _tracker(dom, [("ask_price", [])]), dom)[0] == "utter_price"
    ted.persist(tmp_path)
    assert not (tmp_path / EXPORTED).exists()
    loaded = TEDPolicy.load(tmp_path, ted.config)
    tracker = _tracker(dom, [("ask_price", [])])
    assert ted.predict(tracker, dom).probabilities == loaded.predict(tracker, dom).probabilities


E2E_STORIES = """
stories:
- story: sad, by text
  steps:
  - user: "I feel sad"
  - action: utter_cheer_up
- story: very sad, by text
  steps:
  - user: "I am very unhappy"
  - action: utter_cheer_up
- story: happy, by text
  steps:
  - user: "I feel great"
  - action: utter_happy
- story: wonderful, by text
  steps:
  - user: "I am wonderful"
  - action: utter_happy
- story: greeting, by intent
  steps:
  - intent: greet
  - action: utter_greet
"""


def _said(dom: object, text: str, intent: str) -> DialogueStateTracker:
    """A message as the NLU gives it at prediction time: its text and its intent."""
    tracker = DialogueStateTracker.for_domain("t", dom)  # type: ignore[arg-type]
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text=text, intent={"name": intent, "confidence": 0.9}))
    return tracker


def test_memoization_answers_an_end_to_end_story_by_the_exact_text() -> None:
    dom = domain(MOOD_DOMAIN)
    policy = MemoizationPolicy({"max_history": 5}).train(trackers(E2E_STORIES), dom)
    prediction = policy.predict(_said(dom, "I feel sad", "mood"), dom)
    assert prediction.is_end_to_end_prediction
    assert _best(policy, _said(dom, "I feel sad", "mood"), dom) == ("utter_cheer_up", 1.0)
    assert _best(policy, _said(dom, "I feel so sad", "mood"), dom)[1] == 0.0


def test_ted_answers_words_it_learned_from_end_to_end_stories_in_new_sentences() -> None:
    dom = domain(MOOD_DOMAIN)
    ted = TEDPolicy({"epochs": 100, "max_history": 3, "random_seed": 1}).train(
        trackers(E2E_STORIES), dom
    )
    assert ted.reads_text
    sad = ted.predict(_said(dom, "honestly I'm so unhappy today", "mood"), dom)
    assert sad.is_end_to_end_prediction
    assert dom.action_names_or_texts[sad.max_confidence_index] == "utter_cheer_up"
    happy = _said(dom, "today I feel wonderful", "mood")
    assert _best(ted, happy, dom)[0] == "utter_happy"
    # An intent the stories know, in words they do not: the intent decides.
    hello = ted.predict(_said(dom, "good morning", "greet"), dom)
    assert not hello.is_end_to_end_prediction
    assert dom.action_names_or_texts[hello.max_confidence_index] == "utter_greet"


def test_ted_without_end_to_end_stories_never_predicts_from_text() -> None:
    dom = domain(DOMAIN)
    ted = TEDPolicy({"epochs": 5, "random_seed": 1}).train(trackers(STORIES), dom)
    tracker = _tracker(dom, [("ask_price", [])])
    assert not ted.reads_text and not ted.predict(tracker, dom).is_end_to_end_prediction
