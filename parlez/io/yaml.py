"""Reading YAML the way Rasa does, keeping where every key and item came from.

libyaml (through PyYAML's C parser) builds the node tree, which is what makes a 15,000-example
NLU file load in milliseconds; we then turn nodes into plain dicts and lists ourselves so that
every mapping and sequence remembers the line and column of its keys and items, and errors
can point at them. Scalars are resolved with YAML 1.2's core schema, as Rasa's reader does:
`yes`, `no`, `on` and `off` stay strings.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml import nodes

from parlez.exceptions import (
    EmptyFileError,
    FileEncodingError,
    FileReadError,
    FileTooLargeError,
    Location,
    OversizedDocumentError,
    SchemaError,
    YamlSyntaxError,
    relative,
)

#: Files above this size are refused: they are nearly always a mistake (a data dump, a binary),
#: and reading one would take the machine's memory. PARLEZ_MAX_FILE_MB raises the limit.
DEFAULT_MAX_FILE_MB = 32.0

#: How deep mappings and lists may nest. Rasa's formats need about ten levels; a custom
#: payload a few more. Deeper documents are refused before they are turned into Python values,
#: which is done recursively.
MAX_DEPTH = 100

#: How many nodes aliases may add to a document once they are expanded (beyond the nodes
#: written out). A few hundred bytes of nested aliases ("billion laughs") otherwise expand to
#: billions of values; a real project repeats a few blocks at most.
MAX_ALIAS_NODES = 100_000


class YamlMap(dict[str, Any]):
    """A mapping read from YAML, with the position of each key and value."""

    path: str | None
    line: int
    column: int
    key_pos: dict[str, tuple[int, int]]
    value_pos: dict[str, tuple[int, int]]

    def where(self, key: str | None = None, *, value: bool = False) -> Location:
        """The location of this mapping, of one of its keys, or of that key's value."""
        table = self.value_pos if value else self.key_pos
        if key is not None and key in table:
            line, column = table[key]
            return Location(self.path, line, column)
        return Location(self.path, self.line, self.column)


class YamlSeq(list[Any]):
    """A sequence read from YAML, with the position of each item."""

    path: str | None
    line: int
    column: int
    item_pos: list[tuple[int, int]]

    def where(self, index: int | None = None) -> Location:
        if index is not None and 0 <= index < len(self.item_pos):
            line, column = self.item_pos[index]
            return Location(self.path, line, column)
        return Location(self.path, self.line, self.column)


def where(container: Any, key: str | int | None = None, *, value: bool = False) -> Location | None:
    """The location of `container` (or of `key` in it) if it was read from a file."""
    if isinstance(container, YamlMap):
        return container.where(key if isinstance(key, str) else None, value=value)
    if isinstance(container, YamlSeq):
        return container.where(key if isinstance(key, int) else None)
    return None


