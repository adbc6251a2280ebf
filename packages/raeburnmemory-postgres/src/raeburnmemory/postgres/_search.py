"""Similarity and keyword searches, filters included, run as SQL.

Vector search asks the HNSW index for the nearest indexed prompts that pass the filter (with
pgvector's iterative scans, so a selective filter still yields ``k`` rows), adds the exact
nearest of the vectors still waiting for the index, and keeps the best ``k``. When the index
gives fewer than ``k`` rows, the filter is so selective that an exact scan of the rows it
matches is cheap, and that is what answers (a consistent answer even where the HNSW settings
were lost, say behind a transaction-pooling proxy).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from raeburnmemory.core.keywords import MAX_TERMS, keyword_terms
from raeburnmemory.core.model import SearchFilter
from raeburnmemory.core.store import Matrix, ScoredIds
from raeburnmemory.postgres._where import where_sql

__all__ = ["filter_sql", "keyword_search", "query_sql", "vector_search"]

_TEXT_SEARCH_CONFIG = "english"
# A quoted phrase (closed or not) or a run of other characters, either may start with "-".
_PIECE = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


def filter_sql(
    flt: SearchFilter, alias: str = "", *, metadata: bool = True
) -> tuple[sql.Composable, dict[str, Any]]:
    """A ``WHERE`` condition for the filter (``TRUE`` when empty) and its named parameters.

    The metadata filter (``flt.where``) is tested on the ``interactions`` row (``alias``), or,
    for a table without metadata (``metadata=False``), on the interaction of its ``prompt_id``.
    """
    column = (lambda name: sql.Identifier(alias, name)) if alias else sql.Identifier
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if flt.where is not None:
        if metadata:
            condition, params = where_sql(flt.where, prefix="m")
        else:
            test, params = where_sql(flt.where, prefix="m")
            condition = sql.SQL("{} IN (SELECT prompt_id FROM interactions WHERE {})").format(
                column("prompt_id"), test
            )
        conditions.append(condition)
    terms: list[tuple[str, str, Any]] = []
    if flt.session_id is not None:
        terms.append(("session_id", "=", flt.session_id))
    if flt.agent_id is not None:
        terms.append(("agent_id", "=", flt.agent_id))
    if flt.since is not None:
        terms.append(("ts", ">=", datetime.fromtimestamp(flt.since, timezone.utc)))
    if flt.until is not None:
        terms.append(("ts", "<=", datetime.fromtimestamp(flt.until, timezone.utc)))
    if not terms and not conditions:
        return sql.SQL("TRUE"), {}
    parts = [
        sql.SQL("{} {} {}").format(column(name), sql.SQL(op), sql.Placeholder(f"f{n}"))
        for n, (name, op, _) in enumerate(terms)
    ]
    params.update({f"f{n}": value for n, (*_, value) in enumerate(terms)})
    return sql.SQL(" AND ").join(parts + conditions), params


def _scored(rows: list[tuple[Any, ...]]) -> ScoredIds:
    return [(str(pid), 1.0 - float(distance)) for pid, distance, *_ in rows]


def vector_search(
    conn: psycopg.Connection[Any], query: Matrix, k: int, flt: SearchFilter
) -> ScoredIds:
    """The ``k`` prompts nearest to ``query`` that pass ``flt``, best first (cosine similarity).

    The connection carries the HNSW settings (``hnsw.ef_search``, ``hnsw.iterative_scan``):
    they are set once per pooled connection, so a search is one statement.
    """
    vector = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(-1))
    where, params = filter_sql(flt, metadata=False)
    statement = sql.SQL(
        "WITH near AS MATERIALIZED (SELECT prompt_id, embedding <=> %(q)s AS distance "
        "FROM vectors WHERE {where} ORDER BY embedding <=> %(q)s LIMIT %(k)s), "
        "fresh AS MATERIALIZED (SELECT prompt_id, embedding <=> %(q)s AS distance "
        "FROM pending_vectors WHERE {where} ORDER BY 2 LIMIT %(k)s) "
        "SELECT prompt_id, distance, (SELECT count(*) FROM near) FROM near "
        "UNION ALL SELECT prompt_id, distance, 0 FROM fresh ORDER BY 2, 1 LIMIT %(k)s"
    ).format(where=where)
    rows = conn.execute(statement, {"q": vector, "k": k, **params}).fetchall()
    if (int(rows[0][2]) if rows else 0) < k:
        rows = _exact(conn, vector, k, flt)
    return _scored(rows)


def _exact(
    conn: psycopg.Connection[Any], vector: np.ndarray[Any, Any], k: int, flt: SearchFilter
) -> list[tuple[Any, ...]]:
    """Exact nearest neighbours among the prompts that pass the filter (no HNSW index)."""
    where, params = filter_sql(flt, "i")
    statement = sql.SQL(
        "SELECT v.prompt_id, v.embedding <=> %(q)s AS distance FROM interactions i "
        "JOIN (SELECT * FROM vectors UNION ALL SELECT * FROM pending_vectors) v "
        "ON v.prompt_id = i.prompt_id WHERE {where} "
        "ORDER BY (v.embedding <=> %(q)s) + 0, 1 LIMIT %(k)s"
    ).format(where=where)
    return conn.execute(statement, {"q": vector, "k": k, **params}).fetchall()


def query_sql(text: str) -> tuple[sql.Composable, dict[str, Any]] | None:
    """A ``tsquery`` expression for free text and its parameters, ``None`` if nothing to find.

    Words that carry weight (English stop words left out, the same as every store) are
    alternatives, so a prompt matching any of them is found and ``ts_rank`` puts those matching
    more first; a quoted phrase is one more alternative, matched as a phrase; a word or phrase
    after ``-`` excludes the prompts that have it. The text only ever fills parameters.
    """
    wanted: list[tuple[str, str]] = []
    unwanted: list[tuple[str, str]] = []
    for minus, phrase, minus_word, word in _PIECE.findall(text.replace("\x00", " ")):
        if phrase.strip():
            (unwanted if minus else wanted).append(("phraseto_tsquery", phrase))
        elif minus_word and word:
            unwanted.extend(("plainto_tsquery", term) for term in keyword_terms(word))
        elif word:
            wanted.extend(("plainto_tsquery", term) for term in keyword_terms(word))
    wanted = list(dict.fromkeys(wanted))[:MAX_TERMS]
    if not wanted:
        return None
    params: dict[str, Any] = {}

    def call(function: str, value: str) -> sql.Composable:
        name = f"w{len(params)}"
        params[name] = value
        return sql.SQL("{}({}::regconfig, {})").format(
            sql.Identifier(function), sql.Literal(_TEXT_SEARCH_CONFIG), sql.Placeholder(name)
        )

    query = sql.SQL(" || ").join(call(function, value) for function, value in wanted)
    for function, value in list(dict.fromkeys(unwanted))[:MAX_TERMS]:
        query = sql.SQL("({}) && !!{}").format(query, call(function, value))
    return query, params


def keyword_search(
    conn: psycopg.Connection[Any], text: str, k: int, flt: SearchFilter
) -> ScoredIds:
    """Prompts whose prompt or response text matches ``text`` best by full-text rank.

    See :func:`query_sql` for how the text is read: any text is accepted, and text without a
    word that carries weight matches nothing.
    """
    built = query_sql(text)
    if built is None or k <= 0:
        return []
    query, query_params = built
    where, params = filter_sql(flt, "i")
    statement = sql.SQL(
        "SELECT i.prompt_id, ts_rank(i.search_text, q.query) AS rank "
        "FROM interactions i, (SELECT {query} AS query) AS q "
        "WHERE i.search_text @@ q.query AND {where} ORDER BY rank DESC, i.seq LIMIT %(k)s"
    ).format(query=query, where=where)
    rows = conn.execute(statement, {"k": k, **query_params, **params}).fetchall()
    return [(str(pid), float(rank)) for pid, rank in rows]
