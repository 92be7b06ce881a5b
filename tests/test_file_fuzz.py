"""A broken project file, however it is broken (flipped bytes, cut short, wrong types, deep
nesting, alias bombs, invalid UTF-8...), is read or refused with a ParlezError that names the
file and, where the problem has a place, its line: never a traceback, a hang or gigabytes."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parlez import diagnostics
from parlez.exceptions import EmptyFileError, FileTooLargeError, ParlezError, ProjectError
from parlez.nlu.pipeline import Pipeline
from parlez.project import Project
from parlez.validator import Validator
from tests import small_assistant
from tests.fuzzing import mutations

FILES = {
    "domain.yml": small_assistant.DOMAIN,
    "config.yml": small_assistant.CONFIG,
    "data/nlu.yml": small_assistant.NLU,
    "data/rules.yml": small_assistant.RULES,
    "credentials.yml": "rest:\nsocketio:\n  user_message_evt: user_uttered\n",
    "endpoints.yml": "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: c.db\n",
    "tests/test_stories.yml": 'version: "3.1"\nstories:\n- story: s\n  steps:\n  - user: hi\n'
    "    intent: greet\n  - action: utter_greet\n",
}

#: Errors about a whole file: they have no line to name.
WHOLE_FILE = (EmptyFileError, FileTooLargeError, ProjectError)

#: Python memory one file may take to read, far above what the small project needs.
MEMORY_BUDGET = 64 * 1024 * 1024


def write_project(root: Path, broken: str, content: bytes) -> None:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == broken:
            path.write_bytes(content)
        else:
            path.write_text(text.lstrip("\n"), encoding="utf-8")


def read_everything(root: Path) -> None:
    """What `parlez data validate` reads, in the same order."""
    project = Project(root)
    with diagnostics.collect():
        for part in ("config", "domain", "data", "test_stories", "endpoints", "credentials"):
            getattr(project, part)
        Pipeline.from_config(project.config.pipeline, project.config.language)
        Validator.for_project(project).run(max_history=project.config.max_history())


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1))
@pytest.mark.parametrize("broken", sorted(FILES))
def test_a_mutated_project_file_is_read_or_refused_naming_file_and_line(
    tmp_path_factory: pytest.TempPathFactory, broken: str, seed: int
) -> None:
    rng = random.Random(seed)
    for how, content in mutations(FILES[broken].lstrip("\n"), rng):
        root = tmp_path_factory.mktemp("fuzzed")
        write_project(root, broken, content)
        tracemalloc.start()
        try:
            read_everything(root)
        except ParlezError as error:
            assert error.where is not None and error.where.path, f"{how}: {error!r}"
            if not isinstance(error, WHOLE_FILE):
                assert error.where.line is not None, f"{how}: {error.render()}"
        finally:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert peak < MEMORY_BUDGET, f"{how}: {peak / 1e6:.0f} MB"
