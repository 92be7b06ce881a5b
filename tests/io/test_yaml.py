from __future__ import annotations

from pathlib import Path

import pytest

from parlez.exceptions import (
    EmptyFileError,
    FileEncodingError,
    FileReadError,
    FileTooLargeError,
    MissingEnvironmentVariableError,
    OversizedDocumentError,
    SchemaError,
    YamlSyntaxError,
)
from parlez.io.env import expand, expand_all
from parlez.io.yaml import MAX_DEPTH, YamlMap, YamlSeq, read_yaml, read_yaml_file


def test_mappings_and_sequences_remember_where_each_key_and_item_is() -> None:
    data = read_yaml(
        "intents:\n  - greet\n  - bye\nslots:\n  city:\n    type: text\n", "domain.yml"
    )
    assert isinstance(data, YamlMap)
    assert data.where("slots").line == 4
    assert str(data["slots"]["city"].where("type")) == "domain.yml:6:5"
    intents = data["intents"]
    assert isinstance(intents, YamlSeq)
    assert intents.where(1).line == 3


def test_scalars_follow_yaml_1_2_so_yes_and_no_stay_text() -> None:
    data = read_yaml("a: yes\nb: no\nc: on\nd: true\ne: 3\nf: 2.5\ng: null\nh: '3.1'\ni: 0x1f\n")
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": True,
        "e": 3,
        "f": 2.5,
        "g": None,
        "h": "3.1",
        "i": 31,
    }


def test_an_empty_document_reads_as_none() -> None:
    assert read_yaml("") is None
    assert read_yaml("# only a comment\n") is None


def test_syntax_errors_name_the_line_and_column() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml("intents:\n  - greet\n  bad: [unclosed\n", "domain.yml")
    assert caught.value.where is not None
    assert caught.value.where.path == "domain.yml"
    assert caught.value.where.line is not None and caught.value.where.line >= 3


def test_a_tab_in_the_indentation_is_explained() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml("intents:\n\t- greet\n", "domain.yml")
    assert "tab" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == 2
    assert caught.value.hint is not None and "spaces" in caught.value.hint


def test_a_duplicate_key_is_an_error_naming_both_lines() -> None:
    with pytest.raises(SchemaError) as caught:
        read_yaml("slots:\n  a: 1\nslots:\n  b: 2\n", "domain.yml")
    assert "duplicate key 'slots'" in caught.value.message
    assert "line 1" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == 3


def test_a_file_that_is_not_utf8_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_bytes("nlu:\n- intent: greet\n  examples: |\n    - caf\xe9\n".encode("latin-1"))
    with pytest.raises(FileEncodingError) as caught:
        read_yaml_file(path)
    assert caught.value.where is not None
    assert (caught.value.where.line, caught.value.where.column) == (4, 10)
    assert "UTF-8" in (caught.value.hint or "")


def test_a_utf16_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_bytes("nlu: []\n".encode("utf-16"))
    with pytest.raises(FileEncodingError, match="UTF-16"):
        read_yaml_file(path)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_bytes(b"\xef\xbb\xbfversion: '3.1'\n")
    assert read_yaml_file(path) == {"version": "3.1"}


def test_an_empty_file_is_an_error_where_content_is_required(tmp_path: Path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text("")
    assert read_yaml_file(path) is None
    with pytest.raises(EmptyFileError, match="empty"):
        read_yaml_file(path, allow_empty=False)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="does not exist"):
        read_yaml_file(tmp_path / "nope.yml")


def test_a_50_megabyte_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    with path.open("wb") as handle:
        handle.write(b"nlu:\n- intent: greet\n  examples: |\n")
        line = b"    - hello there this is a long example line\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    with pytest.raises(FileTooLargeError) as caught:
        read_yaml_file(path)
    assert "50.0 MB" in caught.value.message
    assert "PARLEZ_MAX_FILE_MB" in (caught.value.hint or "")


