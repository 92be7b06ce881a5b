"""The models page: retrain from the console, see the test stories' verdict, and choose which
model answers (the new one anyway, or an earlier one: a rollback)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.pages import console, owned, render, state_of
from parlez.console.retraining import Retraining, archive_named, history, retrain
from parlez.console.roles import Capability
from parlez.diagnostics import collect
from parlez.exceptions import ParlezError
from parlez.http.errors import ApiError
from parlez.project import Project


def _job(request: Request) -> Retraining | None:
    job: Retraining | None = getattr(request.app.ctx, "console_retraining", None)
    return job


def _status(job: Retraining | None) -> dict[str, Any] | None:
    if job is None:
        return None
    found = asdict(job)
    found["archive"] = job.archive.name if job.archive else None
    found["running"] = job.running
    found["seconds"] = round(job.seconds, 1)
    return found


@console.get("/models")
@requires(Capability.TEACH)
async def models_page(request: Request) -> HTTPResponse:
    state = state_of(request)
    models = history(state)
    if wants_json(request):
        return response.json(
            {"models": [asdict(m) for m in models], "retraining": _status(_job(request))}
        )
    return await render("models.html", request, models=models, job=_job(request))


@console.get("/models/stories")
@requires(Capability.TEACH)
async def stories_page(request: Request) -> HTTPResponse:
    """The project's stories as they are now, drawn as a graph (`parlez visualize`'s)."""
    from markupsafe import Markup

    from parlez.training_data.visualization import LEGEND, story_graph, svg

    project = Project(state_of(request).project)

    def drawn() -> tuple[str, int]:
        with collect():  # what `data validate` says of the stories is said there
            graph = story_graph(project.stories)
        return svg(graph, "The stories"), len(graph.labels) - 2

    try:
        # a large project's stories take a while to expand: not on the loop customers use
        drawing, turns = await asyncio.get_running_loop().run_in_executor(None, drawn)
    except ParlezError as error:
        return await render("stories.html", request, drawing=None, problem=str(error))
    # every label in the drawing is escaped where it is drawn
    return await render(
        "stories.html", request, drawing=Markup(drawing), legend=LEGEND, turns=turns
    )


@console.get("/models/retraining")
@requires(Capability.TEACH)
async def retraining_status(request: Request) -> HTTPResponse:
    """The retraining's progress: the fragment the page refreshes while it runs."""
    job = _job(request)
    if wants_json(request):
        return response.json({"retraining": _status(job)})
    if request.headers.get("HX-Request") and (job is None or not job.running):
        # It has just ended: the whole page again, so the history shows the model answering.
        return response.empty(200, headers={"HX-Refresh": "true"})
    return await render("_retraining.html", request, job=job)


@console.post("/models/retrain")
@requires(Capability.TEACH)
async def start_retraining(request: Request) -> HTTPResponse:
    job = _job(request)
    if job is not None and job.running:
        raise ApiError(409, "Conflict", f"a retraining started by {job.by} is still running")
    user = request.ctx.session.user
    job = Retraining(by=user.email)
    request.app.ctx.console_retraining = job
    # The task is the app's: it outlives this request, and the server waits for it on stop.
    tasks = owned(request, "console_retraining_tasks", set)
    task = asyncio.create_task(retrain(state_of(request), job))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    await database_of(request).record(user, "retrain")
    if wants_json(request):
        return response.json({"retraining": _status(job)}, status=202)
    return response.redirect("/console/models", status=303)


@console.post("/models/use")
@requires(Capability.TEACH)
async def use_model(request: Request) -> HTTPResponse:
    """Put the model `model` (an archive of the models folder) in: a model whose stories
    failed, used anyway, or an earlier one, back."""
    state = state_of(request)
    name = form_field(request, "model")
    archive = archive_named(state, name)
    if archive is None:
        raise ApiError(404, "NotFound", f"there is no model '{name}' in the models folder")
    loop = asyncio.get_running_loop()
    try:
        agent = await loop.run_in_executor(None, state.load_model, archive)
    except ParlezError as error:
        raise ApiError(409, "Conflict", f"the model cannot be loaded: {error}") from None
    state.agent = agent  # one assignment: a message in flight keeps its agent
    job = _job(request)
    if job is not None and job.archive is not None and job.archive.resolve() == archive:
        job.swapped = True
    await database_of(request).record(request.ctx.session.user, "use_model", archive.name)
    if wants_json(request):
        return response.json({"serving": archive.name})
    return response.redirect("/console/models", status=303)
