"""The words of a text that carry weight in a keyword search, the same for every store.

A keyword query is built from the words of the search text less English stop words ("the",
"for", "my", "how", ...): a prompt that shares only "for" and "a" with the query is not a keyword
match. The stop words are the English list of the BM25 library bm25s (NLTK's list), so the JSON
store's BM25 index, SQLite's FTS5 query and PostgreSQL's ``tsquery`` all drop the same words.
Words are runs of letters and digits, as SQLite's ``unicode61`` tokenizer cuts them, so
``E4031`` and ``JIRA-8812`` stay searchable (``jira``, ``8812``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["MAX_TERMS", "keyword_terms", "stop_words", "words"]

#: Words beyond this many are ignored, to keep a query small.
MAX_TERMS = 64

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """The English stop words left out of keyword queries and of the JSON store's index."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS  # type: ignore[import-untyped]

    return frozenset(word for word in STOPWORDS_EN_PLUS if "'" not in word)


def _fold(text: str) -> str:
    """Lower case without diacritics (``Crème`` -> ``creme``), as FTS5's ``unicode61`` does."""
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """Every word of ``text``, folded to lower case without diacritics, stop words included."""
    return _WORD.findall(_fold(text))


def keyword_terms(text: str) -> list[str]:
    """The distinct words of ``text`` that carry weight, in order (at most :data:`MAX_TERMS`).

    An empty list means the text has nothing to search for by keyword (only stop words, or no
    word at all).
    """
    drop = stop_words()
    terms: list[str] = []
    for word in words(text):
        if word in drop or word in terms:
            continue
        terms.append(word)
        if len(terms) >= MAX_TERMS:
            break
    return terms
