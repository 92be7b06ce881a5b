"""TEDPolicy: parlez's machine-learned dialogue policy, in torch.

Each of the last `max_history` states becomes a bag of symbolic features (the intent and
entities after a user turn, the previous action, the active loop, slot features); a small
transformer reads the sequence and scores every action from the last position. Because it
sees features rather than whole remembered states, it handles combinations of intents,
slots and actions that no story spelled out.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors.numpy import load_file, save_file

from parlez.core.policies.memoization import action_names
from parlez.core.policies.policy import ML_PRIORITY, Policy, PolicyPrediction, TextFeaturizer
from parlez.core.policies.ted_runtime import Dialogues, TEDRuntime
from parlez.core.states import State, end_to_end_states, tracker_states
from parlez.core.training_trackers import augmented
from parlez.domain import Domain
from parlez.events import ACTION_LISTEN
from parlez.inference import EXPORTED, open_exported
from parlez.memory import release_freed_memory
from parlez.nlu.progress import EARLY_STOPPING_DEFAULTS, Convergence, report_epoch
from parlez.probabilities import softmax
from parlez.registry import register_policy
from parlez.tracker import DialogueStateTracker

if TYPE_CHECKING:
    from parlez.core.policies.ted_network import TEDNetwork
    from parlez.core.training_trackers import TrainingTracker


#: a text's sparse features (name, weight) and its dense sentence vector, if any
TextFeatures = tuple[list[tuple[str, float]], np.ndarray | None]
#: how many featurized texts are kept (all of a project's story texts, in practice)
TEXT_CACHE_SIZE = 20_000

#: the words of a user message an end-to-end story gives as text
WORD = re.compile(r"\w+")

logger = logging.getLogger(__name__)


def text_features(text: str) -> list[tuple[str, float]]:
    """A message's words as features, scaled so a long message weighs as much as a short
    one: "I feel so sad today" shares "sad" with the story's "I feel sad"."""
    words = list(dict.fromkeys(WORD.findall(text.lower())))
    return [(f"text:{word}", 1.0 / math.sqrt(len(words))) for word in words]


def user_text(state: State) -> str | None:
    """The user's words in a state that gives them instead of an intent (end-to-end)."""
    user = state.get("user", {})
    if "intent" in user or not user.get("text"):
        return None
    if state.get("prev_action", {}).get("action_name") != ACTION_LISTEN:
        return None
    return str(user["text"])


def state_features(state: State) -> list[tuple[str, float]]:
    """The symbolic features of one state; user input counts only right after listening.
    A message's text (end-to-end stories) is featurized by the policy, not here."""
    found: list[tuple[str, float]] = []
    prev = state.get("prev_action", {})
    if prev:
        found.append((f"prev:{prev.get('action_name') or prev.get('action_text')}", 1.0))
    user = state.get("user", {})
    if user and prev.get("action_name") == ACTION_LISTEN:
        if "intent" in user:
            found.append((f"intent:{user['intent']}", 1.0))
        for entity in user.get("entities", ()):
            found.append((f"entity:{entity}", 1.0))
    loop = state.get("active_loop", {})
    if loop.get("name"):
        found.append((f"loop:{loop['name']}", 1.0))
    for slot, values in state.get("slots", {}).items():
        if isinstance(values, tuple):
            found += [(f"slot:{slot}:{i}", float(v)) for i, v in enumerate(values) if v]
    return found


