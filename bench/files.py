"""Generated inputs for the benchmarks: sized by MB, pages or rows, deterministic."""
from __future__ import annotations

import random
import zlib
from pathlib import Path


def csv_file(path: Path, megabytes: float) -> Path:
    rnd = random.Random(1)
    cities = ["Oslo", "Lima", "Pune", "Kyiv", "Accra", "Quito", "Hanoi", "Perth"]
    target = int(megabytes * 1_000_000)
    with open(path, "w", encoding="utf-8") as f:
        f.write("id,price,city,quantity,when,note\n")
        written, i = 0, 0
        while written < target:
            lines = []
            for _ in range(10_000):
                i += 1
                lines.append(f"{i},{rnd.uniform(1, 1000):.2f},{rnd.choice(cities)},{rnd.randint(0, 500)},"
                             f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d},item number {i % 977}\n")
            block = "".join(lines)
            f.write(block)
            written += len(block)
    return path


def pdf_file(path: Path, pages: int) -> Path:
    """A real multi-page PDF with a paragraph of text per page, written by hand."""
    text = ("Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
            "labore et dolore magna aliqua")
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 "
                            b"/BaseFont /Helvetica >>"]
    kids = []
    for n in range(pages):
        ops = b"BT /F1 10 Tf 50 780 Td 14 TL " + b" ".join(
            b"(" + f"{n + 1}.{line} {text}".encode() + b") '" for line in range(40)) + b" ET"
        data = zlib.compress(ops)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % len(objects))
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    return write_pdf(path, objects, b"%PDF-1.7\n")


XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http:'
    '//schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship '
    'Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>',
    # cellXfs: 0 general, 1 date (numFmt 14), 2 date-time (numFmt 22)
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills '
    'count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0"/>'
    '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>',
}


def xlsx_file(path: Path, rows: int) -> Path:
    """``rows`` x 10 columns of numbers, text (shared strings, as Excel writes them), dates and booleans,
    written directly as SpreadsheetML (openpyxl takes a minute per 100k rows to write this)."""
    import zipfile

    rnd = random.Random(2)
    header = ["id", "price", "city", "quantity", "note", "when", "paid", "ratio", "code", "stamp"]
    strings: dict[str, int] = {}

    def sst(text: str) -> int:
        return strings.setdefault(text, len(strings))

    def sheet() -> bytes:
        out = ['<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               f'spreadsheetml/2006/main"><dimension ref="A1:J{rows + 1}"/><sheetData><row r="1">']
        out += [f'<c r="{chr(65 + i)}1" t="s"><v>{sst(h)}</v></c>' for i, h in enumerate(header)]
        out.append("</row>")
        for i in range(rows):
            r = i + 2
            out.append(
                f'<row r="{r}"><c r="A{r}"><v>{i}</v></c><c r="B{r}"><v>{round(rnd.uniform(1, 1000), 2)}</v></c>'
                f'<c r="C{r}" t="s"><v>{sst(rnd.choice(["Oslo", "Lima", "Pune"]))}</v></c>'
                f'<c r="D{r}"><v>{rnd.randint(0, 500)}</v></c><c r="E{r}" t="s"><v>{sst(f"item {i % 977}")}</v></c>'
                f'<c r="F{r}" s="1"><v>{43831 + i % 2000}</v></c><c r="G{r}" t="b"><v>{int(i % 3 == 0)}</v></c>'
                f'<c r="H{r}"><v>{rnd.random()!r}</v></c>'
                f'<c r="I{r}" t="s"><v>{sst(f"C-{rnd.randint(0, 99999):05d}")}</v></c>'
                f'<c r="J{r}" s="2"><v>{45292.35416666667 + i / 1440:.10f}</v></c></row>')
        out.append("</sheetData></worksheet>")
        return "".join(out).encode()

    data = sheet()
    shared = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
              f'2006/main" uniqueCount="{len(strings)}">' + "".join(f"<si><t>{t}</t></si>" for t in strings) + "</sst>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in XLSX_PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", data)
        zf.writestr("xl/sharedStrings.xml", shared)
    return path


