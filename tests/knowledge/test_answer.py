"""Answers come from the passages: phrased by a real SDK against a local API, or as written;
an unknown question or a failing LLM never produces an invented answer."""

from __future__ import annotations

import pytest

from parlez.endpoints import EndpointConfig
from parlez.knowledge.answer import KnowledgeAnswerer
from parlez.knowledge.documents import read_kb
from parlez.knowledge.index import KnowledgeIndex
from parlez.llm import ChatMessage, llm_from_endpoint
from parlez.llm.base import LLMConfigError
from tests.conftest import write
from tests.fakes.llm import fake_llm
from tests.knowledge.test_index import FAQ

pytestmark = pytest.mark.anyio


def built(tmp_path_factory: pytest.TempPathFactory, faq: str) -> KnowledgeIndex:
    """The index of a knowledge base holding one FAQ file."""
    kb = tmp_path_factory.mktemp("kb")
    write(kb / "faq.yml", faq)
    return KnowledgeIndex.build(read_kb(kb))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    return built(tmp_path_factory, FAQ)


def llm_for(kind: str, url: str, **extra: object) -> object:
    return llm_from_endpoint(
        EndpointConfig(type=kind, kwargs={"api_key": "test-key", "base_url": url, **extra})
    )


async def test_without_an_llm_the_passage_is_the_answer(index: KnowledgeIndex) -> None:
    answer = await KnowledgeAnswerer(index).answer("is there somewhere to park?")
    assert answer.found and answer.by == "passage"
    assert answer.text.startswith("Yes, the Maple Street car park")
    assert answer.sources[0]["id"] == "parking" and answer.sources[0]["source"].endswith("faq.yml")


async def test_the_intents_topic_is_searched_when_the_words_find_nothing(
    index: KnowledgeIndex,
) -> None:
    knowledge = KnowledgeAnswerer(index)
    vague = "zzz qqq"  # words that find nothing on their own
    assert not (await knowledge.answer(vague)).found
    answer = await knowledge.answer(vague, topic="Is there parking nearby?")
    assert answer.found and answer.sources[0]["id"] == "parking"


async def test_an_unknown_question_is_an_honest_no(index: KnowledgeIndex) -> None:
    answer = await KnowledgeAnswerer(index).answer("what is the capital of Australia?")
    assert not answer.found and answer.text == "" and answer.sources == []


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_the_llm_answers_from_the_passages_through_its_sdk(
    index: KnowledgeIndex, kind: str
) -> None:
    with fake_llm(reply="[1] We're open 9 to 6 on weekdays.") as api:
        url = api.anthropic_url if kind == "anthropic" else api.openai_url
        answerer = KnowledgeAnswerer(index, llm_for(kind, url), business="Maple Street Studio")  # type: ignore[arg-type]
        history = [ChatMessage("user", "hi"), ChatMessage("assistant", "Hello!")]
        answer = await answerer.answer("when are you open?", history)
    assert answer.found and answer.by == "llm" and answer.text == "We're open 9 to 6 on weekdays."
    assert answer.sources[0]["id"] == "hours"
    (request,) = api.requests
    body = request["body"]
    if kind == "anthropic":
        assert request["path"] == "/v1/messages"
        headers = request["headers"]  # the key goes as x-api-key or as a bearer token
        assert "test-key" in (headers.get("x-api-key") or headers.get("authorization", ""))
        assert "anthropic-version" in headers
        system, turns = body["system"], body["messages"]
    else:
        assert request["path"] == "/v1/chat/completions"
        assert request["headers"]["authorization"] == "Bearer test-key"
        system, turns = body["messages"][0]["content"], body["messages"][1:]
    assert "Maple Street Studio" in system and "Monday to Friday" in system  # the passage
    assert "NO_ANSWER" in system
    assert [t["content"] for t in turns] == ["hi", "Hello!", "when are you open?"]


def passage_numbered(system: str, entry_question: str) -> int:
    """The number the system prompt gives the passage titled `entry_question`."""
    for line in system.splitlines():
        if line.startswith("[") and line.endswith(entry_question):
            return int(line[1 : line.index("]")])
    raise AssertionError(f"no passage '{entry_question}' in the prompt")


