"""What can go wrong with an LLM: its configuration, or its answer."""

from __future__ import annotations

from parlez.exceptions import ParlezError


class LLMError(ParlezError):
    """The model did not answer: down, slow, refused the key, or an unusable reply."""

    code = "P510"


class LLMConfigError(ParlezError):
    code = "P511"
