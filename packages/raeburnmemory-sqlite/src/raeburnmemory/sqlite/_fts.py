"""Keyword search with FTS5 over prompt and response text, ranked by bm25.

Writes do not index their text: tokenizing is most of the cost of a write, and many stores are
never searched by keyword. The index is brought up to date instead by the next keyword search
(and by ``compact``), which indexes every row added since ``meta.fts_seq`` in one transaction.

The user's text is never handed to FTS5's query language: it is cut into words, English stop
words are dropped (:func:`raeburnmemory.core.keywords.keyword_terms`, the same for every store)
and each word left is quoted, so quotes, operators (``AND``, ``NEAR``, ``*``, ``:``) and stray
brackets are just text. A prompt matches when any of those words matches; bm25 ranks prompts
with more and rarer words first.
"""

from __future__ import annotations

import sqlite3

from raeburnmemory.core.keywords import keyword_terms
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import ScoredIds
from raeburnmemory.sqlite._filters import filter_sql
from raeburnmemory.sqlite._meta import get_meta, set_meta
from raeburnmemory.sqlite._where import register

__all__ = ["catch_up", "is_current", "keyword_search", "match_expression"]


def match_expression(text: str) -> str | None:
    """A safe FTS5 ``MATCH`` expression for free text, or ``None`` when no word carries weight."""
    terms = keyword_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _indexed_up_to(conn: sqlite3.Connection) -> int:
    return int(get_meta(conn, "fts_seq") or 0)


def _last_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM interactions").fetchone()[0])


def is_current(conn: sqlite3.Connection) -> bool:
    """Whether every stored interaction is in the keyword index."""
    return _last_seq(conn) <= _indexed_up_to(conn)


def catch_up(conn: sqlite3.Connection) -> int:
    """Index the rows added since the last catch-up (in the caller's write transaction).

    Returns how many rows were indexed.
    """
    done = _indexed_up_to(conn)
    last = _last_seq(conn)
    if last <= done:
        return 0
    cursor = conn.execute(
        "INSERT INTO fts (rowid, prompt_text, response_text) "
        "SELECT seq, prompt_text, response_text FROM interactions WHERE seq > ? ORDER BY seq",
        (done,),
    )
    set_meta(conn, "fts_seq", str(last))
    return int(cursor.rowcount)


def keyword_search(conn: sqlite3.Connection, text: str, k: int, flt: SearchFilter) -> ScoredIds:
    """The ``k`` best keyword matches passing ``flt``; the score is ``-bm25`` (higher is better)."""
    expression = match_expression(text)
    if expression is None or k <= 0:
        return []
    register(conn)
    where, values = filter_sql(flt, "i")
    rows = conn.execute(
        "SELECT i.prompt_id, bm25(fts) AS rank FROM fts JOIN interactions i ON i.seq = fts.rowid "
        f"WHERE fts MATCH ? {where} ORDER BY rank, i.seq LIMIT ?",
        (expression, *values, k),
    ).fetchall()
    return [(pid, -float(rank)) for pid, rank in rows]
