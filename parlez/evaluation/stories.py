"""Test stories: does the assistant do what the story says, turn by turn (`rasa test core`).

Each test story is replayed: at every bot step the policies predict the next action and the
prediction is compared with the story; at every user step with text the NLU parse is compared
with the story's intent and entities. The conversation then follows the story, right or
wrong, so one mistake is counted once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parlez.core.policies.policy import PolicyPrediction
from parlez.domain import Domain
from parlez.events import (
    ACTION_UNLIKELY_INTENT,
    ActionExecuted,
    ActionExecutionRejected,
    Event,
    UserUttered,
)
from parlez.exceptions import Location
from parlez.tracker import DialogueStateTracker
from parlez.training_data.example import RESPONSE_KEY_SEPARATOR, split_intent
from parlez.training_data.stories import (
    FULL_RETRIEVAL_INTENT,
    StoryBlock,
)
from parlez.training_data.story_graph import conversations
from parlez.training_data.story_writer import stories_yaml


@dataclass
class Turn:
    """One step of a replayed story: what it says and what the assistant did instead."""

    event: Event
    predicted: str | None = None  # None: this step was right (or is not checked)
    policy: str | None = None
    confidence: float | None = None


@dataclass
class StoryResult:
    name: str
    location: Location | None
    turns: list[Turn] = field(default_factory=list)
    action_targets: list[str] = field(default_factory=list)
    action_predictions: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(t.predicted is not None for t in self.turns)


@dataclass
class StoryEvaluation:
    stories: list[StoryResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StoryResult]:
        return [s for s in self.stories if s.failed]

    @property
    def action_targets(self) -> list[str]:
        return [a for s in self.stories for a in s.action_targets]

    @property
    def action_predictions(self) -> list[str]:
        return [a for s in self.stories for a in s.action_predictions]

    @property
    def conversation_accuracy(self) -> float:
        return (len(self.stories) - len(self.failed)) / len(self.stories) if self.stories else 0.0


def _clean_entities(text: str | None, entities: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What Rasa compares of entities: type, value (as text), and the span when both have it."""
    cleaned = []
    for entity in entities:
        item: dict[str, Any] = {"entity": entity.get("entity"), "value": str(entity.get("value"))}
        for key in ("start", "end", "role", "group"):
            if entity.get(key) is not None:
                item[key] = entity[key]
        cleaned.append(item)
    return sorted(cleaned, key=lambda e: (e.get("start") or 0, str(e["entity"])))


def _form_might_have_rejected(
    domain: Domain, tracker: DialogueStateTracker, predicted: str
) -> bool:
    return tracker.active_loop_name == predicted and predicted in domain.forms


class Assistant(Protocol):
    """What a replay needs of an assistant: its domain, its NLU and its next action (an
    `Agent` is one)."""

    domain: Domain

    def predict_next(self, tracker: DialogueStateTracker) -> tuple[str, PolicyPrediction]: ...

    async def parse_message(self, text: str) -> dict[str, Any]: ...


async def evaluate_stories(
    assistant: Assistant, blocks: Sequence[StoryBlock], *, e2e: bool = True
) -> StoryEvaluation:
    evaluation = StoryEvaluation()
    domain = assistant.domain
    for block in blocks:
        for conversation in conversations([block]):
            result = StoryResult(block.name, block.location)
            tracker = DialogueStateTracker(block.name, domain.all_slots.values())
            events = conversation.events
            if events:
                tracker.update(events[0])
                result.turns.append(Turn(events[0]))
            for event in events[1:]:
                if isinstance(event, ActionExecuted):
                    result.turns.append(_check_action(assistant, tracker, event, result))
                elif isinstance(event, UserUttered) and e2e and event.text:
                    result.turns.append(await _check_user(assistant, tracker, event))
                else:
                    tracker.update(event)
                    result.turns.append(Turn(event))
            evaluation.stories.append(result)
    return evaluation


def _predict(assistant: Assistant, tracker: DialogueStateTracker, gold: str) -> tuple[str, Any]:
    name, prediction = assistant.predict_next(tracker)
    if (
        prediction.policy_name
        and name != gold
        and _form_might_have_rejected(assistant.domain, tracker, name)
    ):
        # The story says the form did not run: as if it had rejected the user's answer.
        tracker.update(ActionExecutionRejected(name))
        name, prediction = assistant.predict_next(tracker)
    return name, prediction


def _check_action(
    assistant: Assistant,
    tracker: DialogueStateTracker,
    event: ActionExecuted,
    result: StoryResult,
) -> Turn:
    gold = event.action_name or event.action_text or ""
    predicted, prediction = _predict(assistant, tracker, gold)
    if predicted == ACTION_UNLIKELY_INTENT and gold != ACTION_UNLIKELY_INTENT:
        # A warning, not a failure (as in Rasa): note it and predict again.
        tracker.update(ActionExecuted(ACTION_UNLIKELY_INTENT, policy=prediction.policy_name))
        predicted, prediction = _predict(assistant, tracker, gold)
    if RESPONSE_KEY_SEPARATOR in gold:
        predicted = _full_retrieval_action(predicted, tracker)
    result.action_targets.append(gold)
    result.action_predictions.append(predicted)
    tracker.update(
        ActionExecuted(
            # what ran: `utter_chitchat` says the response `utter_chitchat/ask_name`
            _base_action(event.action_name),
            policy=prediction.policy_name,
            confidence=prediction.max_confidence,
            action_text=event.action_text,
        )
    )
    wrong = predicted != gold
    return Turn(
        event, predicted if wrong else None, prediction.policy_name, prediction.max_confidence
    )


