"""`parlez interactive`: talk to the assistant, correct what it understood and what it did,
and keep the corrected conversation as a story and NLU examples for the next training.

Every question takes Enter for "yes, as shown", so reviewing a conversation that goes well
is a matter of pressing Enter; a correction is a number from the list shown or a name.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from parlez.channels.channel import CollectingOutputChannel, UserMessage
from parlez.cli.commands import help_of
from parlez.cli.lines import LineReader
from parlez.cli.shell import add_conversation_arguments, show_bot_message
from parlez.core.export import conversation_story
from parlez.endpoints import Endpoints
from parlez.events import ACTION_LISTEN, ActionExecuted, UserUtteranceReverted, UserUttered
from parlez.exceptions import ParlezError, relative
from parlez.model import require_model
from parlez.tracker import DialogueStateTracker
from parlez.training_data import markup
from parlez.training_data.example import Entity, Example
from parlez.training_data.nlu_yaml import write_nlu_yaml
from parlez.training_data.training_data import TrainingData

if TYPE_CHECKING:
    from parlez.agent import Agent, StepByStep

# The agent and the policies load torch: imported when the conversation starts, so that
# `parlez interactive --help` answers at once.

#: how many of the classifier's best intents are offered by number
SHOWN_INTENTS = 5


@dataclass
class Correction:
    """What the person at the keyboard said about one user message."""

    text: str
    intent: str
    entities: list[Entity] = field(default_factory=list)


class Interactive:
    """One interactive conversation: questions on the console, answers read from `answers`."""

    def __init__(self, agent: Agent, console: Console, sender: str) -> None:
        self.agent = agent
        self.console = console
        self.sender = sender
        self.examples: list[Correction] = []
        #: how many examples there were before each user message (for /undo)
        self.turns: list[int] = []
        self.output = CollectingOutputChannel()
        self.lines = LineReader()

    async def ask(self, question: str) -> str | None:
        # The question quotes the customer's words and Rasa's [value](entity) marks: text.
        if not self.lines.interactive:
            self.console.print(Text(question, style="bold"), end=" ")
        line = await self.lines.read(question + " ")
        return None if line is None else line.strip()

    # ---- the user's turn ----------------------------------------------------------------------

    async def understand(self, text: str) -> dict[str, Any] | None:
        """The parse of `text` as confirmed or corrected; None if the session was left."""
        parsed = await self.agent.parse_message(text)
        if text.startswith("/"):
            return parsed  # the user gave the intent themselves
        ranking = [r["name"] for r in parsed.get("intent_ranking") or [] if r.get("name")]
        predicted = (parsed.get("intent") or {}).get("name")
        choices = list(dict.fromkeys([n for n in [predicted, *ranking] if n]))[:SHOWN_INTENTS]
        confidences = {
            r["name"]: r.get("confidence", 0.0) for r in parsed.get("intent_ranking") or []
        }
        for number, name in enumerate(choices, start=1):
            score = confidences.get(name, 0.0)
            self.console.print(f"  {number}: {escape(name)} [dim]({score:.2f})[/]")
        intent = await self._choose(
            f"Intent of '{text}'? [Enter = {predicted}, a number or an intent name]",
            predicted,
            choices,
            list(self.agent.domain.intents),
        )
        if intent is None:
            return None
        entities = [
            Entity.from_dict(e)
            for e in parsed.get("entities") or []
            if e.get("entity") and "start" in e and "end" in e
        ]
        shown = markup.annotate(text, entities)
        answer = await self.ask(
            f"Entities: {shown}  [Enter = right, or the message with [value](entity) marks]"
        )
        if answer is None:
            return None
        found = list(parsed.get("entities") or [])
        if answer:
            plain, marked = markup.parse(answer)
            if plain != text:
                self.console.print(
                    "[yellow]The marked message must read like the message; entities kept as found.[/]"
                )
            else:
                entities, found = marked, [e.to_dict() for e in marked]
        self.examples.append(Correction(text, intent, entities))
        return parsed | {"intent": {"name": intent, "confidence": 1.0}, "entities": found}

    async def _choose(
        self, question: str, default: str | None, numbered: list[str], known: list[str]
    ) -> str | None:
        while True:
            answer = await self.ask(question)
            if answer is None:
                return None
            if not answer and default:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(numbered):
                return numbered[int(answer) - 1]
            if answer in known:
                return answer
            if answer == "?":
                self.console.print(escape("  " + ", ".join(known)))
                continue
            self.console.print(
                f"[yellow]'{escape(answer)}' is not one of them; '?' lists them all.[/]"
            )

    # ---- the bot's turn -----------------------------------------------------------------------

    async def act(self, steps: StepByStep) -> bool:
        """Predict, confirm or correct and run actions until the bot listens; False if left."""
        names = self.agent.domain.action_names_or_texts
        for _ in range(steps.max_predictions):
            predicted, prediction = steps.predict()
            ranked = sorted(
                zip(names, prediction.probabilities, strict=False), key=lambda item: -item[1]
            )
            choices = [name for name, score in ranked[:SHOWN_INTENTS] if score > 0] or [predicted]
            for number, name in enumerate(choices, start=1):
                score = dict(ranked).get(name, 0.0)
                self.console.print(f"  {number}: {escape(name)} [dim]({score:.2f})[/]")
            chosen = await self._choose(
                f"Next action? [Enter = {predicted} ({prediction.policy_name}), a number or an "
                "action name; '?' lists them all]",
                predicted,
                choices,
                names,
            )
            if chosen is None:
                return False
            if chosen != predicted:
                from parlez.core.policies.policy import PolicyPrediction

                prediction = PolicyPrediction(
                    [1.0 if n == chosen else 0.0 for n in names], "interactive"
                )
            self.output.messages.clear()
            go_on = await steps.run(chosen, prediction)
            for sent in self.output.messages:
                show_bot_message(self.console, sent)
            if not go_on or chosen == ACTION_LISTEN:
                return True
        return True

    def undo(self, steps: StepByStep) -> None:
        """Take back the last user message and what the bot did after it, as Rasa's
        `UserUtteranceReverted` does: neither goes into the story or the NLU examples."""
        if not any(isinstance(e, UserUttered) for e in steps.tracker.applied_events()):
            self.console.print("[yellow]Nothing to undo.[/]")
            return
        # As after a fallback: the message is taken back and the bot listens again.
        steps.update(UserUtteranceReverted())
        steps.update(ActionExecuted(ACTION_LISTEN))
        if self.turns:
            del self.examples[self.turns.pop() :]
        self.console.print("[dim]Took back your last message and the bot's answer.[/]")

    async def run(self) -> DialogueStateTracker:
        async with self.agent.step_by_step(self.sender, self.output) as steps:
            for sent in self.output.messages:
                show_bot_message(self.console, sent)
            while await self._turn(steps):
                pass
        return steps.tracker

    async def _turn(self, steps: StepByStep) -> bool:
        """One user message and the bot's answer to it; False once the session is left."""
        text = await self.ask("Your input ->")
        if text is None or text == "/stop":
            return False
        if not text:
            return True
        if text == "/undo":
            self.undo(steps)
            return True
        self.turns.append(len(self.examples))
        parsed = await self.understand(text)
        if parsed is None:
            return False
        self.output.messages.clear()
        await steps.log_user(UserMessage(text, self.output, self.sender, parse_data=parsed))
        for sent in self.output.messages:
            show_bot_message(self.console, sent)
        return await self.act(steps)


