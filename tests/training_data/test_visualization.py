"""The stories drawn as a graph: each conversation a path from START to END, turns with the
same `max_history` turns before them one node, loops drawn back up, and what a designer or
customer wrote escaped in the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parlez.cli.main import main
from parlez.diagnostics import collect
from parlez.io.yaml import read_yaml
from parlez.training_data.stories import StoryBlock, read_story_section
from parlez.training_data.visualization import Graph, html_page, layout, story_graph
from tests.conftest import ProjectFactory, nlu_file

STORIES = """
version: "3.1"
stories:
- story: happy
  steps:
  - intent: greet
  - action: utter_greet
  - intent: mood_great
  - action: utter_happy
- story: sad
  steps:
  - intent: greet
  - action: utter_greet
  - intent: mood_unhappy
  - action: utter_cheer_up
"""


def _blocks(text: str) -> list[StoryBlock]:
    with collect():
        return read_story_section(read_yaml(text)["stories"], "story")


def _edges(graph: Graph) -> set[tuple[str, str]]:
    return {(graph.labels[a], graph.labels[b]) for a, b in graph.edges}


def test_stories_that_begin_alike_share_their_first_turns_and_part_after() -> None:
    graph = story_graph(_blocks(STORIES))
    assert graph.labels.count("/greet") == graph.labels.count("utter_greet") == 1
    assert _edges(graph) == {
        ("START", "/greet"),
        ("/greet", "utter_greet"),
        ("utter_greet", "/mood_great"),
        ("utter_greet", "/mood_unhappy"),
        ("/mood_great", "utter_happy"),
        ("/mood_unhappy", "utter_cheer_up"),
        ("utter_happy", "END"),
        ("utter_cheer_up", "END"),
    }


def test_turns_are_one_node_only_where_their_history_is_the_same() -> None:
    stories = (
        STORIES
        + """
- story: goodbye after greeting
  steps:
  - intent: greet
  - action: utter_goodbye
- story: goodbye alone
  steps:
  - intent: bye
  - action: utter_goodbye
"""
    )
    # "utter_goodbye" follows /greet in one story and /bye in the other: two nodes when the
    # turn before counts, one when no history does
    assert story_graph(_blocks(stories), max_history=1).labels.count("utter_goodbye") == 2
    merged = story_graph(_blocks(stories), max_history=0)
    assert merged.labels.count("utter_goodbye") == 1


def test_a_loop_of_checkpoints_is_drawn_back_up() -> None:
    looping = """
stories:
- story: ask
  steps:
  - intent: greet
  - action: utter_ask
  - checkpoint: asked
- story: again
  steps:
  - checkpoint: asked
  - intent: deny
  - action: utter_ask
  - checkpoint: asked
- story: done
  steps:
  - checkpoint: asked
  - intent: affirm
  - action: utter_bye
"""
    graph = story_graph(_blocks(looping), max_history=1)
    placed = layout(graph)
    assert placed.back  # round the loop
    assert sorted(n for row in placed.rows for n in row if n < len(graph.labels)) == list(
        range(len(graph.labels))
    )
    assert 'class="edge loop"' in html_page(graph)


def test_intents_are_shown_as_a_first_example_when_nlu_data_is_given(
    tmp_project: ProjectFactory,
) -> None:
    project = tmp_project(
        nlu=nlu_file("""
- intent: greet
  examples: |
    - hi <b>there</b>
    - hello
"""),
        stories=STORIES,
    )
    page = html_page(story_graph(project.stories, nlu=project.training_data))
    assert "hi &lt;b&gt;there&lt;/b&gt;" in page and "<b>" not in page
    assert "/greet" not in page and "/mood_great" in page


def test_parlez_visualize_writes_the_page(
    tmp_project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_project(stories=STORIES)
    monkeypatch.chdir(tmp_path)
    assert main(["visualize", "--out", "out/stories.html", "-d", "domain.yml"]) == 0
    page = (tmp_path / "out" / "stories.html").read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert len(re.findall(r"<g class=\"node", page)) == 6 + 2  # the turns, START and END
