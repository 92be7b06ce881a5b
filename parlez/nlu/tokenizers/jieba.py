"""JiebaTokenizer: Chinese word segmentation with jieba, optionally with a user dictionary."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from parlez.exceptions import ParlezError
from parlez.nlu.message import Token
from parlez.nlu.tokenizers.tokenizer import Tokenizer
from parlez.registry import register_component


class JiebaUnavailableError(ParlezError):
    code = "P199"


@register_component("JiebaTokenizer")
class JiebaTokenizer(Tokenizer):
    defaults = {**Tokenizer.defaults, "dictionary_path": None}
    _lock = threading.Lock()

    def _jieba(self) -> Any:
        if getattr(self, "_loaded", None) is None:
            try:
                import jieba
            except ImportError:
                raise JiebaUnavailableError(
                    "JiebaTokenizer needs the jieba package", hint="pip install jieba"
                ) from None
            jieba.setLogLevel(logging.WARNING)
            folder = self.config["dictionary_path"]
            if folder:
                for dictionary in sorted(Path(folder).glob("*")):
                    jieba.load_userdict(str(dictionary))
            self._loaded = jieba
        return self._loaded

    def tokenize(self, text: str) -> list[Token]:
        jieba = self._jieba()
        with self._lock:  # jieba's lazily built prefix dictionary is shared by the process
            pieces = list(jieba.tokenize(text))
        return [Token(word, start, end) for word, start, end in pieces if word.strip()]
