"""RaeburnMemoryChatMessageHistory: a session's transcript, read and written by LangChain."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from raeburnmemory.langchain import RaeburnMemoryChatMessageHistory
from raeburnmemory.memory_graph import MemoryGraph


@pytest.fixture(params=["json", "sqlite"])
def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryGraph]:
    suffix = {"json": "json", "sqlite": "db"}[request.param]
    path = tmp_path / f"chat.{suffix}"
    with MemoryGraph(path, embedding_model=None, storage_backend=request.param) as graph:
        yield graph


def test_a_question_and_its_reply_are_one_interaction(memory: MemoryGraph) -> None:
    history = RaeburnMemoryChatMessageHistory(memory, "trip", agent_id="planner")
    history.add_user_message("Plan a day in Sintra")
    history.add_ai_message("Pena Palace in the morning, then Quinta da Regaleira.")
    (item,) = memory.get_session("trip")
    assert (item.prompt_text, item.response_text, item.agent_id) == (
        "Plan a day in Sintra",
        "Pena Palace in the morning, then Quinta da Regaleira.",
        "planner",
    )
    assert history.messages == [
        HumanMessage("Plan a day in Sintra"),
        AIMessage("Pena Palace in the morning, then Quinta da Regaleira."),
    ]


def test_every_kind_of_message_reads_back_as_written(memory: MemoryGraph) -> None:
    written = [
        SystemMessage("You are a travel planner.", id="s1"),
        HumanMessage("Weather in Lisbon?", id="h1"),
        AIMessage(
            "",
            id="a1",
            tool_calls=[{"name": "weather", "args": {"city": "Lisbon"}, "id": "call-1"}],
        ),
        ToolMessage("Sunny, 24C", tool_call_id="call-1", id="t1"),
        AIMessage("Sunny and warm.", id="a2"),
        HumanMessage("And tomorrow?", id="h2"),
    ]
    history = RaeburnMemoryChatMessageHistory(memory, "s")
    history.add_messages(written)
    assert history.messages == written
    stored = memory.get_session("s")
    assert len(stored) == 5  # the first reply answers the question before it
    assert [item.has_response for item in stored] == [False, True, False, False, False]
    assert RaeburnMemoryChatMessageHistory(memory, "s").messages == written


def test_a_session_recorded_directly_reads_as_messages(memory: MemoryGraph) -> None:
    memory.add_interaction("Hi?", "Hello!", session_id="direct")
    history = RaeburnMemoryChatMessageHistory(memory, "direct")
    assert history.messages == [HumanMessage("Hi?"), AIMessage("Hello!")]


def test_clear_deletes_only_this_session(memory: MemoryGraph) -> None:
    kept = RaeburnMemoryChatMessageHistory(memory, "kept")
    gone = RaeburnMemoryChatMessageHistory(memory, "gone")
    kept.add_user_message("stay")
    gone.add_user_message("go")
    gone.clear()
    gone.clear()  # an empty session clears without complaint
    assert gone.messages == []
    assert kept.messages == [HumanMessage("stay")]


def test_async_methods(memory: MemoryGraph) -> None:
    history = RaeburnMemoryChatMessageHistory(memory, "async")

    async def scenario() -> list[object]:
        await history.aadd_messages([HumanMessage("one"), AIMessage("two")])
        first = await history.aget_messages()
        await history.aclear()
        return [first, await history.aget_messages()]

    first, after = asyncio.run(scenario())
    assert first == [HumanMessage("one"), AIMessage("two")]
    assert after == []


# LangChain 1 deprecates RunnableWithMessageHistory (for LangGraph's persistence); chains use it.
@pytest.mark.filterwarnings("ignore:RunnableWithMessageHistory is deprecated")
def test_runnable_with_message_history_records_into_the_memory(memory: MemoryGraph) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )
    model = FakeListChatModel(responses=["Alfama.", "The 28 tram."])
    chain = RunnableWithMessageHistory(
        prompt | model,
        lambda session_id: RaeburnMemoryChatMessageHistory(memory, session_id),
        input_messages_key="question",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "lisbon"}}
    assert chain.invoke({"question": "Oldest district?"}, config=config).content == "Alfama."
    assert chain.invoke({"question": "How to get there?"}, config=config).content == "The 28 tram."
    assert [(i.prompt_text, i.response_text) for i in memory.get_session("lisbon")] == [
        ("Oldest district?", "Alfama."),
        ("How to get there?", "The 28 tram."),
    ]
    assert memory.search("Oldest district?", top_k=1)[0].response_text == "Alfama."