async def _check_user(
    assistant: Assistant, tracker: DialogueStateTracker, event: UserUttered
) -> Turn:
    parsed = await assistant.parse_message(event.text or "")
    predicted_intent = (parsed.get("intent") or {}).get("name")
    # A step may name the full retrieval intent (`chitchat/ask_name`); the classifier gives
    # the base intent, and the ResponseSelector the rest (as Rasa compares them).
    gold_intent = (event.intent or {}).get(FULL_RETRIEVAL_INTENT) or event.intent_name
    selector = parsed.get("response_selector") or {}
    if predicted_intent != gold_intent:
        predicted_intent = _full_retrieval_intent(predicted_intent, selector)
    intent_wrong = gold_intent is not None and predicted_intent != gold_intent
    if selector:
        # The retrieval action of the next step says what the selector chose.
        event = dataclasses.replace(
            event, parse_data_extra={**event.parse_data_extra, "response_selector": selector}
        )
    gold_entities = _clean_entities(event.text, event.entities)
    predicted_entities = _clean_entities(event.text, parsed.get("entities") or [])
    entities_wrong = (
        bool(gold_entities or predicted_entities) and gold_entities != predicted_entities
    )
    tracker.update(event)
    if intent_wrong or entities_wrong:
        shown = predicted_intent or "None"
        if entities_wrong:
            shown += (
                " " + ", ".join(f"{e['entity']}={e['value']}" for e in predicted_entities)
                if predicted_entities
                else " (no entities)"
            )
        return Turn(event, shown)
    return Turn(event)


def _full_retrieval_intent(intent: str | None, selector: dict[str, Any]) -> str | None:
    """`chitchat/ask_name` for the base intent `chitchat` and what the selector chose."""
    if not intent or intent not in selector.get("all_retrieval_intents", []):
        return intent
    # a ResponseSelector trained for every retrieval intent answers under "default"
    chosen = selector.get(intent) or selector.get("default") or {}
    key = (chosen.get("response") or {}).get("intent_response_key")
    return str(key) if key else intent


def _base_action(name: str | None) -> str | None:
    return split_intent(name)[0] if name else name


def _full_retrieval_action(predicted: str, tracker: DialogueStateTracker) -> str:
    """What a predicted retrieval action (`utter_chitchat`) says, as the story names it
    (`utter_chitchat/ask_name`): the ResponseSelector's choice for the last message, or
    for a step given by intent alone, the full retrieval intent the story gave it."""
    if not predicted.startswith("utter_") or RESPONSE_KEY_SEPARATOR in predicted:
        return predicted
    base = predicted.removeprefix("utter_")
    message = tracker.latest_message
    if message is None:
        return predicted
    selector = message.parse_data.get("response_selector") or {}
    if base in selector.get("all_retrieval_intents", []):
        return f"utter_{_full_retrieval_intent(base, selector)}"
    full = (message.intent or {}).get(FULL_RETRIEVAL_INTENT)
    if isinstance(full, str) and split_intent(full)[0] == base:
        return f"utter_{full}"
    return predicted


# ---- reports ------------------------------------------------------------------------------------


def story_report(evaluation: StoryEvaluation) -> dict[str, Any]:
    """Rasa's `story_report.json`: per action precision, recall, F1 and support, plus totals."""
    from sklearn.metrics import classification_report

    targets, predictions = evaluation.action_targets, evaluation.action_predictions
    if not targets:
        return {}
    labels = sorted(set(targets) | set(predictions))
    report: dict[str, Any] = classification_report(
        targets, predictions, labels=labels, output_dict=True, zero_division=0
    )
    report["conversation_accuracy"] = {
        "accuracy": evaluation.conversation_accuracy,
        "correct": len(evaluation.stories) - len(evaluation.failed),
        "with_warnings": 0,
        "total": len(evaluation.stories),
    }
    return report


def story_yaml(results: Sequence[StoryResult]) -> str:
    """Stories as YAML, a `# predicted: ...` comment on each step the assistant got wrong."""
    return stories_yaml(
        (result.name, [(turn.event, turn.predicted) for turn in result.turns]) for result in results
    )


def write_story_reports(
    evaluation: StoryEvaluation, out: Path, successes: bool = False, plots: bool = True
) -> list[Path]:
    import json

    out.mkdir(parents=True, exist_ok=True)
    written = []
    report = out / "story_report.json"
    report.write_text(
        json.dumps(story_report(evaluation), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    written.append(report)
    failed = out / "failed_test_stories.yml"
    failed.write_text(
        story_yaml(evaluation.failed)
        if evaluation.failed
        else "# None of the test stories failed - all good!\n",
        encoding="utf-8",
    )
    written.append(failed)
    if successes:
        passed = out / "successful_test_stories.yml"
        passed.write_text(
            story_yaml([s for s in evaluation.stories if not s.failed]), encoding="utf-8"
        )
        written.append(passed)
    if evaluation.action_targets and plots:
        written.append(_plot_confusion(evaluation, out / "story_confusion_matrix.png"))
    return written


def _plot_confusion(evaluation: StoryEvaluation, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(evaluation.action_targets) | set(evaluation.action_predictions))
    matrix = confusion_matrix(
        evaluation.action_targets, evaluation.action_predictions, labels=labels
    )
    size = max(6.0, 0.45 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted action")
    axes.set_ylabel("action in the story")
    axes.set_title("Action confusion matrix")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                axes.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
