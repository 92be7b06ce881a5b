"""What every tokenizer shares: intent-name splitting and writing tokens onto messages."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from parlez.nlu.component import Component
from parlez.nlu.message import Message, Token


class Tokenizer(Component):
    defaults = {
        "intent_tokenization_flag": False,
        "intent_split_symbol": "_",
        "token_pattern": None,
    }

    process_training_data = True
    gives = ("tokens",)

    @abstractmethod
    def tokenize(self, text: str) -> list[Token]:
        """The tokens of `text`, each with its character offsets."""

    def tokenize_intent(self, intent: str) -> list[str]:
        """Intent names as tokens: `ask+hours` -> [ask, hours] when splitting is on."""
        if self.config["intent_tokenization_flag"]:
            return [part for part in intent.split(self.config["intent_split_symbol"]) if part]
        return [intent]

    def process(self, messages: Sequence[Message]) -> None:
        for message in messages:
            message.tokens = self.tokenize(message.text)
