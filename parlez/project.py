"""A Rasa project on disk: where its files are and what they hold, read once each."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from parlez.config import Config, configured_language
from parlez.diagnostics import warn
from parlez.domain import Domain, is_domain_document
from parlez.endpoints import Endpoints, read_credentials
from parlez.events import UserUttered
from parlez.exceptions import (
    Location,
    NotTrainingDataError,
    ProjectError,
    did_you_mean,
    relative,
)
from parlez.importers import MULTI_PROJECT, ImportedFiles, importer_names, multi_project_files
from parlez.io.yaml import YamlMap, is_yaml_file, read_text_file, read_yaml_file
from parlez.responses import read_responses
from parlez.training_data.json_data import read_json_data
from parlez.training_data.nlu_yaml import read_nlu_section
from parlez.training_data.stories import FULL_RETRIEVAL_INTENT, StoryBlock, read_story_section
from parlez.training_data.training_data import TrainingData

DATA_KEYS = {"version", "nlu", "stories", "rules", "responses"}


#: what `parlez run` sets to the folder of the project it serves
PROJECT_ENV = "PARLEZ_PROJECT"


def project_folder() -> Path:
    """The project being served (`parlez run` sets PARLEZ_PROJECT), else the working folder:
    where the project's own relative paths (uploads, databases, the knowledge base) start."""
    return Path(os.environ.get(PROJECT_ENV, ".")).resolve()


@dataclass
class DataFiles:
    """What the project's data files hold, merged."""

    nlu: TrainingData = field(default_factory=TrainingData)
    stories: list[StoryBlock] = field(default_factory=list)
    rules: list[StoryBlock] = field(default_factory=list)


def read_data_file(path: Path, into: DataFiles, language: str = "en") -> None:
    """Add one training data file to `into`: YAML, or JSON (Rasa's, or an export of LUIS,
    Wit.ai or Dialogflow, whose examples in `language` are read)."""
    if path.suffix == ".json":
        into.nlu = into.nlu.merge(read_json_data(path, language))
        return
    raw = read_yaml_file(path)
    shown = relative(path)
    if raw is None:
        warn(
            "P103",
            "the file is empty and holds no training data",
            Location(shown),
            hint="add content or remove it",
        )
        return
    if not isinstance(raw, YamlMap):
        raise NotTrainingDataError(
            "a training data file must be a mapping with 'nlu', 'stories' or 'rules'",
            Location(shown, 1, 1),
        )
    for key in raw:
        if key not in DATA_KEYS:
            warn(
                "P113",
                f"unknown key '{key}' is ignored",
                raw.where(key),
                hint=did_you_mean(key, DATA_KEYS)
                or "training data files hold nlu, stories, rules and responses",
            )
    _check_version(raw, shown)
    into.nlu = into.nlu.merge(read_nlu_section(raw.get("nlu"), path))
    if raw.get("responses"):
        into.nlu.responses.update(read_responses(raw["responses"], raw.where("responses")))
    stories = read_story_section(raw.get("stories"), "story", path)
    if not _is_test_file(path):
        _warn_full_retrieval_intents(stories)
    into.stories += stories
    into.rules += read_story_section(raw.get("rules"), "rule", path)


def read_found_file(path: Path, into: DataFiles, language: str, named: list[Path]) -> None:
    """`read_data_file`, for a file given in `named` or found in a folder of it: one found
    that holds no training data (a JSON file of another tool, a YAML list) is passed over
    with a warning, as Rasa passes over it, instead of stopping the whole project."""
    try:
        read_data_file(path, into, language)
    except NotTrainingDataError as error:
        if path in named:
            raise
        warn(
            error.code,
            f"{error.message}: the file is passed over",
            error.where,
            hint="move it out of the data folder if it is not training data",
        )


def _is_test_file(path: Path) -> bool:
    """Rasa's test stories: in a `tests` folder, or a file named `test_...`."""
    return path.name.startswith("test_") or "tests" in path.parts


def _warn_full_retrieval_intents(stories: list[StoryBlock]) -> None:
    """As Rasa warns: a training story names the retrieval intent (`chitchat`), and the
    ResponseSelector picks the response; `chitchat/ask_name` there is read as `chitchat`."""
    for block in stories:
        for step in block.steps:
            for event in [*step.events, *step.alternatives]:
                if isinstance(event, UserUttered) and event.intent.get(FULL_RETRIEVAL_INTENT):
                    full = event.intent[FULL_RETRIEVAL_INTENT]
                    warn(
                        "P155",
                        f"the story '{block.name}' names the full retrieval intent '{full}': "
                        f"training stories are read with '{event.intent_name}', the "
                        "ResponseSelector chooses the response",
                        step.location,
                        hint=f"write '- intent: {event.intent_name}' (test stories may "
                        "name the full intent)",
                    )


def _check_version(raw: YamlMap, shown: str) -> None:
    version = raw.get("version")
    if version is None:
        return
    if not isinstance(version, str):
        warn(
            "P114",
            f"the format version should be a quoted string, not {version!r}",
            raw.where("version", value=True),
            hint='version: "3.1"',
        )
        version = str(version)
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = 3
    if major < 3:
        warn(
            "P115",
            f"the file declares format version {version}; it is read as Rasa 3.x data",
            raw.where("version", value=True),
            hint='update it to version: "3.1" (parlez data migrate converts a 2.x domain)',
        )


KB_FOLDER = "kb"


