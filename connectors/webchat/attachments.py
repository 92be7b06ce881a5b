"""Files a visitor sends: checked by their content, kept on disk under a random name."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from connectors.webchat.settings import AttachmentSettings

#: the first bytes of each type the widget accepts; the browser's word for a type is not trusted
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
]

STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|gif|webp|pdf)$")


class AttachmentRefused(Exception):
    """An upload the chat does not take; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def sniff(content: bytes) -> tuple[str, str] | None:
    """The media type and extension that `content` really is, if it is one we know."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", ".webp"
    for magic, media_type, extension in SIGNATURES:
        if content.startswith(magic):
            return media_type, extension
    return None


@dataclass(frozen=True)
class StoredFile:
    name: str  # the stored name: random, so that a link cannot be guessed
    original: str
    media_type: str
    size: int

    def describe(self, base_url: str = "") -> dict[str, object]:
        return {
            "url": f"{base_url}/webchat/files/{self.name}",
            "name": self.original,
            "type": self.media_type,
            "size": self.size,
        }


class AttachmentStore:
    def __init__(self, settings: AttachmentSettings, root: Path = Path(".")) -> None:
        self.settings = settings
        folder = settings.folder
        self.folder = folder if folder.is_absolute() else root / folder

    def save(self, original: str, content: bytes) -> StoredFile:
        if not self.settings.enabled:
            raise AttachmentRefused(403, "AttachmentsOff", "this chat does not take files")
        if len(content) > self.settings.max_bytes:
            limit = self.settings.max_bytes / (1024 * 1024)
            raise AttachmentRefused(
                413, "FileTooLarge", f"the file is larger than the {limit:g} MB this chat takes"
            )
        if not content:
            raise AttachmentRefused(400, "EmptyFile", "the file is empty")
        found = sniff(content)
        if found is None or found[0] not in self.settings.types:
            raise AttachmentRefused(
                415,
                "UnsupportedFileType",
                "this kind of file is not accepted; send an image (PNG, JPEG, GIF, WebP) or a PDF",
            )
        media_type, extension = found
        stored = StoredFile(
            f"{uuid.uuid4().hex}{extension}",
            clean_name(original, extension),
            media_type,
            len(content),
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / stored.name).write_bytes(content)
        (self.folder / f"{stored.name}.json").write_text(
            json.dumps({"name": stored.original, "type": media_type, "size": len(content)}),
            encoding="utf-8",
        )
        return stored

    def open(self, name: str) -> tuple[StoredFile, Path] | None:
        if not STORED_NAME.match(name):
            return None
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            info = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        found = sniff(path.read_bytes()[:16])
        media_type = found[0] if found else "application/octet-stream"
        return StoredFile(
            name, str(info.get("name") or name), media_type, path.stat().st_size
        ), path


def clean_name(original: str, extension: str) -> str:
    """A display name without paths or control characters, with the file's real extension."""
    base = Path(original.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f<>\"]", "", base).strip()[:120] or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}{extension}"
