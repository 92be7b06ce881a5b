"""Rasa's own config files (`data/test_config/`, `data/configs_for_docs/`): each is read,
and its pipeline is built, or refused naming the Rasa component parlez does not provide
and what to use instead, never with a guess at a name. The parts a config leaves out are
the ones Rasa configures automatically, and their defaults are written into it where
Rasa's training writes them (Rasa's test_autoconfig)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.autoconfig import HEADERS, write_suggestions
from parlez.config import Config
from parlez.diagnostics import collect
from parlez.exceptions import ParlezError
from parlez.nlu.pipeline import Pipeline
from parlez.registry import UnknownComponentError, components
from tests.conftest import shared_path


def rasa_configs() -> list[Path]:
    data = shared_path("compat", "rasa-3.0.4", "data")
    return sorted([*data.glob("test_config/*.yml"), *data.glob("configs_for_docs/*.yml")])


#: configs Rasa's training refuses too, or that ask Duckling for nothing
REFUSED_ALIKE = {
    # CountVectorsFeaturizer with no tokenizer before it: Rasa's graph validation refuses it
    "config_supervised_embeddings_duckling.yml",
    # Duckling dimension "NUMBER": Duckling's are lowercase ("number"); Rasa's server call
    # finds nothing, parlez says which dimensions exist
    "config_crf_custom_features.yml",
}


@pytest.mark.parametrize("path", rasa_configs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_rasas_config_files_are_read_and_their_pipelines_built_or_refused_clearly(
    path: Path,
) -> None:
    with collect():
        config = Config.load(path)
        try:
            Pipeline.from_config(config.pipeline, config.language)
        except UnknownComponentError as refused:
            named = refused.message.split("'")[1]
            assert named in components.absent, refused.message
            assert refused.hint and "did you mean" not in refused.hint
        except ParlezError as refused:
            assert path.name in REFUSED_ALIKE, refused.message


def _test_config(name: str) -> Path:
    return shared_path("compat", "rasa-3.0.4", "data", "test_config", name)


@pytest.mark.parametrize(
    ("name", "left_out"),
    [
        ("config_policies_empty.yml", ["policies"]),
        ("config_pipeline_empty.yml", ["pipeline"]),
        ("config_policies_missing.yml", ["policies"]),
        ("config_pipeline_missing.yml", ["pipeline"]),
        ("config_language_only.yml", ["pipeline", "policies"]),
        ("stack_config.yml", []),
    ],
)
def test_the_parts_rasa_configures_automatically_are_the_ones_given_defaults(
    name: str, left_out: list[str]
) -> None:
    with collect():
        assert Config.load(_test_config(name)).defaulted == left_out


def _suggested(tmp_path: Path, name: str, parts: tuple[str, ...]) -> str:
    path = tmp_path / "config.yml"
    path.write_text(_test_config(name).read_text(encoding="utf-8"), encoding="utf-8")
    with collect():
        write_suggestions(path, Config.load(path), parts)
    return path.read_text(encoding="utf-8")


def _in_parlez_words(rasa_wrote: str) -> str:
    """A file with the suggestions Rasa wrote, as parlez writes them: the same header but
    for the line that says where to read more."""
    return rasa_wrote.replace(
        "# # See https://rasa.com/docs/rasa/policies for more information.",
        HEADERS["policies"][2],
    ).replace(
        "# # See https://rasa.com/docs/rasa/tuning-your-model for more information.",
        HEADERS["pipeline"][2],
    )


def test_the_default_policies_are_written_where_rasa_writes_them(tmp_path: Path) -> None:
    # Rasa's test_dump_config: comments before, after and on the key itself. parlez's
    # default policies are Rasa's, so the file is Rasa's to the line, but for one comment
    # Rasa's YAML library drops and parlez keeps.
    written = _suggested(tmp_path, "config_with_comments.yml", ("pipeline", "policies"))
    expected = _in_parlez_words(
        _test_config("config_with_comments_after_dumping.yml").read_text(encoding="utf-8")
    ).replace("\n\n# comments everywhere", "\n# this one will disappear\n\n# comments everywhere")
    assert written == expected


def test_what_rasa_wrote_after_an_earlier_training_is_replaced(tmp_path: Path) -> None:
    written = _suggested(
        tmp_path, "config_with_comment_between_suggestions.yml", ("pipeline", "policies")
    )
    assert "rasa.com/docs" not in written
    assert written.count(HEADERS["pipeline"][0]) == written.count(HEADERS["policies"][0]) == 1
    assert "# some other comment in here\npolicies:\n" in written
    assert "#   - name: LanguageModelFeaturizer" in written
    with collect():
        assert Config.from_yaml(written).defaulted == ["pipeline", "policies"]


@pytest.mark.parametrize(
    ("parts", "rasa_wrote"),
    [
        (("pipeline",), "config_empty_en_after_dumping_nlu.yml"),
        (("policies",), "config_empty_en_after_dumping_core.yml"),
    ],
)
def test_training_one_part_writes_only_its_defaults(
    tmp_path: Path, parts: tuple[str, ...], rasa_wrote: str
) -> None:
    written = _suggested(tmp_path, "config_empty_en.yml", parts)
    rasa = _test_config(rasa_wrote).read_text(encoding="utf-8")
    # Rasa's default pipeline is not parlez's: where its suggestion starts and ends is
    # compared, and the policies (the same in both) to the line.
    for part in ("pipeline", "policies"):
        assert (HEADERS[part][0] in written) == (part in parts) == (HEADERS[part][0] in rasa)
    if parts == ("policies",):
        assert written == _in_parlez_words(rasa)
