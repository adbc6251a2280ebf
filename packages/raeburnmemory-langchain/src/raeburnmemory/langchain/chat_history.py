"""RaeburnMemoryChatMessageHistory: one session's transcript as a LangChain chat history.

A user's message and the reply that follows it are one interaction (the prompt and its
response); any other message (a system message, a tool result, a reply with no question
before it) is a memory of its own, recorded without a response. Each message is kept whole
beside its text (as the prompt's or response's ``message`` attribute), so it reads back as it
was written: its type, id, tool calls and extra fields included.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from raeburnmemory.core.errors import NotFoundError
from raeburnmemory.core.ids import new_id
from raeburnmemory.core.model import Interaction
from raeburnmemory.langchain._records import prompt_only, response_of
from raeburnmemory.memory_graph import MemoryGraph

__all__ = ["RaeburnMemoryChatMessageHistory"]

#: The node attribute that keeps a message whole.
_MESSAGE = "message"


class RaeburnMemoryChatMessageHistory(BaseChatMessageHistory):
    """The messages of one session of a memory, for ``RunnableWithMessageHistory`` and chains.

    Args:
        memory: The open memory graph (any encoder: the prompts are embedded, so the
            transcript is also found by ``memory.search``).
        session_id: The session holding the transcript.
        agent_id: The agent recorded with each reply (default: the memory's default agent).
    """

    def __init__(self, memory: MemoryGraph, session_id: str, *, agent_id: str | None = None):
        self.memory = memory
        self.session_id = session_id
        self.agent_id = agent_id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message of the session, oldest first."""
        try:
            items = self.memory.get_session(self.session_id)
        except NotFoundError:
            return []
        return [message for item in items for message in _messages_of(item)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Record ``messages`` in order; a reply completes the user's message before it."""
        for message in messages:
            if message.type == "ai" and self._answer_open_prompt(message):
                continue
            self.memory.batch_add(
                [
                    prompt_only(
                        new_id(),
                        _node(message, blank=f"({message.type} message)"),
                        None,
                        session_id=self.session_id,
                        agent_id=self.agent_id,
                    )
                ]
            )

    def _answer_open_prompt(self, reply: BaseMessage) -> bool:
        """Record ``reply`` as the response of the session's last message when that is a
        user's message with no reply yet; returns whether it did."""
        page = self.memory.interactions(session_id=self.session_id, order="desc", limit=1)
        if not page.items:
            return False
        last = page.items[0]
        if response_of(last) is not None or _type_of(last.prompt_attrs) != "human":
            return False
        response = {**_node(reply, blank=""), "id": new_id()}
        self.memory.update_interaction(last.prompt_id, response=response)
        return True

    def clear(self) -> None:
        """Delete the session's whole transcript."""
        with contextlib.suppress(NotFoundError):
            self.memory.delete_session(self.session_id)

    async def aget_messages(self) -> list[BaseMessage]:
        """:attr:`messages` in a worker thread."""
        return await asyncio.to_thread(lambda: self.messages)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """:meth:`add_messages` in a worker thread."""
        await asyncio.to_thread(self.add_messages, list(messages))

    async def aclear(self) -> None:
        """:meth:`clear` in a worker thread."""
        await asyncio.to_thread(self.clear)


def _node(message: BaseMessage, *, blank: str) -> dict[str, Any]:
    """A prompt or response node for ``message``: its text (``blank`` when it has none) and
    the message whole."""
    return {"text": message.text or blank, _MESSAGE: message_to_dict(message)}


def _type_of(attrs: Mapping[str, Any]) -> str | None:
    kept = attrs.get(_MESSAGE)
    return kept.get("type") if isinstance(kept, Mapping) else None


def _message(text: str, attrs: Mapping[str, Any], default_type: str) -> BaseMessage:
    """The message kept in ``attrs``, or one of ``default_type`` with ``text``."""
    kept = attrs.get(_MESSAGE)
    if isinstance(kept, Mapping):
        return messages_from_dict([dict(kept)])[0]
    return messages_from_dict([{"type": default_type, "data": {"content": text}}])[0]


def _messages_of(item: Interaction) -> list[BaseMessage]:
    """The messages one interaction holds: its prompt's, then its response's."""
    messages = [_message(item.prompt_text, item.prompt_attrs, "human")]
    response = response_of(item)
    if response is not None:
        messages.append(_message(response[0], response[1], "ai"))
    return messages
