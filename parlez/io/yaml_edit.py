"""Setting one value of a person's YAML file in place: its line (or its block) rewritten, and
every other byte kept, comments beside the value included.

`business.yml` is the business's own file, commented for the person who keeps it; the
console changes Saturday's hours or a price without reformatting the rest.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from parlez.exceptions import ParlezError
from parlez.io.edit import load_round_trip

Key = str | int


class YamlEditError(ParlezError):
    code = "P119"


def _yaml() -> YAML:
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _inline(value: Any) -> str:
    """`value` as it is written on its key's line: a scalar, or a list in brackets with its
    strings in double quotes (as people write `["09:00-18:00"]`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, list | tuple):
        items = (
            json.dumps(v, ensure_ascii=False) if isinstance(v, str) else _inline(v) for v in value
        )
        return "[" + ", ".join(items) + "]"
    if isinstance(value, FlowMapping):
        return "{" + ", ".join(f"{_in_flow(k)}: {_in_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        buffer = io.StringIO()
        _yaml().dump({"v": value}, buffer)
        return buffer.getvalue().strip().removeprefix("v:").strip()
    raise YamlEditError(f"cannot write {type(value).__name__} on one line")


def _in_flow(value: Any) -> str:
    """A scalar inside braces, where a comma or a bracket would end it: quoted then."""
    if isinstance(value, str) and (value != value.strip() or any(c in value for c in ",[]{}:#")):
        return json.dumps(value, ensure_ascii=False)
    return _inline(value)


def _inline_as(old: Any, value: Any) -> str:
    """`value` on its line, a string in double quotes when the old one was (the JSON form of
    a string is a YAML double-quoted scalar): a domain's texts keep their quotes."""
    if isinstance(old, DoubleQuotedScalarString) and isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _inline(value)


class FlowMapping(dict[Any, Any]):
    """A mapping to write in braces on its key's line (`{fr: coupe}`), as `set_value` keeps
    one that was written so; give one to write a new mapping that way."""


def _one_line(value: Any) -> bool:
    if isinstance(value, FlowMapping):
        return all(not isinstance(v, dict | list) for v in value.values())
    return not isinstance(value, dict) and (
        not isinstance(value, list | tuple) or all(not isinstance(v, dict | list) for v in value)
    )


def _block(key: str, value: Any, column: int) -> list[str]:
    buffer = io.StringIO()
    _yaml().dump({key: value}, buffer)
    return [" " * column + line for line in buffer.getvalue().splitlines(keepends=True)]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_COMMENT = re.compile(r"(\s+#.*)$")


def set_value(text: str, path: Sequence[Key], value: Any, source: str = "<yaml>") -> str:
    """`text` with the value at `path` (keys of mappings, positions in lists) set to `value`.
    A key the mapping lacks is added after its last key; the mapping itself must exist."""
    data = load_round_trip(text, source, YamlEditError)
    parent: Any = data
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            raise YamlEditError(f"there is no '{step}' in {'.'.join(map(str, path))}") from None
    key = path[-1]
    if not isinstance(parent, CommentedMap) or not isinstance(key, str):
        raise YamlEditError(f"{'.'.join(map(str, path))} is not a key of a mapping")
    if parent.fa.flow_style() and path[:-1]:
        # A key inside `{fr: coupe, de: Haarschnitt}`: the mapping is written again whole,
        # on its line where it was on one.
        return set_value(text, path[:-1], FlowMapping({**parent, key: value}), source)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if key not in parent:
        last = list(parent)[-1] if parent else None
        if last is None:
            raise YamlEditError(f"{'.'.join(map(str, path[:-1]))} is empty: add a key by hand")
        line, column = parent.lc.key(last)
        end = _end(lines, line, column)
        added = (
            [" " * column + f"{key}: {_inline(value)}\n"]
            if _one_line(value) and (not isinstance(value, list | tuple) or _flow(parent[last]))
            else _block(key, value, column)
        )
        return "".join([*lines[:end], *added, *lines[end:]])
    line, column = parent.lc.key(key)
    old = parent[key]
    if _flow(old) and _one_line(value) and _end(lines, line, column) == line + 1:
        head, _, rest = lines[line].partition(":")
        comment = _COMMENT.search(rest.rstrip("\n"))
        tail = comment.group(1) if comment and not _in_quotes(rest, comment.start()) else ""
        lines[line] = f"{head}: {_inline_as(old, value)}{tail}\n"
        return "".join(lines)
    end = _end(lines, line, column)
    block = _block(key, value, column)
    # The key may be a list item's first (`- custom:`): its dash stays before it.
    block[0] = lines[line][:column] + block[0][column:]
    return "".join([*lines[:line], *block, *lines[end:]])


def _flow(value: Any) -> bool:
    """Whether `value` is written on its key's line (a scalar, or `[...]`)."""
    return not isinstance(value, CommentedMap | CommentedSeq) or bool(value.fa.flow_style())


def _in_quotes(text: str, at: int) -> bool:
    """Whether position `at` of `text` is inside a quoted string (a `#` there is text)."""
    before = text[:at]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1


def _end(lines: list[str], line: int, column: int) -> int:
    """The line after the value of the key on `line` at `column` (its trailing blank lines
    and comments left out)."""
    end = line + 1
    while end < len(lines) and (
        not lines[end].strip()
        or lines[end].lstrip().startswith("#")
        or _indent(lines[end]) > column
        or (_indent(lines[end]) == column and lines[end].lstrip().startswith("- "))
    ):
        end += 1
    while end > line + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return end


def _walk(data: Any, path: Sequence[Key]) -> Any:
    node = data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            raise YamlEditError(f"there is no '{step}' in {'.'.join(map(str, path))}") from None
    return node


def _item_lines(lines: list[str], items: CommentedSeq, position: int) -> tuple[int, int]:
    """The first line of item `position` of a block list and the line after it (its
    trailing blank lines and comments left out)."""
    start = items.lc.item(position)[0]
    dash = _indent(lines[start])
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or lines[end].lstrip().startswith("#") or _indent(lines[end]) > dash
    ):
        end += 1
    while end > start + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return start, end


