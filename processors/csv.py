"""The csv processor (pandas, C engine, in chunks): encoding, dialect, per-column statistics.

The dialect is sniffed on the first 64 KiB and passed to the C engine (``sep=None`` would fall
back to the Python engine, 15-30x slower). Before pandas parses anything, the header's width is
counted on the bytes (a million-column header is refused in a few MB), and chunks are sized by
bytes, not rows. pandas reads the file through ``csvsource.Source``: decoded without trusting the
sample, and with each record (a quoted field may span lines) bounded by ``max_field_size``.
Rows longer than the header keep their extra cells, as columns named by position.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from typing import TYPE_CHECKING, Any

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import markdown, warmup
from .encoding import StreamDecoder, check_encoding_option, detect_encoding, looks_like_text, text_codec
from .safety import escape_formula

if TYPE_CHECKING:  # numpy and pandas are imported by workers only, never by the web process
    from .csvsource import Source
    from .tabular import TableStats

SNIFF_BYTES = 64 * 1024
CHUNK_ROWS = 200_000
CHUNK_BYTES = 16 << 20
CHUNK_CELLS = 4_000_000
DELIMITERS = ",;\t|:"
SKIPPED = re.compile(r"Skipping line \d+: expected (\d+) fields, saw (\d+)")
MD_ROWS = 20
MD_COLUMNS = 20


def _option_str(options: dict, key: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ProcessingError("bad_option", f"The option `{key}` must be a non-empty string.")
    return value


class _Read:
    """What one pass of pandas over the file gave."""

    def __init__(self) -> None:
        self.stats: TableStats | None = None
        self.names: list[str] = []
        self.rows = 0
        self.truncated = False
        self.skipped = 0
        self.widest = 0
        self.first_rows: list[list[Any]] = []
        self.source: Source | None = None
        self.long_rows = 0
        self.extra = 0


class CsvProcessor(Processor):
    name = "csv"
    limits = builtin_limits.CSV
    result_template = "processors:templates/csv.jinja2"
    extensions = (".csv", ".tsv", ".tab")
    media_types = ("text/csv",)
    steps = ("Detect format", "Read rows", "Summarise")
    description = ("CSV: encoding and dialect, rows and columns, per-column type, nulls, distinct values, "
                   "numeric and date statistics and most frequent values.")
    options = (
        Option("delimiter", str, help="one character; sniffed when absent"),
        Option("encoding", str, help="a Python codec name; detected when absent", check=check_encoding_option),
        Option("max_rows", int, help="read at most this many rows"),
    )

    def sniff(self, head: bytes) -> bool:
        return looks_like_text(head)

    def warm(self) -> None:
        warmup.load("pandas", "processors.tabular", "processors.csvsource")

    def process(self, ctx: Any) -> dict:
        options = ctx.options
        delimiter = _option_str(options, "delimiter")
        if delimiter is not None and len(delimiter) != 1:
            raise ProcessingError("bad_option", "The option `delimiter` must be a single character.")
        forced = _option_str(options, "encoding")
        max_rows = options.get("max_rows")
        if max_rows is not None and (not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1):
            raise ProcessingError("bad_option", "The option `max_rows` must be a positive whole number.")
        size = ctx.path.stat().st_size
        if size == 0:
            raise ProcessingError("empty_file", "The file is empty.")

        with ctx.step("Detect format", total=3) as step:
            with open(ctx.path, "rb") as f:
                head = f.read(SNIFF_BYTES)
            encoding, bom, language = self._encoding(head, forced, size)
            step.advance(message=f"encoding {encoding}")
            sample = StreamDecoder(encoding, lenient=True).decode(head[bom:], final=len(head) >= size)
            newline = b"\r" if "\n" not in sample and "\r" in sample else b"\n"
            dialect = _sniff(sample, delimiter)
            step.advance(message=f"delimiter {dialect['delimiter']!r}")
            width = self._check_width(ctx, encoding, bom, dialect, newline, sample)
            chunk_rows = _chunk_rows(sample, width)
            step.advance(message=f"{width} columns")

        with ctx.step("Read rows", total=size) as step:
            read = self._read(ctx, step, encoding, bom, dialect, newline, chunk_rows, max_rows, None)
            if read.skipped:  # rows longer than the header: read again with room for their cells
                step.total = 2 * size
                extra = [f"column_{i + 1}" for i in range(len(read.names), read.widest)]
                long_rows = read.skipped
                read = self._read(ctx, step, encoding, bom, dialect, newline, chunk_rows, max_rows,
                                  read.names + extra, offset=size)
                read.long_rows, read.extra = long_rows, len(extra)
        if read.stats is None:
            raise ProcessingError("empty_file", "The file holds no rows.")

        with ctx.step("Summarise", total=1) as step:
            from .tabular import summary_rows

            summaries = read.stats.summaries()
            with open(ctx.artifact("columns.csv"), "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                for row in summary_rows(summaries):
                    writer.writerow([escape_formula(v) for v in row])
            _write_markdown(ctx.artifact("text.md"), ctx.filename, read)
            step.advance()
        return self._result(read, encoding, bom, language, dialect, summaries)

    @staticmethod
    def _encoding(head: bytes, forced: str | None, size: int) -> tuple[str, int, str | None]:
        if forced:
            encoding = text_codec(forced)
            found = detect_encoding(head, whole=len(head) >= size) if head[:2] in (b"\xff\xfe", b"\xfe\xff") or \
                head[:3] == b"\xef\xbb\xbf" else None
            bom = found.bom if found and text_codec(found.encoding) == encoding else 0
            return encoding, bom, None
        found = detect_encoding(head, whole=len(head) >= size)
        return found.encoding, found.bom, found.language

    @staticmethod
    def _check_width(ctx: Any, encoding: str, bom: int, dialect: dict, newline: bytes, sample: str) -> int:
        """The header's width, counted on the bytes before pandas parses anything; the first rows'
        widths from the sample. Past ``max_columns`` the file is refused ``too_large``."""
        from .csvsource import RecordScanner, RecordTooLong, Source, TooManyColumns

        limits = ctx.limits
        scanner = RecordScanner(dialect["delimiter"], dialect["quotechar"], newline, limits.max_field_size,
                                limits.max_columns, dialect["skipinitialspace"])
        try:
            with open(ctx.path, "rb") as f:
                f.seek(bom)
                source = Source(f, StreamDecoder(encoding, lenient=True), scanner)
                while scanner.first_fields is None and source.readinto(bytearray(1 << 20)):
                    pass
        except TooManyColumns as exc:
            raise ProcessingError("too_large", f"The table's first row has more than {exc.columns - 1:,} columns; "
                                               f"the limit is {limits.max_columns:,}.") from None
        except RecordTooLong:
            raise _record_too_long(limits) from None
        widths = _row_widths(sample, dialect)
        widest = max([scanner.fields, *widths])
        if widest > limits.max_columns:
            raise ProcessingError("too_large", f"The table has {widest:,} columns in its first rows; the limit is "
                                               f"{limits.max_columns:,}.")
        return widest

    def _read(self, ctx: Any, step: Any, encoding: str, bom: int, dialect: dict, newline: bytes, chunk_rows: int,
              max_rows: int | None, names: list[str] | None, offset: int = 0) -> _Read:
        import pandas as pd

        from .csvsource import RecordScanner, RecordTooLong, Source, TooManyColumns

        limits = ctx.limits
        read = _Read()
        header = 0 if dialect["header"] else None
        kw: dict[str, Any] = dict(
            sep=dialect["delimiter"], quotechar=dialect["quotechar"], header=header, encoding="utf-8",
            chunksize=chunk_rows, engine="c", on_bad_lines="warn", skipinitialspace=dialect["skipinitialspace"],
            low_memory=True, index_col=False,  # a long first row must be a bad line, not an implicit index
        )
        if names is not None:  # the header's names and more: the header row is skipped, not read
            kw.update(names=names, header=None, skiprows=1 if dialect["header"] else None)
        scanner = RecordScanner(dialect["delimiter"], dialect["quotechar"], newline, limits.max_field_size,
                                limits.max_columns * 2 + 1, dialect["skipinitialspace"])
        try:
            with warnings.catch_warnings(record=True) as caught, open(ctx.path, "rb") as raw:
                warnings.simplefilter("always")
                raw.seek(bom)
                read.source = Source(raw, StreamDecoder(encoding), scanner)
                with pd.read_csv(io.BufferedReader(read.source, buffer_size=1 << 20), **kw) as reader:
                    for chunk in reader:
                        if self._feed(read, chunk, dialect, limits, max_rows, names):
                            break
                        step.update(offset + read.source.pos, message=f"{read.rows:,} rows, "
                                    f"{read.source.pos / 1e6:.1f} of {ctx.path.stat().st_size / 1e6:.1f} MB")
            for w in caught:
                for expected, saw in SKIPPED.findall(str(w.message)):
                    read.skipped += 1
                    read.widest = max(read.widest, int(saw), int(expected))
                if not SKIPPED.search(str(w.message)):
                    ctx.log.info("csv job %s: parser warning: %s", ctx.job_id, str(w.message)[:300])
        except (RecordTooLong, TooManyColumns):
            raise _record_too_long(limits) from None
        except pd.errors.EmptyDataError:
            raise ProcessingError("empty_file", "The file holds no rows.") from None
        except (pd.errors.ParserError, UnicodeError, ValueError, OverflowError) as exc:
            ctx.log.warning("csv job %s: pandas could not parse the file: %s", ctx.job_id, exc)
            raise ProcessingError("corrupt_file", "The CSV could not be parsed as a table (its quoting or its rows "
                                                  "are inconsistent); check the delimiter and quote character, or "
                                                  "pass the option `delimiter`.") from None
        if read.widest > limits.max_columns:
            raise ProcessingError("too_large", f"A row of the table has {read.widest:,} cells; the limit is "
                                               f"{limits.max_columns:,} columns.")
        return read

    @staticmethod
    def _feed(read: _Read, chunk: Any, dialect: dict, limits: Any, max_rows: int | None,
              names: list[str] | None) -> bool:
        """Adds a chunk to the statistics; True when reading should stop."""
        if read.stats is None:
            from .tabular import TableStats

            read.names = [str(c) if dialect["header"] or names else f"column_{i + 1}"
                          for i, c in enumerate(chunk.columns)]
            if len(read.names) > limits.max_columns:
                raise ProcessingError("too_large", f"The table has {len(read.names):,} columns; the limit is "
                                                   f"{limits.max_columns:,}.")
            read.stats = TableStats(read.names)
        if max_rows is not None and read.rows + len(chunk) >= max_rows:
            chunk = chunk.iloc[: max_rows - read.rows]
            read.truncated = True
        if len(read.first_rows) < MD_ROWS:
            head = chunk.iloc[: MD_ROWS - len(read.first_rows), :MD_COLUMNS]
            read.first_rows.extend(head.astype(object).where(head.notna(), None).values.tolist())
        read.stats.feed(chunk)
        read.rows += len(chunk)
        if read.rows > limits.max_rows:
            raise ProcessingError("too_large", f"The table has more than {limits.max_rows:,} rows; pass the option "
                                               "`max_rows` to read the first ones.")
        return read.truncated

    @staticmethod
    def _result(read: _Read, encoding: str, bom: int, language: str | None, dialect: dict,
                summaries: list[dict]) -> dict:
        source = read.source
        notes = source.decoder.warnings() if source else []
        if source and source.nuls:
            notes.append(f"The file holds {source.nuls:,} NUL characters, kept in the cells that hold them.")
        if read.long_rows:
            first = len(read.names) - read.extra + 1
            notes.append(f"{read.long_rows:,} rows have more cells than the header: their extra cells are kept as "
                         f"columns named by position (column_{first} to column_{len(read.names)}).")
        if read.skipped:
            notes.append(f"{read.skipped:,} rows could not be read as rows of the table and were skipped.")
        return {
            "encoding": source.decoder.encoding if source else encoding,
            "bom": bool(bom),
            "language_guess": language if source and source.decoder.redetected_at is None else None,
            "delimiter": dialect["delimiter"],
            "quotechar": dialect["quotechar"],
            "header": dialect["header"],
            "rows": read.rows,
            "rows_truncated": read.truncated,
            "columns": len(read.names),
            "extra_columns": read.extra,
            "rows_longer_than_header": read.long_rows,
            "bad_lines_skipped": read.skipped,
            "replacement_characters": source.decoder.replaced if source else 0,
            "nul_characters": source.nuls if source else 0,
            "warnings": notes,
            "column_summaries": summaries,
        }


def _record_too_long(limits: Any) -> ProcessingError:
    return ProcessingError("too_large", f"A row of the file (or a quoted field spanning lines) is longer than "
                                        f"{limits.max_field_size / 1e6:.0f} MB; it is not a table this service can "
                                        "read.")


def _sniff(sample: str, delimiter: str | None) -> dict:
    """Dialect from ``csv.Sniffer`` on the sample, kept only when the delimiter splits at least two
    rows the same way (one line of ``a|b:c`` is one column, not a guess); else ``,``."""
    text = sample[: sample.rfind("\n") + 1] or sample
    sniffer = csv.Sniffer()
    dialect: dict[str, Any] = {"delimiter": delimiter or ",", "quotechar": '"', "skipinitialspace": False}
    if delimiter is None:
        try:
            found = sniffer.sniff(text, delimiters=DELIMITERS)
            dialect.update(delimiter=found.delimiter, quotechar=found.quotechar or '"',
                           skipinitialspace=found.skipinitialspace)
        except csv.Error:
            lines = [line for line in text.splitlines()[:20] if line.strip()]
            counts = {d: sum(line.count(d) for line in lines) for d in DELIMITERS}
            best = max(counts, key=counts.get) if lines else ","
            dialect["delimiter"] = best if counts.get(best) else ","
        if dialect["delimiter"] != "," and not _splits_rows_alike(text, dialect):
            dialect.update(delimiter=",", quotechar='"', skipinitialspace=False)
    # csv.Sniffer says "no header" for all-text tables; most files have one, so a first row is a
    # header unless the sniffer disagrees *and* that row holds a number
    try:
        first = next(csv.reader(io.StringIO(text, newline=""), delimiter=dialect["delimiter"],
                                quotechar=dialect["quotechar"]), [])
    except csv.Error:
        first = []
    numeric_first = any(_is_number(cell) for cell in first)
    try:
        sniffed = sniffer.has_header(text) if text.count("\n") > 1 else not numeric_first
    except csv.Error:
        sniffed = not numeric_first
    dialect["header"] = sniffed or not numeric_first
    return dialect


def _row_widths(sample: str, dialect: dict, rows: int = 50) -> list[int]:
    text = sample[: sample.rfind("\n") + 1] or sample
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect["delimiter"], quotechar=dialect["quotechar"])
    widths = []
    try:
        for row in reader:
            if row:
                widths.append(len(row))
            if len(widths) >= rows:
                break
    except csv.Error:
        pass
    return widths


def _splits_rows_alike(text: str, dialect: dict) -> bool:
    widths = [w for w in _row_widths(text, dialect, 20) if w > 1]
    return any(widths.count(w) >= 2 for w in set(widths))


def _chunk_rows(sample: str, width: int) -> int:
    """Rows per pandas chunk: about ``CHUNK_BYTES`` of the file and ``CHUNK_CELLS`` cells."""
    lines = max(1, sample.count("\n"))
    row_bytes = max(1, len(sample.encode("utf-8", "replace")) // lines)
    return max(1, min(CHUNK_ROWS, CHUNK_BYTES // row_bytes, CHUNK_CELLS // max(1, width)))


def _write_markdown(path: Any, filename: str | None, read: _Read) -> None:
    """The first rows as a Markdown table, capped, saying so."""
    names = read.names[:MD_COLUMNS]
    shown = len(read.first_rows)
    parts = [markdown.heading(filename or "Table", 1), "\n", markdown.table(read.first_rows, header=names)]
    capped = []
    if read.rows > shown:
        capped.append(f"the first {shown:,} of {read.rows:,} rows")
    if len(read.names) > len(names):
        capped.append(f"the first {len(names)} of {len(read.names):,} columns")
    if capped:
        parts.append("\n" + markdown.escape(f"Showing {' and '.join(capped)}; columns.csv summarises them all.") + "\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(parts))


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip())
        return True
    except ValueError:
        return False


@hookimpl
def jobs_register_processors():
    return [CsvProcessor()]
