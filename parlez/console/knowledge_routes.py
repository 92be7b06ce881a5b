"""The knowledge base in the console: FAQ entries listed, searched, written, changed and
deleted in the project's own files (`data/kb/*.yml`, edited in place by `FaqFile`), and a
question tried against it as the assistant would answer it.

The assistant's index follows the files (`KnowledgeIndex.follow`): a saved entry answers
from the next customer's question, with no restart and no retraining.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, form_field, requires, wants_json
from parlez.console.pages import console, console_index, render, state_of
from parlez.console.roles import Capability
from parlez.console.unanswered import Group, grouped, mark_answered
from parlez.exceptions import ParlezError
from parlez.http.errors import ApiError
from parlez.inference import infer
from parlez.knowledge import KnowledgeAnswerer, project_index
from parlez.knowledge.documents import KnowledgeFileError, Passage, kb_files, read_file
from parlez.knowledge.faq_file import EDITABLE_SUFFIXES, FaqEntry, FaqFile, StaleFileError
from parlez.knowledge.index import KB_FOLDER
from parlez.llm import llm_from_endpoint

#: where a new entry goes when the project has no FAQ file yet
NEW_ENTRIES = "faq.yml"
#: how many passages "try a question" shows
SHOWN_PASSAGES = 5


@dataclass(frozen=True)
class Listed:
    """An entry as the list shows it."""

    id: str
    file: str
    question: str
    answer: str
    alternatives: int
    languages: list[str]
    editable: bool
    #: the action that answers instead of the text (FAQ `action:`)
    action: str | None = None


def kb_folder(request: Request) -> Path:
    return state_of(request).project / KB_FOLDER


def _relative(kb: Path, path: Path) -> str:
    return path.relative_to(kb).as_posix()


def faq_file(request: Request, name: str) -> FaqFile:
    """The FAQ file `name` (relative to `data/kb/`) for editing; never a path outside the
    knowledge base, nor a file the console cannot edit."""
    kb = kb_folder(request)
    name = name or NEW_ENTRIES
    path = (kb / name).resolve()
    if not path.is_relative_to(kb.resolve()) or path.suffix.lower() not in EDITABLE_SUFFIXES:
        raise ApiError(400, "BadRequest", f"'{name}' is not a YAML file of the knowledge base")
    try:
        return FaqFile.read(path)
    except KnowledgeFileError as error:
        raise ApiError(409, "Conflict", f"{error} (mend the file, then come back)") from None


def everything(request: Request) -> tuple[list[Listed], list[tuple[str, str]], list[str]]:
    """Every FAQ entry, the pages' sections (the page's name in `data/kb/`, the section's
    title), and the files that could not be read."""
    kb = kb_folder(request)
    entries: list[Listed] = []
    sections: list[tuple[str, str]] = []
    broken: list[str] = []
    for path in kb_files(kb):
        try:
            passages = read_file(path)
        except ParlezError as error:
            broken.append(str(error))
            continue
        editable = path.suffix.lower() in EDITABLE_SUFFIXES
        for passage in passages:
            if passage.kind != "faq":
                sections.append((_relative(kb, path), passage.title))
                continue
            entries.append(
                Listed(
                    passage.id,
                    _relative(kb, path),
                    passage.title,
                    passage.text,
                    len(passage.alternatives),
                    sorted(passage.answers),
                    editable,
                    passage.action,
                )
            )
    return entries, sections, broken


def matches(entry: Listed, words: list[str]) -> bool:
    text = f"{entry.question} {entry.answer} {entry.id}".lower()
    return all(word in text for word in words)


@console.get("/knowledge")
@requires(Capability.TEACH)
async def knowledge_page(request: Request) -> HTTPResponse:
    return await knowledge_list(request)


async def knowledge_list(
    request: Request, status: int = 200, error: str | None = None
) -> HTTPResponse:
    """The entries and pages, found by the `search` words; `error`: what was refused."""
    entries, sections, broken = everything(request)
    search = (request.args.get("search") or "").strip()
    shown = [e for e in entries if matches(e, search.lower().split())]
    if wants_json(request):
        return response.json({"entries": [asdict(e) for e in shown], "broken": broken})
    kb = kb_folder(request)
    # every page, with its sections' titles (a page just made has none yet)
    pages: dict[str, list[str]] = {
        _relative(kb, p): [] for p in kb_files(kb) if p.suffix.lower() == ".md"
    }
    for name, title in sections:
        pages.setdefault(name, []).append(title)
    return await render(
        "knowledge.html",
        request,
        status=status,
        entries=shown,
        total=len(entries),
        pages=pages,
        broken=broken,
        search=search,
        error=error,
        saved=request.args.get("saved"),
        imported=request.args.get("imported"),
    )


def _languages(opened: FaqFile, entry: Passage | None) -> list[str]:
    """The languages the file's entries answer in, and this entry's."""
    found = {code for p in opened.entries() for code in p.answers}
    return sorted(found | set(entry.answers if entry else ()))


async def _form(
    request: Request,
    opened: FaqFile,
    entry_id: str | None,
    shown: FaqEntry,
    status: int = 200,
    error: str | None = None,
    saved_now: Passage | None = None,
) -> HTTPResponse:
    original = next((p for p in opened.entries() if p.id == entry_id), None)
    return await render(
        "knowledge_entry.html",
        request,
        status=status,
        entry_id=entry_id,
        file=_relative(kb_folder(request).resolve(), opened.path),
        digest=opened.digest,
        entry=shown,
        languages=sorted(set(_languages(opened, original)) | set(shown.answers)),
        error=error,
        saved_now=saved_now,
        answered_by=original.action if original else None,
    )


@console.get("/knowledge/new")
@requires(Capability.TEACH)
async def new_entry_page(request: Request) -> HTTPResponse:
    opened = faq_file(request, request.args.get("file") or "")
    question = (request.args.get("question") or "").strip()[:500]
    # from "unanswered questions": the other ways customers asked it
    alternatives = [a.strip()[:500] for a in request.args.getlist("alternative", [])[:20]]
    return await _form(request, opened, None, FaqEntry(question, "", alternatives))


@console.get("/knowledge/entries/<entry_id:str>")
@requires(Capability.TEACH)
async def entry_page(request: Request, entry_id: str) -> HTTPResponse:
    opened = faq_file(request, request.args.get("file") or "")
    found = next((p for p in opened.entries() if p.id == entry_id), None)
    if found is None:
        return await render("missing.html", request, status=404, what="entry", missing=entry_id)
    entry = FaqEntry(found.title, found.text, found.alternatives, found.answers, found.url)
    if wants_json(request):
        return response.json({"entry": {"id": entry_id, **asdict(entry), "action": found.action}})
    return await _form(request, opened, entry_id, entry)


def expected_digest(request: Request) -> str | None:
    """The file as the form saw it. Every form of the console sends it; a script with a
    token that sends none overwrites knowingly, as a PUT without If-Match does."""
    form: Any = request.form
    if form is None or "digest" not in form:
        return None
    return form_field(request, "digest")


def posted(request: Request) -> FaqEntry:
    """The entry the form sends: one alternative per line, `answer_<code>` per language, and
    a new language's code and answer."""
    form: Any = request.form
    answers = {}
    for key in form or {}:
        if key.startswith("answer_") and form_field(request, key).strip():
            answers[key.removeprefix("answer_")] = form_field(request, key)
    code = form_field(request, "new_language").strip().lower()
    if code and form_field(request, "new_answer").strip():
        answers[code] = form_field(request, "new_answer")
    return FaqEntry(
        question=form_field(request, "question"),
        answer=form_field(request, "answer"),
        alternatives=form_field(request, "alternatives").splitlines(),
        answers=answers,
        url=form_field(request, "url") or None,
        id=form_field(request, "id").strip() or None,
    )


