"""A/B tests (`experiments.yml`): each conversation is put in one arm of each running
experiment as its session starts, the same arm for the same sender every time.

The arm is recorded as an `experiment` event, and set in the experiment's slot: a response's
variations choose on it (`condition: [{type: slot, name: experiment_greeting, value: b}]`),
rules and stories branch on it, an action reads it to switch a setting. The console's
reports compare the arms (parlez/console/analytics/experiments.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parlez.exceptions import Location, ParlezError
from parlez.io.schema import known_keys
from parlez.io.yaml import document_start, read_text_file, read_yaml, where

FILE = "experiments.yml"
#: what an experiment may be measured on, besides the outcomes of analytics.yml
METRICS = ("resolved", "converted", "handed_over", "satisfied")
KEYS = ("arms", "metric", "slot", "min_sample", "alpha", "status")
STATUSES = ("running", "stopped")
DEFAULT_MIN_SAMPLE = 400
DEFAULT_ALPHA = 0.05


class ExperimentFileError(ParlezError):
    code = "P545"


@dataclass(frozen=True)
class Experiment:
    name: str
    #: arm -> its share of the conversations (weights, normalised)
    arms: tuple[tuple[str, float], ...]
    metric: str = "resolved"
    slot: str = ""
    #: conversations each arm needs before the report says which is better
    min_sample: int = DEFAULT_MIN_SAMPLE
    #: the false-positive rate the report's test allows
    alpha: float = DEFAULT_ALPHA
    running: bool = True

    @property
    def slot_name(self) -> str:
        return self.slot or f"experiment_{self.name}"

    def arm_for(self, sender_id: str) -> str:
        """The sender's arm: a hash of the experiment and the sender, so the same sender is
        in the same arm in every session and every server process, and the arms of two
        experiments are independent."""
        digest = hashlib.sha256(f"{self.name}\x00{sender_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64
        total = sum(weight for _, weight in self.arms)
        reached = 0.0
        for arm, weight in self.arms:
            reached += weight / total
            if point < reached:
                return arm
        return self.arms[-1][0]


@dataclass(frozen=True)
class Experiments:
    experiments: tuple[Experiment, ...] = ()

    @property
    def running(self) -> tuple[Experiment, ...]:
        return tuple(e for e in self.experiments if e.running)

    def named(self, name: str) -> Experiment | None:
        return next((e for e in self.experiments if e.name == name), None)

    @classmethod
    def load(cls, project: Path, outcomes: tuple[str, ...] = ()) -> Experiments:
        """The project's experiments.yml; none without one. `outcomes` are analytics.yml's
        outcome names, which an experiment may be measured on too."""
        path = project / FILE
        if not path.is_file():
            return cls()
        return cls.from_text(read_text_file(path), outcomes)

    @classmethod
    def from_text(cls, text: str, outcomes: tuple[str, ...] = ()) -> Experiments:
        raw = read_yaml(text, FILE)
        at = Location(FILE)
        if raw is None:
            return cls()
        if not isinstance(raw, dict) or not isinstance(raw.get("experiments", {}), dict):
            raise ExperimentFileError(
                f"{FILE} holds 'experiments:', a mapping of each experiment to its arms",
                document_start(raw, at),
            )
        found = []
        section = raw.get("experiments") or {}
        for name, spec in section.items():
            found.append(_experiment(str(name), spec, where(section, name) or at, outcomes))
        return cls(tuple(found))


def _experiment(name: str, spec: Any, at: Location, outcomes: tuple[str, ...]) -> Experiment:
    if not isinstance(spec, dict):
        raise ExperimentFileError(
            f"the experiment '{name}' needs 'arms:'", at, hint="such as 'arms: [a, b]'"
        )
    known_keys(spec, KEYS, f"the experiment '{name}'", at, ExperimentFileError)
    arms = _arms(name, spec.get("arms"), where(spec, "arms", value=True) or at)
    metric = str(spec.get("metric", "resolved"))
    if metric not in METRICS and metric not in outcomes:
        raise ExperimentFileError(
            f"the experiment '{name}' is measured on '{metric}', which is not counted",
            where(spec, "metric", value=True) or at,
            hint=f"one of {', '.join((*METRICS, *outcomes))}",
        )
    min_sample = spec.get("min_sample", DEFAULT_MIN_SAMPLE)
    if not isinstance(min_sample, int) or isinstance(min_sample, bool) or min_sample < 10:
        raise ExperimentFileError(
            f"the experiment '{name}': 'min_sample' is a number of conversations, 10 or more",
            where(spec, "min_sample", value=True) or at,
        )
    alpha = spec.get("alpha", DEFAULT_ALPHA)
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or not 0 < alpha < 0.5:
        raise ExperimentFileError(
            f"the experiment '{name}': 'alpha' is a false-positive rate such as 0.05",
            where(spec, "alpha", value=True) or at,
        )
    status = spec.get("status", "running")
    if status not in STATUSES:
        raise ExperimentFileError(
            f"the experiment '{name}': 'status' is running or stopped",
            where(spec, "status", value=True) or at,
        )
    slot = spec.get("slot", "")
    if not isinstance(slot, str):
        raise ExperimentFileError(
            f"the experiment '{name}': 'slot' names one slot", where(spec, "slot") or at
        )
    return Experiment(name, arms, metric, slot, min_sample, float(alpha), status == "running")


def _arms(name: str, value: Any, at: Location) -> tuple[tuple[str, float], ...]:
    """`[a, b]` (equal shares) or `{a: 90, b: 10}` (weights)."""
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        arms = [(str(v), 1.0) for v in value]
    elif isinstance(value, dict) and all(
        isinstance(w, int | float) and not isinstance(w, bool) and w > 0 for w in value.values()
    ):
        arms = [(str(k), float(w)) for k, w in value.items()]
    else:
        raise ExperimentFileError(
            f"the experiment '{name}': 'arms' is a list of names or a mapping of names to shares",
            at,
            hint="such as 'arms: [a, b]' or 'arms: {a: 90, b: 10}'",
        )
    if len(arms) < 2 or len({a for a, _ in arms}) != len(arms):
        raise ExperimentFileError(
            f"the experiment '{name}' needs two arms or more, each named once", at
        )
    return tuple(arms)
