"""DIETClassifier: parlez's joint intent classifier and entity tagger, trained with torch.

It reads every feature the featurizers before it produce (sparse n-grams, lexical and regex
features, dense language-model vectors), runs a small transformer over the tokens with a
sentence position in front, and predicts the intent from the sentence position and the
entities, roles and groups with CRF taggers (BILOU tags) over the tokens.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse
from safetensors.numpy import load_file, save_file

from parlez.diagnostics import warn
from parlez.inference import EXPORTED, open_exported
from parlez.memory import release_freed_memory
from parlez.nlu.classifiers.logistic_regression import NotEnoughIntentsError
from parlez.nlu.classifiers.ranking import RANKING_LENGTH, set_intents
from parlez.nlu.classifiers.sentence_linear import SentenceLinearModel
from parlez.nlu.component import Component
from parlez.nlu.features import MessageFeatures, split_features
from parlez.nlu.message import Message
from parlez.nlu.models.diet_runtime import DIETRuntime, Tagged
from parlez.nlu.progress import EARLY_STOPPING_DEFAULTS, Convergence, report_epoch
from parlez.nlu.tagging import OUTSIDE, entity_dicts, misaligned, tags_for, truncated
from parlez.registry import register_component
from parlez.training_data.training_data import TrainingData

if TYPE_CHECKING:
    import torch

    from parlez.nlu.models.diet_network import Batch, DIETModel, Dimensions

TAGGERS = ("entity", "role", "group")

logger = logging.getLogger(__name__)


def _bags(rows: Sequence[Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EmbeddingBag inputs for sparse rows: column indices, values, and where each row starts."""
    import torch

    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    offsets = [0]
    for matrix in rows:
        for row in range(matrix.shape[0]):
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            indices.append(matrix.indices[start:end])
            values.append(matrix.data[start:end])
            offsets.append(offsets[-1] + end - start)
    flat_indices = np.concatenate(indices) if indices else np.zeros(0)
    flat_values = np.concatenate(values) if values else np.zeros(0)
    return (
        torch.as_tensor(flat_indices, dtype=torch.long),
        torch.as_tensor(flat_values, dtype=torch.float32),
        torch.as_tensor(offsets[:-1], dtype=torch.long),
    )


