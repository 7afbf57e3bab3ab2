"""Text encodings for the txt and csv processors: is it text, which encoding, and a decoder that
does not trust its sample.

Order: a BOM, then UTF-16 without BOM, then strict UTF-8, then charset-normalizer on
the sample. charset-normalizer's ranking of single-byte code pages is weak on Latin text (cp1257
first for French, cp1252 level with cp1254 for Turkish), so its near-best guesses are ranked
again by how well one language's alphabet explains the accented letters each guess produces.
"""
from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass

from pyramid_jobs import ProcessingError

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Among guesses that read equally well, the code pages most text in the wild is written in.
PREFERRED = ("cp1252", "cp1251", "cp1250", "iso8859_15", "latin_1", "cp1253", "cp1254", "cp1257")
NEAR = 0.1
# Share of control bytes (NUL included) above which a head is binary, not text with stray NULs
# (random or compressed bytes hold about 10%).
CONTROL_SHARE = 0.03
CONTROLS = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
# The single-byte code pages worth telling apart (others, such as cp1258 or mac_*, win ties by accident).
SINGLE_BYTE = {"cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "latin_1",
               "iso8859_2", "iso8859_4", "iso8859_5", "iso8859_7", "iso8859_8", "iso8859_9", "iso8859_13",
               "iso8859_15", "iso8859_16", "koi8_r", "koi8_u", "cp437", "cp850", "cp866", "mac_roman"}
FEW_LETTERS = 8
WORD = re.compile(r"[^\W\d_]+")
CJK_CODECS = {"big5", "big5hkscs", "cp950", "gb2312", "gbk", "gb18030", "hz", "shift_jis", "cp932", "euc_jp",
              "euc_jis_2004", "euc_jisx0213", "shift_jis_2004", "shift_jisx0213", "iso2022_jp", "euc_kr",
              "cp949", "johab", "iso2022_kr"}
# The accented letters of Latin-script languages (lower case): a right decoding is explained by
# one language; a wrong one mixes letters no language writes together (Turkish read as cp1252
# gives Icelandic ý, þ, ð beside ç and ü).
ALPHABETS = {
    "French": "àâæçéèêëîïôœùûüÿ", "German": "äöüß", "Spanish": "áéíñóúü", "Portuguese": "áàâãçéêíóôõú",
    "Italian": "àèéìíîòóùú", "Catalan": "àçèéíïòóúü", "Dutch": "áéëïóöüèà", "Swedish": "åäöé",
    "Danish": "æøåé", "Norwegian": "æøåéèêóòô", "Finnish": "äöåšž", "Icelandic": "áðéíóúýþæö",
    "Turkish": "çğıöşüâîû", "Polish": "ąćęłńóśźż", "Czech": "áčďéěíňóřšťúůýž", "Slovak": "áäčďéíĺľňóôŕšťúýž",
    "Hungarian": "áéíóöőúüű", "Romanian": "ăâîșțşţ", "Croatian": "čćđšž", "Slovene": "čšž",
    "Lithuanian": "ąčęėįšųūž", "Latvian": "āčēģīķļņšūž", "Estonian": "äõöüšž", "Albanian": "çë",
    "Irish": "áéíóú", "Maltese": "ċġħżàèìòù",
}


def _controls(head: bytes) -> int:
    return len(head) - len(head.translate(None, CONTROLS))


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


def _has_bom(head: bytes) -> bool:
    return any(head.startswith(bom) for bom, _ in BOMS)


def looks_like_text(head: bytes) -> bool:
    """Text in some encoding: a BOM or UTF-16, or few control bytes (an isolated NUL in a field is
    text with a stray byte, as pandas and Python's csv module read it; a run of them is binary)."""
    if not head or _has_bom(head) or _utf16_without_bom(head):
        return True
    return _controls(head) <= CONTROL_SHARE * len(head) and b"\x00\x00" not in head


@dataclass
class Detected:
    encoding: str
    bom: int = 0
    confidence: float | None = None
    language: str | None = None


