"""Domain: what the assistant knows (intents, entities, slots, responses, actions, forms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from parlez.diagnostics import warn
from parlez.exceptions import (
    DomainError,
    DuplicateNameError,
    EmptyFileError,
    FileReadError,
    Location,
    ParlezError,
    ProjectError,
    SchemaError,
    YamlSyntaxError,
    did_you_mean,
    relative,
)
from parlez.io.env import expand_all
from parlez.io.schema import names
from parlez.io.yaml import YamlMap, document_start, is_yaml_file, read_yaml, read_yaml_file, where
from parlez.responses import read_responses
from parlez.slots import AnySlot, Slot, TextSlot, read_slot

if TYPE_CHECKING:
    from parlez.tracker import DialogueStateTracker

DEFAULT_ACTIONS = (
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_revert_fallback_events",
    "action_default_ask_affirmation",
    "action_default_ask_rephrase",
    "action_two_stage_fallback",
    "action_unlikely_intent",
    "action_back",
    "action_send_text",
    "...",
    "action_extract_slots",
)
#: the default actions that are loops, which rules activate with `active_loop:` as forms
DEFAULT_LOOPS = ("action_two_stage_fallback",)
DEFAULT_INTENTS = ("restart", "back", "out_of_scope", "session_start", "nlu_fallback")
REQUESTED_SLOT = "requested_slot"
SESSION_START_METADATA_SLOT = "session_started_metadata"

DOMAIN_KEYS = {
    "version",
    "intents",
    "entities",
    "slots",
    "responses",
    "actions",
    "forms",
    "session_config",
    "config",
    "e2e_actions",
}


@dataclass
class Intent:
    """An intent and which entities the dialogue policies see with it."""

    name: str
    use_entities: list[str] | None = None  # None: all entities
    ignore_entities: list[str] = field(default_factory=list)
    is_retrieval_intent: bool = False
    #: Rasa 1.x MappingPolicy `triggers: action`: acts on nothing; reported, and given back
    #: in the domain's JSON as Rasa gives it back
    triggers: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass
class Form:
    name: str
    required_slots: list[str] = field(default_factory=list)
    ignored_intents: list[str] = field(default_factory=list)
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass
class SessionConfig:
    session_expiration_time: float = 60.0  # minutes; 0 means sessions never expire
    carry_over_slots: bool = True


@dataclass
class Domain:
    intents: dict[str, Intent] = field(default_factory=dict)
    entities: list[str] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    user_actions: list[str] = field(default_factory=list)
    action_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    session_config: SessionConfig = field(default_factory=SessionConfig)
    store_entities_as_slots: bool = True
    action_texts: list[str] = field(default_factory=list)
    #: where each declared name came from, for messages that point at it
    locations: dict[str, Location] = field(default_factory=dict, compare=False, repr=False)

    # ---- reading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str) -> Domain:
        """A domain from `domain.yml` or from every domain file in a `domain/` folder."""
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and is_yaml_file(f))
            if not files:
                raise ProjectError(
                    f"the domain folder '{relative(p)}' holds no .yml files", Location(relative(p))
                )
            return cls.merge_all(cls._readable_files(p, files))
        if not p.exists():
            raise ProjectError(
                f"no domain file at '{relative(p)}'",
                Location(relative(p)),
                hint="create domain.yml (parlez init writes one) or pass --domain",
            )
        return cls._from_file(p)

    @classmethod
    def _readable_files(cls, folder: Path, files: list[Path]) -> list[Domain]:
        """The domain of each file in a folder. As in Rasa, a file that is not readable YAML
        (a syntax error, a key written twice) is skipped with a warning (P134), unless no
        file is left; a readable file with a wrong domain still stops the load."""
        found: list[Domain] = []
        skipped: list[ParlezError] = []
        for path in files:
            try:
                raw = read_yaml_file(path, allow_empty=False)
            except (FileReadError, EmptyFileError, YamlSyntaxError, SchemaError) as error:
                skipped.append(error)
                warn(
                    "P134",
                    f"the file cannot be read as a domain file and is skipped: {error.message}",
                    error.where or Location(relative(path)),
                    hint=error.hint or "fix the file, or move it out of the domain folder",
                )
                continue
            found.append(cls.from_raw(raw, Location(relative(path))))
        if not found and skipped:
            raise skipped[0]
        return found

    @classmethod
    def _from_file(cls, path: Path) -> Domain:
        raw = read_yaml_file(path, allow_empty=False)
        return cls.from_raw(raw, Location(relative(path)))

    @classmethod
    def from_yaml(cls, text: str, path: str | None = None) -> Domain:
        return cls.from_raw(read_yaml(text, path) or {}, Location(path))

    @classmethod
    def from_raw(cls, raw: Any, at: Location | None = None) -> Domain:
        """A domain from a parsed domain document (the dict Rasa's `domain.yml` holds)."""
        if not isinstance(raw, dict):
            raise SchemaError(
                "a domain file must be a mapping of keys such as 'intents:'",
                document_start(raw, at),
            )
        expand_all(raw)
        for key in raw:
            if key not in DOMAIN_KEYS:
                warn(
                    "P131",
                    f"unknown domain key '{key}' is ignored",
                    where(raw, key) or at,
                    hint=did_you_mean(key, DOMAIN_KEYS)
                    or f"known keys: {', '.join(sorted(DOMAIN_KEYS))}",
                )
        for key in ("intents", "entities", "slots", "responses", "actions", "forms"):
            if key in raw and raw[key] is None:
                # Rasa's schema refuses an empty `responses:`; reading it as "none" is
                # kinder, but the author probably meant to write something under it.
                warn(
                    "P136",
                    f"'{key}:' is empty, so the domain has no {key} from this file",
                    where(raw, key) or at,
                    hint=f"write the {key} under it, indented, or remove the key",
                )
        domain = cls()
        if at is not None:
            domain.locations["file"] = Location(at.path)
        domain._read_intents(raw.get("intents"), where(raw, "intents") or at)
        domain._read_entities(raw.get("entities"), where(raw, "entities") or at)
        slots = raw.get("slots") or {}
        if not isinstance(slots, dict):
            raise SchemaError("'slots' must be a mapping of slot names", where(raw, "slots") or at)
        for name, definition in slots.items():
            slot_at = where(slots, name) or at
            domain.slots[str(name)] = read_slot(str(name), definition, slot_at)
            if slot_at:
                domain.locations[f"slot:{name}"] = slot_at
        domain.responses = read_responses(raw.get("responses"), where(raw, "responses") or at)
        for name in domain.responses:
            found = where(raw.get("responses"), name)
            if found:
                domain.locations[f"response:{name}"] = found
        domain._read_actions(raw.get("actions"), where(raw, "actions") or at)
        domain._read_forms(raw.get("forms"), where(raw, "forms") or at)
        domain._read_session_config(raw.get("session_config"), where(raw, "session_config") or at)
        config = raw.get("config") or {}
        if isinstance(config, dict):
            domain.store_entities_as_slots = bool(config.get("store_entities_as_slots", True))
        domain.action_texts = names(
            raw.get("e2e_actions"), "e2e_actions", where(raw, "e2e_actions") or at
        )
        return domain

    def _read_intents(self, raw: Any, at: Location | None) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            raise SchemaError("'intents' must be a list", at, hint="intents:\n  - greet")
        for index, item in enumerate(raw):
            here = where(raw, index) or at
            props: dict[str, Any]
            if isinstance(item, str):
                name, props = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, props = next(iter(item.items()))
                props = props or {}
                if not isinstance(props, dict):
                    raise SchemaError(f"the properties of intent '{name}' must be a mapping", here)
            else:
                raise SchemaError(
                    "each intent must be a name, or a name with properties such as 'use_entities'",
                    here,
                    hint="- greet\n  - inform:\n      use_entities: [city]",
                )
            allowed = {"use_entities", "ignore_entities", "is_retrieval_intent", "triggers"}
            for key in props:
                if key not in allowed:
                    raise SchemaError(
                        f"intent '{name}' has the unknown property '{key}'",
                        where(props, key) or here,
                        hint=did_you_mean(key, allowed) or "use use_entities or ignore_entities",
                    )
            # Absent or `true`: every entity; `false` or null (as Rasa reads it): none.
            use = props.get("use_entities", True)
            use_entities = (
                None
                if use is True
                else ([] if use in (False, None) else names(use, f"use_entities of '{name}'", here))
            )
            intent = Intent(
                str(name),
                use_entities,
                names(props.get("ignore_entities"), f"ignore_entities of '{name}'", here),
                bool(props.get("is_retrieval_intent", False)),
                props.get("triggers"),
                here,
            )
            if intent.name in self.intents:
                _refuse_duplicate("intent", intent.name, here)
            self.intents[intent.name] = intent
            if here:
                self.locations[f"intent:{intent.name}"] = here

    def _read_entities(self, raw: Any, at: Location | None) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            raise SchemaError("'entities' must be a list", at, hint="entities:\n  - city")
        for index, item in enumerate(raw):
            here = where(raw, index) or at
            props: dict[str, Any]
            if isinstance(item, str):
                name, props = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, props = next(iter(item.items()))
                props = props or {}
            else:
                raise SchemaError("each entity must be a name, or a name with roles/groups", here)
            for key in props:
                if key not in ("roles", "groups", "influence_conversation"):
                    raise SchemaError(
                        f"entity '{name}' has the unknown property '{key}'",
                        where(props, key) or here,
                        hint=did_you_mean(key, ("roles", "groups")) or "use roles or groups",
                    )
            if str(name) in self.entities:
                _refuse_duplicate("entity", str(name), here)
            self.entities.append(str(name))
            if props.get("roles"):
                self.roles[str(name)] = names(props["roles"], f"the roles of '{name}'", here)
            if props.get("groups"):
                self.groups[str(name)] = names(props["groups"], f"the groups of '{name}'", here)
            if here:
                self.locations[f"entity:{name}"] = here

    def _read_actions(self, raw: Any, at: Location | None) -> None:
        if raw is None:
            return
        if not isinstance(raw, list):
            raise SchemaError("'actions' must be a list", at)
        for index, item in enumerate(raw):
            here = where(raw, index) or at
            if isinstance(item, dict) and len(item) == 1:
                name, props = next(iter(item.items()))
                self.action_properties[str(name)] = dict(props or {})
            elif isinstance(item, str):
                name = item
            else:
                raise SchemaError("each action must be a name", here, hint="- action_check_order")
            if str(name) in self.user_actions:
                _refuse_duplicate("action", str(name), here)
            self.user_actions.append(str(name))
            if here:
                self.locations[f"action:{name}"] = here

    def _read_forms(self, raw: Any, at: Location | None) -> None:
        if raw is None:
            return
        if not isinstance(raw, dict):
            raise SchemaError("'forms' must be a mapping of form names", at)
        for name, definition in raw.items():
            here = where(raw, name) or at
            if definition is None:
                raise SchemaError(
                    f"form '{name}' is empty: a form lists the slots it asks for",
                    here,
                    hint=f"{name}:\n    required_slots:\n      - a_slot",
                )
            if not isinstance(definition, dict):
                raise SchemaError(f"form '{name}' must be a mapping with 'required_slots'", here)
            required = definition.get("required_slots", [])
            if isinstance(required, dict) or (
                "required_slots" not in definition
                and any(k not in ("ignored_intents",) for k in definition)
            ):
                raise DomainError(
                    f"form '{name}' declares slot mappings inside the form (the Rasa 2.x format)",
                    here,
                    hint="run `parlez data migrate` to move them to the slots, as Rasa 3 expects",
                )
            for key in definition:
                if key not in ("required_slots", "ignored_intents"):
                    raise SchemaError(
                        f"form '{name}' has the unknown key '{key}'",
                        where(definition, key) or here,
                        hint=did_you_mean(key, ("required_slots", "ignored_intents"))
                        or "forms take required_slots and ignored_intents",
                    )
            if not isinstance(required, list):
                raise SchemaError(f"the required_slots of form '{name}' must be a list", here)
            ignored = names(
                definition.get("ignored_intents"),
                f"ignored_intents of '{name}'",
                here,
                single_ok=True,
            )
            required_names = names(required, f"required_slots of '{name}'", here)
            self.forms[str(name)] = Form(str(name), required_names, ignored, here)
            if here:
                self.locations[f"form:{name}"] = here

    def _read_session_config(self, raw: Any, at: Location | None) -> None:
        if raw is None:
            return
        if not isinstance(raw, dict):
            raise SchemaError("'session_config' must be a mapping", at)
        expiry = raw.get("session_expiration_time", 60)
        try:
            minutes = float(expiry if expiry is not None else 0)
        except (TypeError, ValueError):
            raise SchemaError(
                f"session_expiration_time must be a number of minutes, not {expiry!r}",
                where(raw, "session_expiration_time") or at,
            ) from None
        self.session_config = SessionConfig(
            minutes, bool(raw.get("carry_over_slots_to_new_session", True))
        )

    # ---- combining ---------------------------------------------------------------------------

    @classmethod
    def merge_all(cls, parts: list[Domain]) -> Domain:
        """One domain from several files: later files add to earlier ones, as Rasa merges."""
        merged = cls()
        for index, part in enumerate(parts):
            _merge_named("intent", merged.intents, part.intents, merged.locations, part.locations)
            _merge_named("slot", merged.slots, part.slots, merged.locations, part.locations)
            _merge_named(
                "response", merged.responses, part.responses, merged.locations, part.locations
            )
            _merge_named("form", merged.forms, part.forms, merged.locations, part.locations)
            merged.entities += [e for e in part.entities if e not in merged.entities]
            merged.roles.update(part.roles)
            merged.groups.update(part.groups)
            merged.user_actions += [a for a in part.user_actions if a not in merged.user_actions]
            merged.action_properties.update(part.action_properties)
            merged.action_texts += [t for t in part.action_texts if t not in merged.action_texts]
            for key, value in part.locations.items():
                merged.locations.setdefault(key, value)
            if index == 0 or part.session_config != SessionConfig():
                merged.session_config = part.session_config
            merged.store_entities_as_slots = (
                merged.store_entities_as_slots and part.store_entities_as_slots
            )
        return merged

    # ---- what the assistant can do -------------------------------------------------------------

    def add_retrieval_intents(self, names: Iterable[str]) -> None:
        """As Rasa's importer does with the NLU data's retrieval intents (`chitchat` of
        `chitchat/ask_name`): each is a retrieval intent of the domain, listed where the
        domain forgot it, and its action `utter_<intent>` is known."""
        for name in names:
            known = self.intents.get(name)
            self.intents[name] = (
                replace(known, is_retrieval_intent=True)
                if known
                else Intent(name, is_retrieval_intent=True)
            )
            action = f"utter_{name}"
            if action not in self.user_actions and action not in self.response_actions:
                self.user_actions.append(action)

    @property
    def intent_names(self) -> list[str]:
        return list(self.intents) + [i for i in DEFAULT_INTENTS if i not in self.intents]

    @property
    def all_slots(self) -> dict[str, Slot]:
        """Declared slots plus the ones Rasa adds: `requested_slot` and session metadata."""
        slots = dict(self.slots)
        if self.forms and REQUESTED_SLOT not in slots:
            slots[REQUESTED_SLOT] = TextSlot(REQUESTED_SLOT, influence_conversation=False)
        if SESSION_START_METADATA_SLOT not in slots:
            slots[SESSION_START_METADATA_SLOT] = AnySlot(
                SESSION_START_METADATA_SLOT, influence_conversation=False
            )
        return slots

    @property
    def response_actions(self) -> list[str]:
        """Response names as actions: `utter_faq/ask_hours` is said by the action `utter_faq`."""
        names: list[str] = []
        for name in self.responses:
            action = name.split("/")[0]
            if action not in names:
                names.append(action)
        return names

    @property
    def action_names_or_texts(self) -> list[str]:
        """Every action the policies may predict, in Rasa's order."""
        names = list(DEFAULT_ACTIONS)
        for name in [*self.user_actions, *self.forms, *self.response_actions]:
            if name not in names:
                names.append(name)
        return names + [t for t in self.action_texts if t not in names]

    def is_known_action(self, name: str) -> bool:
        return (
            name in DEFAULT_ACTIONS
            or name in self.user_actions
            or name in self.forms
            or name in self.response_actions
        )

    def entity_labels(self) -> list[str]:
        """Entities with their role and group variants (`city#from`)."""
        labels = list(self.entities)
        for entity, roles in self.roles.items():
            labels += [f"{entity}#{r}" for r in roles]
        for entity, groups in self.groups.items():
            labels += [f"{entity}#{g}" for g in groups]
        return labels

    def used_entities(self, intent: str) -> set[str]:
        """Entity labels the policies see with `intent` (use_entities minus ignore_entities)."""
        props = self.intents.get(intent)
        labels = self.entity_labels()
        if props is None:
            return set(labels)  # Rasa keeps every entity of an intent it has no settings for
        used = set(labels) if props.use_entities is None else set(props.use_entities)
        if props.use_entities is not None:
            used |= {label for label in labels if label.split("#")[0] in props.use_entities}
        ignored = set(props.ignore_entities)
        return {
            label for label in used if label not in ignored and label.split("#")[0] not in ignored
        }

    # ---- states for the dialogue policies --------------------------------------------------------

    def get_active_state(self, tracker: DialogueStateTracker) -> dict[str, dict[str, Any]]:
        """Rasa's state dict: `user`, `prev_action`, `active_loop` and `slots` sub-states."""
        state: dict[str, dict[str, Any]] = {}
        user = self._user_sub_state(tracker)
        if user:
            state["user"] = user
        if tracker.latest_action:
            state["prev_action"] = dict(tracker.latest_action)
        if tracker.active_loop_name:
            state["active_loop"] = {"name": tracker.active_loop_name}
        slots = {}
        for name, slot in self.all_slots.items():
            features = slot.features(tracker.slots.get(name))
            if features and any(features):
                slots[name] = tuple(features)
        if slots:
            state["slots"] = slots
        return state

    def _user_sub_state(self, tracker: DialogueStateTracker) -> dict[str, Any]:
        message = tracker.latest_message
        if message is None or message.is_empty():
            return {}
        state = message.as_sub_state()
        if state.get("entities"):
            kept = sorted(set(state["entities"]))
            if message.intent_name in self.intents:
                wanted = self.used_entities(message.intent_name)
                kept = [label for label in kept if label in wanted]
            if kept:
                state["entities"] = tuple(kept)
            else:
                del state["entities"]
        return state

    def states_for_tracker_history(
        self, tracker: DialogueStateTracker
    ) -> list[dict[str, dict[str, Any]]]:
        return [self.get_active_state(prior) for prior in tracker.prior_trackers()]

    # ---- writing ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The domain as Rasa serialises it (`GET /domain`, the action server's `domain`)."""
        intents: list[Any] = []
        for intent in self.intents.values():
            props: dict[str, Any] = {}
            if intent.use_entities is not None:
                props["use_entities"] = intent.use_entities
            else:
                props["use_entities"] = True
            if intent.ignore_entities:
                props["ignore_entities"] = intent.ignore_entities
            if intent.is_retrieval_intent:
                props["is_retrieval_intent"] = True
            if intent.triggers:
                props["triggers"] = intent.triggers
            intents.append({intent.name: props})
        entities: list[Any] = []
        for name in self.entities:
            extra: dict[str, Any] = {}
            if name in self.roles:
                extra["roles"] = self.roles[name]
            if name in self.groups:
                extra["groups"] = self.groups[name]
            entities.append({name: extra} if extra else name)
        return {
            "version": "3.1",
            "intents": intents,
            "entities": entities,
            "slots": {name: slot.to_dict() for name, slot in self.all_slots.items()},
            "responses": self.responses,
            "actions": self.user_actions,
            "forms": {
                f.name: {"required_slots": f.required_slots}
                | ({"ignored_intents": f.ignored_intents} if f.ignored_intents else {})
                for f in self.forms.values()
            },
            "e2e_actions": self.action_texts,
            "session_config": {
                "session_expiration_time": self.session_config.session_expiration_time,
                "carry_over_slots_to_new_session": self.session_config.carry_over_slots,
            },
            "config": {"store_entities_as_slots": self.store_entities_as_slots},
        }


T = TypeVar("T")


def _refuse_duplicate(kind: str, name: str, where: Location | None) -> NoReturn:
    """A name listed twice in one file is a mistake Rasa refuses (InvalidDomain); across
    files of a domain folder it is a merge (P133)."""
    raise DuplicateNameError(
        f"the {kind} '{name}' is listed twice in this domain file", where, hint="remove one"
    )


def _merge_named(
    kind: str,
    mine: dict[str, T],
    theirs: dict[str, T],
    my_places: dict[str, Location],
    their_places: dict[str, Location],
) -> None:
    """Add `theirs` to `mine`; a name declared twice keeps its first declaration, with a warning."""
    for name, value in theirs.items():
        if name not in mine:
            mine[name] = value
            continue
        first = my_places.get(f"{kind}:{name}")
        warn(
            "P133",
            f"the {kind} '{name}' is declared in more than one domain file"
            + (f" (first at {first})" if first else ""),
            their_places.get(f"{kind}:{name}"),
            hint="keep one declaration; the first one is used",
        )


def is_domain_document(raw: Any) -> bool:
    """Whether a parsed YAML file looks like a domain file rather than training data."""
    return (
        isinstance(raw, YamlMap | dict)
        and any(
            key in raw
            for key in (
                "intents",
                "slots",
                "responses",
                "actions",
                "forms",
                "entities",
                "session_config",
            )
        )
        and not any(key in raw for key in ("nlu", "stories", "rules"))
    )
