"""Rasa's own config files (`data/test_config/`, `data/configs_for_docs/`): each is read,
and its pipeline is built, or refused naming the Rasa component parlez does not provide
and what to use instead, never with a guess at a name."""

from __future__ import annotations

from pathlib import Path

import pytest

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
