"""SpacyNLP, SpacyTokenizer and SpacyFeaturizer, as Rasa names them.

SpacyNLP loads the named spaCy package when it is installed; when it is not (no package
downloads here), spaCy's blank pipeline for the language is used, with one warning, and
SpacyFeaturizer takes its vectors from the packaged sentence encoder instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from parlez.diagnostics import warn
from parlez.exceptions import ParlezError
from parlez.nlu.component import Component
from parlez.nlu.encoder import encoder_at, packaged_model_path
from parlez.nlu.featurizers.language_model import dense_features
from parlez.nlu.message import Features, Message, Token
from parlez.nlu.tokenizers.tokenizer import Tokenizer
from parlez.registry import register_component

SPACY_DOC = "spacy_doc"


class SpacyUnavailableError(ParlezError):
    code = "P183"


def _spacy() -> Any:
    try:
        import spacy
    except ImportError:
        raise SpacyUnavailableError("spaCy is not installed", hint="pip install spacy") from None
    return spacy


@register_component("SpacyNLP")
class SpacyNLP(Component):
    defaults = {"model": None, "case_sensitive": False}
    gives = (SPACY_DOC,)
    process_training_data = True
    _warned: set[str] = set()

    def _nlp(self) -> Any:
        if getattr(self, "_loaded", None) is None:
            spacy = _spacy()
            name = self.config["model"]
            if name and spacy.util.is_package(name):
                self._loaded = spacy.load(name)
            else:
                language = self.language.split("_")[0]
                if name and name not in SpacyNLP._warned:
                    SpacyNLP._warned.add(name)
                    warn(
                        "P184",
                        f"the spaCy model '{name}' is not installed; spaCy's blank '{language}' pipeline "
                        "and the packaged sentence encoder are used instead",
                        hint=f"pip install the '{name}' package to use its tagger and vectors",
                    )
                try:
                    self._loaded = spacy.blank(language)
                except (ImportError, KeyError) as error:
                    raise SpacyUnavailableError(
                        f"spaCy has no language '{language}' ({error})",
                        hint="check `language` in config.yml",
                    ) from None
        return self._loaded

    def train(self, data: Any, messages: Sequence[Message]) -> SpacyNLP:
        self._nlp()
        return self

    def process(self, messages: Sequence[Message]) -> None:
        nlp = self._nlp()
        texts = [m.text if self.config["case_sensitive"] else m.text.lower() for m in messages]
        for message, doc in zip(messages, nlp.pipe(texts), strict=True):
            message.data[SPACY_DOC] = doc

    @property
    def has_vectors(self) -> bool:
        return bool(self._nlp().vocab.vectors_length)


@register_component("SpacyTokenizer")
class SpacyTokenizer(Tokenizer):
    needs = (SPACY_DOC,)

    def tokenize(self, text: str) -> list[Token]:
        """Tokens from spaCy's blank tokenizer, for a message that reached us without a doc."""
        if getattr(self, "_blank", None) is None:
            self._blank = _spacy().blank(self.language.split("_")[0])
        return [
            Token(t.text, t.idx, t.idx + len(t.text)) for t in self._blank(text) if t.text.strip()
        ]

    def process(self, messages: Sequence[Message]) -> None:
        for message in messages:
            doc = message.data.get(SPACY_DOC)
            if doc is None:
                message.tokens = self.tokenize(message.text)
                continue
            message.tokens = [
                Token(
                    message.text[t.idx : t.idx + len(t.text)],
                    t.idx,
                    t.idx + len(t.text),
                    {"pos": t.tag_ or None, "lemma": t.lemma_ or None},
                )
                for t in doc
                if t.text.strip()
            ]


@register_component("SpacyFeaturizer")
class SpacyFeaturizer(Component):
    defaults = {"pooling": "mean", "batch_size": 64}
    accepted = {"alias"}
    needs = ("tokens",)
    gives = ("features",)
    process_training_data = True

    def process(self, messages: Sequence[Message]) -> None:
        docs: list[Any] = [m.data.get(SPACY_DOC) for m in messages]
        if docs and all(d is not None and d.vocab.vectors_length for d in docs):
            for message, doc in zip(messages, docs, strict=True):
                by_start = {t.idx: t.vector for t in doc}
                width = doc.vocab.vectors_length
                tokens = (
                    np.stack([by_start.get(t.start, np.zeros(width)) for t in message.tokens])
                    if message.tokens
                    else np.zeros((0, width))
                )
                pooled = (
                    tokens.max(axis=0)
                    if self.config["pooling"] == "max" and len(tokens)
                    else doc.vector
                )
                message.features[self.key] = Features(
                    tokens.astype(np.float32), np.asarray(pooled, dtype=np.float32).reshape(1, -1)
                )
            return
        dense_features(
            encoder_at(packaged_model_path()), messages, self.key, int(self.config["batch_size"])
        )


@register_component("SpacyEntityExtractor")
class SpacyEntityExtractor(Component):
    """The named entities of the spaCy model that SpacyNLP loads (`PERSON`, `GPE`...), kept
    to `dimensions` when it is given. spaCy's blank pipeline, which stands in when the model
    is not installed, recognises no entities: the component then extracts nothing, and says
    so once at training, as Rasa's would fail to load."""

    defaults = {"dimensions": None}
    needs = (SPACY_DOC,)
    gives = ("entities",)

    def train(self, data: Any, messages: Sequence[Message]) -> SpacyEntityExtractor:
        doc = messages[0].data.get(SPACY_DOC) if messages else None
        # A doc that went through an entity recogniser has every token's entity tag set.
        if doc is not None and not doc.has_annotation("ENT_IOB"):
            warn(
                "P179",
                "SpacyEntityExtractor finds no entities: the spaCy pipeline in use has no "
                "entity recogniser (its model is not installed, so spaCy's blank one is used)",
                hint="install the spaCy model that SpacyNLP names, or remove SpacyEntityExtractor",
            )
        return self

    def process(self, messages: Sequence[Message]) -> None:
        wanted = self.config["dimensions"]
        for message in messages:
            doc = message.data.get(SPACY_DOC)
            if doc is None:
                continue
            found = [
                {
                    "entity": ent.label_,
                    "start": ent.start_char,
                    "end": ent.end_char,
                    "value": message.text[ent.start_char : ent.end_char],
                    "confidence": None,
                    "extractor": self.name,
                }
                for ent in doc.ents
                if not wanted or ent.label_ in wanted
            ]
            message.entities = message.entities + found