def append_item(
    text: str, path: Sequence[Key], value: dict[str, Any], source: str = "<yaml>"
) -> str:
    """`text` with the mapping `value` added at the end of the list at `path`, indented as
    its items are; the list is made when its key is missing, empty or written in brackets."""
    data = load_round_trip(text, source, YamlEditError)
    parent = _walk(data, path[:-1])
    found = parent.get(path[-1]) if isinstance(parent, CommentedMap) else None
    if not isinstance(found, CommentedSeq) or not found or _flow(found):
        return set_value(text, path, [*(found or []), value], source)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start, end = _item_lines(lines, found, len(found) - 1)
    dash = _indent(lines[start])
    buffer = io.StringIO()
    _yaml().dump([value], buffer)  # its dash at column 2, nested lists indented as ours
    added = [
        " " * dash + line[2:] if line.startswith("  ") else line
        for line in buffer.getvalue().splitlines(keepends=True)
    ]
    return "".join([*lines[:end], *added, *lines[end:]])


def remove_item(text: str, path: Sequence[Key], source: str = "<yaml>") -> str:
    """`text` without the list item at `path` (its last step a position), and its lines."""
    data = load_round_trip(text, source, YamlEditError)
    items = _walk(data, path[:-1])
    position = path[-1]
    if not isinstance(items, CommentedSeq) or not isinstance(position, int):
        raise YamlEditError(f"{'.'.join(map(str, path))} is not an item of a list")
    if not 0 <= position < len(items):
        raise YamlEditError(f"there is no item {position} in {'.'.join(map(str, path[:-1]))}")
    if len(items) == 1 or _flow(items):
        return set_value(text, path[:-1], [v for i, v in enumerate(items) if i != position], source)
    lines = text.splitlines(keepends=True)
    start, end = _item_lines(lines, items, position)
    return "".join([*lines[:start], *lines[end:]])


def remove_key(text: str, path: Sequence[Key], source: str = "<yaml>") -> str:
    """`text` without the key at `path` and its value's lines (nothing when it is not
    there); a mapping left empty is written `{}`."""
    data = load_round_trip(text, source, YamlEditError)
    try:
        parent = _walk(data, path[:-1])
    except YamlEditError:
        return text
    key = path[-1]
    if not isinstance(parent, CommentedMap) or key not in parent:
        return text
    if len(parent) == 1 and path[:-1]:
        return set_value(text, path[:-1], {}, source)
    if _flow(parent) and path[:-1]:
        kept = FlowMapping({k: v for k, v in parent.items() if k != key})
        return set_value(text, path[:-1], kept, source)
    lines = text.splitlines(keepends=True)
    line, column = parent.lc.key(key)
    return "".join([*lines[:line], *lines[_end(lines, line, column) :]])
