"""What Rasa's importer makes of a project's retrieval intents and responses (test_importer,
on Rasa's fixtures): the NLU data's retrieval intents are retrieval intents of the domain,
listed where it forgot them, each with its `utter_` action; responses written in a data
file are the domain's too."""

from __future__ import annotations

from pathlib import Path

from parlez.diagnostics import collect
from parlez.project import Project
from parlez.validator import Validator
from tests.conftest import shared_path


def rasa_data(*parts: str) -> Path:
    return shared_path("compat", "rasa-3.0.4", "data", *parts)


def project(domain: str, *data: str) -> Project:
    """Rasa's files given as `--domain` and `--data`, with Rasa's default config."""
    return Project(
        rasa_data(),
        domain=rasa_data("test_domains", domain),
        data=[rasa_data(*d.split("/")) for d in data],
        config=Path("config-not-there.yml"),
    )


def test_the_data_retrieval_intents_are_the_domains() -> None:
    """test_nlu_data_domain_sync_with_retrieval_intents."""
    found = project(
        "default_retrieval_intents.yml",
        "test/stories_default_retrieval_intents.yml",
        "test_responses/default.yml",
    )
    with collect():
        domain = found.domain
        responses = found.nlu_training_data().responses
    assert [n for n, i in domain.intents.items() if i.is_retrieval_intent] == ["chitchat"]
    assert {n: v for n, v in domain.responses.items() if "/" in n} == responses
    assert "utter_chitchat" in domain.action_names_or_texts
    assert {"chitchat": {"use_entities": True, "is_retrieval_intent": True}} in domain.to_dict()[
        "intents"
    ]


def test_a_retrieval_intent_the_domain_does_not_list_is_added_not_refused() -> None:
    """test_response_missing: Rasa adds `chitchat` and `utter_chitchat`, then warns that the
    action has no response; `data validate` did refuse the intent (P201)."""
    found = project("missing_chitchat_response.yml", "test/simple_retrieval_intent_nlu.yml")
    with collect():
        findings = Validator.for_project(found).run(max_history=5)
    assert found.domain.intents["chitchat"].is_retrieval_intent
    assert not [f for f in findings if f.level == "error"]
    assert [f.message for f in findings if f.code == "P208"] == [
        "the action 'utter_chitchat' looks like a response but no response has that name"
    ]


def test_a_retrieval_action_with_its_responses_is_not_warned_about() -> None:
    """test_subintent_response_matches_with_action: `utter_chitchat` says `utter_chitchat/...`."""
    found = project("simple_retrieval_intent.yml", "test/simple_retrieval_intent_nlu.yml")
    with collect():
        findings = Validator.for_project(found).run(max_history=5)
    assert not [f for f in findings if f.code == "P208"]


def test_responses_in_a_data_file_are_the_domains() -> None:
    """test_nlu_data_domain_sync_responses."""
    found = project("default.yml", "test_responses/responses_utter_rasa.yml")
    with collect():
        assert "utter_rasa" in found.domain.responses
