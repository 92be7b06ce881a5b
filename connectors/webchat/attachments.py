"""Files a visitor sends: checked by their content, kept under a random name on disk or in
an S3-compatible bucket."""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from connectors.webchat.settings import AttachmentSettings, S3Settings
from parlez.extras import install_hint

#: the first bytes of each type the widget accepts; the browser's word for a type is not trusted
SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
]

STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|gif|webp|pdf)$")


class AttachmentStoreError(Exception):
    """The storage failed (an S3 endpoint that is down): the upload can be tried again."""


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


class DiskFiles:
    """Files in a folder, each with a small JSON file of what it is."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, stored: StoredFile, content: bytes, conversation: str = "") -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / stored.name).write_bytes(content)
        (self.folder / f"{stored.name}.json").write_text(
            json.dumps(
                {
                    "name": stored.original,
                    "type": stored.media_type,
                    "size": stored.size,
                    "conversation": conversation,
                }
            ),
            encoding="utf-8",
        )

    def usage(self) -> dict[str, int]:
        """Bytes kept per conversation ('' for files stored before conversations were noted)."""
        used: dict[str, int] = {}
        if not self.folder.is_dir():
            return used
        for path in self.folder.iterdir():
            if not STORED_NAME.match(path.name):
                continue
            try:
                info = json.loads((self.folder / f"{path.name}.json").read_text("utf-8"))
            except (OSError, ValueError):
                info = {}
            owner = str(info.get("conversation") or "") if isinstance(info, dict) else ""
            used[owner] = used.get(owner, 0) + path.stat().st_size
        return used

    def info(self, name: str) -> StoredFile | None:
        path = self.folder / name
        if not path.is_file():
            return None
        try:
            info = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        with path.open("rb") as head:
            found = sniff(head.read(16))
        media_type = found[0] if found else "application/octet-stream"
        return StoredFile(name, str(info.get("name") or name), media_type, path.stat().st_size)

    def get(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None


class S3Files:
    """Files in a bucket of S3 or of an S3-compatible store (MinIO, Ceph, R2...), with what
    they are as object metadata. The bucket stays private: the server hands files out."""

    def __init__(self, settings: S3Settings) -> None:
        try:
            import boto3
        except ImportError as error:
            raise AttachmentStoreError(
                "attachments.storage is 's3' but boto3 is not installed: " + install_hint("boto3")
            ) from error
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
        )

    def _fail(self, doing: str, error: Exception) -> AttachmentStoreError:
        return AttachmentStoreError(f"the S3 bucket '{self.bucket}' failed {doing}: {error}")

    def usage(self) -> dict[str, int]:
        """Counted from this process's uploads only: listing a bucket costs a request per
        thousand files, and the bucket's own quota is the real bound."""
        return {}

    def put(self, stored: StoredFile, content: bytes, conversation: str = "") -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + stored.name,
                Body=content,
                ContentType=stored.media_type,
                # S3 metadata is ASCII: the visitor's file name goes URL-quoted
                Metadata={"original": quote(stored.original), "conversation": quote(conversation)},
            )
        except Exception as error:
            raise self._fail("to store a file", error) from error

    def info(self, name: str) -> StoredFile | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + name)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
                return None
            raise self._fail("to describe a file", error) from error
        except Exception as error:
            raise self._fail("to describe a file", error) from error
        original = unquote(head.get("Metadata", {}).get("original") or name)
        return StoredFile(name, original, str(head["ContentType"]), int(head["ContentLength"]))

    def get(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey"):
                return None
            raise self._fail("to read a file", error) from error
        except Exception as error:
            raise self._fail("to read a file", error) from error
        content: bytes = found["Body"].read()
        return content


class AttachmentStore:
    """What the chat takes (checked here, whatever the backend) and where it keeps it."""

    def __init__(self, settings: AttachmentSettings, root: Path = Path(".")) -> None:
        self.settings = settings
        folder = settings.folder
        self.folder = folder if folder.is_absolute() else root / folder
        self.files: DiskFiles | S3Files = (
            S3Files(settings.s3)
            if settings.storage == "s3" and settings.s3
            else DiskFiles(self.folder)
        )
        #: bytes kept per conversation, read from the storage on the first upload
        self._usage: dict[str, int] | None = None
        self._usage_lock = threading.Lock()

    def save(self, original: str, content: bytes, conversation: str = "") -> StoredFile:
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
        with self._usage_lock:
            self._reserve(conversation, len(content))
        try:
            self.files.put(stored, content, conversation)
        except BaseException:
            with self._usage_lock:
                self._release(conversation, len(content))
            raise
        return stored

    def _reserve(self, conversation: str, size: int) -> None:
        """Count `size` more bytes against the caps, or refuse the file (under the lock)."""
        if self._usage is None:
            self._usage = self.files.usage()
        total = sum(self._usage.values())
        if total + size > self.settings.max_total_bytes:
            raise AttachmentRefused(
                507, "StorageFull", "the chat cannot take more files now; try again later"
            )
        if self._usage.get(conversation, 0) + size > self.settings.max_bytes_per_conversation:
            limit = self.settings.max_bytes_per_conversation / (1024 * 1024)
            raise AttachmentRefused(
                413,
                "ConversationFilesTooLarge",
                f"this conversation has sent the {limit:g} MB of files the chat takes",
            )
        self._usage[conversation] = self._usage.get(conversation, 0) + size

    def _release(self, conversation: str, size: int) -> None:
        if self._usage is not None:
            self._usage[conversation] = max(0, self._usage.get(conversation, 0) - size)

    def info(self, name: str) -> StoredFile | None:
        """What the stored file `name` is; None if there is none (or the name is not ours)."""
        return self.files.info(name) if STORED_NAME.match(name) else None

    def read(self, name: str) -> tuple[StoredFile, bytes] | None:
        info = self.info(name)
        content = self.files.get(name) if info else None
        return (info, content) if info and content is not None else None


def clean_name(original: str, extension: str) -> str:
    """A display name without paths or control characters, with the file's real extension."""
    base = Path(original.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f<>\"]", "", base).strip()[:120] or "file"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem}{extension}"
