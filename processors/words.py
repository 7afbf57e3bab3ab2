"""Words as a reader counts them, in any script: one tokenizer for every processor that reports
word counts or frequent words, so a Chinese file is not counted as a handful of whole clauses.

Latin, Cyrillic, Greek and other spaced scripts are split on non-letters (an apostrophe inside a
word keeps it whole). Han, kana and hangul runs, written without spaces, are cut into overlapping
character bigrams, as search engines index them; a lone CJK character is one word.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

# CJK Unified Ideographs (+ extension A, compatibility), hiragana, katakana, hangul syllables
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
TOKEN = re.compile(rf"[{CJK_CHARS}]+|(?:(?![{CJK_CHARS}])[^\W\d_])+(?:['’](?:(?![{CJK_CHARS}])[^\W\d_])+)*")
HAS_CJK = re.compile(rf"[{CJK_CHARS}]")


def tokens(text: str) -> Iterator[str]:
    """Lower-cased words of ``text``; CJK runs become character bigrams."""
    for match in TOKEN.finditer(text.lower()):
        word = match.group()
        if HAS_CJK.match(word):
            if len(word) == 1:
                yield word
            else:
                for i in range(len(word) - 1):
                    yield word[i:i + 2]
        else:
            yield word


def count_words(text: str) -> int:
    """Number of words in ``text`` by the rule of :func:`tokens`."""
    if not HAS_CJK.search(text):
        return len(TOKEN.findall(text))
    return sum(1 for _ in tokens(text))