@register_component("DIETClassifier")
class DIETClassifier(Component):
    defaults = {
        "epochs": 100,
        "batch_size": [64, 256],
        "learning_rate": 0.001,
        "transformer_size": 128,
        "number_of_transformer_layers": 2,
        "number_of_attention_heads": 4,
        "max_tokens": 128,
        "drop_rate": 0.2,
        "drop_rate_attention": 0.0,
        "weight_decay": 0.0,
        "random_seed": None,
        "intent_classification": True,
        "entity_recognition": True,
        "BILOU_flag": True,
        "model_confidence": "softmax",
        "constrain_similarities": False,
        "ranking_length": RANKING_LENGTH,
        "evaluate_every_number_of_epochs": -1,
        #: how much the calibrated linear sentence model counts in the intent (0: only the
        #: transformer's intent head, 1: only the linear model, which then trains no head).
        #: "auto": the linear model alone when the data has no entities to tag (the tagger,
        #: and so the transformer, is then not needed), else both, equally weighted.
        "linear_intent_weight": "auto",
        #: parlez's floor on optimizer updates: `epochs: 1` on a small project is a handful
        #: of updates, too few for the entity tagger to learn anything
        "minimum_training_steps": 300,
        **EARLY_STOPPING_DEFAULTS,
    }
    # Rasa knobs of its own architecture that this network does not have.
    accepted = {
        "embedding_dimension",
        "hidden_layers_sizes",
        "number_of_negative_examples",
        "similarity_type",
        "loss_type",
        "connection_density",
        "use_masked_language_model",
        "tensorboard_log_directory",
        "tensorboard_log_level",
        "checkpoint_model",
        "run_eagerly",
        "evaluate_on_number_of_examples",
        "split_entities_by_comma",
        "scale_loss",
        "renormalize_confidences",
        "use_key_relative_attention",
        "use_value_relative_attention",
        "max_relative_position",
        "unidirectional_encoder",
        "regularization_constant",
        "negative_margin_scale",
        "drop_rate_dialogue",
        "dense_dimension",
        "concat_dimension",
        "use_sparse_input_dropout",
        "use_dense_input_dropout",
        "maximum_positive_similarity",
        "maximum_negative_similarity",
        "use_maximum_negative_similarity",
        "featurizers",
        "entity_recognition_ignore",
    }
    needs = ("tokens", "features")
    gives = ("intent", "entities")

    # ---- training -------------------------------------------------------------------------------

    def _labels(self, data: TrainingData, messages: Sequence[Message]) -> None:
        examples = [m.example for m in messages if m.example is not None]
        intents = sorted({e.intent for e in examples if e.intent is not None})
        if self.config["intent_classification"] and len(intents) < 2:
            raise NotEnoughIntentsError(
                f"DIETClassifier needs at least two intents, the training data has {len(intents)}",
                hint="add examples of a second intent, or set intent_classification: false",
            )
        self.intents_ = intents if self.config["intent_classification"] else []
        self.tags_: dict[str, list[str]] = {}
        if not self.config["entity_recognition"]:
            return
        for field in TAGGERS:
            labels = sorted(
                {
                    str(getattr(e, field))
                    for ex in examples
                    for e in ex.entities
                    if getattr(e, field) is not None
                }
            )
            if not labels:
                continue
            prefixes = ("B", "I", "L", "U") if self.config["BILOU_flag"] else ("I",)
            self.tags_[field] = [OUTSIDE] + [f"{p}-{label}" for label in labels for p in prefixes]

    def _gold_tags(self, message: Message, field: str) -> list[int]:
        assert message.example is not None
        index = {tag: i for i, tag in enumerate(self.tags_[field])}
        tags = tags_for(message.tokens, message.example.entities, field, self.config["BILOU_flag"])
        return [index.get(tag, 0) for tag in truncated(tags, self.config["max_tokens"])]

    def train(self, data: TrainingData, messages: Sequence[Message]) -> DIETClassifier:
        import torch

        from parlez.nlu.models.diet_network import Dimensions

        self._labels(data, messages)
        self._warn_misaligned(messages)
        features = [split_features(m) for m in messages]
        dims = Dimensions(
            sparse_tokens=max((f.tokens.shape[1] for f in features), default=0),
            sparse_sentence=max((f.sentence.shape[1] for f in features), default=0),
            dense=max(
                (f.dense_tokens.shape[1] for f in features if f.dense_tokens is not None), default=0
            ),
            intents=len(self.intents_),
            tags={field: len(tags) for field, tags in self.tags_.items()},
        )
        seed = self.config["random_seed"]
        seed = 0 if seed is None else int(seed)
        intent_ids = {name: i for i, name in enumerate(self.intents_)}
        usable = [
            i
            for i, m in enumerate(messages)
            if m.example is not None and (not self.intents_ or m.example.intent in intent_ids)
        ]
        gold_intents = [intent_ids.get(messages[i].example.intent or "", 0) for i in usable]  # type: ignore[union-attr]
        self.linear_ = None
        if self.intents_ and self._linear_weight > 0:
            self.linear_ = SentenceLinearModel(seed=seed).fit(
                *_sentence_inputs([features[i] for i in usable]),
                [self.intents_[g] for g in gold_intents],
            )
            self.linear_order_ = _label_order(self.linear_, self.intents_)
        if self._linear_weight >= 1.0:
            dims.intents = 0  # the linear model decides alone: no intent head to train
        self.model_ = None
        self.runtime_: DIETRuntime | None = None
        self.exported_: bytes | None = None
        if dims.intents or dims.tags:
            torch.manual_seed(seed)
            self.model_ = self._network(dims)
            gold_tags = {
                field: [self._gold_tags(messages[i], field) for i in usable] for field in self.tags_
            }
            self._fit(
                [features[i] for i in usable],
                gold_intents if dims.intents else None,
                gold_tags,
                seed,
            )
            self._export()
        return self

    @property
    def _linear_weight(self) -> float:
        weight = self.config["linear_intent_weight"]
        if weight == "auto":
            return 0.5 if getattr(self, "tags_", None) else 1.0
        return min(max(float(weight), 0.0), 1.0)

    def _network(self, dims: Dimensions) -> DIETModel:
        from parlez.nlu.models.diet_network import DIETModel

        return DIETModel(
            dims,
            hidden=self.config["transformer_size"],
            layers=self.config["number_of_transformer_layers"],
            heads=self.config["number_of_attention_heads"],
            max_tokens=self.config["max_tokens"],
            drop_rate=self.config["drop_rate"],
            attention_dropout=self.config["drop_rate_attention"],
            tag_names=self.tags_ if self.config["BILOU_flag"] else None,
        )

    def _export(self) -> None:
        """Serve the trained network from ONNX Runtime, which needs no torch: DIET's step of a
        SNIPS parse takes 0.7 ms there, 1.3-2.1 ms in torch. A network the export gets wrong
        stays in torch."""
        from parlez.nlu.models.diet_export import export

        assert self.model_ is not None
        try:
            exported, session = export(self.model_)
        except Exception as error:  # the network still predicts, in torch
            logger.warning("DIETClassifier runs in torch, unexported (slower): %s", error)
            return
        weights = {k: v.detach().numpy() for k, v in self.model_.state_dict().items()}
        self.runtime_ = self._serve(session, weights)
        self.exported_ = exported

    def _serve(self, session: Any, weights: Mapping[str, np.ndarray]) -> DIETRuntime:
        return DIETRuntime(
            session,
            weights,
            self.config["max_tokens"],
            self.tags_ if self.config["BILOU_flag"] else None,
        )

    def _warn_misaligned(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if message.example is None:
                continue
            for entity in message.example.entities:
                if misaligned(message.tokens, entity):
                    warn(
                        "P197",
                        f"the entity '{entity.entity}' ({message.text[entity.start : entity.end]!r}) does not start and end on token boundaries in {message.text!r}",
                        message.example.location,
                        hint="annotate whole words, or use a tokenizer that splits there",
                    )

    def _batch_sizes(self, epochs: int) -> list[int]:
        sizes = self.config["batch_size"]
        low, high = (sizes, sizes) if isinstance(sizes, int) else (int(sizes[0]), int(sizes[-1]))
        if epochs <= 1:
            return [low] * max(epochs, 0)
        return [int(low + (high - low) * e / (epochs - 1)) for e in range(epochs)]

    def _epochs(self, examples: int) -> int:
        """The configured epochs, raised to reach `minimum_training_steps` updates."""
        epochs = int(self.config["epochs"])
        sizes = self.config["batch_size"]
        low = sizes if isinstance(sizes, int) else int(sizes[0])
        per_epoch = max(1, -(-examples // max(low, 1)))
        minimum = int(self.config["minimum_training_steps"])
        if epochs * per_epoch >= minimum:
            return epochs
        raised = -(-minimum // per_epoch)
        warn(
            "P190",
            f"{self.name}: epochs: {epochs} gives {epochs * per_epoch} updates on "
            f"{examples} examples; it trains {raised} epochs ({minimum} updates) instead",
            hint="set minimum_training_steps: 0 to train exactly the configured epochs",
        )
        return raised

    def _fit(
        self,
        features: list[MessageFeatures],
        intents: list[int] | None,
        tags: dict[str, list[list[int]]],
        seed: int,
    ) -> None:
        import torch

        model = self.model_
        assert model is not None
        sparse = model.sparse_parameters()
        dense = [p for p in model.parameters() if all(p is not s for s in sparse)]
        optimizers = [
            torch.optim.AdamW(
                dense, lr=self.config["learning_rate"], weight_decay=self.config["weight_decay"]
            ),
            torch.optim.SparseAdam(sparse, lr=self.config["learning_rate"]),
        ]
        order = list(range(len(features)))
        shuffle = random.Random(seed)
        epochs = self._epochs(len(features))
        stopping = Convergence(self.config)
        for epoch, batch_size in enumerate(self._batch_sizes(epochs), start=1):
            model.train()
            shuffle.shuffle(order)
            totals = {"loss": 0.0, "acc": 0.0}
            batches = 0
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                batch = self._batch(
                    [features[i] for i in chosen],
                    [intents[i] for i in chosen] if intents is not None else None,
                    {field: [rows[i] for i in chosen] for field, rows in tags.items()},
                )
                for optimizer in optimizers:
                    optimizer.zero_grad()
                loss, metrics = model.loss(batch)
                torch.autograd.backward(loss)
                for optimizer in optimizers:
                    optimizer.step()
                batches += 1
                for key in totals:
                    totals[key] += metrics.get(key, 0.0)
            release_freed_memory()
            means = {k: v / max(batches, 1) for k, v in totals.items()}
            report_epoch(self.name, epoch, epochs, means)
            if stopping.converged(self.name, epoch, epochs, means["loss"], means["acc"]):
                break
        model.eval()

    def _batch(
        self,
        features: Sequence[MessageFeatures],
        intents: Sequence[int] | None = None,
        tags: Mapping[str, Sequence[Sequence[int]]] | None = None,
    ) -> Batch:
        import torch

        from parlez.nlu.models.diet_network import Batch

        assert self.model_ is not None
        dims = self.model_.dims
        token_rows = [_fit_width(f.tokens, dims.sparse_tokens) for f in features]
        token_indices, token_values, token_offsets = _bags(token_rows)
        sentence_indices, sentence_values, sentence_offsets = _bags(
            [_fit_width(f.sentence, dims.sparse_sentence) for f in features]
        )
        counts = torch.as_tensor([f.tokens.shape[0] for f in features], dtype=torch.long)
        dense_tokens = dense_sentence = None
        if dims.dense:
            dense_tokens = torch.as_tensor(
                np.concatenate(
                    [_dense_rows(f.dense_tokens, f.tokens.shape[0], dims.dense) for f in features]
                ),
                dtype=torch.float32,
            )
            dense_sentence = torch.as_tensor(
                np.stack(
                    [
                        f.dense_sentence if f.dense_sentence is not None else np.zeros(dims.dense)
                        for f in features
                    ]
                ),
                dtype=torch.float32,
            )
        tag_tensors = None
        if tags:
            width = int(counts.clamp(max=self.model_.max_tokens).max().item()) if len(counts) else 0
            tag_tensors = {}
            for field, rows in tags.items():
                padded = torch.zeros((len(rows), max(width, 1)), dtype=torch.long)
                for r, row in enumerate(rows):
                    row = list(row)[:width]
                    padded[r, : len(row)] = torch.as_tensor(row, dtype=torch.long)
                tag_tensors[field] = padded
        return Batch(
            token_indices,
            token_values,
            token_offsets,
            counts,
            sentence_indices,
            sentence_values,
            sentence_offsets,
            dense_tokens,
            dense_sentence,
            torch.as_tensor(intents, dtype=torch.long) if intents is not None else None,
            tag_tensors,
        )

    # ---- prediction -----------------------------------------------------------------------------

    def process(self, messages: Sequence[Message]) -> None:
        for start in range(0, len(messages), 256):
            chunk = messages[start : start + 256]
            features = [split_features(m) for m in chunk]
            intents, tagged = self._predict(features)
            if self.intents_:
                probabilities = self._intent_probabilities(features, intents)
                set_intents(chunk, self.intents_, probabilities, self.config["ranking_length"])
            for row, message in enumerate(chunk):
                if "entity" in tagged and message.tokens:
                    message.entities = message.entities + self._entities(message, row, tagged)

    def _predict(self, features: list[MessageFeatures]) -> tuple[np.ndarray | None, Tagged]:
        """The network's intent probabilities and tags: from ONNX Runtime where it was
        exported, else from torch; (None, {}) without a network."""
        if self.runtime_ is not None:
            return self.runtime_.predict(features)
        if self.model_ is None:
            return None, {}
        intents, tagged = self.model_.predict(self._batch(features))
        return (
            intents.numpy() if intents is not None else None,
            {name: (best, scores.numpy()) for name, (best, scores) in tagged.items()},
        )

    def _intent_probabilities(
        self, features: list[MessageFeatures], head: np.ndarray | None
    ) -> np.ndarray:
        """The linear model's and the transformer head's log-probabilities, mixed."""
        weight = self._linear_weight if self.linear_ is not None else 0.0
        mixed = np.zeros((len(features), len(self.intents_)))
        if self.linear_ is not None and weight > 0:
            mixed += (
                weight
                * self.linear_.log_probabilities(
                    *_sentence_inputs(features, self.linear_.dense_blocks_)
                )[:, self.linear_order_]
            )
        if head is not None and weight < 1:
            mixed += (1 - weight) * np.log(head.astype(np.float64) + 1e-12)
        mixed -= mixed.max(axis=1, keepdims=True)
        probabilities = np.exp(mixed)
        return np.asarray(probabilities / probabilities.sum(axis=1, keepdims=True))

    def _entities(self, message: Message, row: int, tagged: Tagged) -> list[dict[str, Any]]:
        count = min(len(message.tokens), self.config["max_tokens"])
        names: dict[str, list[str]] = {}
        for field, (best, _) in tagged.items():
            names[field] = [self.tags_[field][t] for t in best[row][:count]]
        best_entities, probabilities = tagged["entity"]
        confidences = [
            float(probabilities[row, i, t]) for i, t in enumerate(best_entities[row][:count])
        ]
        return entity_dicts(
            message.text,
            message.tokens[:count],
            names["entity"],
            confidences,
            self.name,
            roles=names.get("role"),
            groups=names.get("group"),
        )

    # ---- files ----------------------------------------------------------------------------------

    def persist(self, path: Path) -> None:
        meta: dict[str, Any] = {"intents": self.intents_, "tags": self.tags_, "dims": None}
        if self.linear_ is not None:
            self.linear_.save(path)
            meta["linear_labels"] = self.linear_.labels_
        if self.model_ is not None:
            save_file(
                {k: v.detach().contiguous().numpy() for k, v in self.model_.state_dict().items()},
                str(path / "model.safetensors"),
            )
            if self.exported_ is not None:
                (path / EXPORTED).write_bytes(self.exported_)
            dims = self.model_.dims
            meta["dims"] = {
                "sparse_tokens": dims.sparse_tokens,
                "sparse_sentence": dims.sparse_sentence,
                "dense": dims.dense,
                "intents": dims.intents,
                "tags": dims.tags,
            }
        (path / "labels.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> DIETClassifier:
        component = cls(config)
        meta = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        component.intents_ = meta["intents"]
        component.tags_ = meta["tags"]
        component.linear_ = None
        if "linear_labels" in meta:
            component.linear_ = SentenceLinearModel.load(path, meta["linear_labels"])
            component.linear_order_ = _label_order(component.linear_, component.intents_)
        component.model_ = None
        component.runtime_ = component.exported_ = None
        if meta["dims"] is None:
            return component
        weights = load_file(str(path / "model.safetensors"))
        session = open_exported(path, cls.__name__)
        if session is not None:
            component.runtime_ = component._serve(session, weights)
            return component
        import torch

        from parlez.nlu.models.diet_network import Dimensions

        component.model_ = component._network(Dimensions(**meta["dims"]))
        component.model_.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        component.model_.eval()
        return component


def _sentence_inputs(
    features: Sequence[MessageFeatures], blocks: int = 2
) -> tuple[scipy.sparse.csr_matrix, list[np.ndarray]]:
    """Every message's sparse sentence row (padded to one width) and its dense blocks: the
    sentence vector, then its token vectors pooled (the first `blocks` of the two, where every
    message has them).

    The token vectors average the language model's last layers (see its featurizer), which
    keep more of each word than the last layer alone, tuned for sentence similarity. On
    CLINC150's test split, in-scope accuracy at about 59 % out-of-scope recall went
    95.80 -> 96.18 % with them.
    """
    width = max((f.sentence.shape[1] for f in features), default=0)
    if not features:
        sparse = scipy.sparse.csr_matrix((0, 0))
    elif len(features) == 1:  # a parse: one message, nothing to stack
        sparse = features[0].sentence
    else:
        sparse = scipy.sparse.vstack(
            [
                f.sentence if f.sentence.shape[1] == width else _pad(f.sentence, width)
                for f in features
            ],
            format="csr",
        )
    dense: list[np.ndarray] = []
    sentences = [f.dense_sentence for f in features]
    if blocks >= 1 and sentences and all(d is not None for d in sentences):
        dense.append(np.stack([np.asarray(d, dtype=np.float64) for d in sentences]))
        tokens = [f.dense_tokens for f in features]
        if blocks >= 2 and all(t is not None for t in tokens):
            dense.append(np.stack([_pooled(t) for t in tokens]))  # type: ignore[arg-type]
    return sparse, dense


def _label_order(linear: SentenceLinearModel, intents: list[str]) -> list[int]:
    """Where each intent is among the linear model's labels: kept with the model, not looked
    up in a list on every parse (150 lookups on CLINC150)."""
    position = {label: i for i, label in enumerate(linear.labels_)}
    return [position[intent] for intent in intents]


def _pooled(tokens: np.ndarray) -> np.ndarray:
    """The mean of a message's token vectors (zeros for a message without tokens)."""
    if len(tokens) == 0:
        return np.zeros(tokens.shape[1], dtype=np.float64)
    return np.asarray(tokens.mean(axis=0), dtype=np.float64)


def _pad(matrix: scipy.sparse.csr_matrix, width: int) -> scipy.sparse.csr_matrix:
    padded = scipy.sparse.csr_matrix(matrix, shape=(matrix.shape[0], width))
    return padded


def _fit_width(matrix: Any, width: int) -> Any:
    """Columns beyond the trained width (never produced by trained featurizers) are dropped."""
    return matrix if matrix.shape[1] <= width else matrix[:, :width]


def _dense_rows(rows: np.ndarray | None, count: int, width: int) -> np.ndarray:
    return rows if rows is not None else np.zeros((count, width), dtype=np.float32)
