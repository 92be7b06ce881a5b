"""The defaults a training chose for a config.yml without `pipeline:` or `policies:`, written
back into the file as comments under the key, as Rasa's training writes them: the designer
sees what the model was trained with and can uncomment it to start tuning."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from parlez.config import Config

#: The comment above each part's suggestion: Rasa's words, so that a file Rasa wrote
#: suggestions into is recognised and its suggestions replaced, not repeated.
HEADERS: dict[str, tuple[str, ...]] = {
    "pipeline": (
        "# # No configuration for the NLU pipeline was provided. The following default "
        "pipeline was used to train your model.",
        "# # If you'd like to customize it, uncomment and adjust the pipeline.",
        "# # See parlez's docs/nlu.md (The default pipeline) for more information.",
    ),
    "policies": (
        "# # No configuration for policies was provided. The following default policies "
        "were used to train your model.",
        "# # If you'd like to customize them, uncomment and adjust the policies.",
        "# # See parlez's docs/dialogue.md (Policies) for more information.",
    ),
}
#: a line of a suggestion after its header: a comment of its own (`# # ...`) or a commented
#: component (`#   - name: ...`, `#     epochs: 100`)
_SUGGESTION_LINE = re.compile(r"^# (# |  )")


def write_suggestions(path: Path, config: Config, parts: Iterable[str]) -> list[str]:
    """Write, under `pipeline:` and `policies:` of the config file at `path`, the defaults
    `config` was given for those of `parts` it left out (`Config.defaulted`), each replacing
    what an earlier training wrote there. The file's other lines are kept as they are; a key
    it lacks is added at its end. Returns the parts written (none where the file does not
    exist: a training without a config file leaves none behind). OSError where the file
    cannot be written."""
    wanted = [part for part in HEADERS if part in set(parts) and part in config.defaulted]
    if not wanted or not path.is_file():
        return []
    text = path.read_bytes().decode("utf-8")  # its line ends as they are
    lines = text.splitlines()
    for part in wanted:
        lines = _without_suggestion(lines, part)
        block = _suggestion(part, config)
        key = _key_line(lines, part)
        if key is None:
            lines += [f"{part}:", *block]
        else:
            lines[key + 1 : key + 1] = block
    newline = "\r\n" if "\r\n" in text else "\n"  # a file written on Windows stays so
    written = newline.join(lines) + newline
    if written != text:
        path.write_bytes(written.encode("utf-8"))
    return wanted


def _suggestion(part: str, config: Config) -> list[str]:
    components = [c.to_dict() for c in getattr(config, part)]
    dumped = yaml.safe_dump(components, sort_keys=False, default_flow_style=False)
    return [*HEADERS[part], *(f"#   {line}" for line in dumped.splitlines())]


def _without_suggestion(lines: list[str], part: str) -> list[str]:
    """`lines` without the suggestion for `part` an earlier training wrote."""
    kept: list[str] = []
    inside = False
    for line in lines:
        if line == HEADERS[part][0]:
            inside = True
            continue
        if inside and _SUGGESTION_LINE.match(line):
            continue
        inside = False
        kept.append(line)
    return kept


def _key_line(lines: list[str], part: str) -> int | None:
    """The line of the top-level key `part:`, if the file has one."""
    key = re.compile(rf"^{part}\s*:")
    return next((index for index, line in enumerate(lines) if key.match(line)), None)
