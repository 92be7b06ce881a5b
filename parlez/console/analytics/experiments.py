"""The A/B tests' report: each arm's rate on the experiment's metric, its confidence
interval, a test of whether the arms differ, and a stop rule so that a business does not
read noise.

The test is read once, at a fixed horizon: while an arm has fewer conversations than the
experiment's `min_sample`, the report says how many are still needed and names no winner,
whatever the p-value says then (looking every day and stopping at the first small p-value
would find a "winner" between identical arms far more often than `alpha`). Once every arm
has them, a chi-squared test of the arms' successes (scipy.stats) decides: below `alpha`
the best arm is named, otherwise no difference was found at that size. Either way the test
can stop: more conversations would only tempt a second look.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from parlez.console.analytics.report import ReportFilters, where_filtered
from parlez.console.models import analytics_conversations, analytics_counts
from parlez.experiments import Experiment

#: a rating at or above this is a satisfied customer (CSAT's usual definition: 4 or 5 of 5)
SATISFIED = 4
#: metrics where fewer is better
LOWER_IS_BETTER = frozenset({"handed_over"})


class Verdict:
    COLLECTING = "collecting"  # an arm needs more conversations before the test is read
    BETTER = "better"  # an arm is better, at the experiment's false-positive rate
    NO_DIFFERENCE = "no_difference"  # the arms could not be told apart at this size


@dataclass(frozen=True)
class ArmResult:
    arm: str
    #: conversations in the arm that count for the metric (rated ones, for `satisfied`)
    conversations: int
    successes: int
    rate: float | None
    #: the rate's 95 % Wilson interval
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str
    metric: str
    arms: list[ArmResult]
    p_value: float | None
    verdict: str
    best: str | None
    #: conversations each arm still needs before the test is read
    needed: dict[str, int] = field(default_factory=dict)
    min_sample: int = 0
    alpha: float = 0.05

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: sound for small samples and rates near 0
    or 1, where the usual `p ± z·se` runs out of [0, 1]."""
    if n == 0:
        return None
    from scipy import stats  # imported when asked: scipy.stats took 0.7 s of a server's start

    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - margin), min(1.0, centre + margin)


def analyse(
    experiment: str,
    metric: str,
    counts: list[tuple[str, int, int]],
    min_sample: int,
    alpha: float,
) -> ExperimentResult:
    """The verdict on arms of `(arm, conversations, successes)`."""
    arms = []
    for arm, n, successes in counts:
        interval = wilson(successes, n)
        arms.append(
            ArmResult(
                arm,
                n,
                successes,
                successes / n if n else None,
                interval[0] if interval else None,
                interval[1] if interval else None,
            )
        )
    needed = {a.arm: min_sample - a.conversations for a in arms if a.conversations < min_sample}
    p_value = _p_value(counts)
    if needed:
        verdict, best = Verdict.COLLECTING, None
    elif p_value is not None and p_value < alpha:
        pick = min if metric in LOWER_IS_BETTER else max
        verdict, best = Verdict.BETTER, pick(arms, key=lambda a: a.rate or 0.0).arm
    else:
        verdict, best = Verdict.NO_DIFFERENCE, None
    return ExperimentResult(
        experiment, metric, arms, p_value, verdict, best, needed, min_sample, alpha
    )


def _p_value(counts: list[tuple[str, int, int]]) -> float | None:
    """Pearson's chi-squared test of independence of arm and success (for two arms, the
    two-proportion z-test squared); None where it cannot be computed."""
    table = [[successes, n - successes] for _, n, successes in counts if n]
    if len(table) < 2:
        return None
    columns = [sum(row[i] for row in table) for i in (0, 1)]
    if not all(columns):
        return 1.0  # every conversation succeeded (or none did): no difference to test
    from scipy import stats

    _, p, _, _ = stats.chi2_contingency(table, correction=False)
    return float(p)


async def experiment_result(
    connection: AsyncConnection, experiment: Experiment, filters: ReportFilters
) -> ExperimentResult:
    """The experiment's arms counted on the conversations `filters` keeps."""
    arms = analytics_counts.c
    conversations = analytics_conversations.c
    joined = analytics_counts.join(
        analytics_conversations,
        and_(
            arms.day == conversations.day,
            arms.sender_id == conversations.sender_id,
            arms.session == conversations.session,
        ),
    )
    metric = experiment.metric
    counted: Any
    success: Any
    if metric == "satisfied":
        counted = func.count(conversations.rating)
        success = func.coalesce(func.sum(case((conversations.rating >= SATISFIED, 1), else_=0)), 0)
    elif metric in ("resolved", "converted", "handed_over"):
        counted = func.count()
        flag = getattr(conversations, metric)
        success = func.coalesce(func.sum(case((flag, 1), else_=0)), 0)
    else:  # an outcome of analytics.yml: reached at least once in the conversation
        outcomes = analytics_counts.alias("outcomes").c
        reached = (
            select(func.count())
            .where(
                outcomes.day == arms.day,
                outcomes.sender_id == arms.sender_id,
                outcomes.session == arms.session,
                outcomes.kind == "outcome",
                outcomes.name == metric,
            )
            .scalar_subquery()
        )
        counted = func.count()
        success = func.coalesce(func.sum(case((reached > 0, 1), else_=0)), 0)
    query = (
        select(arms.detail, cast(counted, Integer), cast(success, Integer))
        .select_from(joined)
        .where(
            arms.kind == "arm",
            arms.name == experiment.name,
            *where_filtered(filters, analytics_counts),
        )
        .group_by(arms.detail)
    )
    found = {arm: (int(n), int(s)) for arm, n, s in await connection.execute(query)}
    counts = [(arm, *found.get(arm, (0, 0))) for arm, _ in experiment.arms]
    # Arms no longer declared but still in the conversations are shown after the others.
    counts += [
        (arm, n, s) for arm, (n, s) in sorted(found.items()) if arm not in dict(experiment.arms)
    ]
    return analyse(experiment.name, metric, counts, experiment.min_sample, experiment.alpha)
