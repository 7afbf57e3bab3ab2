"""The txt processor: encoding, counts, newline style and frequent words, streamed.

Encoding is detected by ``processors.encoding``: a BOM, then strict UTF-8 on a sample,
then charset-normalizer on at most 1 MB; the whole file is then decoded incrementally, so memory
stays flat whatever the size, and bytes past the sample that do not decode are not replaced
silently. Words follow ``processors.words`` (Chinese segmented), top words leave out the
stopwords of the languages the text is written in.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import warmup
from .encoding import BOMS, Detected, StreamDecoder, check_encoding_option, detect_encoding, looks_like_text, text_codec
from .stopwords import languages, stopwords_of
from .words import HAN_ONLY, HAS_CJK, segmenter, token_list

SAMPLE = 1024 * 1024
CHUNK = 1024 * 1024
TOP_WORDS = 25
MAX_DISTINCT_WORDS = 200_000
# Chinese characters segmented by dictionary per file; past them, bigrams (jieba reads about
# 180k characters a second here: this bounds a file's segmentation to about 11 s)
SEGMENT_BUDGET = 2_000_000


def detect(path: Path, forced: object, sample: bytes, size: int) -> Detected:
    """The file's encoding: the option when given (checked to be a text codec), else detected."""
    if forced:
        encoding = text_codec(str(forced))
        bom = 0
        for mark, name in BOMS:
            if sample.startswith(mark) and text_codec(name) == encoding:
                bom = len(mark)
        return Detected(encoding, bom)
    return detect_encoding(sample, whole=len(sample) >= size)


class TextProcessor(Processor):
    name = "txt"
    limits = builtin_limits.TXT
    result_template = "processors:templates/txt.jinja2"
    extensions = (".txt", ".text", ".log", ".md")
    media_types = ("text/plain",)
    steps = ("Detect encoding", "Read text", "Summarise")
    description = ("Plain text: encoding, line, word and character counts, newline style, "
                   "the most frequent words, and a UTF-8 copy.")
    options = (Option("encoding", str, help="a Python codec name; detected when absent",
                      check=check_encoding_option),)

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def warm(self) -> None:
        warmup.load("charset_normalizer", "charset_normalizer.md")
        warmup.load_words()

    def process(self, ctx) -> dict:
        path: Path = ctx.path
        size = path.stat().st_size
        if size == 0:
            raise ProcessingError("empty_file", "The file is empty.")
        if size > ctx.limits.max_text_size:
            raise ProcessingError("too_large", f"The text is {size / 1e6:.0f} MB; the limit is "
                                               f"{ctx.limits.max_text_size / 1e6:.0f} MB.")
        with ctx.step("Detect encoding", total=1) as step:
            with open(path, "rb") as f:
                sample = f.read(SAMPLE)
            found = detect(path, ctx.options.get("encoding"), sample, size)
            step.advance(message=f"encoding {found.encoding}")

        stats = _Counts()
        preview_limit = ctx.limits.preview_chars
        preview: list[str] = []
        preview_len = 0
        decoder = StreamDecoder(found.encoding)
        with ctx.step("Read text", total=size) as step, open(path, "rb") as f, \
                open(ctx.artifact("text.txt"), "w", encoding="utf-8", newline="") as out:
            f.seek(found.bom)
            done = found.bom
            while True:
                raw = f.read(CHUNK)
                final = not raw
                stats.nuls += raw.count(0)
                text = decoder.decode(raw, final=final)
                decoder.count(text)
                if text:
                    out.write(text)
                    stats.feed(text)
                    if preview_len < preview_limit:
                        preview.append(text[: preview_limit - preview_len])
                        preview_len += len(preview[-1])
                if final:
                    break
                done += len(raw)
                step.update(done, message=f"{done / 1e6:.1f} of {size / 1e6:.1f} MB")
            stats.close()

        with ctx.step("Summarise", total=1) as step:
            result = self._result(found, decoder, stats, size, preview, preview_len)
            step.advance()
        return result

    @staticmethod
    def _result(found: Detected, decoder: StreamDecoder, stats: _Counts, size: int, preview: list[str],
                preview_len: int) -> dict:
        langs = languages(stats.freq)
        stop = stopwords_of(langs)
        top = [(w, c) for w, c in stats.freq.most_common(TOP_WORDS + len(stop)) if w not in stop][:TOP_WORDS]
        warnings = decoder.warnings()
        if stats.nuls:
            warnings.append(f"The text holds {stats.nuls:,} NUL bytes (kept as U+0000 in text.txt).")
        return {
            "encoding": decoder.encoding,
            "bom": bool(found.bom),
            "encoding_confidence": found.confidence if decoder.redetected_at is None else None,
            "language_guess": (found.language if decoder.redetected_at is None else None) or
                              (langs[0] if langs else None),
            "bytes": size,
            "characters": stats.chars,
            "lines": stats.lines,
            "blank_lines": stats.blank_lines,
            "words": stats.words,
            "distinct_words": len(stats.freq),
            "distinct_words_exact": not stats.pruned,
            "word_segmentation": stats.segmentation(),
            "longest_line": stats.longest,
            "newline": stats.newline_style(),
            "newlines": dict(stats.newlines),
            "replacement_characters": stats.replacements,
            "nul_bytes": stats.nuls,
            "top_words": [{"word": w, "count": c} for w, c in top],
            "top_words_exclude_stopwords_of": langs,
            "preview": "".join(preview),
            "preview_truncated": stats.chars > preview_len,
            "warnings": warnings,
        }


