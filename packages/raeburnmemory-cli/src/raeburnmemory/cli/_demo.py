"""The ``demo`` command: a short multi-agent conversation recorded and searched.

A planner, a researcher and a writer work on an article over two sessions. Their interactions
have fixed ids and times, so running the demo again adds nothing twice. Unless ``--model`` is
given on the command line, the built-in offline encoder embeds them: no download, a second or so.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from raeburnmemory.cli._search import print_hits, top_k_option
from raeburnmemory.cli._settings import raw_settings_of

__all__ = ["DEMO_QUERY", "conversation", "demo"]

#: The search the demo runs when no ``--query`` is given.
DEMO_QUERY = "How can an assistant remember earlier conversations?"

_AGENTS = {"planner": "Planner", "researcher": "Researcher", "writer": "Writer"}

# (session, agent, prompt, response)
_SCRIPT = (
    (
        "demo-day-1",
        "planner",
        "Plan a short article on giving chat assistants a long-term memory.",
        "Outline: why memory matters, how to store past conversations, how to search them, "
        "and the pitfalls. Researcher takes storage and search, Writer drafts.",
    ),
    (
        "demo-day-1",
        "researcher",
        "Find out how an assistant can remember facts from earlier sessions.",
        "Store every prompt and response with its session and agent, embed the prompts, and "
        "search them by similarity whenever a new question comes in.",
    ),
    (
        "demo-day-1",
        "researcher",
        "Which vector index suits a few hundred thousand stored prompts?",
        "An exact index answers in milliseconds up to about 100,000 vectors; an HNSW graph "
        "index keeps it fast beyond that at a small cost in recall.",
    ),
    (
        "demo-day-1",
        "writer",
        "Draft the introduction about memory for chat assistants.",
        "Assistants forget everything between conversations unless what was said is stored "
        "somewhere they can search it again.",
    ),
    (
        "demo-day-2",
        "planner",
        "Review yesterday's outline and assign the remaining sections.",
        "Researcher compares storage backends; Writer writes the search section and the "
        "conclusion.",
    ),
    (
        "demo-day-2",
        "researcher",
        "Compare SQLite and PostgreSQL for storing conversation memory.",
        "SQLite suits one machine and a handful of processes; PostgreSQL with pgvector suits "
        "several hosts sharing one memory.",
    ),
    (
        "demo-day-2",
        "writer",
        "Write the section on searching earlier conversations by similarity.",
        "Each new question is embedded and compared with the stored prompts; the closest ones "
        "bring back the answers given before.",
    ),
    (
        "demo-day-2",
        "writer",
        "Summarise the article in two sentences for the newsletter.",
        "Chat assistants remember only what is stored. Record every exchange in a memory graph "
        "and search it by similarity to bring the past back into the conversation.",
    ),
)


def conversation() -> list[dict[str, Any]]:
    """The demo's interactions, as ``MemoryGraph.batch_add`` takes them."""
    records = []
    for number, (session_id, agent_id, prompt, response) in enumerate(_SCRIPT, start=1):
        day = 6 if session_id == "demo-day-1" else 7
        records.append(
            {
                "prompt": {"id": f"demo-p{number}", "text": prompt},
                "response": {"id": f"demo-r{number}", "text": response},
                "agent": {"id": agent_id, "name": _AGENTS[agent_id]},
                "session_id": session_id,
                "metadata": {"demo": True, "step": number},
                "timestamp": f"2025-01-0{day}T09:{number:02d}:00+00:00",
            }
        )
    return records


def demo(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Option("--query", help="The similarity search to show.", metavar="TEXT")
    ] = DEMO_QUERY,
    top_k: Annotated[int, top_k_option("How many hits to show")] = 3,
) -> None:
    """Record a short planner/researcher/writer conversation and search it.

    The store is ./raeburnmemory-demo/graph.json unless --db is given on the command line
    (RAEBURN_DB_PATH is not used, so the demo never writes into your own memory).
    """
    settings = raw_settings_of(ctx)
    if "db" not in settings.given and settings.is_file_store:
        name = "graph.db" if settings.backend == "sqlite" else "graph.json"
        settings = dataclasses.replace(settings, db=str(Path.cwd() / "raeburnmemory-demo" / name))
    settings = settings.located()
    offline = "model" not in settings.given
    if offline:
        settings = dataclasses.replace(settings, model=None)
    out = settings.output
    records = conversation()
    with settings.open_graph(create=True, offline=offline) as mg:
        added = mg.batch_add(records)
        hits = mg.search(query, top_k)
        encoder = mg.encoder_name
    where = settings.describe()
    if out.json_mode:
        out.json(
            {
                "store": where,
                "encoder": encoder,
                "interactions": len(records),
                "added": len(added),
                "query": query,
                "ids": [hit.id for hit in hits],
                "hits": [hit.to_dict() for hit in hits],
            }
        )
        return
    out.line(
        f"recorded {len(records)} interactions of 3 agents in 2 sessions into {where} "
        f"({len(added)} new)"
    )
    print_hits(out, query, hits)
    backend = "" if settings.backend == "json" else f" --backend {settings.backend}"
    model = " --model none" if offline else f" --model {settings.model}"
    out.note(f'next: raeburnmemory{backend} --db {where}{model} similar "your question"')