def docx_file(path: Path, paragraphs: int) -> Path:
    import docx

    d = docx.Document()
    for i in range(paragraphs):
        if i % 50 == 0:
            d.add_heading(f"Section {i // 50 + 1}", level=1)
        d.add_paragraph(f"Paragraph {i}: the quick brown fox jumps over the lazy dog, again and again.")
    d.save(path)
    return path


def txt_file(path: Path, megabytes: float) -> Path:
    line = "The quick brown fox jumps over the lazy dog; naïve café déjà vu.\n"
    with open(path, "w", encoding="utf-8") as f:
        block = line * 10_000
        for _ in range(max(1, int(megabytes * 1_000_000 // len(block.encode())))):
            f.write(block)
    return path


BOOK_WORDS = ("theorem proof lemma function space vector matrix integral series convergence bound estimate "
              "definition example corollary measure continuous differentiable compact open closed set sequence "
              "limit analysis algebra group ring field module basis dimension linear operator eigenvalue spectrum "
              "norm inner product orthogonal projection kernel image finite infinite efficient affine official "
              "different first flow reflection configuration satisfies the of and a is we that in").split()


def _tex_word(word: str) -> bytes:
    """A word as pdfTeX writes it: ligatures as their own glyph codes (1 = fi, 2 = fl)."""
    return word.replace("fi", "\x01").replace("fl", "\x02").encode("latin-1").replace(b"\x01", b"\\001") \
        .replace(b"\x02", b"\\002")


def _book_page(rnd: random.Random, number: int, chapter: int | None) -> bytes:
    """One page of a LaTeX-like book: TJ arrays with kerning, justified lines, line-end hyphens,
    math with a minus from the Symbol font, a running header and a page number."""
    ops = [b"BT /F1 8.97 Tf 1 0 0 1 72 750 Tm [(Chapter %d)]TJ ET" % (chapter or (number // 10 + 1))]
    y = 720
    if chapter:
        ops.append(b"BT /F2 17.2 Tf 1 0 0 1 72 %d Tm [(%d)-1000(On)-250(%s)]TJ ET"
                   % (y, chapter, _tex_word(rnd.choice(BOOK_WORDS).capitalize())))
        y -= 40
    carry = ""
    while y > 90:
        words = [rnd.choice(BOOK_WORDS) for _ in range(rnd.randint(11, 14))]
        if carry:
            words[0] = carry
            carry = ""
        parts = []
        for i, w in enumerate(words):
            if len(w) > 3 and i > 0 and not w.startswith(("fi", "fl")):  # a kern after the first letter
                parts.append(b"(" + _tex_word(w[:1]) + b")%d(" % rnd.choice((-15, 28, 55)) + _tex_word(w[1:]) + b")")
            else:
                parts.append(b"(" + _tex_word(w) + b")")
        if rnd.random() < 0.15:  # a word hyphenated at the line end
            long = rnd.choice([w for w in BOOK_WORDS if len(w) > 7])
            parts.append(b"(" + _tex_word(long[:4]) + b"-)")
            carry = long[4:]
        ops.append(b"BT /F1 9.96 Tf 1 0 0 1 72 %d Tm [" % y + b"-333".join(parts) + b"]TJ ET")
        if rnd.random() < 0.1:
            y -= 12
            ops.append(b"BT /F1 9.96 Tf 1 0 0 1 200 %d Tm (x) Tj /F3 9.96 Tf ( -) Tj /F1 9.96 Tf ( y) Tj ET" % y)
        y -= 12
    ops.append(b"BT /F1 9.96 Tf 1 0 0 1 300 60 Tm (%d) Tj ET" % number)
    return b"\n".join(ops)


def book_pdf(path: Path, pages: int = 117) -> Path:
    """A compressed LaTeX-like book of ``pages`` pages with an outline (one chapter every 10 pages).

    Written by hand like bench's other files (no TeX on the machine): Times from the standard 14
    fonts with ligature glyphs through an encoding's /Differences, Symbol for the minus."""
    rnd = random.Random(7)
    encoding = b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [1 /fi /fl] >>"
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding 6 0 R >>",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Bold >>",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>", encoding, b""]
    kids, chapters = [], []
    for n in range(1, pages + 1):
        chapter = n // 10 + 1 if n % 10 == 1 else None
        data = zlib.compress(_book_page(rnd, n, chapter), 9)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >> >>" % len(objects))
        kids.append(len(objects))
        if chapter:
            chapters.append((chapter, len(objects)))
    first = len(objects) + 1
    for i, (chapter, page) in enumerate(chapters):
        links = b" /Prev %d 0 R" % (first + i - 1) if i else b""
        links += b" /Next %d 0 R" % (first + i + 1) if i + 1 < len(chapters) else b""
        objects.append(b"<< /Title (Chapter %d) /Parent 7 0 R /Dest [%d 0 R /XYZ 72 720 0]%s >>"
                       % (chapter, page, links))
    objects[6] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first, len(objects), len(chapters))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R /Outlines 7 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % pages
    return write_pdf(path, objects, b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")


def groff_book_pdf(path: Path, chapters: int = 12) -> Path:
    """A book set by groff (``groff -ms -Tpdf``, 118 pages for 12 chapters): a real producer's
    non-embedded standard-14 Times, justified and hyphenated, one ``Tm`` per line and ``Tw`` word
    spacing, as man pages and ms documents come out of gropdf. Needs groff's gropdf (``apt-get
    install groff``); :func:`has_groff` says whether it is there."""
    import subprocess

    rnd = random.Random(7)
    lines = [".nr PS 10", ".nr VS 12", ".TL", "A Book Set by groff", ".AU", "Nobody"]
    for _ in range(chapters):
        lines += [".NH", f"On {rnd.choice(BOOK_WORDS).capitalize()}s"]
        for _ in range(82):
            words = [rnd.choice(BOOK_WORDS) for _ in range(rnd.randint(40, 120))]
            lines += [".PP", " ".join(words).capitalize() + "."]
    out = subprocess.run(["groff", "-ms", "-Tpdf"], input="\n".join(lines).encode() + b"\n", capture_output=True,
                         check=True)
    path.write_bytes(out.stdout)
    return path


def has_groff() -> bool:
    import shutil

    return shutil.which("groff") is not None and shutil.which("gropdf") is not None


def pdf_bytes(objects: list[bytes], header: bytes = b"%PDF-1.7\n") -> bytes:
    """Objects numbered from 1 (1 is the catalog), their cross-reference table and trailer: the one
    hand-written PDF serializer, shared with the tests that need to control every byte."""
    out = bytearray(header)
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_pdf(path: Path, objects: list[bytes], header: bytes) -> Path:
    path.write_bytes(pdf_bytes(objects, header))
    return path


TEX_PAGES = ("pdf_4_pages.pdf", "pdf_multicolumn.pdf", "pdf_outline.pdf", "pdf_minimal.pdf")


def tex_book_pdf(path: Path, pages: int = 117) -> Path:
    """A compressed book of ``pages`` real pdfTeX pages: the pdflatex files of tests/corpus (py-pdf
    sample files, CC-BY-SA-4.0) taken in turn, with their embedded Type 1 Computer Modern fonts.
    The text repeats; the typesetting, fonts and streams are what LaTeX writes."""
    import itertools

    import pypdf

    corpus = Path(__file__).resolve().parents[1] / "tests" / "corpus"
    sources = [pypdf.PdfReader(corpus / name) for name in TEX_PAGES]
    writer = pypdf.PdfWriter()
    for page in itertools.islice(itertools.cycle([p for r in sources for p in r.pages]), pages):
        writer.add_page(page)
    writer.compress_identical_objects()
    writer.write(path)
    return path
