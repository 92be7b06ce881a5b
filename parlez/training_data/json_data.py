"""A JSON training data file, whichever of the formats Rasa reads it is in: Rasa's own
(`rasa_nlu_data`), a LUIS app's export, a Wit.ai app's utterances, or a file of a Dialogflow
agent's export. Told apart by their keys, as Rasa tells them apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from parlez.exceptions import Location, NotTrainingDataError, SchemaError, relative
from parlez.io.yaml import read_text_file
from parlez.training_data import dialogflow
from parlez.training_data.luis import is_luis, read_luis
from parlez.training_data.nlu_json import read_nlu_document
from parlez.training_data.training_data import TrainingData
from parlez.training_data.wit import is_wit, read_wit

FORMATS_HINT = (
    'parlez reads Rasa\'s JSON ({"rasa_nlu_data": {...}}) and the exports of LUIS, Wit.ai '
    "and Dialogflow"
)


def read_json_data(path: Path, language: str = "en") -> TrainingData:
    """The NLU training data in `path`; nothing for a file of a Dialogflow export that is
    read with another (an intent's examples, `agent.json`). `language` picks a Dialogflow
    intent's examples."""
    shown = relative(path)
    try:
        document = json.loads(read_text_file(path))
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"the file is not valid JSON ({error.msg})", Location(shown, error.lineno, error.colno)
        ) from None
    if isinstance(document, dict) and "rasa_nlu_data" in document:
        return read_nlu_document(document, shown)
    try:
        return _read_export(path, document, language)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # An export edited by hand or cut short: one error naming the file, not a traceback.
        raise SchemaError(
            f"the file is not in the shape of its format ({type(error).__name__}: {error})",
            Location(shown),
            hint=FORMATS_HINT,
        ) from None


def _read_export(path: Path, document: Any, language: str) -> TrainingData:
    shown = relative(path)
    if is_luis(document):
        return read_luis(document, shown)
    if is_wit(document):
        return read_wit(document, shown)
    if dialogflow.is_intent(document) or dialogflow.is_entity(document):
        return dialogflow.read_dialogflow(path, document, language)
    if dialogflow.is_examples_file(path, document) or dialogflow.is_agent_file(path, document):
        return TrainingData()
    raise NotTrainingDataError(
        "a JSON NLU file must have a top-level 'rasa_nlu_data' object, or be an export of "
        "LUIS, Wit.ai or Dialogflow",
        Location(shown, 1, 1),
        hint=FORMATS_HINT,
    )