def test_the_size_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yml"
    path.write_text("a: " + "x" * 2048 + "\n")
    monkeypatch.setenv("PARLEZ_MAX_FILE_MB", "0.001")
    with pytest.raises(FileTooLargeError):
        read_yaml_file(path)
    monkeypatch.setenv("PARLEZ_MAX_FILE_MB", "1")
    assert read_yaml_file(path)["a"].startswith("xx")


def test_environment_variables_are_substituted_in_every_string() -> None:
    data = read_yaml(
        "url: http://${HOST}:${PORT}/webhook\nlist:\n  - ${HOST}\nn: 3\n", "endpoints.yml"
    )
    expand_all(data, {"HOST": "example.org", "PORT": "5055"})
    assert data == {"url": "http://example.org:5055/webhook", "list": ["example.org"], "n": 3}


def test_an_unset_environment_variable_names_itself_and_its_line() -> None:
    data = read_yaml("tracker_store:\n  password: ${DB_PASSWORD}\n", "endpoints.yml")
    with pytest.raises(MissingEnvironmentVariableError) as caught:
        expand_all(data, {})
    assert "'DB_PASSWORD'" in caught.value.message
    assert str(caught.value.where) == "endpoints.yml:2:13"
    assert "export DB_PASSWORD" in (caught.value.hint or "")


def test_text_without_variables_is_returned_unchanged() -> None:
    assert expand("costs $5", None, {}) == "costs $5"


def test_the_libyaml_parser_reads_files_when_pyyaml_has_it() -> None:
    import yaml

    from parlez.io import yaml as reader

    if yaml.__with_libyaml__:
        assert reader._Loader.__mro__[1].__name__ == "CParser"


def test_a_default_makes_a_variable_optional() -> None:
    assert expand("${ANTHROPIC_API_KEY:-}", None, {}) == ""
    assert expand("${MODEL:-claude-haiku-4-5}", None, {}) == "claude-haiku-4-5"
    assert expand("${MODEL:-x}", None, {"MODEL": "gpt"}) == "gpt"
    assert expand("${MODEL:-x}", None, {"MODEL": ""}) == "x"  # empty counts as unset, as in sh


def billion_laughs(levels: int) -> str:
    """A few hundred bytes whose nested aliases expand to 9**levels strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_aliases_that_multiply_are_refused_before_they_are_expanded() -> None:
    text = billion_laughs(9)
    assert len(text) < 800
    with pytest.raises(OversizedDocumentError) as caught:
        read_yaml(text, "data/bomb.yml")
    assert caught.value.code == "P106"
    assert caught.value.where is not None and caught.value.where.path == "data/bomb.yml"
    assert caught.value.where.line is not None
    assert "aliases expand" in caught.value.message


def test_a_few_aliases_are_read_as_copies() -> None:
    data = read_yaml("base: &b [1, 2]\none: *b\ntwo: *b\n")
    assert data == {"base": [1, 2], "one": [1, 2], "two": [1, 2]}


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(OversizedDocumentError, match="contains it"):
        read_yaml("a: &x [1, *x]\n", "loop.yml")


def test_nesting_deeper_than_any_rasa_file_is_refused_at_the_line_it_passes_the_limit() -> None:
    depth = 998
    text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    with pytest.raises(OversizedDocumentError) as caught:
        read_yaml(text, "domain.yml")
    assert caught.value.where is not None
    assert caught.value.where.line == MAX_DEPTH + 1


def test_a_control_character_is_refused_at_its_line_and_column() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml("intents:\n  - grëet\n  - b\x01ye\n", "domain.yml")
    assert str(caught.value.where) == "domain.yml:3:6"
    assert "U+0001" in caught.value.message


def test_a_deeply_nested_domain_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    from parlez.domain import Domain

    path = tmp_path / "domain.yml"
    path.write_text("intents:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 400)))
    with pytest.raises(OversizedDocumentError) as caught:
        Domain.load(path)
    assert caught.value.where is not None and caught.value.where.path.endswith("domain.yml")