def data_files(paths: list[Path]) -> list[Path]:
    """Every training data file under `paths` (files or folders), in a stable order.

    A `kb/` folder in a data folder is the knowledge base (documents, not training data).
    """
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            kb = p / KB_FOLDER
            files = sorted(f for f in p.rglob("*") if f.is_file() and not f.is_relative_to(kb))
            found += [f for f in files if is_yaml_file(f) or f.suffix == ".json"]
            for markdown in (f for f in files if f.suffix == ".md"):
                warn(
                    "P116",
                    "Markdown training data is not read (Rasa 3 reads YAML only)",
                    Location(relative(markdown)),
                    hint="convert it with Rasa 2's `rasa data convert`, or move it out of the data folder",
                )
        elif p.is_file():
            found.append(p)
    return found


def read_data(paths: list[Path], language: str = "en") -> DataFiles:
    """Every training data file under `paths`, merged; no file at all is an error.
    `language` picks the examples of a Dialogflow export."""
    found = data_files(paths)
    if not found:
        raise ProjectError(
            f"no training data found in {', '.join(relative(p) for p in paths)}",
            hint="pass --nlu PATH",
        )
    files = DataFiles()
    for path in found:
        read_found_file(path, files, language, paths)
    return files


class Project:
    """A Rasa 3.x project rooted at `root`, with Rasa's default file locations."""

    def __init__(
        self,
        root: Path | str = ".",
        *,
        domain: Path | str | None = None,
        config: Path | str | None = None,
        data: list[Path | str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.domain_path = Path(domain) if domain else self._default_domain()
        self.config_path = Path(config) if config else self.root / "config.yml"
        self._data_given = [Path(d) for d in data] if data else None
        self._domain_given = domain is not None
        self.endpoints_path = self.root / "endpoints.yml"
        self.credentials_path = self.root / "credentials.yml"
        self.tests_path = self.root / "tests"

    @cached_property
    def _imported(self) -> ImportedFiles | None:
        """With Rasa's MultiProjectImporter, the imported projects' files; read when first
        needed (a Project is made for its paths far more often than for its files)."""
        if MULTI_PROJECT not in importer_names(self.config_path):
            return None
        return multi_project_files(self.config_path)

    @property
    def data_paths(self) -> list[Path]:
        """Where the training data is: as given, the imported projects' files, or data/."""
        if self._data_given is not None:
            return self._data_given
        return self._imported.data if self._imported else [self.root / "data"]

    @property
    def imported_domain(self) -> list[Path]:
        """The imported projects' domain files, whose merge is the domain (a --domain given
        wins)."""
        return self._imported.domain if self._imported and not self._domain_given else []

    @property
    def imported_tests(self) -> list[Path]:
        return self._imported.tests if self._imported else []

    def _default_domain(self) -> Path:
        folder = self.root / "domain"
        return folder if folder.is_dir() else self.root / "domain.yml"

    @cached_property
    def config(self) -> Config:
        return Config.load(self.config_path)

    @cached_property
    def data(self) -> DataFiles:
        files = DataFiles()
        domain_files = (
            {f.resolve() for f in data_files([self.domain_path])}
            if self.domain_path.exists()
            else set()
        ) | {f.resolve() for f in self.imported_domain}
        language = configured_language(self.config_path)  # picks a Dialogflow export's examples
        for path in data_files(self.data_paths):
            if path.resolve() in domain_files:
                continue
            if is_yaml_file(path) and _looks_like_domain(path):
                continue  # a domain file kept under data/: Rasa reads it as the domain only
            read_found_file(path, files, language, self.data_paths)
        return files

    @property
    def has_domain(self) -> bool:
        return bool(self.imported_domain) or self.domain_path.exists()

    @cached_property
    def domain(self) -> Domain:
        domain = (
            Domain.merge_all([Domain.load(path) for path in self.imported_domain])
            if self.imported_domain
            else Domain.load(self.domain_path)
        )
        for name, variations in self.data.nlu.responses.items():
            domain.responses.setdefault(name, variations)
        domain.add_retrieval_intents(sorted(self.data.nlu.retrieval_intents))
        return domain

    @property
    def training_data(self) -> TrainingData:
        return self.data.nlu

    def nlu_training_data(self) -> TrainingData:
        """The NLU data with the domain's retrieval responses (`utter_faq/...`) added, as the
        ResponseSelector needs them whichever file declares them."""
        data = self.data.nlu.merge()
        # As Rasa does, NLU trains without a domain (an NLU data set evaluated on its own).
        responses = self.domain.responses if self.has_domain else data.responses
        for name, variations in responses.items():
            if "/" in name:
                data.responses.setdefault(name, variations)
        return data

    @property
    def stories(self) -> list[StoryBlock]:
        return self.data.stories

    @property
    def rules(self) -> list[StoryBlock]:
        return self.data.rules

    @cached_property
    def test_stories(self) -> list[StoryBlock]:
        files = DataFiles()
        paths = list(self.imported_tests)
        if self.tests_path.is_dir():
            paths += sorted(self.tests_path.rglob("test_*.yml")) + sorted(
                self.tests_path.rglob("test_*.yaml")
            )
        for path in paths:
            read_data_file(path, files)
        return files.stories + files.rules

    @cached_property
    def endpoints(self) -> Endpoints:
        return Endpoints.load(self.endpoints_path)

    @cached_property
    def credentials(self) -> dict[str, dict[str, Any]]:
        return read_credentials(self.credentials_path)


def _looks_like_domain(path: Path) -> bool:
    head = read_text_file(path)[:20000]
    if not any(
        f"\n{k}:" in f"\n{head}"
        for k in ("intents", "slots", "forms", "actions", "session_config", "entities")
    ):
        return False
    return is_domain_document(read_yaml_file(path))