@console.post("/knowledge/entries")
@requires(Capability.TEACH)
async def create_entry(request: Request) -> HTTPResponse:
    return await _save(request, None)


@console.post("/knowledge/entries/<entry_id:str>")
@requires(Capability.TEACH)
async def change_entry(request: Request, entry_id: str) -> HTTPResponse:
    return await _save(request, entry_id)


async def _save(request: Request, entry_id: str | None) -> HTTPResponse:
    opened = faq_file(request, form_field(request, "file"))
    entry = posted(request)
    try:
        text = opened.put(entry, entry_id)
        opened.save(text, expected_digest(request))
    except StaleFileError as error:
        # Nothing is overwritten: the form comes back with the person's text, the entry as
        # it is saved now, and the file's new digest (saving again replaces it knowingly).
        now = FaqFile.read(opened.path)
        saved_now = next((p for p in now.entries() if p.id == entry_id), None)
        if wants_json(request):
            return response.json({"error": error.message}, status=409)
        return await _form(request, now, entry_id, entry, 409, str(error), saved_now)
    except KnowledgeFileError as error:
        if wants_json(request):
            return response.json({"error": error.message}, status=400)
        return await _form(request, opened, entry_id, entry, 400, error.message)
    saved = FaqFile.read(opened.path).entries()
    new_id = _saved_id(saved, entry, entry_id, len(opened.entries()))
    user = request.ctx.session.user
    await database_of(request).record(user, "kb_save", new_id, opened.path.name)
    if wants_json(request):
        return response.json({"entry": {"id": new_id, **asdict(entry)}})
    return response.redirect(f"/console/knowledge?saved={new_id}", status=303)


