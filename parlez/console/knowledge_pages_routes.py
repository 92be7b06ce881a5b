"""The knowledge base's Markdown pages and its FAQ as files, in the console: a page of
`data/kb/` read, written, made and deleted as its text (the assistant answers from its
sections once saved); the FAQ exported to CSV, JSON or YAML and imported from one, as
`parlez kb export` / `import` do."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from parlez.console.auth import database_of, requires, wants_json
from parlez.console.knowledge_routes import kb_folder, knowledge_list
from parlez.console.pages import console, render
from parlez.console.roles import Capability
from parlez.exceptions import ParlezError, relative
from parlez.http.errors import ApiError
from parlez.io.edit import digest, digest_of, replace_if_unchanged
from parlez.knowledge.documents import FAQ_SUFFIXES, export_faq, read_kb, read_markdown
from parlez.knowledge.faq_import import import_faq

#: the formats an export is offered in, and their media types
EXPORTS = {"csv": "text/csv", "json": "application/json", "yml": "application/yaml"}
#: a file to import larger than this is not a business's FAQ
MOST_IMPORT_BYTES = 2_000_000
_PAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,80}$")


def page_path(request: Request, name: str) -> Path:
    """The Markdown page `name` (relative to `data/kb/`), never a path outside it."""
    kb = kb_folder(request).resolve()
    path = (kb / name).resolve()
    if not path.is_relative_to(kb) or path.suffix.lower() != ".md":
        raise ApiError(400, "BadRequest", f"'{name}' is not a Markdown page of the knowledge base")
    return path


def _sections(path: Path) -> list[str]:
    try:
        return [p.title for p in read_markdown(path)] if path.is_file() else []
    except (OSError, UnicodeDecodeError):
        return []


@console.get("/knowledge/pages/<name:path>")
@requires(Capability.TEACH)
async def page_editor(request: Request, name: str) -> HTTPResponse:
    path = page_path(request, name)
    if not path.is_file():
        return await render("missing.html", request, status=404, what="page", missing=name)
    text = path.read_text(encoding="utf-8")
    if wants_json(request):
        return response.json({"page": {"name": name, "text": text, "digest": digest_of(text)}})
    return await render(
        "knowledge_page.html",
        request,
        page=name,
        text=text,
        digest=digest_of(text),
        sections=_sections(path),
        saved=request.args.get("saved"),
    )


@console.post("/knowledge/pages/<name:path>")
@requires(Capability.TEACH)
async def save_page(request: Request, name: str) -> HTTPResponse:
    path = page_path(request, name)
    form: Any = request.get_form(keep_blank_values=True) or {}
    text = str(form.get("text") or "").replace("\r\n", "\n")
    if not text.strip():
        return await _refused(request, name, text, 400, "a page needs some text (or delete it)")
    if not text.endswith("\n"):
        text += "\n"
    expected = str(form.get("digest")) if "digest" in form else None
    if expected == "" and path.exists():
        return await _refused(request, name, text, 409, f"a page '{name}' is there already")
    if not replace_if_unchanged(path, text, expected):
        return await _refused(
            request, name, text, 409, f"{path.name} changed since this page was opened"
        )
    await database_of(request).record(request.ctx.session.user, "kb_page_save", name, "")
    if wants_json(request):
        return response.json({"saved": name, "digest": digest(path)})
    return response.redirect(f"/console/knowledge/pages/{name}?saved=1", status=303)


async def _refused(request: Request, name: str, text: str, status: int, error: str) -> HTTPResponse:
    if wants_json(request):
        return response.json({"error": error}, status=status)
    path = page_path(request, name)
    return await render(
        "knowledge_page.html",
        request,
        status=status,
        page=name,
        text=text,
        digest=digest(path) if path.exists() else "",
        sections=_sections(path),
        error=error,
    )


@console.post("/knowledge/pages")
@requires(Capability.TEACH)
async def new_page(request: Request) -> HTTPResponse:
    """A new page, named by its title ("Our team" → our-team.md), with its heading."""
    form: Any = request.form or {}
    title = " ".join(str(form.get("title") or "").split())
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    if not slug or not _PAGE_NAME.match(slug):
        raise ApiError(400, "BadRequest", "a page needs a title of letters or digits")
    name = f"{slug}.md"
    path = page_path(request, name)
    if path.exists():
        raise ApiError(409, "Conflict", f"a page '{name}' is there already")
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_if_unchanged(path, f"# {title}\n\n", "")
    await database_of(request).record(request.ctx.session.user, "kb_page_new", name, "")
    return response.redirect(f"/console/knowledge/pages/{name}", status=303)


@console.post("/knowledge/pages/<name:path>/delete")
@requires(Capability.TEACH)
async def delete_page(request: Request, name: str) -> HTTPResponse:
    path = page_path(request, name)
    form: Any = request.form or {}
    # without a digest (a script with a token) it is deleted knowingly, as an entry is
    if path.is_file() and "digest" in form and digest(path) != str(form.get("digest")):
        return await _refused(
            request, name, path.read_text(encoding="utf-8"), 409,
            f"{path.name} changed since this page was opened: look at it again",
        )  # fmt: skip
    path.unlink(missing_ok=True)
    await database_of(request).record(request.ctx.session.user, "kb_page_delete", name, "")
    return response.redirect("/console/knowledge?deleted=1", status=303)


@console.get("/knowledge/export/<kind:str>")
@requires(Capability.TEACH)
async def export(request: Request, kind: str) -> HTTPResponse:
    """Every FAQ entry of the knowledge base, as a file to download."""
    if kind not in EXPORTS:
        raise ApiError(404, "NotFound", f"the FAQ exports as {', '.join(EXPORTS)}")
    with tempfile.TemporaryDirectory(prefix="parlez-kb-export-") as work:
        target = Path(work) / f"faq.{kind}"
        try:
            export_faq(read_kb(kb_folder(request)), target)
        except ParlezError as error:
            raise ApiError(409, "Conflict", f"{error} (mend the file, then export)") from None
        body = target.read_bytes()
    return response.raw(
        body,
        content_type=f"{EXPORTS[kind]}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="faq.{kind}"'},
    )


@console.post("/knowledge/import")
@requires(Capability.TEACH)
async def import_file(request: Request) -> HTTPResponse:
    """FAQ entries from an uploaded CSV, JSON, JSONL or YAML file, added to data/kb/faq.yml
    (or replacing its entries); the assistant answers from them once saved."""
    upload = request.files.get("file") if request.files else None
    if upload is None or not upload.name:
        raise ApiError(400, "BadRequest", "choose a CSV, JSON, JSONL or YAML file to import")
    suffix = Path(upload.name).suffix.lower()
    if suffix not in FAQ_SUFFIXES:
        raise ApiError(400, "BadRequest", f"'{upload.name}' is not a CSV, JSON, JSONL or YAML file")
    if len(upload.body) > MOST_IMPORT_BYTES:
        raise ApiError(413, "PayloadTooLarge", "the file is larger than 2 MB")
    form: Any = request.form or {}
    project = kb_folder(request).parent.parent
    with tempfile.TemporaryDirectory(prefix="parlez-kb-import-") as work:
        source = Path(work) / f"upload{suffix}"
        source.write_bytes(upload.body)
        try:
            done = import_faq(project, source, replace=bool(form.get("replace")))
        except ParlezError as error:
            # the error names the temporary file: name the one the person chose
            message = (
                str(error).replace(str(source), upload.name).replace(relative(source), upload.name)
            )
            if wants_json(request):
                return response.json({"error": message}, status=400)
            return await knowledge_list(request, 400, f"Nothing was imported: {message}")
    detail = f"{done.incoming} entries from {upload.name}"
    await database_of(request).record(request.ctx.session.user, "kb_import", "faq.yml", detail)
    if wants_json(request):
        return response.json({"imported": done.incoming, "added": done.added})
    return response.redirect(f"/console/knowledge?imported={done.incoming}", status=303)
