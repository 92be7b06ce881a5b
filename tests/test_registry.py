"""One registry: Rasa's names and the user's dotted paths resolve the same way for every kind
of part, and a name that resolves to nothing gets one kind of error, with the closest names."""

from __future__ import annotations

import warnings

import pytest

from parlez import registry
from parlez.channels.channel import ChannelConfigError
from parlez.channels.rest import RestInput
from parlez.llm.errors import LLMConfigError
from parlez.llm.openai import OpenAILLM
from parlez.nlu.tokenizers.whitespace import WhitespaceTokenizer
from parlez.stores.errors import StoreConfigError
from parlez.stores.lock_store import RedisLockStore
from parlez.stores.sql import SQLTrackerStore

#: (registry, a built-in's name, its dotted path, the class, the error its kind raises)
KINDS = [
    (
        registry.components,
        "WhitespaceTokenizer",
        "parlez.nlu.tokenizers.whitespace.WhitespaceTokenizer",
        WhitespaceTokenizer,
        registry.UnknownComponentError,
    ),
    (registry.channels, "rest", "parlez.channels.rest.RestInput", RestInput, ChannelConfigError),
    (
        registry.tracker_stores,
        "SQL",
        "parlez.stores.sql.SQLTrackerStore",
        SQLTrackerStore,
        StoreConfigError,
    ),
    (
        registry.lock_stores,
        "redis",
        "parlez.stores.lock_store.RedisLockStore",
        RedisLockStore,
        StoreConfigError,
    ),
    (registry.llm_clients, "openai", "parlez.llm.openai.OpenAILLM", OpenAILLM, LLMConfigError),
]
IDS = [kind[0].kind for kind in KINDS]


@pytest.mark.parametrize(("found", "name", "path", "cls", "error"), KINDS, ids=IDS)
def test_a_name_and_a_dotted_path_give_the_same_class(
    found: registry.Registry[object], name: str, path: str, cls: type, error: type
) -> None:
    assert found.get(name) is cls
    assert found.get(path) is cls


@pytest.mark.parametrize(("found", "name", "path", "cls", "error"), KINDS, ids=IDS)
def test_a_misspelt_name_is_refused_with_the_closest_names(
    found: registry.Registry[object], name: str, path: str, cls: type, error: type
) -> None:
    misspelt = name[:-1] + "x" + name[-1]
    with pytest.raises(error, match=f"unknown {found.kind} '{misspelt}'") as caught:
        found.get(misspelt)
    assert caught.value.hint is not None and name.lower() in caught.value.hint.lower()


@pytest.mark.parametrize(("found", "name", "path", "cls", "error"), KINDS, ids=IDS)
def test_a_dotted_path_that_imports_nothing_names_the_path(
    found: registry.Registry[object], name: str, path: str, cls: type, error: type
) -> None:
    with pytest.raises(error, match=r"cannot import 'nowhere\.to\.be\.Found'"):
        found.get("nowhere.to.be.Found")


def test_a_class_of_another_kind_is_refused() -> None:
    with pytest.raises(StoreConfigError, match="is not a subclass of TrackerStore"):
        registry.tracker_stores.get("parlez.stores.lock_store.RedisLockStore")


def test_store_names_ignore_case_as_rasa_does_and_component_names_do_not() -> None:
    assert registry.tracker_stores.get("sql") is registry.tracker_stores.get("SQL")
    with pytest.raises(registry.UnknownComponentError):
        registry.components.get("whitespacetokenizer")


def test_an_old_import_path_still_works_with_a_warning() -> None:
    from parlez.stores import factory
    from parlez.stores import tracker_store as old

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moved = old.stores_from_endpoints
    assert moved is factory.stores_from_endpoints
    assert any(
        issubclass(w.category, DeprecationWarning) and "parlez.stores.factory" in str(w.message)
        for w in caught
    )


@pytest.mark.parametrize(
    ("kinds", "name", "why", "instead"),
    [
        (registry.components, "MitieNLP", "MITIE's own model files", "LanguageModelFeaturizer"),
        (registry.components, "ConveRTFeaturizer", "no longer published", "WhitespaceTokenizer"),
        (registry.components, "HFTransformersNLP", "Rasa 3 removed it", "LanguageModelFeaturizer"),
        (registry.policies, "MappingPolicy", "Rasa 3 removed it", "write a rule"),
        (registry.policies, "FallbackPolicy", "Rasa 3 removed it", "FallbackClassifier"),
    ],
)
def test_a_rasa_name_parlez_has_no_class_for_says_why_and_what_to_use(
    kinds: registry.Registry[object], name: str, why: str, instead: str
) -> None:
    """Not the closest-name guess ("did you mean 'JiebaTokenizer'?" for ConveRTTokenizer)."""
    with pytest.raises(registry.UnknownComponentError) as refused:
        kinds.get(name)
    assert why in refused.value.message
    assert refused.value.hint is not None and instead in refused.value.hint
