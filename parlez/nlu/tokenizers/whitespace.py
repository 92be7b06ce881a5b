"""WhitespaceTokenizer: words, keeping what holds them together (e-mails, URLs, 10.5, can't)."""

from __future__ import annotations

import re

from parlez.nlu.message import Token
from parlez.nlu.tokenizers.tokenizer import Tokenizer
from parlez.registry import register_component

# A word, or words joined by connectors with no space between them: `e-mail`, `3:30pm`,
# `anna@example.com`, `https://example.org/a?b=1`. Leading # and @ stay (hashtags, handles),
# and so does the + of an international phone number;
# other punctuation and emoji at the edges of words are not tokens.
_WORD = re.compile(r"(?:[#@]|\+(?=\d))?\w+(?:[._@&'\u2019:/?=+%~-]+\w+)*", re.UNICODE)


@register_component("WhitespaceTokenizer")
class WhitespaceTokenizer(Tokenizer):
    def tokenize(self, text: str) -> list[Token]:
        pattern = (
            re.compile(self.config["token_pattern"]) if self.config["token_pattern"] else _WORD
        )
        return [Token(m.group(0), m.start(), m.end()) for m in pattern.finditer(text)]