@register_policy("TEDPolicy")
class TEDPolicy(Policy):
    """Trained in torch, served from ONNX Runtime (torch is imported only to train, or to
    serve a model whose network was not exported)."""

    #: the NLU pipeline that featurizes end-to-end user text (`use_nlu`); not saved
    nlu: TextFeaturizer | None = None
    #: how it read user text: "none" (no end-to-end stories), "words" or "nlu"
    text_mode_: str = "none"
    dense_size_: int = 0
    defaults = {
        "priority": ML_PRIORITY,
        "max_history": 5,
        "epochs": 1,
        "batch_size": [64, 256],
        "learning_rate": 0.001,
        "transformer_size": 128,
        "number_of_transformer_layers": 1,
        "drop_rate": 0.1,
        "random_seed": None,
        "augmentation_factor": 20,
        "model_confidence": "softmax",
        "constrain_similarities": False,
        "minimum_training_steps": 0,
        # an end-to-end prediction (from the message's words) must be at least this sure
        "e2e_confidence_threshold": 0.5,
        **EARLY_STOPPING_DEFAULTS,
    }
    accepted = {
        "embedding_dimension",
        "hidden_layers_sizes",
        "number_of_attention_heads",
        "number_of_negative_examples",
        "similarity_type",
        "loss_type",
        "ranking_length",
        "evaluate_every_number_of_epochs",
        "evaluate_on_number_of_examples",
        "tensorboard_log_directory",
        "tensorboard_log_level",
        "checkpoint_model",
        "split_entities_by_comma",
        "entity_recognition",
        "BILOU_flag",
        "featurizers",
        "use_gpu",
        "drop_rate_dialogue",
        "drop_rate_label",
        "drop_rate_attention",
        "connection_density",
        "weight_sparsity",
        "scale_loss",
        "renormalize_confidences",
        "regularization_constant",
        "negative_margin_scale",
        "use_maximum_negative_similarity",
        "maximum_positive_similarity",
        "maximum_negative_similarity",
        "unidirectional_encoder",
        "use_key_relative_attention",
        "use_value_relative_attention",
        "max_relative_position",
        "encoding_dimension",
        "run_eagerly",
    }

    # ---- training -------------------------------------------------------------------------------

    def _examples(
        self, trackers: Sequence[TrainingTracker], domain: Domain
    ) -> list[tuple[list[State], str]]:
        examples = []
        history = int(self.config["max_history"])
        for training in trackers:
            tracker = training.tracker(domain)
            states = tracker_states(tracker, domain)
            for index, action in enumerate(action_names(tracker.applied_events())):
                examples.append((states[max(0, index + 1 - history) : index + 1], action))
        return examples

    def train(self, trackers: Sequence[TrainingTracker], domain: Domain) -> TEDPolicy:
        import torch

        stories = [t for t in trackers if not t.is_rule and not t.is_augmented]
        seed = self.config["random_seed"]
        seed = 0 if seed is None else int(seed)
        stories += augmented(stories, int(self.config["augmentation_factor"]), seed)
        examples = self._examples(stories, domain)
        self.actions_ = list(domain.action_names_or_texts)
        texts = {t for states, _ in examples for st in states if (t := user_text(st))}
        self.text_mode_ = "none" if not texts else ("nlu" if self.nlu is not None else "words")
        self.dense_size_ = 0
        if self.text_mode_ == "nlu":
            dense = [d for t in texts if (d := self._text(t)[1]) is not None]
            self.dense_size_ = len(dense[0]) if dense else 0
        vocabulary = sorted(
            {name for states, _ in examples for st in states for name, _ in self._features(st)}
        )
        self.vocabulary_ = {name: i for i, name in enumerate(vocabulary)}
        torch.manual_seed(seed)
        self.model_: TEDNetwork | None = self._network()
        if examples:
            self._fit(examples, seed)
        self.model_.eval()
        self._export()
        return self

    def _network(self) -> TEDNetwork:
        from parlez.core.policies.ted_network import TEDNetwork

        return TEDNetwork(
            len(self.vocabulary_),
            len(self.actions_),
            int(self.config["transformer_size"]),
            int(self.config["number_of_transformer_layers"]),
            int(self.config["max_history"]),
            float(self.config["drop_rate"]),
            self.dense_size_,
        )

    # ---- end-to-end text ------------------------------------------------------------------------

    def use_nlu(self, nlu: TextFeaturizer | None) -> None:
        """Featurize end-to-end stories' user text with this NLU pipeline (its tokenizers
        and featurizers), as Rasa's TED does, instead of by plain words."""
        self.nlu = nlu
        self._texts().clear()

    def _texts(self) -> collections.OrderedDict[str, TextFeatures]:
        """Featurized texts, most recent last: the stories' while training, then the
        messages of the last predictions (bounded, so a server's memory does not grow)."""
        if "_text_cache" not in self.__dict__:
            self._text_cache: collections.OrderedDict[str, TextFeatures] = collections.OrderedDict()
        return self._text_cache

    def _text(self, text: str) -> TextFeatures:
        """A message text's sparse features (by name, with weights) and dense vector."""
        cache = self._texts()
        if text in cache:
            cache.move_to_end(text)
            return cache[text]
        found: TextFeatures = (text_features(text), None)
        if self.text_mode_ == "nlu" and self.nlu is not None:
            features = self.nlu.text_features(text)
            if features is not None:
                row = features.sentence.tocoo()
                norm = math.sqrt(float((row.data**2).sum())) or 1.0
                sparse = [
                    (f"nlu:{c}", float(v) / norm) for c, v in zip(row.col, row.data, strict=True)
                ]
                found = (sparse, features.dense_sentence)
        cache[text] = found
        while len(cache) > TEXT_CACHE_SIZE:
            cache.popitem(last=False)
        return found

    def _features(self, state: State) -> list[tuple[str, float]]:
        found = state_features(state)
        text = user_text(state)
        if text is not None and self.text_mode_ != "none":
            found += self._text(text)[0]
        return found

    @property
    def reads_text(self) -> bool:
        """Whether end-to-end stories taught it text (then it also predicts from text)."""
        if self.text_mode_ == "nlu" and self.nlu is None:
            return False  # loaded without the pipeline that featurized its stories
        return self.text_mode_ != "none"

    def _export(self) -> None:
        """Serve the trained network from ONNX Runtime, which needs no torch; a network
        the export gets wrong stays in torch."""
        from parlez.core.policies.ted_network import export

        assert self.model_ is not None
        self.runtime_: TEDRuntime | None = None
        self.exported_: bytes | None = None
        try:
            exported, session = export(self.model_)
        except Exception as error:  # the network still predicts, in torch
            logger.warning("TEDPolicy runs in torch, unexported (slower): %s", error)
            return
        self.runtime_ = self._serve(session, self._weights())
        self.exported_ = exported

    def _serve(self, session: Any, weights: Mapping[str, np.ndarray]) -> TEDRuntime:
        return TEDRuntime(session, weights, int(self.config["max_history"]))

    def _weights(self) -> dict[str, np.ndarray]:
        assert self.model_ is not None
        return {k: v.detach().contiguous().numpy() for k, v in self.model_.state_dict().items()}

    def _batch(self, dialogues: Sequence[list[State]]) -> Dialogues:
        indices: list[int] = []
        weights: list[float] = []
        offsets: list[int] = []
        lengths = []
        dense = np.zeros((sum(len(d) for d in dialogues), self.dense_size_), dtype=np.float32)
        row = 0
        for states in dialogues:
            lengths.append(len(states))
            for state in states:
                offsets.append(len(indices))
                for name, value in self._features(state):
                    if name in self.vocabulary_:
                        indices.append(self.vocabulary_[name])
                        weights.append(value)
                text = user_text(state)
                if self.dense_size_ and text is not None:
                    vector = self._text(text)[1]
                    if vector is not None and len(vector) == self.dense_size_:
                        dense[row] = vector
                row += 1
        return Dialogues(
            np.asarray(indices, dtype=np.int64),
            np.asarray(weights, dtype=np.float32),
            np.asarray(offsets, dtype=np.int64),
            np.asarray(lengths, dtype=np.int64),
            dense,
        )

    def _scores(self, dialogues: Dialogues) -> np.ndarray:
        """Action scores (B, actions): from ONNX Runtime where the network was exported."""
        if self.runtime_ is not None:
            return self.runtime_.scores(dialogues)
        assert self.model_ is not None
        import torch

        with torch.no_grad():
            return np.asarray(self.model_(*_tensors(dialogues)).numpy())

    def _fit(self, examples: list[tuple[list[State], str]], seed: int) -> None:
        action_index = {name: i for i, name in enumerate(self.actions_)}
        usable = [(s, action_index[a]) for s, a in examples if a in action_index and s]
        sizes = self.config["batch_size"]
        low, high = (sizes, sizes) if isinstance(sizes, int) else (int(sizes[0]), int(sizes[-1]))
        epochs = max(int(self.config["epochs"]), 1)
        batches_per_epoch = max(1, -(-len(usable) // low))
        minimum = int(self.config["minimum_training_steps"])
        if minimum and epochs * batches_per_epoch < minimum:
            epochs = -(-minimum // batches_per_epoch)
        import torch
        from torch import nn

        assert self.model_ is not None
        optimizer = torch.optim.AdamW(
            self.model_.parameters(), lr=float(self.config["learning_rate"])
        )
        shuffle = random.Random(seed)
        order = list(range(len(usable)))
        stopping = Convergence(self.config)
        for epoch in range(1, epochs + 1):
            self.model_.train()
            size = low if epochs == 1 else int(low + (high - low) * (epoch - 1) / (epochs - 1))
            shuffle.shuffle(order)
            total, correct, batches = 0.0, 0.0, 0
            for start in range(0, len(order), size):
                chosen = [usable[i] for i in order[start : start + size]]
                scores = self.model_(*_tensors(self._batch([s for s, _ in chosen])))
                gold = torch.as_tensor([a for _, a in chosen], dtype=torch.long)
                loss = nn.functional.cross_entropy(scores, gold)
                optimizer.zero_grad()
                torch.autograd.backward(loss)
                optimizer.step()
                total += float(loss.detach())
                correct += float((scores.argmax(-1) == gold).float().mean())
                batches += 1
            release_freed_memory()
            mean_loss, acc = total / batches, correct / batches
            report_epoch(self.name, epoch, epochs, {"loss": mean_loss, "acc": acc})
            if stopping.converged(self.name, epoch, epochs, mean_loss, acc):
                break

    # ---- prediction -----------------------------------------------------------------------------

    def predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        """From the message's intent; and, when trained on end-to-end stories, from its
        words too, which win (as in Rasa) when they are surer than the intent and above
        `e2e_confidence_threshold`."""
        history = int(self.config["max_history"])
        dialogues = [tracker_states(tracker, domain)[-history:]]
        by_text = end_to_end_states(tracker, domain) if self.reads_text else None
        if by_text is not None:
            dialogues.append(by_text[-history:])
        scores = self._scores(self._batch(dialogues)).astype(np.float64)
        probabilities = softmax(scores, axis=1)
        end_to_end = (
            len(dialogues) == 2
            and float(probabilities[1].max()) > float(self.config["e2e_confidence_threshold"])
            and float(scores[1].max()) > float(scores[0].max())
        )
        chosen = probabilities[1 if end_to_end else 0].tolist()
        by_name = dict(zip(self.actions_, chosen, strict=True))
        names = domain.action_names_or_texts
        return PolicyPrediction(
            [float(by_name.get(name, 0.0)) for name in names],
            self.name,
            self.priority,
            is_end_to_end_prediction=end_to_end,
        )

    # ---- files ----------------------------------------------------------------------------------

    def persist(self, path: Path) -> None:
        save_file(self._weights(), str(path / "model.safetensors"))
        if self.exported_ is not None:
            (path / EXPORTED).write_bytes(self.exported_)
        (path / "labels.json").write_text(
            json.dumps(
                {
                    "actions": self.actions_,
                    "vocabulary": self.vocabulary_,
                    "text_mode": self.text_mode_,
                    "dense_size": self.dense_size_,
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path, config: Mapping[str, Any]) -> TEDPolicy:
        policy = cls(config)
        labels = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        policy.actions_ = labels["actions"]
        policy.vocabulary_ = labels["vocabulary"]
        policy.text_mode_ = labels.get("text_mode", "none")
        policy.dense_size_ = int(labels.get("dense_size", 0))
        policy.model_ = policy.runtime_ = policy.exported_ = None
        weights = load_file(str(path / "model.safetensors"))
        session = open_exported(path, cls.__name__)
        if session is not None:
            policy.runtime_ = policy._serve(session, weights)
            return policy
        import torch

        policy.model_ = policy._network()
        policy.model_.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        policy.model_.eval()
        return policy


def _tensors(dialogues: Dialogues) -> tuple[Any, ...]:
    """The network's torch inputs for a batch of dialogues."""
    import torch

    return (
        torch.from_numpy(dialogues.indices),
        torch.from_numpy(dialogues.weights),
        torch.from_numpy(dialogues.offsets),
        torch.from_numpy(dialogues.lengths),
        torch.from_numpy(dialogues.dense),
    )