def detect_encoding(sample: bytes, whole: bool = False) -> Detected:
    """The encoding of ``sample`` (the file's first bytes, ``whole`` when it is all of it), its BOM
    length and a guess of the language, from the encoding chosen."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return Detected(name, len(bom), 1.0)
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Detected(utf16, 0, 0.9)
    if not looks_like_text(sample):
        raise ProcessingError("unsupported_content",
                              "The file looks binary (it holds NUL or other control bytes), not like text in any "
                              "encoding.")
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=whole)
        return Detected("utf-8", 0, 1.0)
    except UnicodeDecodeError:
        pass
    return _guess(sample)


def _guess(sample: bytes) -> Detected:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    if not matches:
        return _windows_code_page(sample)
    best = matches[0]
    if best.encoding not in SINGLE_BYTE and _latin_fallback(sample, best):
        # short Latin-1 text is often taken for a CJK or a rare code page: cp1252 reads it cleanly
        return Detected("cp1252", 0, None, _fit(sample.decode("cp1252"))[1])
    near = [m for m in matches if m.chaos <= best.chaos + NEAR and m.encoding in SINGLE_BYTE]
    if best.encoding not in SINGLE_BYTE or not near:
        return Detected(best.encoding, 0, round(1.0 - best.chaos, 3), _language(best.language))
    # among common code pages that read about as cleanly, the one whose letters one language
    # explains best; then charset-normalizer's coherence for other scripts; then the most common
    scored = []
    for m in near:
        fit, language, latin, letters = _fit(str(m))
        script_coherence = m.coherence if not latin and letters >= FEW_LETTERS else 0.0
        scored.append(((-round(fit, 3), -round(script_coherence, 3), _preference(m.encoding), -m.coherence, m.chaos),
                       m, language))
    _, chosen, language = min(scored, key=lambda s: s[0])
    return Detected(chosen.encoding, 0, round(1.0 - chosen.chaos, 3), language or _language(chosen.language))


def _windows_code_page(sample: bytes) -> Detected:
    """When charset-normalizer finds nothing (it gives up on some short texts): the Windows code
    page that decodes ``sample`` and whose letters read most plausibly."""
    from charset_normalizer.md import mess_ratio

    scored = []
    for encoding in PREFERRED:
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        fit, language, _, _ = _fit(text)
        scored.append(((-round(fit, 3), round(mess_ratio(text), 2), _preference(encoding)), encoding, language))
    if not scored:
        raise ProcessingError("unsupported_content", "The file's encoding could not be recognised as any text "
                                                     "encoding; pass it as the option `encoding`.")
    _, encoding, language = min(scored)
    return Detected(encoding, 0, None, language)


def _latin_fallback(sample: bytes, best) -> bool:
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    from charset_normalizer.md import mess_ratio

    return len(sample) < 4096 and mess_ratio(text) <= best.chaos + NEAR


def _preference(encoding: str) -> int:
    return PREFERRED.index(encoding) if encoding in PREFERRED else len(PREFERRED)


def _language(name: str | None) -> str | None:
    return name if name and name != "Unknown" else None


def _fit(text: str) -> tuple[float, str | None, bool, int]:
    """How plausible ``text`` reads: (fit, language, Latin script, number of non-ASCII letters).

    For Latin script, the share of accented letters one language's alphabet explains (and that
    language when it alone explains them best). For other scripts, the share of their letters in
    words without ASCII letters: a wrong code page drops stray Cyrillic letters inside Latin words.
    """
    words = WORD.findall(text.lower())
    letters: Counter[str] = Counter()
    mixed = 0
    for word in words:
        extra = [c for c in word if c > "\x7f"]
        letters.update(extra)
        if len(extra) < len(word):
            mixed += len(extra)
    total = sum(letters.values())
    if not total:
        return 1.0, None, True, 0
    latin = sum(n for c, n in letters.items() if _is_latin(c)) >= total / 2
    if not latin:
        return 1.0 - mixed / total, None, False, total
    scores = {lang: sum(n for c, n in letters.items() if c in alphabet) / total for lang, alphabet in ALPHABETS.items()}
    top = max(scores.values())
    leaders = [lang for lang, s in scores.items() if s == top]
    return top, leaders[0] if len(leaders) == 1 and top > 0 else None, True, total


def _is_latin(char: str) -> bool:
    import unicodedata

    return unicodedata.name(char, "").startswith("LATIN")


def text_codec(name: str) -> str:
    """The canonical name of a text encoding; ``bad_option`` for unknown codecs and for codecs
    that do not decode bytes to text (``hex_codec``, ``rot13``, ``base64``)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError, ValueError):
        raise ProcessingError("bad_option", f"The encoding {name!r} is not known.") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ProcessingError("bad_option", f"{name!r} is not a text encoding (it does not turn bytes into text).")
    return info.name


