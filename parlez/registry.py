"""Name -> class registries: a name in config.yml, endpoints.yml or credentials.yml resolves
here, Rasa's names included, and so does the dotted path of the user's own class.

One mechanism for every kind (NLU components, policies, channels, tracker stores, lock
stores, event brokers, LLM clients): the built-ins register under their names when their
modules are imported, a dotted path is imported on demand, and both fail with the same
error, naming the closest known names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from parlez.exceptions import Location, ParlezError, did_you_mean

if TYPE_CHECKING:
    from parlez.channels.channel import InputChannel
    from parlez.core.policies.policy import Policy
    from parlez.llm.base import LLM
    from parlez.nlu.component import Component
    from parlez.stores.event_broker import EventBroker
    from parlez.stores.lock_store import LockStore
    from parlez.stores.tracker_store import TrackerStore

T = TypeVar("T")


class UnknownComponentError(ParlezError):
    code = "P180"


class Registry(Generic[T]):
    """Classes registered under one or more names; aliases resolve to the same class."""

    def __init__(
        self,
        kind: str,
        builtins: str | Sequence[str],
        base: str,
        *,
        error: str = "parlez.registry.UnknownComponentError",
        source: str = "",
        case_sensitive: bool = True,
        names_classes: bool = True,
        absent: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        #: what a name names, as errors say it ("component", "tracker_store type"...)
        self.kind = kind
        #: the modules whose import registers the built-in classes
        self.builtins = (builtins,) if isinstance(builtins, str) else tuple(builtins)
        # Dotted paths, imported when first needed: the registry sits below the packages
        # that register into it and must not import them.
        #: the class every registered or user class derives from
        self.base = base
        #: the ParlezError a name that resolves to nothing raises
        self.error = error
        #: the file the names come from, for errors ("credentials.yml")
        self.source = source
        self.case_sensitive = case_sensitive
        #: set `cls.name` to the registered name (channels have Rasa's `name()` instead)
        self.names_classes = names_classes
        #: Rasa's names parlez has no class for, with why and what to use instead
        self.absent = absent or {}
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str, *aliases: str) -> Callable[[type[T]], type[T]]:
        def add(cls: type[T]) -> type[T]:
            for key in (name, *aliases):
                key = self._key(key)
                if key in self._classes and self._classes[key] is not cls:
                    raise ValueError(f"{self.kind} '{key}' is registered twice")
                self._classes[key] = cls
            if self.names_classes:
                cls.name = name  # type: ignore[attr-defined]
            return cls

        return add

    def get(self, name: str, where: Location | None = None) -> type[T]:
        """The class registered as `name`, or the one its dotted path names."""
        self._load_builtins()
        found = self._classes.get(self._key(name))
        if found is not None:
            return found
        if "." in name.strip("."):
            return self._import(name, where)
        if name in self.absent:
            why, instead = self.absent[name]
            raise self._error()(
                f"unknown {self.kind} '{name}'{self._in_source()}: {why}", where, hint=instead
            )
        raise self._error()(
            f"unknown {self.kind} '{name}'{self._in_source()}",
            where,
            hint=did_you_mean(name, self.names())
            or f"known: {', '.join(self.names())}; or the dotted path of your own "
            f"{self._base_name()} class",
        )

    def names(self) -> list[str]:
        self._load_builtins()
        return sorted(self._classes)

    def __contains__(self, name: str) -> bool:
        self._load_builtins()
        return self._key(name) in self._classes

    def __iter__(self) -> Iterator[type[T]]:
        self._load_builtins()
        seen: list[type[T]] = []
        for cls in self._classes.values():
            if cls not in seen:
                seen.append(cls)
        return iter(seen)

    def _import(self, path: str, where: Location | None) -> type[T]:
        error = self._error()
        cls = load_class(path, error, where)
        base = load_class(self.base, error, None)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise error(f"'{path}'{self._in_source()} is not a subclass of {base.__name__}", where)
        return cls

    def _error(self) -> type[ParlezError]:
        error: type[ParlezError] = load_class(self.error)
        return error

    def _key(self, name: str) -> str:
        return name if self.case_sensitive else name.lower()

    def _in_source(self) -> str:
        return f" in {self.source}" if self.source else ""

    def _base_name(self) -> str:
        return self.base.rpartition(".")[2]

    def _load_builtins(self) -> None:
        # Importing the modules runs their @register decorators.
        for module in self.builtins:
            importlib.import_module(module)


def load_class(
    path: str, error: type[ParlezError] = UnknownComponentError, where: Location | None = None
) -> Any:
    """The object `package.module.Name` names, imported; `error` says what went wrong."""
    module_name, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as problem:
        raise error(
            f"cannot import '{path}': {problem}",
            where,
            hint="give the full dotted path of a class importable from the project folder "
            "(run parlez in the project folder)",
        ) from problem


_ENCODER = "WhitespaceTokenizer and LanguageModelFeaturizer, which reads the packaged encoder"
_MITIE = (
    "Rasa's MITIE components need MITIE's own model files, which parlez does not read",
    f"use {_ENCODER}; DIETClassifier finds intents and entities",
)
components: Registry[Component] = Registry(
    "component",
    "parlez.nlu.builtin_components",
    "parlez.nlu.component.Component",
    absent={
        **dict.fromkeys(
            (
                "MitieNLP",
                "MitieTokenizer",
                "MitieFeaturizer",
                "MitieEntityExtractor",
                "MitieIntentClassifier",
            ),
            _MITIE,
        ),
        **dict.fromkeys(
            ("ConveRTTokenizer", "ConveRTFeaturizer"),
            ("ConveRT's model is no longer published", f"use {_ENCODER}"),
        ),
        **dict.fromkeys(
            ("LanguageModelTokenizer", "HFTransformersNLP"),
            ("Rasa 3 removed it", f"use {_ENCODER}"),
        ),
        "EmbeddingIntentClassifier": ("Rasa 2 replaced it", "use DIETClassifier"),
    },
)
register_component = components.register
policies: Registry[Policy] = Registry(
    "policy",
    "parlez.core.policies",
    "parlez.core.policies.policy.Policy",
    absent={
        "MappingPolicy": (
            "Rasa 3 removed it",
            "write a rule ('- intent: greet' then '- action: utter_greet') for RulePolicy",
        ),
        **dict.fromkeys(
            ("FallbackPolicy", "TwoStageFallbackPolicy"),
            (
                "Rasa 3 removed it",
                "add FallbackClassifier to the pipeline and set RulePolicy's "
                "core_fallback_threshold",
            ),
        ),
        "FormPolicy": ("Rasa 3 removed it", "RulePolicy runs forms: list it instead"),
        "SklearnPolicy": ("Rasa 3 removed it", "use TEDPolicy"),
    },
)
register_policy = policies.register
channels: Registry[InputChannel] = Registry(
    "channel",
    (
        "parlez.channels.rest",
        "parlez.channels.socketio",
        "parlez.channels.callback",
        "parlez.channels.facebook",
        "parlez.channels.twilio",
        "parlez.channels.twilio_voice",
        "parlez.channels.telegram",
        "parlez.channels.slack",
    ),
    "parlez.channels.channel.InputChannel",
    error="parlez.channels.channel.ChannelConfigError",
    source="credentials.yml",
    names_classes=False,
)
register_channel = channels.register
tracker_stores: Registry[TrackerStore] = Registry(
    "tracker_store type",
    ("parlez.stores.tracker_store", "parlez.stores.sql"),
    "parlez.stores.tracker_store.TrackerStore",
    error="parlez.stores.errors.StoreConfigError",
    case_sensitive=False,
    names_classes=False,
)
lock_stores: Registry[LockStore] = Registry(
    "lock_store type",
    "parlez.stores.lock_store",
    "parlez.stores.lock_store.LockStore",
    error="parlez.stores.errors.StoreConfigError",
    case_sensitive=False,
    names_classes=False,
)
event_brokers: Registry[EventBroker] = Registry(
    "event_broker type",
    "parlez.stores.event_broker",
    "parlez.stores.event_broker.EventBroker",
    error="parlez.stores.errors.StoreConfigError",
    case_sensitive=False,
    names_classes=False,
)
llm_clients: Registry[LLM] = Registry(
    "llm type",
    ("parlez.llm.anthropic", "parlez.llm.openai"),
    "parlez.llm.base.LLM",
    error="parlez.llm.errors.LLMConfigError",
    case_sensitive=False,
    names_classes=False,
)
register_llm = llm_clients.register