class _Counts:
    """Running counts over decoded text fed in arbitrary chunks (words and CRLF may straddle them)."""

    def __init__(self) -> None:
        self.chars = self.words = self.lines = self.blank_lines = self.replacements = self.nuls = 0
        self.han = 0
        self.longest = 0
        self.line_len = 0
        self.newlines: Counter[str] = Counter()
        self.freq: Counter[str] = Counter()
        self.pruned = False
        self._carry = ""

    def feed(self, text: str) -> None:
        self.chars += len(text)
        self.replacements += text.count("\ufffd")
        text = self._carry + text
        # hold back a trailing CR that may start a CRLF, and a partial word (up to 4 KiB of it)
        end = len(text)
        while end > 0 and text[end - 1] == "\r":
            end -= 1
        cut = end
        while cut > 0 and (text[cut - 1].isalnum() or text[cut - 1] in "'’"):
            cut -= 1
            if end - cut > 4096:
                cut = end
                break
        self._carry, text = text[cut:], text[:cut]
        self._count(text)

    def close(self) -> None:
        text, self._carry = self._carry, ""
        self._count(text)
        if self.line_len:
            self._end_line()

    def _count(self, text: str) -> None:
        if not text:
            return
        crlf = text.count("\r\n")
        cr = text.count("\r") - crlf
        lf = text.count("\n") - crlf
        self.newlines["CRLF"] += crlf
        self.newlines["CR"] += cr
        self.newlines["LF"] += lf
        if crlf or cr:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        parts = text.split("\n")
        if len(parts) == 1:
            self.line_len += len(parts[0])
        else:
            self.line_len += len(parts[0])
            self._end_line()
            middle = parts[1:-1]
            if middle:
                self.lines += len(middle)
                self.blank_lines += middle.count("")
                self.longest = max(self.longest, max(map(len, middle)))
            self.line_len = len(parts[-1])
        segment = self.han < SEGMENT_BUDGET
        if segment and HAS_CJK.search(text):
            self.han += sum(len(run) for run in HAN_ONLY.findall(text))
        words = token_list(text, segment)
        self.words += len(words)
        self.freq.update(words)
        if len(self.freq) > MAX_DISTINCT_WORDS:
            self.freq = Counter(dict(self.freq.most_common(MAX_DISTINCT_WORDS // 2)))
            self.pruned = True

    def _end_line(self) -> None:
        self.lines += 1
        if self.line_len == 0:
            self.blank_lines += 1
        self.longest = max(self.longest, self.line_len)
        self.line_len = 0

    def segmentation(self) -> str | None:
        """How Chinese was cut into words, when the text holds any."""
        if not self.han:
            return None
        way = segmenter()
        if way == "jieba" and self.han >= SEGMENT_BUDGET:
            return f"jieba for the first {SEGMENT_BUDGET:,} Chinese characters, then bigrams"
        return way

    def newline_style(self) -> str:
        used = [k for k, v in self.newlines.items() if v]
        if not used:
            return "none"
        return used[0] if len(used) == 1 else "mixed"


@hookimpl
def jobs_register_processors():
    return [TextProcessor()]
