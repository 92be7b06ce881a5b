"""A/B tests (`experiments.yml`): each conversation is put in one arm of each running
experiment as its session starts, the same arm for the same sender every time.

The arm is recorded as an `experiment` event, and set in the experiment's slot: a response's
variations choose on it (`condition: [{type: slot, name: experiment_greeting, value: b}]`),
rules and stories branch on it. An arm may also change a setting (`settings:`), which the
action it concerns reads with `settings_of` (the knowledge base's LLM and bar). The
console's reports compare the arms (parlez/console/analytics/experiments.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez.exceptions import Location, ParlezError
from parlez.io.schema import known_keys
from parlez.io.yaml import document_start, read_text_file, read_yaml, where

FILE = "experiments.yml"
#: what an experiment may be measured on, besides the outcomes of analytics.yml
METRICS = ("resolved", "converted", "handed_over", "satisfied")
KEYS = ("arms", "metric", "slot", "min_sample", "alpha", "status", "settings")
#: what an arm's `settings:` may change, and the kind of value each takes
SETTINGS: dict[str, str] = {
    # the LLM phrases the knowledge base's answers (false: the entry as written)
    "knowledge_llm": "flag",
    # the knowledge base's bar: an entry scoring under it is not answered
    "knowledge_min_confidence": "share",
    # two entries within it of each other: the customer is asked which one
    "knowledge_margin": "share",
}
STATUSES = ("running", "stopped")
DEFAULT_MIN_SAMPLE = 400
DEFAULT_ALPHA = 0.05

logger = logging.getLogger(__name__)


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
    #: arm -> the settings it changes (the other arms keep the project's)
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

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

    def settings_for(self, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The settings of the arms a conversation's latest session is in, from its events
        (as an action sees them): `{}` when no arm changes one."""
        arms: dict[str, str] = {}
        for event in events:
            kind = event.get("event")
            if kind == "session_started":
                arms.clear()
            elif kind == "experiment":
                arms[str(event.get("experiment"))] = str(event.get("arm"))
        chosen: dict[str, Any] = {}
        for name, arm in arms.items():
            experiment = self.named(name)
            if experiment is not None:
                chosen.update(experiment.settings.get(arm, {}))
        return chosen

    @classmethod
    def load(cls, project: Path, outcomes: tuple[str, ...] | None = ()) -> Experiments:
        """The project's experiments.yml; none without one. `outcomes` are analytics.yml's
        outcome names, which an experiment may be measured on too (None: any name is taken,
        for a reader that only wants the arms and their settings)."""
        path = project / FILE
        if not path.is_file():
            return cls()
        return cls.from_text(read_text_file(path), outcomes)

    @classmethod
    def from_text(cls, text: str, outcomes: tuple[str, ...] | None = ()) -> Experiments:
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


def _experiment(name: str, spec: Any, at: Location, outcomes: tuple[str, ...] | None) -> Experiment:
    if not isinstance(spec, dict):
        raise ExperimentFileError(
            f"the experiment '{name}' needs 'arms:'", at, hint="such as 'arms: [a, b]'"
        )
    known_keys(spec, KEYS, f"the experiment '{name}'", at, ExperimentFileError)
    arms = _arms(name, spec.get("arms"), where(spec, "arms", value=True) or at)
    metric = str(spec.get("metric", "resolved"))
    if outcomes is not None and metric not in METRICS and metric not in outcomes:
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
    settings = _settings(name, spec.get("settings"), {a for a, _ in arms}, spec, at)
    return Experiment(
        name, arms, metric, slot, min_sample, float(alpha), status == "running", settings
    )


def _settings(
    name: str, value: Any, arms: set[str], spec: dict[str, Any], at: Location
) -> dict[str, dict[str, Any]]:
    """`settings: {b: {knowledge_llm: false}}`: what each arm named changes."""
    if value is None:
        return {}
    here = where(spec, "settings") or at
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ExperimentFileError(
            f"the experiment '{name}': 'settings' maps an arm to the settings it changes",
            here,
            hint="such as 'settings: {b: {knowledge_llm: false}}'",
        )
    found: dict[str, dict[str, Any]] = {}
    for arm, changes in value.items():
        if str(arm) not in arms:
            raise ExperimentFileError(
                f"the experiment '{name}' has no arm '{arm}' to change settings for",
                where(value, arm) or here,
                hint=f"its arms are {', '.join(sorted(arms))}",
            )
        for key, setting in changes.items():
            kind = SETTINGS.get(str(key))
            line = where(changes, key) or here
            if kind is None:
                raise ExperimentFileError(
                    f"the experiment '{name}': '{key}' is not a setting an arm can change",
                    line,
                    hint=f"one of {', '.join(SETTINGS)}",
                )
            if kind == "flag" and not isinstance(setting, bool):
                raise ExperimentFileError(
                    f"the experiment '{name}': '{key}' is true or false", line
                )
            if kind == "share" and (
                not isinstance(setting, int | float)
                or isinstance(setting, bool)
                or not 0 <= setting <= 1
            ):
                raise ExperimentFileError(
                    f"the experiment '{name}': '{key}' is a number from 0 to 1", line
                )
        found[str(arm)] = dict(changes)
    return found


_read: dict[Path, tuple[float, Experiments]] = {}


def settings_of(project: Path, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """For an action: the settings the arms of the conversation (`events`, as the action
    sees them) change, from the project's experiments.yml, read again when it changes. A
    broken file changes nothing here: `parlez run` refuses to start with it, and a file
    broken since is logged."""
    path = project / FILE
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return {}
    known = _read.get(path)
    if known is None or known[0] != stamp:
        try:
            known = (stamp, Experiments.load(project, outcomes=None))
        except ParlezError as error:
            logger.error("%s: the A/B tests' settings are not applied", error)
            known = (stamp, Experiments())
        _read[path] = known
    return known[1].settings_for(events)


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
