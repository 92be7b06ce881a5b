"""Adding stories or rules to a project's files in place: a conversation saved as a test
story, as Rasa X's "save as test story" did, or the story or rule that corrects what the
assistant did next. The new items go at the end of the file's `stories:` (or `rules:`)
list, and every other line stays.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from parlez.exceptions import Location, ParlezError
from parlez.io.edit import FileChange, digest_of, load_round_trip, unified_diff
from parlez.io.yaml import is_yaml_file

#: where Rasa looks for test stories
TEST_STORIES = Path("tests") / "test_stories.yml"


class StoryFileError(ParlezError):
    code = "P118"


def add_stories(path: Path, stories_yaml: str, key: str = "stories") -> FileChange:
    """`path`'s text with the stories of `stories_yaml` (a whole file, as
    `story_writer.stories_yaml` writes one) added at the end of its `key:` list
    (`stories` or `rules`)."""
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if not old.strip():
        return FileChange(path, digest_of(old), stories_yaml, unified_diff(path, old, stories_yaml))
    data = load_round_trip(old, str(path), StoryFileError)
    if not isinstance(data, CommentedMap):
        raise StoryFileError(f"a story file is a mapping with `{key}:`", Location(str(path)))
    ours = stories_yaml.splitlines(keepends=True)
    items = ours[ours.index(f"{key}:\n") + 1 :]
    lines = old.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    found = data.get(key)
    if key not in data:
        new = "".join([*lines, f"{key}:\n", *items])
        return FileChange(path, digest_of(old), new, unified_diff(path, old, new))
    if isinstance(found, CommentedSeq) and found and found.fa.flow_style():
        raise StoryFileError(f"`{key}:` is written in flow style ([...])", Location(str(path)))
    if isinstance(found, CommentedSeq) and found:
        dash = found.lc.item(0)[1] - 2
        items = [" " * dash + line if line.strip() else line for line in items]
    keys = list(data)
    after = keys[keys.index(key) + 1 :]
    at = data.lc.key(after[0])[0] if after else len(lines)
    # The new stories follow the list's last line, before the blank lines that end it.
    while at > 0 and not lines[at - 1].strip():
        at -= 1
    new = "".join([*lines[:at], "\n", *items, *lines[at:]])
    return FileChange(path, digest_of(old), new, unified_diff(path, old, new))


def file_with(files: list[Path], key: str, default: Path) -> Path:
    """The first of the project's training files that has a `key:` list (`stories` or
    `rules`), where a designer keeps them; `default` when none has one yet."""
    for path in files:
        if not is_yaml_file(path):
            continue
        text = path.read_text(encoding="utf-8")
        if any(line.rstrip() == f"{key}:" for line in text.splitlines()):
            return path
    return default
