"""The model archive: `models/<timestamp>-<name>.tar.gz`, readable by a person.

It holds `metadata.json` (parlez version, when it was trained, the fingerprint of the data and
config each part was trained from, the resolved config) and one folder per trained part:
`nlu/` (the pipeline, one `NN_Component/` folder per component) and `core/` (the policies,
one `NN_Policy/` folder each, and the domain they were trained with).
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parlez import __version__
from parlez.exceptions import Location, ParlezError, relative

METADATA = "metadata.json"
#: the archive's parts, each a folder: the NLU pipeline and the dialogue policies
NLU_PART = "nlu"
CORE_PART = "core"
#: the domain the policies were trained with, inside the core part
DOMAIN_FILE = "domain.json"
#: what a trained part's folder holds; raised when a release changes it (2: DIET and TED
#: save their exported graph), so that `parlez train` retrains a part saved the old way
#: instead of reusing it
PART_FORMAT = 2
#: gzip stores the archive's files without compressing them: they are mostly float weights,
#: which zlib's level 9 shrank by 15 % (the assistant's 11.9 MB to 10.2) in 1.4 s of every
#: training, and which then took 0.08-0.09 s to unpack at every start (0.04 s stored).
#: Still a gzip file that any tar reads, and archives of either kind load.
ARCHIVE_COMPRESSION = 0


class ModelError(ParlezError):
    code = "P185"


def fingerprint(*parts: Any) -> str:
    """A stable hash of JSON-able data: the same data and config give the same fingerprint."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Metadata:
    parlez_version: str = __version__
    trained_at: float = field(default_factory=time.time)
    assistant_id: str | None = None
    language: str = "en"
    fingerprints: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    training_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def archive_name(assistant_id: str | None, prefix: str = "", models: Path | None = None) -> str:
    """`<prefix><time>-<assistant>.tar.gz`; numbered (`...-2.tar.gz`) when `models` holds
    one of that name already, as two trainings in the same second would."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{prefix}{stamp}-{assistant_id}" if assistant_id else f"{prefix}{stamp}"
    name, number = f"{base}.tar.gz", 1
    while models is not None and (models / name).exists():
        number += 1
        name = f"{base}-{number}.tar.gz"
    return name


def write_archive(folder: Path, metadata: Metadata, target: Path) -> Path:
    """Pack `folder` (holding `nlu/`, `core/`) with its metadata into the archive `target`."""
    (folder / METADATA).write_text(
        json.dumps(metadata.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with tarfile.open(partial, "w:gz", compresslevel=ARCHIVE_COMPRESSION) as tar:
        for item in sorted(folder.iterdir()):
            tar.add(item, arcname=item.name)
    partial.replace(target)  # a crash mid-write never leaves a half archive under the real name
    return target


@contextmanager
def opened(archive: Path) -> Iterator[Path]:
    """The archive extracted into a temporary folder, removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="parlez-model-") as folder:
        yield unpack(archive, Path(folder))


def unpack(archive: Path, target: Path) -> Path:
    """Extract an archive into the folder `target` and return it."""
    if not archive.is_file():
        raise ModelError(
            f"there is no model at '{relative(archive)}'",
            Location(relative(archive)),
            hint="train one with `parlez train`",
        )
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ModelError(
            f"'{relative(archive)}' is not a readable model archive ({error})",
            Location(relative(archive)),
            hint="retrain the model",
        ) from None
    if not (target / METADATA).exists():
        raise ModelError(
            f"'{relative(archive)}' is not a parlez model (no {METADATA})",
            Location(relative(archive)),
            hint="Rasa's own archives cannot be loaded: retrain with `parlez train`",
        )
    return target


def read_metadata(folder: Path) -> Metadata:
    data = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    known = set(Metadata.__dataclass_fields__)
    return Metadata(**{k: v for k, v in data.items() if k in known})


def require_model(models: Path) -> Path:
    """The archive `models` names, or the newest in that folder; none is an error."""
    archive = latest_model(models)
    if archive is None:
        raise ModelError(
            f"no model in '{relative(models)}'",
            Location(relative(models)),
            hint="train one with `parlez train nlu`",
        )
    return archive


def latest_model(models: Path, prefix: str | None = None) -> Path | None:
    """The newest archive in `models/`; with a prefix ("nlu-"), the newest of that kind."""
    if models.is_file():
        return models
    if not models.is_dir():
        return None
    archives = [p for p in models.glob("*.tar.gz") if prefix is None or p.name.startswith(prefix)]
    return max(archives, key=lambda p: (p.stat().st_mtime, p.name), default=None)
