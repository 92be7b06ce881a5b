"""The assistant's custom actions (rasa_sdk API), loaded in-process from endpoints.yml."""

from __future__ import annotations


def warm_up() -> None:
    """Load what a customer's first question would otherwise wait for (the knowledge base's
    indexes and encoders, the language detector): `parlez run` and `parlez run actions` call
    this once at start."""
    from actions.knowledge import answerer
    from actions.language import detect, spoken_now
    from parlez.knowledge import KB_FOLDER
    from parlez.project import project_folder

    detect("hello, what time do you open tomorrow?", spoken_now())
    if (project_folder() / KB_FOLDER).is_dir():
        answerer().warm_up()
