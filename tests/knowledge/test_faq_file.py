"""An FAQ file edited in place: the entry changes, every other byte of the file stays, and a
file changed since it was read is never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from parlez.io.edit import digest
from parlez.knowledge.documents import KnowledgeFileError, read_faq_file
from parlez.knowledge.faq_file import FaqEntry, FaqFile, StaleFileError
from tests.conftest import write

FAQ = """\
# Questions our customers ask. Keep the friendliest answers first.
faq:
  - id: hours
    question: What are your opening hours?
    alternatives:
      - When are you open?
      - "Quels sont vos horaires ?"   # French customers ask this
    answer: Monday to Friday, 9:00 to 18:00.
    answers:
      fr: "Du lundi au vendredi, de 9:00 à 18:00."

  # Money matters
  - id: prices
    question: How much is a haircut?
    answer: 35 EUR, VAT included.

  - question: Is there parking nearby?
    answer: 'Yes: the Maple Street car park.'
"""


def entry(path: Path, entry_id: str) -> FaqEntry:
    found = next(p for p in FaqFile.read(path).entries() if p.id == entry_id)
    return FaqEntry(found.title, found.text, found.alternatives, found.answers, found.url)


def test_an_edited_answer_changes_its_line_and_nothing_else(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    edited = entry(path, "prices")
    text = FaqFile.read(path).put(
        FaqEntry(edited.question, "38 EUR, VAT included.", ["What do you charge?"]), "prices"
    )
    assert text == FAQ.replace(
        "    answer: 35 EUR, VAT included.",
        "    alternatives:\n      - What do you charge?\n    answer: 38 EUR, VAT included.",
    )


def test_an_entry_keeps_its_comments_quotes_and_other_languages(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    hours = entry(path, "hours")
    changed = FaqEntry(
        hours.question,
        "Monday to Saturday, 9:00 to 18:00.",
        hours.alternatives,
        {**hours.answers, "de": "Montag bis Samstag, 9:00 bis 18:00."},
    )
    text = FaqFile.read(path).put(changed, "hours")
    assert '      - "Quels sont vos horaires ?"   # French customers ask this\n' in text
    assert '      fr: "Du lundi au vendredi, de 9:00 à 18:00."\n' in text
    assert "      de: Montag bis Samstag, 9:00 bis 18:00.\n" in text
    assert text.split("  # Money matters")[1] == FAQ.split("  # Money matters")[1]
    (saved,) = [p for p in _entries(tmp_path, text) if p.id == "hours"]
    assert saved.text == "Monday to Saturday, 9:00 to 18:00." and saved.answers["de"]


def _entries(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    return read_faq_file(write(tmp_path / "check.yml", text))


def test_a_new_entry_goes_at_the_end_spaced_like_the_others(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    text = FaqFile.read(path).put(FaqEntry("Do you have Wi-Fi?", "Yes: MapleGuest.", id="wifi"))
    assert text == FAQ + (
        "\n  - id: wifi\n    question: Do you have Wi-Fi?\n    answer: 'Yes: MapleGuest.'\n"
    )
    assert [p.id for p in _entries(tmp_path, text)][-1] == "wifi"


def test_the_first_entry_makes_the_file(tmp_path: Path) -> None:
    text = FaqFile.read(tmp_path / "faq.yml").put(FaqEntry("Open today?", "Until 6 pm."))
    assert text == "faq:\n  - question: Open today?\n    answer: Until 6 pm.\n"


def test_a_removed_entry_takes_its_lines_and_one_blank_line(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    text = FaqFile.read(path).remove("prices")
    assert text == FAQ.replace(
        "  # Money matters\n  - id: prices\n    question: How much is a haircut?\n"
        "    answer: 35 EUR, VAT included.\n\n",
        "  # Money matters\n",
    )
    last = FaqFile.read(path).remove("is-there-parking-nearby")
    assert last == FAQ.split("\n  - question: Is there parking")[0]


def test_a_list_at_the_top_of_the_file_is_edited_at_its_own_indentation(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "faq.yml", "- question: Open today?\n  answer: Until 6 pm.\n")
    text = FaqFile.read(path).put(FaqEntry("Open today?", "Until 7 pm."), "open-today")
    assert text == "- question: Open today?\n  answer: Until 7 pm.\n"


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    opened = FaqFile.read(path)
    mine = opened.put(FaqEntry("How much is a haircut?", "40 EUR."), "prices")
    write(path, FAQ.replace("35 EUR", "36 EUR"))  # a colleague saved first
    with pytest.raises(StaleFileError, match="changed since it was opened"):
        opened.save(mine, opened.digest)
    assert "36 EUR" in path.read_text()
    opened = FaqFile.read(path)
    opened.save(opened.put(FaqEntry("How much is a haircut?", "40 EUR."), "prices"), digest(path))
    assert "    answer: 40 EUR.\n" in path.read_text()


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (FaqEntry("", "An answer"), "needs a question"),
        (FaqEntry("A question?", "  "), "needs an answer"),
        (FaqEntry("A question?", "Yes", answers={"french": "Oui"}), "not a language code"),
        (FaqEntry("A question?", "Yes", id="has space"), "an id is letters"),
    ],
)
def test_an_entry_that_cannot_be_read_back_is_refused(
    tmp_path: Path, new: FaqEntry, problem: str
) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    with pytest.raises(KnowledgeFileError, match=problem):
        FaqFile.read(path).put(new)


def test_a_file_the_console_cannot_edit_says_why_and_where(tmp_path: Path) -> None:
    flow = write(tmp_path / "flow.yml", "faq: [{question: Open?, answer: Yes}]\n")
    with pytest.raises(KnowledgeFileError, match="flow style"):
        FaqFile.read(flow)
    broken = write(tmp_path / "broken.yml", "faq:\n  - question: [unclosed\n")
    with pytest.raises(KnowledgeFileError, match=r"broken\.yml:3"):
        FaqFile.read(broken)
    with pytest.raises(KnowledgeFileError, match="no entry 'nope'"):
        FaqFile.read(write(tmp_path / "faq.yml", FAQ)).remove("nope")


def test_a_question_on_the_entrys_dash_line_is_edited_there(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.yml", FAQ)
    text = FaqFile.read(path).put(
        FaqEntry("Can I park nearby?", "Yes: the Maple Street car park."),
        "is-there-parking-nearby",
    )
    assert text == FAQ.replace("  - question: Is there parking", "  - question: Can I park")


def test_every_answer_of_the_assistants_own_faq_is_edited_in_its_one_line() -> None:
    """The assistant's data/kb/faq.yml, as a designer keeps it: changing any one answer
    changes one line of the file, and the file still reads as before but for that answer."""
    path = Path(__file__).resolve().parents[2] / "data" / "kb" / "faq.yml"
    original = FaqFile.read(path)
    for passage in original.entries():
        edited = FaqEntry(
            passage.title, passage.text + " (edited)", passage.alternatives, passage.answers
        )
        text = original.put(edited, passage.id)
        before, after = original.text.splitlines(), text.splitlines()
        assert len(before) == len(after)
        assert sum(b != a for b, a in zip(before, after, strict=True)) == 1, passage.id
