"""Whatever a project file holds, reading it gives a clear parlez error or works: never a crash."""

from __future__ import annotations

import pytest

from parlez.config import Config
from parlez.diagnostics import collect
from parlez.domain import Domain
from parlez.exceptions import ParlezError
from parlez.io.yaml import read_yaml
from parlez.training_data.nlu_yaml import read_nlu_section
from parlez.training_data.stories import read_story_section

BAD_DOMAINS = [
    "- just\n- a list\n",
    "plain text\n",
    "intents: 5\n",
    "intents: [[a]]\n",
    "intents:\n  - greet: 5\n",
    "intents:\n  - greet:\n      use_entities: 5\n",
    "entities: {a: 1}\n",
    "entities:\n  - city:\n      roles: 5\n",
    "slots: [a]\n",
    "slots:\n  a: 5\n",
    "slots:\n  a:\n    type: float\n    max_value: high\n",
    "slots:\n  a:\n    type: text\n    mappings: 5\n",
    "slots:\n  a:\n    type: text\n    mappings:\n    - type: from_entity\n      entity: a\n      conditions: 5\n",
    "slots:\n  a:\n    type: categorical\n    values: 5\n",
    "responses: 5\n",
    "responses:\n  utter_a: 5\n",
    "responses:\n  utter_a:\n  - 5\n",
    "responses:\n  utter_a:\n  - text: hi\n    buttons: 5\n",
    "responses:\n  utter_a:\n  - text: hi\n    condition: 5\n",
    "actions: 5\n",
    "actions:\n  - [a]\n",
    "forms: [a]\n",
    "forms:\n  f: [a]\n",
    "forms:\n  f:\n    required_slots: 5\n",
    "forms:\n  f:\n    required_slots: [a]\n    ignored_intents: 5\n",
    "session_config: 5\n",
    "session_config:\n  session_expiration_time: soon\n",
    "config: 5\n",
    "e2e_actions: 5\n",
]

BAD_NLU = [
    "nlu: {a: 1}\n",
    "nlu: [5]\n",
    "nlu:\n- intent: [a]\n  examples: '- hi'\n",
    "nlu:\n- intent: a\n  examples: 5\n",
    "nlu:\n- intent: a\n  examples:\n  - [x]\n",
    "nlu:\n- intent: a\n  examples:\n  - metadata: 1\n",
    "nlu:\n- intent: a\n  examples: |\n    - [x]{not json}\n",
    'nlu:\n- intent: a\n  examples: |\n    - [x]{"entity": 5, "oops": 1}\n',
    "nlu:\n- lookup: a\n  examples: missing_file.txt\n",
]

BAD_STORIES = [
    "stories: 5\n",
    "stories: [5]\n",
    "stories:\n- story: a\n  steps: 5\n",
    "stories:\n- story: a\n  steps: [5]\n",
    "stories:\n- story: a\n  steps:\n  - intent: [a]\n",
    "stories:\n- story: a\n  steps:\n  - intent: a\n    entities: 5\n",
    "stories:\n- story: a\n  steps:\n  - intent: a\n    entities: [[x]]\n",
    "stories:\n- story: a\n  steps:\n  - slot_was_set: 5\n",
    "stories:\n- story: a\n  steps:\n  - slot_was_set: [[x]]\n",
    "stories:\n- story: a\n  steps:\n  - or: 5\n",
    "stories:\n- story: a\n  steps:\n  - or: [5]\n",
    "stories:\n- story: a\n  steps:\n  - or:\n    - action: x\n",
    "stories:\n- story: a\n  steps:\n  - action: [x]\n",
    "stories:\n- story: a\n  steps:\n  - {}\n",
    'stories:\n- story: a\n  steps:\n  - user: "[x"\n',
]

BAD_CONFIGS = [
    "5\n",
    "pipeline: 5\n",
    "pipeline: [5]\n",
    "pipeline:\n  - name:\n",
    "policies: {a: 1}\n",
    "language: [en]\n",
]


def _never_crashes(read: object, text: str) -> None:
    with collect():
        try:
            read(text)  # type: ignore[operator]
        except ParlezError as error:
            assert error.message
            assert error.code.startswith("P")


@pytest.mark.parametrize("text", BAD_DOMAINS)
def test_a_malformed_domain_gives_a_parlez_error(text: str) -> None:
    _never_crashes(lambda t: Domain.from_yaml(t, "domain.yml"), text)


@pytest.mark.parametrize("text", BAD_NLU)
def test_malformed_nlu_data_gives_a_parlez_error(text: str) -> None:
    _never_crashes(lambda t: read_nlu_section(read_yaml(t, "nlu.yml")["nlu"]), text)


@pytest.mark.parametrize("text", BAD_STORIES)
def test_malformed_stories_give_a_parlez_error(text: str) -> None:
    _never_crashes(
        lambda t: read_story_section(read_yaml(t, "stories.yml")["stories"], "story"), text
    )


@pytest.mark.parametrize("text", BAD_CONFIGS)
def test_a_malformed_config_gives_a_parlez_error(text: str) -> None:
    _never_crashes(lambda t: Config.from_yaml(t, "config.yml"), text)
