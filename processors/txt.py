"""The txt processor: encoding, counts, newline style and frequent words, streamed.

Encoding follows FORMATS.md: a BOM, then strict UTF-8 on a sample, then charset-normalizer on
at most 1 MB (cp1252 preferred when Windows code pages tie); the whole file is then decoded
incrementally, so memory stays flat whatever the size.
"""
from __future__ import annotations

import codecs
import re
from collections import Counter
from pathlib import Path

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits

SAMPLE = 1024 * 1024
CHUNK = 1024 * 1024
TOP_WORDS = 25
MAX_DISTINCT_WORDS = 200_000

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Among near-tied single-byte guesses, the code pages most text in the wild is written in.
PREFERRED = ("cp1252", "cp1251", "cp1250", "iso8859_15", "latin_1", "cp1253", "cp1254", "cp1257")
NEAR = 0.1
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _utf16_without_bom(head: bytes) -> str | None:
    """Latin text in UTF-16 without a BOM: a zero in every other byte, printable bytes between."""
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]

    def printable(chars: bytes) -> bool:
        return sum(1 for b in chars if 0x20 <= b < 0x7F or b in (9, 10, 13) or b >= 0xA0) >= 0.9 * len(chars)

    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even) and printable(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd) and printable(odd):
        return "utf-16-be"
    return None


def looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if any(head.startswith(bom) for bom, _ in BOMS) or _utf16_without_bom(head):
        return True
    return b"\x00" not in head


def detect_encoding(sample: bytes) -> tuple[str, int, float | None, str | None]:
    """Answers (encoding, BOM length, confidence, language guess)."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name, len(bom), 1.0, None
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16, 0, 0.9, None
    if b"\x00" in sample:
        raise ProcessingError("unsupported_content",
                              "The file looks binary (it holds NUL bytes), not like text in any encoding.")
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
        return "utf-8", 0, 1.0, None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        raise ProcessingError("unsupported_content", "The file's encoding could not be recognised as any text "
                                                     "encoding; pass it as the option `encoding`.")
    encoding = best.encoding
    # charset-normalizer often ranks cp1257 or cp1250 first for Western or Cyrillic Windows text on
    # short samples (FORMATS.md): among guesses as good as the best, take the most common code page
    tied = {m.encoding for m in matches
            if m.chaos <= best.chaos + NEAR and m.coherence >= best.coherence - NEAR}
    if encoding != "cp1252" and _mess("cp1252", sample) <= best.chaos + NEAR:
        encoding = "cp1252"
    else:
        encoding = next((name for name in PREFERRED if name in tied), encoding)
    language = best.language if best.language and best.language != "Unknown" else None
    return encoding, 0, round(1.0 - best.chaos, 3), language


def _mess(encoding: str, sample: bytes) -> float:
    """charset-normalizer's measure of how garbled ``sample`` reads in ``encoding`` (0 is clean)."""
    from charset_normalizer.md import mess_ratio

    try:
        return mess_ratio(sample.decode(encoding))
    except UnicodeDecodeError:
        return 1.0


class TextProcessor(Processor):
    name = "txt"
    limits = builtin_limits.TXT
    result_template = "processors:templates/txt.jinja2"
    extensions = (".txt", ".text", ".log", ".md")
    media_types = ("text/plain",)
    steps = ("Detect encoding", "Read text", "Summarise")
    description = ("Plain text: encoding, line, word and character counts, newline style, "
                   "the most frequent words, and a UTF-8 copy.")
    options = (Option("encoding", str, help="a Python codec name; detected when absent"),)

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def process(self, ctx) -> dict:
        path: Path = ctx.path
        size = path.stat().st_size
        if size > ctx.limits.max_text_size:
            raise ProcessingError("too_large", f"The text is {size / 1e6:.0f} MB; the limit is "
                                               f"{ctx.limits.max_text_size / 1e6:.0f} MB.")
        with ctx.step("Detect encoding", total=1) as step:
            with open(path, "rb") as f:
                sample = f.read(SAMPLE)
            forced = ctx.options.get("encoding")
            if forced:
                try:
                    encoding = codecs.lookup(str(forced)).name
                except LookupError:
                    raise ProcessingError("bad_option", f"The encoding {forced!r} is not known.") from None
                bom, confidence, language = 0, None, None
                for mark, name in BOMS:
                    if sample.startswith(mark) and codecs.lookup(name).name == encoding:
                        bom = len(mark)
            else:
                encoding, bom, confidence, language = detect_encoding(sample)
            step.advance(message=f"encoding {encoding}")

        stats = _Counts()
        preview_limit = ctx.limits.preview_chars
        preview: list[str] = []
        preview_len = 0
        with ctx.step("Read text", total=size) as step, open(path, "rb") as f, \
                open(ctx.artifact("text.txt"), "w", encoding="utf-8", newline="") as out:
            decoder = codecs.getincrementaldecoder(encoding)("replace")
            f.seek(bom)
            done = bom
            while True:
                raw = f.read(CHUNK)
                final = not raw
                text = decoder.decode(raw, final=final)
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
            result = {
                "encoding": encoding,
                "bom": bool(bom),
                "encoding_confidence": confidence,
                "language_guess": language,
                "bytes": size,
                "characters": stats.chars,
                "lines": stats.lines,
                "blank_lines": stats.blank_lines,
                "words": stats.words,
                "distinct_words": len(stats.freq),
                "distinct_words_exact": not stats.pruned,
                "longest_line": stats.longest,
                "newline": stats.newline_style(),
                "newlines": dict(stats.newlines),
                "replacement_characters": stats.replacements,
                "top_words": [{"word": w, "count": c} for w, c in stats.freq.most_common(TOP_WORDS)],
                "preview": "".join(preview),
                "preview_truncated": stats.chars > preview_len,
            }
            step.advance()
        return result


class _Counts:
    """Running counts over decoded text fed in arbitrary chunks (words and CRLF may straddle them)."""

    def __init__(self) -> None:
        self.chars = self.words = self.lines = self.blank_lines = self.replacements = 0
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
        words = WORD.findall(text.lower())
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

    def newline_style(self) -> str:
        used = [k for k, v in self.newlines.items() if v]
        if not used:
            return "none"
        return used[0] if len(used) == 1 else "mixed"


@hookimpl
def jobs_register_processors():
    return [TextProcessor()]
