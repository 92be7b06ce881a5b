"""Answers from the knowledge base: retrieved passages, phrased by an LLM or given as written.

The answer is never invented: with no passage above the knowledge base's bar the assistant
says it does not know (and the caller offers a person). An LLM reads the five best passages
(down to a little under the bar), answers from the one it cites ("[2] ...": it reranks them)
and is the source shown, or says `NO_ANSWER`; an answer that cites no passage it was given
is not trusted. The bar is the index's own, learnt from its entries when
it was built (parlez/knowledge/calibration.py), unless `min_confidence` is given. Without an
LLM the best passage is the answer, as the business wrote it; when the best two passages
score within the index's margin of each other, neither is given: the answer carries both as
`choices`, and the caller asks the customer which one they meant. When no passage reaches the
bar but some fall just short of it, none is given as the answer either: they are offered as
suggestions ("Is your question one of these?"), which costs the customer a click when one is
right and nothing when none is. When the LLM fails (down, slow, bad key), the confident
passage is given as written and the failure is logged: the customer still gets the
business's own answer.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parlez.inference import infer
from parlez.knowledge.documents import Passage
from parlez.knowledge.index import Hit, KnowledgeIndex
from parlez.llm.base import LLM, ChatMessage, LLMError

logger = logging.getLogger(__name__)

#: the bar for a question in another language than the knowledge base's: the packaged
#: encoder is English, and across languages it scores wrong passages 0.5-0.7 (measured on
#: the assistant's FAQ) while a question close to an alternative written in that language
#: scores 0.9
OTHER_LANGUAGE_MIN_CONFIDENCE = 0.75
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
NO_ANSWER = "NO_ANSWER"
#: how far below the bar the second passage may be and still be offered as a choice beside
#: the first (measured on two FAQs end to end: 0.1 turns 1-1.5 points of wrong answers into
#: questions, where the bar alone let a close first passage through unasked)
CHOICE_BELOW_BAR = 0.1

#: how many passages just under the bar are offered as suggestions when none reaches it
#: (measured end to end on two FAQs: offering them turned 9-14 % of the questions from "I
#: don't know" into a click on the right entry, and no more wrong answers)
SUGGESTIONS = 3

#: how many passages the LLM reads: it chooses among them (or none), so it sees more than
#: the answer as written would use
LLM_PASSAGES = 5

SYSTEM_PROMPT = """You are the customer-service assistant of {business}, chatting with a \
customer on the business's website.
Answer the customer's last message using ONLY the numbered passages below, which come from \
the business's own documents. They were found by a search and may not fit: use the one \
passage that answers the message, if any. Be brief and friendly: at most three sentences, \
plain text.
Start your reply with the number of the passage you used in square brackets, for example \
"[2] We're open until 6 pm today." If no passage answers the message, reply with exactly \
{no_answer} and nothing else. Never guess, never use other knowledge, never invent prices, \
times or policies.

