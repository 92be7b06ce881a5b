"""KnowledgeBaseRouter: a message the knowledge base answers better than its intent goes there.

An assistant's intents are trained on its own examples, so a customer's question about
something else lands on whichever intent is nearest: "i have terrible tooth pain right now"
or "can i bring my bike in for a tune up" become `book_appointment`, and the customer gets
"Which service would you like?" instead of the answer the business wrote. This component
runs after the classifiers. For a message given one of `from_intents`, it compares how close
the message is to that intent's nearest training example with how close it is to the
knowledge base's best row (both as cosine similarities of the packaged sentence encoder).
When the knowledge base is closer by `lead` or more (and at least at the lowest bar any
knowledge base has, parlez/knowledge/calibration.py), the message gets `intent` instead; the
classifier's guess stays in `intent_ranking`. An intent with no training examples, or the
one SentimentAnalyzer gave this message, gives up only a message that passes the knowledge
base's own bar and whose best row is closer than that intent's confidence ("does bleaching
hurt your teeth" reads as mildly angry; "you lost my booking again, I'm furious" is a
complaint). With `clear_margin` set, an entry that stands out from the rest (it leads the
next one by that much) needs no lead: "how much notice to cancel" is as close to a dental
FAQ's cancellation policy as to "I want to cancel my appointment", and the policy is the
only entry it fits.
Whether a routed message is then answered, asked about or declined is the answer's
decision: a message like neither the intent's examples nor an entry is better declined than
booked. A message with one of
`unless_entities` keeps its intent ("can I book a haircut?" names a service: a booking).
With `min_example_similarity` set, a message unlike every training example of its intent
(its nearest one is less similar than that) goes to the knowledge base whatever the
knowledge base's score: "reset link not arriving" is no booking, and the answer action
declines what it cannot answer, which beats asking which service to book.

A message MultilingualIntentClassifier read (one in another language than the pipeline's)
is compared the same way in the multilingual encoder's space: with its intent's examples
(every language's) and the multilingual index, where that encoder is installed. "le salon
est-il accessible aux fauteuils roulants" is no request for a person, and "vous utilisez
quelle marque de shampoing" no booking (bench/README.md, "Questions in four languages, end
to end"). Without that encoder such a message keeps its intent.

The knowledge base is the project's `data/kb/`, indexed in `models/kb-index/` and
`models/kb-index-multilingual/` (the indexes the answer action searches); with none, the
component changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parlez.io.arrays import load_arrays, save_arrays
from parlez.knowledge.calibration import FLOOR
from parlez.knowledge.documents import read_kb
from parlez.knowledge.index import Embedder, KnowledgeIndex, shared_index
from parlez.knowledge.multilingual import MULTILINGUAL_INDEX_FOLDER, multilingual_embedder
from parlez.language_id import LANGUAGE_KEY
from parlez.nlu.classifiers.sentiment import INTENT_FROM_SENTIMENT
from parlez.nlu.component import Component
from parlez.nlu.message import Message
from parlez.project import project_folder
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)


@register_component("KnowledgeBaseRouter")
class KnowledgeBaseRouter(Component):
    defaults = {
        # the intent a knowledge-base question gets (its rule runs the answer action)
        "intent": "ask_question",
        # the intents it may take a message from
        "from_intents": [],
        # a message with one of these entities keeps its intent
        "unless_entities": [],
        # how much closer the knowledge base must be than the intent's nearest example
        "lead": 0.05,
        # ...unless its best entry leads the next one by this much: then as close is enough
        # (off by default: "can I change my booking to another day?" is as close to the
        # studio's cancellation policy as to its move examples, and clearly that entry)
        "clear_margin": None,
        # a message whose nearest example of its intent is less similar than this is unlike
        # the intent: the knowledge base answers or declines it (None: off)
        "min_example_similarity": None,
        # the knowledge base and its index, relative to the project
        "kb": "data/kb",
        "index": "models/kb-index",
        "multilingual_index": f"models/{MULTILINGUAL_INDEX_FOLDER}",
    }
    needs = ("intent",)
    gives = ("intent",)

    #: per intent of `from_intents`, its training examples' sentence vectors
    examples_: dict[str, np.ndarray]
    #: the same under the multilingual encoder (empty where it is not installed)
    multilingual_examples_: dict[str, np.ndarray]
    #: the indexes looked for, by config key (None: no knowledge base, or no encoder)
    _indexes: dict[str, KnowledgeIndex | None] | None = None
    _embedder: Embedder | None = None

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder(texts)

    @classmethod
    def intents_given(cls, params: dict[str, Any]) -> frozenset[str]:
        return frozenset({str(params.get("intent", cls.defaults["intent"]))})

    def train(self, data: TrainingData, messages: Sequence[Message]) -> KnowledgeBaseRouter:
        wanted = set(self.config["from_intents"] or ())
        texts: dict[str, list[str]] = {}
        for example in data.intent_examples:
            if example.intent in wanted and example.text:
                texts.setdefault(str(example.intent), []).append(example.text)
        self.examples_ = {intent: self._embed(found) for intent, found in texts.items()}
        multilingual = multilingual_embedder()
        self.multilingual_examples_ = (
            {intent: multilingual(found) for intent, found in texts.items()}
            if multilingual is not None
            else {}
        )
        return self

    def index(self, multilingual: bool = False) -> KnowledgeIndex | None:
        """The project's knowledge-base index, or its multilingual one (None without a
        knowledge base, or without the multilingual encoder)."""
        key = "multilingual_index" if multilingual else "index"
        if self._indexes is None:
            self._indexes = {}
        if key not in self._indexes:
            root = project_folder()
            kb = root / self.config["kb"]
            embed = multilingual_embedder() if multilingual else Embedder()
            found = None
            if not read_kb(kb):
                logger.info("KnowledgeBaseRouter: no knowledge base in '%s'", kb)
            elif embed is not None:  # the multilingual encoder may not be installed
                found = shared_index(kb, root / self.config[key], embed)
            self._indexes[key] = found
        return self._indexes[key]

    def process(self, messages: Sequence[Message]) -> None:
        wanted = set(self.config["from_intents"] or ())
        keep = set(self.config["unless_entities"] or ())
        for message in messages:
            name = (message.intent or {}).get("name")
            if name not in wanted or not message.text.strip():
                continue
            if any(entity.get("entity") in keep for entity in message.entities):
                continue
            # MultilingualIntentClassifier read a message in another language: the English
            # encoder's similarities say little about it, the multilingual one's do
            foreign = message.data.get(LANGUAGE_KEY) not in (None, self.language)
            index = self.index(multilingual=foreign)
            if index is None:
                if not foreign:
                    return  # no knowledge base
                continue
            known = getattr(self, "multilingual_examples_" if foreign else "examples_", {})
            if foreign and not known:
                continue  # trained without the multilingual encoder: as it was then
            # An angry message's intent is SentimentAnalyzer's, whatever examples that intent
            # also has: "complètement nul, personne ne répond jamais au téléphone" is unlike
            # every complaint example, and is still no question for the knowledge base.
            examples = None if message.data.get(INTENT_FROM_SENTIMENT) else known.get(str(name))
            # the index's encoder is the one its examples were embedded with, in either space
            vector = index.embed([message.text])[0]
            nearest = float((examples @ vector).max()) if examples is not None else None
            hits = index.search(message.text, k=2, vector=vector)
            unlike = self.config["min_example_similarity"]
            if nearest is not None and unlike is not None and nearest < float(unlike):
                # "reset link not arriving" is no booking, whatever the classifier says: an
                # honest "I don't know" beats "Which service would you like to book?".
                self._route(message, hits[0].confidence if hits else 0.0)
                continue
            if not hits or hits[0].confidence < FLOOR:
                continue
            margin = self.config["clear_margin"]
            clear = margin is not None and (
                len(hits) == 1 or hits[0].confidence - hits[1].confidence >= float(margin)
            )
            if nearest is None:
                # An intent with no examples (SentimentAnalyzer's `complain`): only a
                # question the knowledge base would answer, and is surer of than the
                # component that gave the intent, is taken from it ("you lost my booking
                # again, I'm furious": angry at 0.72, the cancellation policy at 0.51).
                needed = max(
                    index.calibration.min_confidence,
                    float((message.intent or {}).get("confidence") or 0.0),
                )
            else:
                needed = nearest + (0.0 if clear else float(self.config["lead"]))
            if hits[0].confidence >= needed:
                self._route(message, hits[0].confidence)

    def _route(self, message: Message, confidence: float) -> None:
        """Give `message` the knowledge base's intent; the classifier's guess stays second."""
        routed = {"name": str(self.config["intent"]), "confidence": round(confidence, 4)}
        message.intent = dict(routed)
        message.intent_ranking = [routed, *message.intent_ranking]

    def persist(self, path: Path) -> None:
        save_arrays(path / "examples.safetensors", getattr(self, "examples_", {}))
        save_arrays(
            path / "multilingual-examples.safetensors",
            getattr(self, "multilingual_examples_", {}),
        )

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> KnowledgeBaseRouter:
        component = cls(config)
        component.examples_ = load_arrays(path / "examples.safetensors")
        multilingual = path / "multilingual-examples.safetensors"
        # a model trained before the multilingual examples were kept routes as it did then
        component.multilingual_examples_ = (
            load_arrays(multilingual) if multilingual.is_file() else {}
        )
        return component
