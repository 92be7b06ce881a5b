"""The checks `rasa data validate` makes, over a loaded Project.

Errors are what Rasa refuses (or what would break a conversation); warnings are what Rasa warns
about. Each finding names the file and line of the thing it is about.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from parlez.core.training_trackers import with_entity_slots
from parlez.diagnostics import Diagnostic
from parlez.domain import DEFAULT_ACTIONS, DEFAULT_INTENTS, DEFAULT_LOOPS, REQUESTED_SLOT, Domain
from parlez.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parlez.exceptions import Location, ParlezError, did_you_mean
from parlez.slots import CategoricalSlot, Slot
from parlez.tracker import DialogueStateTracker
from parlez.training_data.stories import FILLED, StoryBlock
from parlez.training_data.story_graph import conversations
from parlez.training_data.training_data import TrainingData

if TYPE_CHECKING:
    from parlez.project import Project


#: a response named in Python source: `response="utter_booked"`
RESPONSE_NAME = re.compile(r"""["'](utter_[A-Za-z0-9_/]+)["']""")


def responses_named_in(root: Path, package: str | None) -> frozenset[str]:
    """The responses the in-process actions package (endpoints.yml `actions_module`) names
    in its source: those count as used, as the warning's hint says."""
    if not package:
        return frozenset()
    base = root.joinpath(*package.split("."))
    files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
    found: set[str] = set()
    for file in files:
        try:
            found |= set(RESPONSE_NAME.findall(file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    return frozenset(found)


@dataclass
class Validator:
    domain: Domain
    nlu: TrainingData
    stories: list[StoryBlock]
    rules: list[StoryBlock] = field(default_factory=list)
    findings: list[Diagnostic] = field(default_factory=list)
    #: intents the NLU pipeline gives on its own (SentimentAnalyzer's `negative_intent`)
    pipeline_intents: frozenset[str] = frozenset()
    #: actions that channels run themselves (the web chat's `transcript_action`)
    channel_actions: frozenset[str] = frozenset()
    #: responses the project's in-process actions name (`utter_message(response=...)`)
    action_responses: frozenset[str] = frozenset()

    @classmethod
    def for_project(cls, project: Project) -> Validator:
        """A validator of `project` that knows what its pipeline and channels add: intents the
        pipeline gives, actions the channels in credentials.yml run. A channel that cannot be
        built is an error finding, as `parlez run` would refuse it."""
        from parlez.channels.credentials import channels_from_credentials

        findings: list[Diagnostic] = []
        channel_actions: frozenset[str] = frozenset()
        try:
            channels = channels_from_credentials(project.credentials)
        except ParlezError as error:
            findings.append(Diagnostic.from_error(error))
        else:
            channel_actions = frozenset(a for c in channels for a in c.actions_used())
        return cls(
            project.domain,
            project.training_data,
            project.stories,
            project.rules,
            findings,
            project.config.pipeline_intents(),
            channel_actions,
            responses_named_in(project.root, project.endpoints.actions_module),
        )

    def _error(
        self, code: str, message: str, where: Location | None = None, hint: str | None = None
    ) -> None:
        self.findings.append(Diagnostic("error", code, message, where, hint))

    def _warning(
        self, code: str, message: str, where: Location | None = None, hint: str | None = None
    ) -> None:
        self.findings.append(Diagnostic("warning", code, message, where, hint))

    def run(self, max_history: int | None = None, check_conflicts: bool = True) -> list[Diagnostic]:
        self.verify_domain_validity()
        self.verify_intents()
        self.verify_intents_in_stories()
        self.verify_example_repetition_in_intents()
        self.verify_entities()
        self.verify_story_steps()
        self.verify_utterances_used()
        self.verify_forms()
        self.verify_slot_mappings()
        self.verify_response_conditions()
        if check_conflicts:
            self.verify_story_structure(max_history)
        return self.findings

    @property
    def _blocks(self) -> list[StoryBlock]:
        return self.stories + self.rules

    # ---- domain ----------------------------------------------------------------------------

    def verify_domain_validity(self) -> None:
        d = self.domain
        if not (d.intents or d.responses or d.user_actions or d.forms or d.slots):
            self._error(
                "P200",
                "the domain is empty",
                d.locations.get("file"),
                hint="declare intents and responses in domain.yml",
            )
        for intent in d.intents.values():
            if intent.triggers is not None:
                # A warning, as Rasa 3 trains such a domain (and does nothing on the triggers).
                self._warning(
                    "P207",
                    f"the intent '{intent.name}' uses 'triggers', the MappingPolicy format Rasa 3 "
                    "removed: nothing happens on it",
                    intent.location,
                    hint=f"write a rule: '- intent: {intent.name}' then '- action: {intent.triggers}'",
                )
        for action in d.user_actions:
            # `utter_chitchat` says the responses `utter_chitchat/...`
            if action.startswith("utter_") and action not in d.response_actions:
                self._warning(
                    "P208",
                    f"the action '{action}' looks like a response but no response has that name",
                    d.locations.get(f"action:{action}"),
                    hint=f"add '{action}:' under 'responses:', or rename the action",
                )

    # ---- NLU -------------------------------------------------------------------------------

    def verify_intents(self) -> None:
        declared = set(self.domain.intent_names)
        first_example: dict[str, Location | None] = {}
        for m in self.nlu.examples:
            if m.intent is not None:
                first_example.setdefault(m.intent, m.location)
        for intent, at in first_example.items():
            if intent not in declared:
                self._error(
                    "P201",
                    f"the NLU data has examples for the intent '{intent}', which the domain does not list",
                    at,
                    hint=f"add '- {intent}' under 'intents:' in the domain",
                )
        for intent in self.domain.intents:
            if (
                intent not in first_example
                and intent not in DEFAULT_INTENTS
                and intent not in self.pipeline_intents
            ):
                self._warning(
                    "P202",
                    f"the intent '{intent}' is listed in the domain but has no NLU examples",
                    self.domain.locations.get(f"intent:{intent}"),
                    hint="add examples for it, or remove it from the domain",
                )

    def verify_intents_in_stories(self) -> None:
        used = {
            e.intent_name.split("/")[0]
            for block in self._blocks
            for e, _ in block.all_events()
            if isinstance(e, UserUttered) and e.intent_name
        }
        for intent in self.domain.intents:
            if intent not in used and intent not in DEFAULT_INTENTS:
                self._warning(
                    "P206",
                    f"the intent '{intent}' is not used in any story or rule",
                    self.domain.locations.get(f"intent:{intent}"),
                    hint="add a rule or story for it, or remove it if nobody says it",
                )

    def verify_example_repetition_in_intents(self) -> None:
        intents_by_text: dict[str, set[str]] = defaultdict(set)
        where_text: dict[str, Location | None] = {}
        for m in self.nlu.examples:
            if m.full_intent is None:
                continue
            intents_by_text[m.text].add(m.full_intent)
            where_text.setdefault(m.text, m.location)
        for text, intents in intents_by_text.items():
            if len(intents) > 1:
                self._warning(
                    "P203",
                    f"the example '{text}' is labeled with several intents: {', '.join(sorted(intents))}",
                    where_text[text],
                    hint="each example should appear under one intent only",
                )
        self.verify_copied_files()

    def verify_copied_files(self) -> None:
        """Most of one file's examples again in another: a copy of the data (`data convert
        --out data/` next to the original), read twice and trained twice."""
        files: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
        first_line: dict[str, Location] = {}
        for m in self.nlu.examples:
            if m.location is not None and m.location.path:
                files[m.location.path].add((m.text, m.full_intent))
                first_line.setdefault(m.location.path, m.location)
        names = sorted(files)
        for n, one in enumerate(names):
            for other in names[n + 1 :]:
                shared = files[one] & files[other]
                smaller = min(len(files[one]), len(files[other]))
                if len(shared) >= 3 and len(shared) >= 0.8 * smaller:
                    self._warning(
                        "P209",
                        f"{other} repeats {len(shared)} of the examples of {one}: "
                        "the same data is read twice",
                        first_line[other],
                        hint="keep one of the two files in the data folder (a converted "
                        "file next to its original, say)",
                    )

    def verify_entities(self) -> None:
        declared = set(self.domain.entities)
        reported: set[str] = set()
        for m in self.nlu.examples:
            for e in m.entities:
                if e.entity not in declared and e.entity not in reported:
                    reported.add(e.entity)
                    self._warning(
                        "P204",
                        f"the entity '{e.entity}' is annotated in the NLU data but not listed in the domain",
                        m.location,
                        hint=f"add '- {e.entity}' under 'entities:' in the domain",
                    )
                for kind, value, known in (
                    ("role", e.role, self.domain.roles),
                    ("group", e.group, self.domain.groups),
                ):
                    if value is not None and value not in known.get(e.entity, []):
                        key = f"{e.entity}#{kind}#{value}"
                        if key not in reported:
                            reported.add(key)
                            self._warning(
                                "P205",
                                f"the {kind} '{value}' of entity '{e.entity}' is not declared in the domain",
                                m.location,
                                hint=f"add it under '{e.entity}: {{{kind}s: [...]}}' in the domain's entities",
                            )

    # ---- stories and rules -------------------------------------------------------------------

    def verify_story_steps(self) -> None:
        intents = set(self.domain.intent_names)
        slots = self.domain.all_slots
        for block in self._blocks:
            for event, at in block.all_events():
                if isinstance(event, UserUttered):
                    name = event.intent_name
                    base = name.split("/")[0] if name else None
                    if base is not None and base not in intents:
                        self._error(
                            "P210",
                            f"the {block.kind} '{block.name}' uses the intent '{name}', which the domain does not list",
                            at,
                            hint=f"add '- {base}' under 'intents:' in the domain, or fix the spelling",
                        )
                    for entity in event.entities:
                        if entity.get("entity") not in self.domain.entities:
                            self._warning(
                                "P211",
                                f"the {block.kind} '{block.name}' uses the entity '{entity.get('entity')}', which the domain does not list: the policies do not see it",
                                at,
                                hint=f"add '- {entity.get('entity')}' under 'entities:' in the domain",
                            )
                elif isinstance(event, ActionExecuted) and event.action_name is not None:
                    if not self.domain.is_known_action(event.action_name):
                        kind = "response" if event.action_name.startswith("utter_") else "action"
                        self._error(
                            "P212",
                            f"the {block.kind} '{block.name}' uses the {kind} '{event.action_name}', which the domain does not define",
                            at,
                            hint=f"add it under '{'responses' if kind == 'response' else 'actions'}:' in the domain",
                        )
                elif isinstance(event, ActiveLoop) and event.name is not None:
                    if (
                        event.name not in self.domain.forms
                        and event.name not in self.domain.user_actions
                        and event.name not in DEFAULT_LOOPS
                    ):
                        self._error(
                            "P213",
                            f"the {block.kind} '{block.name}' activates '{event.name}', which is not a form in the domain",
                            at,
                            hint="declare it under 'forms:' in the domain",
                        )
                elif isinstance(event, SlotSet):
                    slot = slots.get(event.key)
                    if slot is None:
                        self._warning(
                            "P214",
                            f"the {block.kind} '{block.name}' sets the slot '{event.key}', which the domain does not declare: the step is ignored",
                            at,
                            hint=f"declare '{event.key}' under 'slots:' in the domain",
                        )
                    elif isinstance(slot, CategoricalSlot) and event.value not in (None, FILLED):
                        values = [v.lower() for v in slot.values]
                        if str(event.value).lower() not in values:
                            self._warning(
                                "P215",
                                f"the {block.kind} '{block.name}' sets the categorical slot '{event.key}' to '{event.value}', which is not one of its values: the policies see it as unset",
                                at,
                                hint=f"its values are {', '.join(v for v in slot.values if v != '__other__')}",
                            )

    def verify_utterances_used(self) -> None:
        used = {
            e.action_name
            for block in self._blocks
            for e, _ in block.all_events()
            if isinstance(e, ActionExecuted) and e.action_name
        }
        form_asks = {
            f"utter_ask_{slot}"
            for form in self.domain.forms.values()
            for slot in form.required_slots
        }
        form_asks |= {
            f"utter_ask_{form}_{slot}"
            for form, f in self.domain.forms.items()
            for slot in f.required_slots
        }
        # Responses that default actions and forms say on their own count as used.
        used |= form_asks | {"utter_default", "utter_ask_rephrase", "utter_ask_affirmation"}
        used |= self.action_responses | self.channel_actions
        reported: set[str] = set()
        for full_name in self.domain.responses:
            # `utter_faq/ask_hours` is one answer of the retrieval action `utter_faq`.
            name = full_name.split("/")[0]
            if name in used or name in reported:
                continue
            reported.add(name)
            self._warning(
                "P220",
                f"the response '{name}' is not used in any story or rule",
                self.domain.locations.get(f"response:{full_name}"),
                hint="use it in a story or rule, call it from a custom action, or remove it",
            )
        # A custom slot mapping's action runs on every message (`action_extract_slots`), and
        # a form asks for a slot with `action_ask_<slot>` when the domain has one.
        used |= {
            str(mapping.action)
            for slot in self.domain.slots.values()
            for mapping in slot.mappings
            if mapping.action
        }
        used |= {name.replace("utter_", "action_", 1) for name in form_asks}
        for name in self.domain.user_actions:
            if (
                name not in used
                and not name.startswith("validate_")
                and name not in DEFAULT_ACTIONS
                and name not in self.channel_actions
            ):
                self._warning(
                    "P221",
                    f"the action '{name}' is not used in any story or rule",
                    self.domain.locations.get(f"action:{name}"),
                )

    # ---- forms and slots ---------------------------------------------------------------------

    def verify_forms(self) -> None:
        for form in self.domain.forms.values():
            for slot_name in form.required_slots:
                slot = self.domain.slots.get(slot_name)
                if slot is None:
                    self._error(
                        "P230",
                        f"the form '{form.name}' requires the slot '{slot_name}', which the domain does not declare",
                        form.location,
                        hint=f"declare '{slot_name}' under 'slots:' with a mapping",
                    )
                elif not slot.mappings:
                    self._warning(
                        "P231",
                        f"the form '{form.name}' requires the slot '{slot_name}', which has no mappings",
                        slot.location,
                        hint="add a mapping (from_entity, from_text, ...) or fill it in a validate_ action",
                    )
            for intent in form.ignored_intents:
                if intent not in self.domain.intent_names:
                    self._warning(
                        "P232",
                        f"the form '{form.name}' ignores the intent '{intent}', which the domain does not list: nothing is ignored for it",
                        form.location,
                    )

    def _warn_unmapped(self, slot: Slot) -> None:
        """Rasa 3 refuses a slot without `mappings`, so that a Rasa 2 slot that filled itself
        from the entity of its name does not silently stop being filled; parlez reads it as
        a slot only actions set, and says so."""
        if slot.name in self.domain.entities:
            hint = (
                f"Rasa 2 filled it from the entity '{slot.name}'; say so with "
                f"'mappings: [{{type: from_entity, entity: {slot.name}}}]'"
            )
        else:
            hint = "write 'mappings: [{type: custom}]' for a slot your actions set"
        self._warning(
            "P239",
            f"slot '{slot.name}' has no mappings: no message fills it, only actions",
            slot.location,
            hint=hint,
        )

    def verify_slot_mappings(self) -> None:
        intents = set(self.domain.intent_names)
        for slot in self.domain.slots.values():
            required = any(slot.name in f.required_slots for f in self.domain.forms.values())
            if not slot.mappings and not required:  # a form's slot is P231's
                self._warn_unmapped(slot)
            for mapping in slot.mappings:
                at = mapping.location or slot.location
                if mapping.type == "from_entity" and mapping.entity not in self.domain.entities:
                    self._warning(
                        "P233",
                        f"slot '{slot.name}' is filled from the entity '{mapping.entity}', which the domain does not list",
                        at,
                        hint=f"add '- {mapping.entity}' under 'entities:'",
                    )
                for intent in (*mapping.intent, *mapping.not_intent):
                    if intent not in intents:
                        # Rasa does not check these names; a typo only means the mapping
                        # never fires, so this warns rather than stops training.
                        self._warning(
                            "P234",
                            f"a mapping of slot '{slot.name}' names the intent '{intent}', which the domain does not list: the mapping never applies to it",
                            at,
                            hint=did_you_mean(intent, intents) or "list the intent in the domain",
                        )
                for condition in mapping.conditions:
                    form = self.domain.forms.get(condition.active_loop or "")
                    if condition.active_loop and form is None:
                        self._error(
                            "P235",
                            f"a mapping of slot '{slot.name}' is conditioned on the form '{condition.active_loop}', which the domain does not declare",
                            at,
                        )
                    elif (
                        form
                        and slot.name not in form.required_slots
                        and mapping.type != "from_trigger_intent"
                    ):
                        self._error(
                            "P238",
                            f"a mapping of slot '{slot.name}' is conditioned on the form '{form.name}', which does not require that slot",
                            at,
                            hint=f"add '{slot.name}' to the required_slots of '{form.name}', or drop the condition",
                        )
                    elif (
                        form
                        and condition.requested_slot
                        and condition.requested_slot not in form.required_slots
                    ):
                        self._warning(
                            "P236",
                            f"a mapping of slot '{slot.name}' waits for '{condition.requested_slot}' to be requested, but the form '{form.name}' never asks for it",
                            at,
                        )
                if (
                    mapping.type == "custom"
                    and mapping.action
                    and not self.domain.is_known_action(mapping.action)
                ):
                    self._error(
                        "P237",
                        f"slot '{slot.name}' is filled by the action '{mapping.action}', which the domain does not list",
                        at,
                    )

    def verify_response_conditions(self) -> None:
        slots = self.domain.all_slots
        for name, variations in self.domain.responses.items():
            for variation in variations:
                for condition in variation.get("condition") or []:
                    if (
                        condition.get("name") not in slots
                        and condition.get("name") != REQUESTED_SLOT
                    ):
                        self._warning(
                            "P240",
                            f"a variation of the response '{name}' is conditioned on the slot '{condition.get('name')}', which the domain does not declare: it is never said",
                            self.domain.locations.get(f"response:{name}"),
                        )

    # ---- story structure ---------------------------------------------------------------------

    def verify_story_structure(self, max_history: int | None) -> None:
        """Two stories that reach the same state and then do different things conflict."""
        predicted: dict[tuple[str, ...], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        blocks_by_name = {b.name: b for b in self.stories}
        explicit = partial(with_entity_slots, domain=self.domain)
        for conversation in conversations(self.stories, explicit=explicit):
            tracker = DialogueStateTracker.from_events(
                "validate",
                with_entity_slots(conversation.events, self.domain),
                self.domain.all_slots.values(),
            )
            states = tracker.past_states(self.domain)
            actions = [e for e in tracker.applied_events() if isinstance(e, ActionExecuted)]
            for index, action in enumerate(actions):
                window = states[: index + 1]
                if max_history is not None:
                    window = window[-max_history:]
                key = tuple(_freeze(s) for s in window)
                name = action.action_name or action.action_text or ""
                predicted[key][name].update(conversation.story_names)
        for key, by_action in predicted.items():
            if len(by_action) < 2:
                continue
            last_user = _describe(key[-1]) if key else "the start"
            parts = [
                f"'{action}' in {', '.join(repr(s) for s in sorted(stories))}"
                for action, stories in sorted(by_action.items())
            ]
            first_story = sorted(next(iter(by_action.values())))[0]
            self._warning(
                "P250",
                f"story structure conflict after {last_user}: " + "; ".join(parts),
                blocks_by_name[first_story].location if first_story in blocks_by_name else None,
                hint="make the stories differ before this point, or make them predict the same action",
            )


def _freeze(state: dict[str, dict[str, object]]) -> str:
    return repr(sorted((k, sorted(v.items())) for k, v in state.items()))


def _describe(frozen: str) -> str:
    if "'intent', '" in frozen:
        intent = frozen.split("'intent', '")[1].split("'")[0]
        return f"intent '{intent}'"
    if "'action_name', '" in frozen:
        action = frozen.split("'action_name', '")[1].split("'")[0]
        return f"action '{action}'"
    return "the same conversation state"


def summarize(findings: Iterable[Diagnostic]) -> tuple[int, int]:
    items = list(findings)
    return sum(f.level == "error" for f in items), sum(f.level == "warning" for f in items)
