"""Small builders for NLU tests."""

from __future__ import annotations

from parlez.config import ComponentConfig
from parlez.diagnostics import collect
from parlez.io.yaml import read_yaml
from parlez.nlu.message import Message
from parlez.nlu.pipeline import Pipeline
from parlez.training_data.nlu_yaml import read_nlu_section
from parlez.training_data.training_data import TrainingData
from tests.conftest import nlu_file


def data(body: str) -> TrainingData:
    return read_nlu_section(read_yaml(nlu_file(body))["nlu"])


def trained(names: list[str | tuple[str, dict[str, object]]], body: str) -> Pipeline:
    items = [
        ComponentConfig(n) if isinstance(n, str) else ComponentConfig(n[0], dict(n[1]))
        for n in names
    ]
    with collect():
        return Pipeline.from_config(items).train(data(body))


def run(pipeline: Pipeline, text: str) -> Message:
    message = Message(text)
    pipeline.process([message])
    return message
