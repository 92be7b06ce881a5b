"""End-to-end stories (`user: "..."`) trained with `parlez train`: TED reads their text
with the NLU pipeline's featurizers, and a loaded model predicts from a new message's text."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parlez.agent import Agent
from parlez.core.policies.ted import TEDPolicy
from parlez.training import train
from tests.conftest import ProjectFactory
from tests.core.helpers import MOOD_DOMAIN

NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
- intent: mood
  examples: |
    - I feel sad
    - I feel great
    - I am very unhappy
    - I am wonderful
"""

STORIES = """
version: "3.1"
stories:
- story: sad
  steps:
  - user: "I feel sad"
  - action: utter_cheer_up
- story: very unhappy
  steps:
  - user: "I am very unhappy"
  - action: utter_cheer_up
- story: great
  steps:
  - user: "I feel great"
  - action: utter_happy
- story: wonderful
  steps:
  - user: "I am wonderful"
  - action: utter_happy
- story: greet
  steps:
  - intent: greet
  - action: utter_greet
"""

CONFIG = """
language: en
pipeline:
- name: WhitespaceTokenizer
- name: CountVectorsFeaturizer
- name: LanguageModelFeaturizer
- name: DIETClassifier
  epochs: 40
  random_seed: 1
policies:
- name: TEDPolicy
  epochs: 100
  max_history: 3
  random_seed: 1
"""


def test_ted_reads_end_to_end_text_with_the_nlu_pipeline(
    tmp_project: ProjectFactory, tmp_path: Path
) -> None:
    project = tmp_project(domain=MOOD_DOMAIN, nlu=NLU, stories=STORIES, config=CONFIG)
    result = train(project, tmp_path / "models")
    agent = Agent.load(result.archive)
    (ted,) = agent.processor.ensemble.policies
    assert isinstance(ted, TEDPolicy)
    assert ted.text_mode_ == "nlu" and ted.dense_size_ > 0 and ted.reads_text

    def answer(text: str) -> str:
        (said,) = asyncio.run(agent.handle_text(text, text))
        return str(said["text"])

    # Both moods are the same intent: only the words tell the answers apart.
    assert answer("honestly I feel very sad today") == "Here is a kitten."
    assert answer("today I feel wonderful") == "Great to hear!"
    assert answer("hello") == "Hello"