async def test_the_llm_reranks_and_the_passage_it_cites_is_the_source(
    index: KnowledgeIndex,
) -> None:
    """The LLM reads the best passages (up to five near the bar), not only the first: the
    one it cites is the answer's only source, and its citation is not shown to the customer."""

    def cite_gift_cards(body: dict[str, object]) -> str:
        system = str(body["system"])
        return f"[{passage_numbered(system, 'Do you sell gift cards?')}] Yes, from 20 EUR."

    with fake_llm(reply=cite_gift_cards) as api:
        answerer = KnowledgeAnswerer(index, llm_for("anthropic", api.anthropic_url))  # type: ignore[arg-type]
        answer = await answerer.answer("when are you open? and do you sell vouchers")
    (request,) = api.requests
    assert passage_numbered(request["body"]["system"], "What are your opening hours?") == 1
    assert answer.found and answer.by == "llm" and answer.text == "Yes, from 20 EUR."
    assert [s["id"] for s in answer.sources] == ["gift"]


@pytest.mark.parametrize("reply", ["We're open 9 to 6.", "[9] We're open 9 to 6."])
async def test_an_llm_answer_that_cites_no_passage_it_read_is_not_trusted(
    index: KnowledgeIndex, reply: str
) -> None:
    """Without a citation of a passage it was given, the passages decide, as with no LLM."""
    with fake_llm(reply=reply) as api:
        answerer = KnowledgeAnswerer(index, llm_for("openai", api.openai_url))  # type: ignore[arg-type]
        answer = await answerer.answer("when do you open on saturday")
    assert answer.found and answer.by == "passage"
    assert answer.text.startswith("Monday to Friday, 9:00 to 18:00")


async def test_the_llm_is_not_asked_when_no_passage_comes_near_the_bar(
    index: KnowledgeIndex,
) -> None:
    with fake_llm(reply="[1] Canberra.") as api:
        answerer = KnowledgeAnswerer(index, llm_for("openai", api.openai_url))  # type: ignore[arg-type]
        answer = await answerer.answer("what is the capital of Australia?")
    assert not answer.found and api.requests == []


async def test_the_llm_saying_no_answer_is_not_an_answer(index: KnowledgeIndex) -> None:
    with fake_llm(reply="NO_ANSWER") as api:
        answerer = KnowledgeAnswerer(index, llm_for("openai", api.openai_url))  # type: ignore[arg-type]
        answer = await answerer.answer("do you open on saturdays?")
    assert not answer.found


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (401, 0.0), (200, 3.0)])
async def test_a_failing_llm_falls_back_to_the_passage(
    index: KnowledgeIndex, status: int, delay: float
) -> None:
    with fake_llm(status=status, delay=delay) as api:
        llm = llm_for("anthropic", api.anthropic_url, timeout=1)
        answer = await KnowledgeAnswerer(index, llm).answer("can I get a gift card")  # type: ignore[arg-type]
    assert answer.found and answer.by == "passage" and answer.text.startswith("Yes, from 20 EUR")


def test_no_key_means_no_llm_and_a_bad_type_is_an_error() -> None:
    assert llm_from_endpoint(EndpointConfig(type="anthropic", kwargs={"api_key": ""})) is None
    assert llm_from_endpoint(None) is None
    with pytest.raises(LLMConfigError, match="unknown llm type"):
        llm_from_endpoint(EndpointConfig(type="llama", kwargs={"api_key": "k"}))


TRANSLATED_FAQ = """
faq:
  - id: parking
    question: Is there parking nearby?
    alternatives:
      - Peut-on se garer près du salon ?
    answer: Yes, the Maple Street car park is free for customers.
    answers:
      fr: Oui, le parking de Maple Street est gratuit pour les clients.
  - id: gift
    question: Do you sell gift cards?
    answer: Yes, from 20 EUR, at the front desk.
"""


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    return built(tmp_path_factory, TRANSLATED_FAQ)


async def test_a_customer_writing_french_gets_the_french_answer(translated: KnowledgeIndex) -> None:
    knowledge = KnowledgeAnswerer(translated)
    answer = await knowledge.answer("Peut-on se garer près du salon ?", language="fr")
    assert answer.found and answer.text.startswith("Oui, le parking de Maple Street")
    # No translation for the language: the answer as written.
    english = await knowledge.answer("Is there parking nearby?", language="de")
    assert english.text.startswith("Yes, the Maple Street car park")


async def test_a_question_in_another_language_needs_a_closer_match(
    translated: KnowledgeIndex,
) -> None:
    knowledge = KnowledgeAnswerer(
        translated, min_confidence=0.3, other_language_min_confidence=0.99
    )
    question = "¿venden tarjetas regalo?"
    assert (await knowledge.answer(question)).found  # read as English: the low bar
    assert not (await knowledge.answer(question, language="es")).found
    # The topic the NLU recognised is searched in the knowledge base's language.
    topic = await knowledge.answer(question, topic="Do you sell gift cards?", language="es")
    assert topic.found and topic.sources[0]["id"] == "gift"