def _saved_id(saved: list[Passage], entry: FaqEntry, before: str | None, count: int) -> str:
    """The id the entry has in the file now (a changed question changes a generated id)."""
    if entry.id:
        return entry.id
    if before is None:  # added at the end
        return saved[count].id if len(saved) > count else saved[-1].id
    same = [p.id for p in saved if p.id == before]
    if same:
        return same[0]
    return next((p.id for p in saved if p.title == entry.question.strip()), before)


@console.post("/knowledge/entries/<entry_id:str>/delete")
@requires(Capability.TEACH)
async def delete_entry(request: Request, entry_id: str) -> HTTPResponse:
    opened = faq_file(request, form_field(request, "file"))
    try:
        opened.save(opened.remove(entry_id), expected_digest(request))
    except StaleFileError as error:
        return response.json({"error": error.message}, status=409)
    except KnowledgeFileError as error:
        return response.json({"error": error.message}, status=404)
    await database_of(request).record(request.ctx.session.user, "kb_delete", entry_id)
    if wants_json(request):
        return response.json({"deleted": entry_id})
    return response.redirect("/console/knowledge", status=303)


@console.get("/knowledge/unanswered")
@requires(Capability.TEACH)
async def unanswered_page(request: Request) -> HTTPResponse:
    """What customers asked in the last `days` days that the knowledge base could not
    answer, grouped by meaning, the most asked first, each a click from a new entry."""
    try:
        days = min(max(int(request.args.get("days") or 30), 1), 365)
    except ValueError:
        days = 30
    index = console_index(request)
    misses = await index.misses(time.time() - days * 86400)
    groups: list[Group] = []
    if misses:
        knowledge = await infer(project_index, state_of(request).project)
        groups = await infer(grouped, misses, knowledge.embed)
        bar = knowledge.calibration.min_confidence
        await infer(mark_answered, groups, knowledge.search, bar)
    if wants_json(request):
        return response.json({"days": days, "groups": [asdict(g) for g in groups]})
    return await render(
        "knowledge_unanswered.html", request, groups=groups, days=days, asked=len(misses)
    )


@console.get("/knowledge/try")
@requires(Capability.TEACH)
async def try_question(request: Request) -> HTTPResponse:
    """A question asked as a customer would: the passages the search ranks, with their
    scores and the knowledge base's bar, and the answer the assistant would give (without
    the LLM, and with it when one is configured)."""
    question = (request.args.get("question") or "").strip()[:500]
    if not question:
        return response.redirect("/console/knowledge", status=303)
    state = state_of(request)
    try:
        # Loading the index (the first time) and embedding the question are the models'
        # work: off the event loop, as the answer action's.
        index = await infer(project_index, state.project)
        hits = await infer(index.search, question, SHOWN_PASSAGES)
    except ParlezError as error:
        return response.json({"error": str(error)}, status=409)
    local = await KnowledgeAnswerer(index).answer(question)
    llm = llm_from_endpoint(state.endpoints.llm)
    by_llm = await KnowledgeAnswerer(index, llm).answer(question) if llm is not None else None
    calibration = index.calibration
    result: dict[str, Any] = {
        "question": question,
        "bar": calibration.min_confidence,
        "margin": calibration.margin,
        "passages": [h.to_dict() for h in hits],
        "answer": _answer_dict(local),
        "llm_answer": _answer_dict(by_llm) if by_llm is not None else None,
    }
    if wants_json(request):
        return response.json(result)
    return await render("knowledge_try.html", request, **result)


def _answer_dict(answer: Any) -> dict[str, Any]:
    return {
        "text": answer.text,
        "found": answer.found,
        "by": answer.by,
        "confidence": round(answer.confidence, 4),
        "choices": [{"id": p.id, "title": p.title} for p in answer.choices],
        "sources": answer.sources,
        # the entry is answered by this action, not its text (FAQ `action:`)
        "action": answer.action,
    }
