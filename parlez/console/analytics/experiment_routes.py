"""The A/B tests' page (`/console/reports/experiments`), and experiments.yml edited in the
console: checked as `parlez run` reads it, and in use for the next conversations once
saved, without a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.analytics.experiments import experiment_result
from parlez.console.analytics.report import ReportFilters
from parlez.console.auth import database_of, posted_file, requires, wants_json
from parlez.console.pages import console, console_index, render, state_of
from parlez.console.roles import Capability
from parlez.exceptions import ParlezError
from parlez.experiments import FILE, Experiments
from parlez.io.edit import digest_of, replace_if_unchanged

#: the days an experiment is read over when none are asked for
EXPERIMENT_DAYS = 365


@console.get("/reports/experiments")
@requires(Capability.REPORTS)
async def experiments_page(request: Request) -> HTTPResponse:
    """Each experiment of experiments.yml: its arms compared on its metric, over the days
    asked for (by default the last year: an experiment is read over its whole run)."""
    index = console_index(request)
    args = {key: request.args.get(key, "") for key in request.args}
    today = datetime.now(index.analytics.zone).date()
    args.setdefault("since", (today - timedelta(days=EXPERIMENT_DAYS - 1)).isoformat())
    try:
        filters = ReportFilters.parse(args, today)
    except ValueError as error:
        return response.json({"error": str(error)}, status=400)
    await index.catch_up_reports()
    declared = state_of(request).experiments.experiments
    async with index.engine.connect() as connection:
        results = [await experiment_result(connection, e, filters) for e in declared]
    if wants_json(request):
        return response.json({"experiments": [r.as_json() for r in results]})
    return await render(
        "report_experiments.html",
        request,
        results=results,
        running={e.name: e.running for e in declared},
        filters=filters,
        saved=bool(request.args.get("saved")),
    )


def _file(request: Request) -> Path:
    return state_of(request).project / FILE


@console.get("/reports/experiments/edit")
@requires(Capability.SETTINGS)
async def edit_page(request: Request) -> HTTPResponse:
    path = _file(request)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return await _editor(request, text, digest_of(text))


@console.post("/reports/experiments/edit")
@requires(Capability.SETTINGS)
async def save(request: Request) -> HTTPResponse:
    """Check the new experiments.yml as `parlez run` reads it (its metrics against the
    outcomes the reports count), write it if it is still the file the page showed, and put
    the next sessions in the arms it declares."""
    text, expected = posted_file(request)
    outcomes = tuple(o.name for o in console_index(request).analytics.outcomes)
    try:
        experiments = Experiments.from_text(text, outcomes)
    except ParlezError as error:
        return await _editor(request, text, expected, error=str(error), status=400)
    if not replace_if_unchanged(_file(request), text, expected):
        problem = f"{FILE} changed since this page was opened: reload it to see the change"
        return await _editor(request, text, expected, error=problem, status=409)
    served = state_of(request)
    served.experiments = experiments
    if served.agent is not None:
        served.fit(served.agent)
    await database_of(request).record(request.ctx.session.user, "experiments", FILE, "")
    if wants_json(request):
        running = [e.name for e in experiments.running]
        return response.json({"saved": FILE, "running": running})
    return response.redirect("/console/reports/experiments?saved=1", status=303)


async def _editor(
    request: Request, text: str, digest: str, error: str | None = None, status: int = 200
) -> HTTPResponse:
    if error is not None and wants_json(request):
        return response.json({"error": error}, status=status)
    return await render(
        "report_experiments_edit.html",
        request,
        status,
        text=text,
        digest=digest,
        error=error,
        experiments=state_of(request).experiments.experiments,
    )
