"""Rasa's test_visualization on its own stories (`data/test_yaml_stories/stories.yml`):
the merged graph's size in the range Rasa's test allows, intents shown as `/affirm`, or as
a message of the NLU data when it is given, and nothing shown as "None"."""

from __future__ import annotations

from parlez.diagnostics import collect
from parlez.io.yaml import read_yaml
from parlez.training_data.example import Example
from parlez.training_data.stories import StoryBlock, read_story_section
from parlez.training_data.training_data import TrainingData
from parlez.training_data.visualization import html_page, story_graph
from tests.conftest import shared_path


def _rasa_stories() -> list[StoryBlock]:
    path = shared_path("compat", "rasa-3.0.4", "data", "test_yaml_stories", "stories.yml")
    with collect():
        return read_story_section(read_yaml(path.read_text(encoding="utf-8"))["stories"], "story")


def test_the_merged_graph_is_the_size_rasas_test_allows() -> None:
    with collect():
        graph = story_graph(_rasa_stories(), max_history=3)
    page = html_page(graph)
    assert 15 < len(graph.labels) < 33 and 20 < len(graph.edges) < 33
    assert "/affirm" in page and "None" not in page


def test_an_intent_is_shown_as_a_message_of_the_nlu_data() -> None:
    nlu = TrainingData([Example(text="test text", intent="affirm")])
    with collect():
        page = html_page(story_graph(_rasa_stories(), max_history=3, nlu=nlu))
    assert "test text" in page and "/affirm" not in page