def check_encoding_option(value: object) -> str | None:
    """For ``Option(check=...)``: why ``value`` is not a usable ``encoding`` option, or None."""
    try:
        text_codec(str(value))
    except ProcessingError as exc:
        return exc.message
    return None


@dataclass
class StreamDecoder:
    """Decodes a file chunk by chunk, strictly; a sample is a sample.

    When bytes past the sample do not decode (a cp1252 "café" after pages of ASCII declared
    UTF-8), the encoding is detected again on those bytes and, if all text so far was ASCII, the
    rest is decoded in the new encoding (exactly as a restart would). Otherwise the bad bytes
    become U+FFFD, counted in ``replaced`` and described in ``warnings``.
    """

    encoding: str
    lenient: bool = False
    replaced: int = 0
    redetected_at: int | None = None
    failed_at: int | None = None

    def __post_init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder(self.encoding)("replace" if self.lenient else "strict")
        self._ascii = True
        self._offset = 0

    def decode(self, raw: bytes, final: bool = False) -> str:
        pending = self._decoder.getstate()[0] if hasattr(self._decoder, "getstate") else b""
        start = self._offset - len(pending)
        self._offset += len(raw)
        try:
            text = self._decoder.decode(raw, final)
        except UnicodeDecodeError as exc:
            data = pending + raw
            head = data[: exc.start].decode(self.encoding)
            self._ascii = self._ascii and head.isascii()
            text = head + self._switch(data[exc.start:], start + exc.start, final)
        if self._ascii and not text.isascii():
            self._ascii = False
        return text

    def _switch(self, rest: bytes, at: int, final: bool) -> str:
        was = self.encoding
        if self._ascii and codecs.lookup(self.encoding).name in ("utf-8", "ascii"):
            try:
                found = detect_encoding(rest[: 1 << 20]).encoding
            except ProcessingError:
                found = self.encoding
            if found != self.encoding and codecs.lookup(found).name != "utf-8":
                self.encoding = found
                self.redetected_at = at
        self._decoder = codecs.getincrementaldecoder(self.encoding)("replace")
        self.lenient = True
        if self.encoding == was:
            self.failed_at = at
        return self._decoder.decode(rest, final)

    def count(self, text: str) -> int:
        """Counts the replacement characters in decoded ``text`` once the decoder turned lenient."""
        if self.lenient:
            n = text.count("\ufffd")
            self.replaced += n
            return n
        return 0

    def warnings(self) -> list[str]:
        """What a reader of the result must know about the decoding."""
        notes = []
        if self.redetected_at is not None:
            notes.append(f"The first {self.redetected_at:,} bytes are ASCII; the bytes after them are not UTF-8, "
                         f"so the encoding was detected again there ({self.encoding}).")
        if self.replaced:
            where = f" from byte {self.failed_at:,} on" if self.failed_at is not None else ""
            notes.append(f"{self.replaced:,} bytes{where} are not valid {self.encoding} and were replaced by "
                         "U+FFFD.")
        return notes