Passages:
{passages}"""

_CITATION = re.compile(r"\[(\d+)\]")


@dataclass
class Answer:
    text: str
    found: bool
    #: "llm", "passage" (given as written), "choice" (two as good as each other to ask
    #: about), "suggestions" (none sure enough to answer, some close) or "none"
    by: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    confidence: float = 0.0
    #: the passages the customer is asked to choose between, or suggested (`found` is false)
    choices: list[Passage] = field(default_factory=list)
    #: the action that answers instead of `text`: the entry found names one (FAQ `action:`)
    action: str | None = None


def _near_bar(found: list[Hit], bar: float) -> list[Hit]:
    """The passages `found` that reach `bar`, or fall short of it by `CHOICE_BELOW_BAR` at
    most: those worth offering (as a runner-up) or reading (by an LLM)."""
    return [hit for hit in found if hit.confidence >= bar - CHOICE_BELOW_BAR]


def _over_bar(found: list[Hit], bar: float) -> tuple[list[Hit], Hit | None]:
    """Of the passages `found`, those that reach `bar`, and the runner-up (see `search`)."""
    hits = [hit for hit in found if hit.confidence >= bar]
    if not hits:
        return [], None
    others = [h for h in _near_bar(found, bar) if h is not hits[0]]
    return hits, (others[0] if others else None)


def source_of(hit: Hit) -> dict[str, Any]:
    passage = hit.passage
    return {
        "id": passage.id,
        "title": passage.title,
        "source": passage.source,
        "url": passage.url,
    }


@dataclass(frozen=True)
class _Search:
    """Where a question is searched, and what its best passage must reach."""

    index: KnowledgeIndex
    bar: float
    margin: float
    suggest: bool


class KnowledgeAnswerer:
    def __init__(
        self,
        index: KnowledgeIndex,
        llm: LLM | None = None,
        business: str = "the business",
        min_confidence: float | None = None,
        passages: int = 3,
        language: str = "en",
        other_language_min_confidence: float = OTHER_LANGUAGE_MIN_CONFIDENCE,
        margin: float | None = None,
        multilingual: KnowledgeIndex | None = None,
    ) -> None:
        self.index = index
        #: the same passages under the multilingual encoder, for questions in another
        #: language than the knowledge base's (parlez/knowledge/multilingual.py)
        self.multilingual = multilingual
        self.llm = llm
        self.business = business
        self._min_confidence = min_confidence
        self._margin = margin
        self.passages = passages
        self.language = language  # the language the knowledge base is written in
        self.other_language_min_confidence = other_language_min_confidence

    @property
    def min_confidence(self) -> float:
        """The bar: the one given, else the index's own, relearnt whenever the knowledge
        base changes (the console edits it while the assistant runs)."""
        if self._min_confidence is not None:
            return self._min_confidence
        return self.index.calibration.min_confidence

    @property
    def margin(self) -> float:
        return self.index.calibration.margin if self._margin is None else self._margin

    def variant(
        self,
        use_llm: bool = True,
        min_confidence: float | None = None,
        margin: float | None = None,
    ) -> KnowledgeAnswerer:
        """This answerer with other settings (an A/B test's arm): the same index and LLM
        client; `use_llm=False` answers with the entries as written."""
        varied = copy.copy(self)
        if not use_llm:
            varied.llm = None
        if min_confidence is not None:
            varied._min_confidence = min_confidence
        if margin is not None:
            varied._margin = margin
        return varied

    def warm_up(self) -> None:
        """Search each index once, so that its encoder is loaded now rather than at a
        customer's first question."""
        self.index.search("hello", k=1)
        if self.multilingual is not None:
            self.multilingual.search("bonjour", k=1)

    def search(
        self, question: str, minimum: float | None = None, k: int | None = None
    ) -> tuple[list[Hit], Hit | None]:
        """The passages that reach the bar, best first, and the runner-up: the next passage,
        when it is within `CHOICE_BELOW_BAR` of the bar. The runner-up is never answered;
        it may be offered beside the best passage when the two are close."""
        bar = self.min_confidence if minimum is None else minimum
        return _over_bar(self.index.search(question, k=k or self.passages), bar)

    async def answer(
        self,
        question: str,
        history: Sequence[ChatMessage] = (),
        topic: str | None = None,
        language: str | None = None,
    ) -> Answer:
        """Answer `question` from the passages it retrieves. `topic` is a question to search
        with when `question` itself finds nothing (what the NLU says was asked: "How much do
        your services cost?" for "is a blow dry expensive?"); the LLM still answers
        `question`. `language` (a code such as `fr`): the LLM answers in it; a passage
        given as written is given in it when the FAQ entry has that translation."""
        # Embedding the question is CPU work: off the event loop, as NLU is.
        foreign = bool(language) and language != self.language
        if self.llm is not None:
            return await self._by_llm(self.llm, question, history, foreign, language, topic)
        searched = self._searched(foreign)
        found = await infer(searched.index.search, question, max(self.passages, SUGGESTIONS))
        if topic and topic != question and not _over_bar(found, searched.bar)[0]:
            # the topic's question is in the knowledge base's language: its own index
            searched = self._searched(False)
            found = await infer(self.index.search, topic, max(self.passages, SUGGESTIONS))
        return self._decided(
            found, searched.bar, language, suggest=searched.suggest, margin=searched.margin
        )

    def _searched(self, foreign: bool) -> _Search:
        """The index a question is searched in, and its bar and margin: the knowledge
        base's own, or for a question in another language the multilingual one (its own
        calibration); without it, the English encoder across languages, whose scores near
        the bar are noise: a higher bar and no suggestions."""
        if not foreign:
            return _Search(self.index, self.min_confidence, self.margin, True)
        if self.multilingual is None:
            return _Search(self.index, self.other_language_min_confidence, self.margin, False)
        calibration = self.multilingual.calibration
        return _Search(
            self.multilingual,
            calibration.min_confidence if self._min_confidence is None else self._min_confidence,
            calibration.margin if self._margin is None else self._margin,
            True,
        )

    async def _by_llm(
        self,
        llm: LLM,
        question: str,
        history: Sequence[ChatMessage],
        foreign: bool,
        language: str | None,
        topic: str | None = None,
    ) -> Answer:
        """The LLM reads the best passages (down to `CHOICE_BELOW_BAR` under the bar: it
        judges them) and answers from the one it cites, or says `NO_ANSWER`. A reply that
        cites no passage it was given is not trusted: the passages decide, as without an
        LLM, and so they do when the LLM fails."""
        searched = self._searched(foreign)
        found = await infer(searched.index.search, question, LLM_PASSAGES)
        if topic and topic != question and not _near_bar(found, searched.bar):
            # the topic's question is in the knowledge base's language: its own index
            searched = self._searched(False)
            found = await infer(self.index.search, topic, LLM_PASSAGES)
        bar, suggest, margin = searched.bar, searched.suggest, searched.margin
        read = _near_bar(found, bar)
        if not read:
            return Answer("", found=False, by="none")
        hits, runner_up = _over_bar(found, bar)
        if hits and hits[0].passage.action:
            # An entry answered by its action (prices from the catalogue): nothing to phrase.
            return self._chosen(hits[0], runner_up, language, margin)
        system = SYSTEM_PROMPT.format(
            business=self.business,
            no_answer=NO_ANSWER,
            passages="\n\n".join(
                f"[{n}] {hit.passage.title}\n{hit.passage.text}" for n, hit in enumerate(read, 1)
            ),
        )
        if language and language != "en":
            name = LANGUAGE_NAMES.get(language, language)
            system += f"\n\nThe customer writes in {name}: answer in {name}."
        try:
            reply = await llm.complete(system, [*history, ChatMessage("user", question)])
        except LLMError as error:
            logger.warning("P510 %s; answering with the passage as written", error.message)
            return self._decided(found, bar, language, suggest=suggest, margin=margin)
        if NO_ANSWER in reply:
            return Answer("", found=False, by="llm", confidence=read[0].confidence)
        cited = _CITATION.search(reply)
        number = int(cited.group(1)) if cited else 0
        if not 1 <= number <= len(read):
            logger.warning(
                "P512 the LLM's answer cites no passage it was given (%r); "
                "answering with the passage as written",
                reply[:80],
            )
            return self._decided(found, bar, language, suggest=suggest, margin=margin)
        used = read[number - 1]
        if used.passage.action:  # the entry's action answers, not a phrasing of its text
            return self._as_written(used, language)
        text = " ".join(_CITATION.sub("", reply).split())
        return Answer(
            text, found=True, by="llm", sources=[source_of(used)], confidence=used.confidence
        )

    def _decided(
        self,
        found: list[Hit],
        bar: float,
        language: str | None,
        suggest: bool = True,
        margin: float | None = None,
    ) -> Answer:
        """The passages' own decision (the answer without an LLM): the best passage that
        reaches `bar` (or a choice, see `_chosen`), else the passages just under it as
        suggestions when `suggest`, else nothing."""
        hits, runner_up = _over_bar(found, bar)
        if hits:
            return self._chosen(hits[0], runner_up, language, margin)
        close = _near_bar(found, bar)[:SUGGESTIONS]
        if suggest and close:
            return Answer(
                "",
                found=False,
                by="suggestions",
                confidence=close[0].confidence,
                choices=[hit.passage for hit in close],
            )
        return Answer("", found=False, by="none")

    def entry(self, entry_id: str, language: str | None = None) -> Answer:
        """The entry `entry_id` as written (the one the customer chose), or not found."""
        for passage in self.index.passages:
            if passage.id == entry_id:
                return self._as_written(Hit(passage, 1.0, 1.0, 0.0), language)
        return Answer("", found=False, by="none")

    def _chosen(
        self, best: Hit, runner_up: Hit | None, language: str | None, margin: float | None = None
    ) -> Answer:
        """The best passage as written, unless the runner-up is as good: then both, to ask."""
        margin = self.margin if margin is None else margin
        if runner_up is not None and best.confidence - runner_up.confidence < margin:
            return Answer(
                "",
                found=False,
                by="choice",
                confidence=best.confidence,
                choices=[best.passage, runner_up.passage],
            )
        return self._as_written(best, language)

    @staticmethod
    def _as_written(hit: Hit, language: str | None = None) -> Answer:
        return Answer(
            hit.passage.answer_in(language),
            found=True,
            by="passage",
            sources=[source_of(hit)],
            confidence=hit.confidence,
            action=hit.passage.action,
        )
