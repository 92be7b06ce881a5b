"""Text written for a screen, rewritten for the ear: what a voice says of a response.

A response written for the web chat holds links, markdown and emoji that a voice would read
out character by character ("h t t p s colon slash slash..."). A caller hears the words:
a link's text without its address, a bare address as its site ("example.com"), emphasis and
emoji dropped, a list's items as sentences. A response with a `channel: twilio_voice` variation is the better
fix, and the validator's job to suggest; this is what keeps the others listenable.
"""

from __future__ import annotations

import re

_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))+\)")
_URL = re.compile(
    r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:/\S*)?(?<![.,;:!?])",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^(?:https?://|www\.)", re.IGNORECASE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols, flags' letters
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2300-\u23ff"  # technical (watch, hourglass)
    "\u2b00-\u2bff"  # arrows, stars
    "\ufe0f\u200d\u20e3"  # variation selector, joiner, keycap
    "]+"
)
_SPACES = re.compile(r"[ \t]+")
_EMPTY_PUNCTUATION = re.compile(r"\s+([,.;:!?])")


def _site(found: re.Match[str]) -> str:
    """A web address as a caller can note it down: its site, without its path; words
    that merely hold a dot ("e.g", "3.5") are not addresses."""
    whole = found.group(0)
    if not _SCHEME.match(whole) and "/" not in whole:
        return whole  # "example.com" said as it is; "e.g." and "p.m." untouched
    return found.group(1)


def spoken(text: str) -> list[str]:
    """What a voice says of `text`: its paragraphs (a pause between each), each without
    links' addresses, markdown or emoji. Empty paragraphs are left out."""
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(_site, text)
    text = _HEADING.sub("", text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = _EMOJI.sub("", text)
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [_BULLET.sub("", line).strip() for line in paragraph.splitlines()]
        # A list's items, one per line, become sentences the voice pauses after.
        sentence = " ".join(
            line if line[-1:] in ".!?:;," or i == len(lines) - 1 else line + "."
            for i, line in enumerate(lines)
            if line
        )
        sentence = _EMPTY_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", sentence)).strip()
        if any(ch.isalnum() for ch in sentence):
            paragraphs.append(sentence)
    return paragraphs
