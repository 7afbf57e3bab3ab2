"""Words as a reader counts them, in any script: one tokenizer for every processor that reports
word counts or frequent words, so a Chinese file is not counted as a handful of whole clauses.

Latin, Cyrillic, Greek and other spaced scripts are split on non-letters (an apostrophe inside a
word keeps it whole); so is Korean, whose words are spaced too. Chinese (a run of Han characters)
is segmented by jieba's dictionary when jieba is installed, imported on first use (never in the
web process; its first use costs a few seconds while it loads its dictionary); Japanese (a run
holding kana) and Chinese without jieba are cut into overlapping character bigrams, as search
engines index them. A lone CJK character is one word.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

# CJK Unified Ideographs (+ extension A, compatibility), hiragana, katakana, hangul syllables
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(rf"[{CJK_CHARS}]+|(?:(?![{CJK_CHARS}])[^\W\d_])+(?:['’](?:(?![{CJK_CHARS}])[^\W\d_])+)*")
# the same words where no CJK character can occur, several times faster than TOKEN's lookaheads
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
HAS_CJK = re.compile(rf"[{CJK_CHARS}]")
HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
HANGUL_ONLY = re.compile(r"[\uac00-\ud7af]+")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba's default tokenizer, or None when jieba is not installed."""
    import logging
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jieba imports the deprecated pkg_resources
            import jieba
    except ImportError:
        return None
    jieba.setLogLevel(logging.WARNING)
    return jieba


def warm() -> None:
    """Load jieba and its dictionary now, not at the first Chinese run of a job."""
    jieba = _jieba()
    if jieba is not None:
        jieba.initialize()


def segmenter() -> str:
    """How Chinese runs are cut: ``"jieba"`` or ``"bigrams"``."""
    return "jieba" if _jieba() is not None else "bigrams"


def _cjk(run: str, segment: bool) -> Iterator[str]:
    if len(run) == 1 or HANGUL_ONLY.fullmatch(run):
        yield run
        return
    if segment and HAN_ONLY.fullmatch(run):
        jieba = _jieba()
        if jieba is not None:
            yield from jieba.cut(run, HMM=False)
            return
    for i in range(len(run) - 1):
        yield run[i:i + 2]


def tokens(text: str, segment: bool = True) -> Iterator[str]:
    """Lower-cased words of ``text``; Chinese runs segmented (``segment=False``: as bigrams, which
    is much faster), other CJK runs as bigrams."""
    for match in TOKEN.finditer(text.lower()):
        word = match.group()
        if HAS_CJK.match(word):
            yield from _cjk(word, segment)
        else:
            yield word


def token_list(text: str, segment: bool = True) -> list[str]:
    """:func:`tokens` as a list, at C speed for text without CJK characters."""
    if not HAS_CJK.search(text):
        return WORD.findall(text.lower())
    return list(tokens(text, segment))


def count_words(text: str, segment: bool = True) -> int:
    """Number of words in ``text`` by the rule of :func:`tokens`."""
    if not HAS_CJK.search(text):
        return len(WORD.findall(text))
    return sum(1 for _ in tokens(text, segment))