def document_start(document: Any, at: Location | None) -> Location | None:
    """Where a file's top-level value is, for errors about the document as a whole: its own
    position when it is a mapping or a list, else the file's first line."""
    found = where(document)
    if found is not None or at is None:
        return found
    return Location(at.path, 1, 1)


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core schema: only true/false are booleans, no sexagesimal numbers."""


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


# libyaml's parser, when PyYAML was built with it (the wheels are): 20x faster than pure Python.
_CParser: Any = (
    getattr(importlib.import_module("yaml.cyaml"), "CParser", None)
    if yaml.__with_libyaml__
    else None
)


if _CParser is not None:

    class _Loader(_CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Resolver.__init__(self)


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _scalar(node: nodes.ScalarNode, path: str | None) -> Any:
    tag, text = node.tag, node.value
    if tag == "tag:yaml.org,2002:str":
        return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text, 0) if text.startswith("0x") else int(text)
    if tag == "tag:yaml.org,2002:float":
        lowered = text.lower()
        if lowered.endswith(".inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(text)
    # Explicit tags (`!!str`, custom ones) keep their text; Rasa's formats use none.
    return text


def _children(node: nodes.Node) -> list[nodes.Node]:
    if isinstance(node, nodes.SequenceNode):
        return list(node.value)
    if isinstance(node, nodes.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_shape(root: nodes.Node, path: str | None) -> None:
    """Refuse a node tree that nests deeper than MAX_DEPTH, holds an alias of a node that
    contains it, or whose aliases expand to more than MAX_ALIAS_NODES nodes.

    Aliases are the same node object wherever they appear, so each node is measured once
    (depth-first, without recursion): the cost is that of the document as written, however
    far it would expand.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    referenced: set[int] = set()
    ancestors: set[int] = set()
    aliased = 0
    stack: list[tuple[nodes.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, level, children_done = stack.pop()
        key = id(node)
        if not children_done:
            if level + height.get(key, 1) - 1 > MAX_DEPTH:
                raise OversizedDocumentError(
                    f"mappings and lists nest more than {MAX_DEPTH} levels deep",
                    Location(path, *_pos(node.start_mark)),
                    hint="Rasa's files need about ten levels; check the indentation",
                )
            if key in size:
                continue
            if key in ancestors:
                raise OversizedDocumentError(
                    "an alias refers to a mapping or list that contains it",
                    Location(path, *_pos(node.start_mark)),
                    hint="a value cannot include itself; copy the part you need instead",
                )
            ancestors.add(key)
            stack.append((node, level, True))
            stack.extend((child, level + 1, False) for child in _children(node))
            continue
        ancestors.discard(key)
        children = _children(node)
        size[key] = 1 + sum(size[id(child)] for child in children)
        height[key] = 1 + max((height[id(child)] for child in children), default=0)
        for child in children:
            if id(child) in referenced:
                aliased += size[id(child)]
            else:
                referenced.add(id(child))
        if aliased > MAX_ALIAS_NODES:
            raise OversizedDocumentError(
                f"the document's aliases expand to more than {MAX_ALIAS_NODES:,} values",
                Location(path, *_pos(node.start_mark)),
                hint="anchors (&name) and aliases (*name) that repeat each other multiply; "
                "write the repeated part out, or repeat it fewer times",
            )


def _build(node: nodes.Node, path: str | None) -> Any:
    if isinstance(node, nodes.ScalarNode):
        return _scalar(node, path)
    if isinstance(node, nodes.SequenceNode):
        seq = YamlSeq()
        seq.path, (seq.line, seq.column) = path, _pos(node.start_mark)
        seq.item_pos = []
        for item in node.value:
            seq.append(_build(item, path))
            seq.item_pos.append(_pos(item.start_mark))
        return seq
    if isinstance(node, nodes.MappingNode):
        mapping = YamlMap()
        mapping.path, (mapping.line, mapping.column) = path, _pos(node.start_mark)
        mapping.key_pos, mapping.value_pos = {}, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _build(value_node, path)
                for source in merged if isinstance(merged, list) else [merged]:
                    for k, v in source.items():
                        mapping.setdefault(k, v)
                continue
            key = _build(key_node, path)
            if isinstance(key, (dict, list)):
                raise SchemaError(
                    "a mapping key must be a plain value, not a list or mapping",
                    Location(path, *_pos(key_node.start_mark)),
                )
            key = key if isinstance(key, str) else ("null" if key is None else str(key))
            if key in mapping:
                first_line = mapping.key_pos[key][0]
                raise SchemaError(
                    f"duplicate key '{key}' (first defined on line {first_line})",
                    Location(path, *_pos(key_node.start_mark)),
                    hint="remove one of them or merge their contents",
                )
            mapping[key] = _build(value_node, path)
            mapping.key_pos[key] = _pos(key_node.start_mark)
            mapping.value_pos[key] = _pos(value_node.start_mark)
        return mapping
    raise SchemaError(f"unsupported YAML node {type(node).__name__}", Location(path))


def _tab_at(text: str, mark: Any) -> bool:
    """Whether the error position is in a line's indentation that contains a tab."""
    if mark is None:
        return False
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return "\t" in indent or (mark.column < len(line) and line[mark.column] == "\t")


def _syntax_error(error: yaml.MarkedYAMLError, path: str | None, text: str) -> YamlSyntaxError:
    mark = error.problem_mark or error.context_mark
    where = Location(path, *_pos(mark)) if mark else Location(path)
    problem = error.problem or "invalid YAML"
    if "'\\t'" in problem or _tab_at(text, error.problem_mark):
        return YamlSyntaxError(
            "a tab character is used for indentation",
            where,
            hint="YAML indents with spaces only; replace the tab with spaces",
        )
    message = problem
    if error.context:
        message = f"{problem} ({error.context}"
        if error.context_mark and error.problem_mark and error.context_mark != error.problem_mark:
            message += f" on line {error.context_mark.line + 1}"
        message += ")"
    hint = "check the indentation and that every ':' and '-' is followed by a space"
    if "found character '%'" in problem or "found character '@'" in problem:
        hint = "quote the value: a plain YAML value cannot start with this character"
    elif "mapping values are not allowed" in problem:
        hint = "quote the text if it contains ': ', or fix the indentation of the line"
    return YamlSyntaxError(message, where, hint=hint)


def read_yaml(text: str, path: str | None = None) -> Any:
    """Parse one YAML document into plain values that remember their positions.

    An empty document gives None.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, path, text) from None
    except yaml.reader.ReaderError as error:
        raise _reader_error(error, path, text) from None
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error), Location(path)) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    _check_shape(node, path)
    return _build(node, path)


def _reader_error(error: yaml.reader.ReaderError, path: str | None, text: str) -> YamlSyntaxError:
    """A character YAML does not allow (a control character, say), with its line and column."""
    # libyaml counts in bytes of UTF-8, the pure-Python reader in characters.
    before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
    if _CParser is None:
        before = text[: error.position]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    character = f"U+{error.character:04X}" if isinstance(error.character, int) else "a character"
    return YamlSyntaxError(
        f"{character} is not allowed in YAML ({error.reason})",
        Location(path, line, column),
        hint="remove the character; a text that needs it can write it as an escape "
        'inside double quotes ("\\x01")',
    )


def plain(value: Any) -> Any:
    """`value` with YamlMap and YamlSeq turned into plain dicts and lists (for YAML writers,
    which represent exact types only)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def max_file_bytes() -> int:
    megabytes = float(os.environ.get("PARLEZ_MAX_FILE_MB", DEFAULT_MAX_FILE_MB))
    return int(megabytes * 1024 * 1024)


def read_text_file(path: Path | str) -> str:
    """A project file's text: UTF-8 (with or without a byte-order mark), size-checked."""
    p = Path(path)
    shown = relative(p)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise FileReadError(f"file '{shown}' does not exist", Location(shown)) from None
    limit = max_file_bytes()
    if size > limit:
        raise FileTooLargeError(
            f"the file is {size / 1024 / 1024:.1f} MB, more than the "
            f"{limit / 1024 / 1024:.0f} MB parlez reads in one file",
            Location(shown),
            hint="split it into several files in the same folder, "
            "or raise PARLEZ_MAX_FILE_MB if it really is one document",
        )
    raw = p.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileEncodingError(
            "the file is encoded as UTF-16",
            Location(shown, 1, 1),
            hint="save it as UTF-8 (your editor's 'Save with encoding' menu)",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise FileEncodingError(
            f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x} cannot be decoded)",
            Location(shown, line, column),
            hint="save it as UTF-8; files written as Latin-1 or Windows-1252 must be converted",
        ) from None


def read_yaml_file(path: Path | str, *, allow_empty: bool = True) -> Any:
    """Read a YAML file; an empty one gives None, or an error when `allow_empty` is false."""
    shown = relative(path)
    data = read_yaml(read_text_file(path), shown)
    if data is None and not allow_empty:
        raise EmptyFileError(
            "the file is empty", Location(shown), hint="add content or remove the file"
        )
    return data


def is_yaml_file(path: Path) -> bool:
    return path.suffix in (".yml", ".yaml")


#: what YAML does not allow written as it is (control characters, surrogates, U+FFFE/F), and
#: what it reads as a line break besides "\n" and "\r" (U+0085, U+2028, U+2029)
UNWRITABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)


def double_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar that reads back as it is: JSON's string, with
    what YAML does not allow as it is escaped too (JSON leaves U+007F-U+009F and U+2028)."""
    return UNWRITABLE.sub(
        lambda found: f"\\u{ord(found.group()):04x}", json.dumps(text, ensure_ascii=False)
    )