def write_results(session: Interactive, tracker: DialogueStateTracker, folder: Path) -> list[Path]:
    """The conversation as a story and its messages as NLU examples, in new files."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    written = []
    story = folder / f"stories-{stamp}.yml"
    story.write_text(conversation_story(tracker), encoding="utf-8")
    written.append(story)
    if session.examples:
        data = TrainingData()
        for example in session.examples:
            data.examples.append(Example(example.text, example.intent, example.entities))
        nlu = folder / f"nlu-{stamp}.yml"
        nlu.write_text(write_nlu_yaml(data), encoding="utf-8")
        written.append(nlu)
    return written


def run_interactive(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    archive = require_model(Path(args.model))
    from parlez.agent import Agent

    agent = Agent.load(archive, Endpoints.load(args.endpoints), actions_module=args.actions)
    if agent.nlu is None:
        raise ParlezError(
            f"the model '{archive.name}' has no NLU part", hint="train it with `parlez train`"
        )
    sender = args.conversation_id or f"interactive-{datetime.now():%Y%m%d-%H%M%S}"
    session = Interactive(agent, console, sender)
    console.print(
        f"Loaded '{relative(archive)}'. Type a message, then confirm (Enter) or correct what "
        "the assistant understood and does; /undo takes back your last message, /stop or "
        "Ctrl-D ends and saves the conversation."
    )
    tracker = asyncio.run(session.run())
    for path in write_results(session, tracker, Path(args.out)):
        console.print(f"Saved {relative(path)}")
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser("interactive", help=help_of("interactive"))
    add_conversation_arguments(parser)
    parser.add_argument(
        "--out",
        default="data/interactive",
        help="folder for the new story and NLU files (read by the next `parlez train`)",
    )
    parser.set_defaults(handler=run_interactive)
