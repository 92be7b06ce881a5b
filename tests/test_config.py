from __future__ import annotations

from pathlib import Path

import pytest

from parlez.config import DEFAULT_PIPELINE, DEFAULT_POLICIES, Config, configured_language
from parlez.diagnostics import collect
from parlez.endpoints import Endpoints, read_credentials
from parlez.exceptions import MissingEnvironmentVariableError, SchemaError
from tests.conftest import write


def test_pipeline_and_policies_are_read_with_their_parameters() -> None:
    config = Config.from_yaml("""
recipe: default.v1
language: de
assistant_id: shop_bot
pipeline:
  - name: WhitespaceTokenizer
  - name: DIETClassifier
    epochs: 5
policies:
  - name: TEDPolicy
    max_history: 8
  - name: RulePolicy
""")
    assert config.language == "de" and config.assistant_id == "shop_bot"
    assert [c.name for c in config.pipeline] == ["WhitespaceTokenizer", "DIETClassifier"]
    assert config.pipeline[1].params == {"epochs": 5}
    assert config.max_history() == 8
    assert config.defaulted == []


def test_train_augmentation_sets_the_factor_of_the_policies_that_glue_stories() -> None:
    """`parlez train --augmentation N`, as Rasa's: TEDPolicy learns from N glued stories;
    the other policies never read augmented ones."""
    config = Config.from_yaml(
        "policies:\n  - name: TEDPolicy\n    augmentation_factor: 20\n  - name: RulePolicy\n"
    )
    config.set_augmentation(0)
    assert [p.params for p in config.policies] == [{"augmentation_factor": 0}, {}]


def test_missing_pipeline_and_policies_get_rasa_s_defaults() -> None:
    with collect():
        config = Config.from_yaml(
            "language: en\nassistant_id: a\npipeline:\npolicies:\n# - name: RulePolicy\n"
        )
    assert [c.to_dict() for c in config.pipeline] == DEFAULT_PIPELINE
    assert [c.to_dict() for c in config.policies] == DEFAULT_POLICIES
    assert config.defaulted == ["pipeline", "policies"]


def test_a_missing_assistant_id_is_a_warning_with_a_placeholder() -> None:
    with collect() as warnings:
        config = Config.from_yaml("language: en\n")
    assert config.assistant_id == "placeholder_default"
    assert "P163" in [w.code for w in warnings]


def test_a_component_without_a_name_is_an_error() -> None:
    with pytest.raises(SchemaError, match="needs a 'name'"):
        Config.from_yaml("assistant_id: a\npipeline:\n  - epochs: 3\n")


def test_an_unknown_recipe_is_an_error() -> None:
    with pytest.raises(SchemaError, match="unknown recipe"):
        Config.from_yaml("recipe: fancy.v9\n")


def test_endpoints_expand_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    path = write(
        tmp_path / "endpoints.yml",
        """
action_endpoint:
  url: ${ACTIONS_URL}
tracker_store:
  type: SQL
  dialect: postgresql
  password: ${DB_PASSWORD}
lock_store:
  type: redis
  url: localhost
""",
    )
    endpoints = Endpoints.load(path)
    assert endpoints.action is not None and endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert (
        endpoints.tracker_store is not None
        and endpoints.tracker_store.kwargs["password"] == "s3cret"
    )
    assert endpoints.lock_store is not None and endpoints.lock_store.type == "redis"


def test_an_actions_module_runs_custom_actions_in_process(tmp_path: Path) -> None:
    path = write(tmp_path / "endpoints.yml", "action_endpoint:\n  actions_module: actions\n")
    assert Endpoints.load(path).actions_module == "actions"


def test_an_unset_variable_in_credentials_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path / "credentials.yml", "facebook:\n  verify: ${FB_VERIFY}\n")
    with pytest.raises(MissingEnvironmentVariableError, match="FB_VERIFY") as caught:
        read_credentials(path)
    assert caught.value.where is not None and caught.value.where.line == 2


def test_credentials_map_channels_to_their_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path / "credentials.yml", "rest:\nsocketio:\n  user_message_evt: user_uttered\n"
    )
    assert read_credentials(path) == {"rest": {}, "socketio": {"user_message_evt": "user_uttered"}}


def test_the_pipeline_says_which_intents_its_components_give() -> None:
    config = Config.from_yaml(
        "pipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: FallbackClassifier\n"
        "  - name: SentimentAnalyzer\n"
        "    negative_intent: complain\n"
        "  - name: NoSuchComponent\n"
    )
    assert config.pipeline_intents() == frozenset({"nlu_fallback", "complain"})


def test_the_configured_language_is_read_alone_without_a_word(tmp_path: Path) -> None:
    """What picks a Dialogflow export's examples while the data is read: the rest of the
    config is checked where the config is read, once."""
    config = write(tmp_path / "config.yml", "language: fr\npipeline: [{name: Nope}]\nodd: 1\n")
    broken = write(tmp_path / "broken.yml", "language: [fr\n")
    with collect() as warnings:
        assert configured_language(config) == "fr"
        assert configured_language(broken) == "en"
        assert configured_language(tmp_path / "missing.yml") == "en"
    assert list(warnings) == []
