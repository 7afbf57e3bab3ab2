"""docx and doc processors: generated files, the corpus against independent extractors, hostile files."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import zipfile

import docx
import pytest

from processors.doc import DocProcessor
from processors.docx import DocxProcessor
from processors.words import count_words
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

DOCX, DOC = DocxProcessor(), DocProcessor()


def make_docx(path):
    d = docx.Document()
    d.core_properties.title = "Quarterly <report>"
    d.core_properties.author = "Ann"
    d.add_heading("Intro", level=1)
    d.add_paragraph("First paragraph with five words.")
    d.add_heading("Details", level=2)
    table = d.add_table(rows=3, cols=2)
    for r in range(3):
        for c in range(2):
            table.cell(r, c).text = f"r{r}c{c}"
    d.add_paragraph("After the table.")
    comment_para = d.add_paragraph("Commented text")
    d.add_comment(comment_para.runs, text="Check this", author="Bob", initials="B")
    d.save(path)
    return path


def test_docx_generated(tmp_path):
    run = run_processor(DOCX, make_docx(tmp_path / "a.docx"))
    r = run.result
    assert r["properties"]["title"] == "Quarterly <report>" and r["properties"]["author"] == "Ann"
    assert [(o["level"], o["text"]) for o in r["outline"]] == [(1, "Intro"), (2, "Details")]
    assert r["tables"] == 1 and r["table_previews"][0]["first_rows"][2] == ["r2c0", "r2c1"]
    assert r["comments"][0]["author"] == "Bob" and r["comments"][0]["text"] == "Check this"
    text = run.artifacts["text.txt"].read_text()
    assert text.index("Intro") < text.index("r1c1") < text.index("After the table.")
    assert r["words"] == sum(p["words"] for p in r["parts"])
    assert r["parts"][0]["words"] == count_words(text.split("\n--- ")[0])
    assert text.index("--- Comments ---") < text.index("Check this")
    assert run.step_names == ["Open", "Extract text", "Summarise"]
    assert run.artifacts["outline.json"].exists()


def test_docx_corpus_matches_python_docx(corpus):
    for path in sorted(corpus.glob("docx_*.docx")):
        r = run_processor(DOCX, path)
        ours = r.artifacts["text.txt"].read_text()
        for p in docx.Document(str(path)).paragraphs:
            assert p.text in ours, (path.name, p.text)
    links = run_processor(DOCX, corpus / "docx_par_hyperlinks.docx").result["hyperlinks"]
    assert links and all(link["url"] for link in links)
    assert run_processor(DOCX, corpus / "docx_comments_rich_para.docx").result["comments"]
    hf = run_processor(DOCX, corpus / "docx_hdr_header_footer.docx").result["headers_footers"]
    assert hf[0]["text"] == "Header for section-1"


def _zip(path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_docx_zip_bomb(tmp_path):
    bomb = _zip(tmp_path / "bomb.docx", {"word/document.xml": b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>"})
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, bomb)
    assert info.value.code == "too_large"


def test_docx_too_many_entries(tmp_path):
    many = _zip(tmp_path / "many.docx", {"word/document.xml": b"<a/>", **{f"x/{i}": b"" for i in range(50)}})
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, many, limits={"max_zip_entries": 20})
    assert info.value.code == "too_large"


def test_docx_entity_bomb_is_not_expanded(tmp_path):
    src = make_docx(tmp_path / "src.docx")
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    lol = b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10) for i in range(8)
    ) + b"]>"
    xml = members["word/document.xml"]
    members["word/document.xml"] = xml.replace(b"?>", b"?>" + lol, 1).replace(b"First paragraph", b"&i; paragraph")
    started = time.monotonic()
    try:
        r = run_processor(DOCX, _zip(tmp_path / "lol.docx", members)).result
        assert r["characters"] < 10_000, "entities are never expanded"
    except ProcessingError as exc:
        assert exc.code in ("corrupt_file", "unsupported_content")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("data,code", [
    (b"", "empty_file"),
    (b"PK\x03\x04 not really a zip", "corrupt_file"),
    (b"hello", "corrupt_file"),
])
def test_docx_bad_files(tmp_path, data, code):
    (tmp_path / "x.docx").write_bytes(data)
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, tmp_path / "x.docx")
    assert info.value.code == code


def test_docx_not_word(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, _zip(tmp_path / "x.docx", {"xl/workbook.xml": b"<a/>"}))
    assert info.value.code == "unsupported_content"


def test_encrypted_ooxml_is_encrypted(corpus):
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, corpus / "xlsx_pass_protected.xlsx")  # an encrypted OOXML package: an OLE file
    assert info.value.code == "encrypted"


EXPECTED_DOC = {
    "doc_textract.doc": "I love word documents",
    "doc_poi_SampleDoc.doc": "I am a test document",
    "doc_poi_Word6.doc": "The quick brown fox jumps over the lazy dog",
    "doc_poi_Word95.doc": "Paragraph 2",
    "doc_poi_Lists.doc": "This document has different lists in it for testing",
    "doc_poi_simple_table.doc": "Cell 1,2",
}


def test_doc_corpus(corpus):
    for name, expected in EXPECTED_DOC.items():
        run = run_processor(DOC, corpus / name)
        assert expected in run.artifacts["text.txt"].read_text(), name
        assert run.result["words"] > 0
    r = run_processor(DOC, corpus / "doc_poi_SampleDoc.doc").result
    assert r["properties"]["author"] == "Nick Burch" and r["properties"]["title"] == "Test Document"
    assert r["properties"]["create_time"].startswith("2008-01-04T09:15")
    assert run_processor(DOC, corpus / "doc_poi_empty.doc").result["words"] == 0
    for name in ("doc_encrypted.doc", "doc_poi_PasswordProtected.doc"):
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, corpus / name)
        assert info.value.code == "encrypted", name


def test_doc_fuzzed_corpus_file_ends_cleanly(corpus):
    run = run_processor(DOC, corpus / "doc_poi_Fuzzed.doc")  # damaged, but its text is still readable
    assert run.result["words"] > 0 and run.artifacts["text.txt"].stat().st_size > 0


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword not installed")
def test_doc_text_holds_what_antiword_finds(corpus, tmp_path):
    for name in EXPECTED_DOC:
        if "Word6" in name or "Word95" in name:
            continue  # antiword reads Word 6/95 poorly
        theirs = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", subprocess.run(
            ["antiword", str(corpus / name)], capture_output=True, text=True).stdout)}
        run = run_processor(DOC, corpus / name, out_dir=tmp_path / name)
        ours = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", run.artifacts["text.txt"].read_text())}
        missing = theirs - ours
        assert len(missing) <= 0.05 * max(len(theirs), 1), (name, sorted(missing)[:20])


def test_doc_lookalikes(tmp_path, corpus):
    (tmp_path / "rtf.doc").write_bytes(b"{\\rtf1\\ansi hello}")
    (tmp_path / "web.doc").write_bytes(b"<html><body>hi</body></html>")
    for name in ("rtf.doc", "web.doc"):
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, tmp_path / name)
        assert info.value.code == "unsupported_content" and ".docx" in info.value.message
    shutil.copy(corpus / "docx_paragraphs_tables.docx", tmp_path / "really.doc")
    r = run_processor(DOC, tmp_path / "really.doc").result
    assert r["format"].startswith("docx") and r["tables"] == 1
    with pytest.raises(ProcessingError) as info:
        run_processor(DOC, corpus / "xlsx_pass_protected.xlsx")
    assert info.value.code == "encrypted"


def test_doc_truncated_and_out_of_range(tmp_path, corpus):
    data = (corpus / "doc_textract.doc").read_bytes()
    for i, cut in enumerate((len(data) // 2, 600, 4096)):
        path = tmp_path / f"cut{i}.doc"
        path.write_bytes(data[:cut])
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, path)
        assert info.value.code == "corrupt_file", cut
    import olefile

    src = tmp_path / "bad.doc"
    shutil.copy(corpus / "doc_textract.doc", src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        word = bytearray(ole.openstream("WordDocument").read())
        word[0x01A2:0x01A6] = (0x7FFFFFF0).to_bytes(4, "little")  # fcClx far past the table stream
        ole.write_stream("WordDocument", bytes(word))
    with pytest.raises(ProcessingError) as info:
        run_processor(DOC, src)
    assert info.value.code == "corrupt_file"


def test_doc_reads_every_story(corpus):
    """Footnotes, headers and footers, comments, endnotes, text boxes and header text boxes are
    read (test-fields.doc has text in each), given their part in the result and labelled in text.txt."""
    run = run_processor(DOC, corpus / "doc_poi_test_fields.doc")
    r, text = run.result, run.artifacts["text.txt"].read_text()
    assert [p["part"] for p in r["parts"]] == ["main", "footnotes", "headers", "comments", "endnotes", "textboxes",
                                               "header_textboxes"]
    assert r["footnotes"] == ["Footnote with field: Fridrich Strba"]
    assert r["endnotes"] == ["Field in EndNote. File size: 0"]
    assert r["comments"] == [{"text": "Field in comment: 19/11/2010"}]
    assert r["text_boxes"] == ["Field in text box: 2", "Textbox in header with field: 3:18 PM"]
    assert {(h["kind"], h["which"], h["text"]) for h in r["headers_footers"]} == {
        ("header", "odd", "page 1"), ("footer", "odd", "Document1")}
    for label, words in (("Footnotes", "Fridrich Strba"), ("Headers and footers", "page 1"),
                         ("Comments", "Field in comment"), ("Endnotes", "Field in EndNote"),
                         ("Text boxes", "Field in text box"), ("Header text boxes", "Textbox in header")):
        assert text.index(f"--- {label} ---") < text.index(words), label
    assert text.index("Here is a link to a footnote") < text.index("--- Footnotes ---")
    assert r["words"] == sum(p["words"] for p in r["parts"]) and r["parts"][0]["words"] == count_words(r["preview"])


def test_doc_fast_saved_word6(corpus):
    """A fast-saved Word 6 file is read through its piece table (it was refused)."""
    run = run_processor(DOC, corpus / "doc_poi_Bug60942.doc")
    text = run.artifacts["text.txt"].read_text()
    assert run.result["fast_saved"] and run.result["format"] == "Word 6/95"
    for words in ("BERTHOD", "Société APPLICOLOR", "les meilleurs", "GUY LECOLE"):
        assert words in text


def test_word95_code_page_from_language(tmp_path, corpus):
    """Word 6/95 text is decoded in the code page of the document's language: Russian is cp1251."""
    import olefile

    src = tmp_path / "ru.doc"
    shutil.copy(corpus / "doc_poi_Word95.doc", src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        word = bytearray(ole.openstream("WordDocument").read())
        word[6:8] = (0x0419).to_bytes(2, "little")  # lid: Russian
        at = word.index(b"Paragraph 2")
        word[at: at + 11] = "Параграф 22".encode("cp1251")
        ole.write_stream("WordDocument", bytes(word))
    run = run_processor(DOC, src)
    assert "Параграф 22" in run.artifacts["text.txt"].read_text()
    assert run.result["encoding"] == "cp1251"
    english = run_processor(DOC, corpus / "doc_poi_Word95.doc")
    assert english.result["encoding"] == "cp1252" and "Paragraph 2" in english.artifacts["text.txt"].read_text()


def test_doc_table_stream_that_is_a_storage(corpus):
    """A file whose table-stream name is a storage is damaged (it raised TypeError: processing_failed)."""
    with pytest.raises(ProcessingError) as info:
        run_processor(DOC, corpus / "doc_poi_fuzz_table_storage.doc")
    assert info.value.code == "corrupt_file" and "stream" in info.value.message


def test_doc_random_damage_is_corrupt_file(tmp_path, corpus):
    """Bytes flipped anywhere in a .doc end in success or a specific code, never anything else."""
    import random

    rng = random.Random(7)
    for name in ("doc_poi_test_fields.doc", "doc_poi_Bug60942.doc", "doc_poi_simple_table.doc"):
        data = (corpus / name).read_bytes()
        for i in range(40):
            bad = bytearray(data)
            for _ in range(20):
                bad[rng.randrange(512, len(bad))] = rng.randrange(256)
            path = tmp_path / f"{i}-{name}"
            path.write_bytes(bytes(bad))
            try:
                run_processor(DOC, path, out_dir=tmp_path / "out")
            except ProcessingError as exc:
                assert exc.code in ("corrupt_file", "unsupported_content", "encrypted", "too_large"), exc.code
                assert str(tmp_path) not in exc.message and "Error" not in exc.message


def test_doc_property_stream_cannot_loop(tmp_path, corpus):
    """A property set claiming 2**31 properties made olefile's parser loop for minutes; ours caps it."""
    import olefile

    src = tmp_path / "loop.doc"
    shutil.copy(corpus / "doc_textract.doc", src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        props = bytearray(ole.openstream("\x05SummaryInformation").read())
        section = int.from_bytes(props[44:48], "little")
        props[section + 4: section + 8] = (0x7FFFFFFF).to_bytes(4, "little")
        ole.write_stream("\x05SummaryInformation", bytes(props))
    code = ("import sys; from processors.doc import DocProcessor; from pyramid_jobs.testing import run_processor; "
            "r = run_processor(DocProcessor(), sys.argv[1]); print(r.result['properties']['author'])")
    started = time.monotonic()
    # in a child process: with olefile's parser this never ended, and a thread cannot be stopped
    done = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30 and done.stdout.strip() == "Dean Malmgren", done.stderr[-500:]
    fuzzed = run_processor(DOC, corpus / "doc_poi_Fuzzed.doc").result
    assert fuzzed["properties"]["author"] == "John Greer"


def test_property_offsets_are_checked():
    from processors.oleprops import parse_property_set

    head = b"\xfe\xff" + b"\0" * 22 + (1).to_bytes(4, "little") + b"\0" * 16 + (48).to_bytes(4, "little")
    section = (8 + 8 * 2 + 8).to_bytes(4, "little") + (2).to_bytes(4, "little")
    entries = (4).to_bytes(4, "little") + (24).to_bytes(4, "little") + (2).to_bytes(4, "little") + \
        (10 ** 6).to_bytes(4, "little")
    value = (30).to_bytes(4, "little") + (4).to_bytes(4, "little") + b"Ann\0"
    data = head + section + entries + value
    assert parse_property_set(data, {4: "author", 2: "title"}) == {"author": "Ann"}


def _hyperlink(paragraph, text, url):
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rid = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def make_rich_docx(path):
    from docx.enum.text import WD_BREAK

    d = docx.Document()
    d.add_heading("Annual review", level=0)
    d.add_heading("Scope", level=1)
    d.add_heading("Detail level three", level=3)
    p = d.add_paragraph("Plain then ")
    p.add_run("bold words").bold = True
    p.add_run(" and ")
    p.add_run("slanted words").italic = True
    p.add_run(" end.")
    d.add_paragraph("first bullet", style="List Bullet")
    d.add_paragraph("second bullet", style="List Bullet")
    d.add_paragraph("step one", style="List Number")
    d.add_paragraph("step two", style="List Number")
    link = d.add_paragraph("See ")
    _hyperlink(link, "the site", "https://example.org/a b")
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate((("Name", "Score"), ("Ann", "7*3"))):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    inner = table.cell(1, 0).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "nested left"
    inner.cell(0, 1).text = "nested right"
    d.add_paragraph("Before the break").add_run().add_break(WD_BREAK.PAGE)
    d.add_paragraph("After the break")
    d.save(path)
    return path


def test_docx_markdown_structures(tmp_path):
    """text.md has headings from heading styles, bulleted and numbered lists, a pipe table, bold and
    italic runs, the hyperlink and the page break."""
    run = run_processor(DOCX, make_rich_docx(tmp_path / "rich.docx"))
    md = run.artifacts["text.md"].read_text()
    lines = md.splitlines()
    assert "# Annual review" in lines and "# Scope" in lines and "### Detail level three" in lines
    assert "Plain then **bold words** and *slanted words* end." in lines
    assert lines[lines.index("- first bullet") + 1] == "- second bullet"
    assert lines[lines.index("1. step one") + 1] == "2. step two"
    assert "See [the site](<https://example.org/a b>)" in lines
    header = lines.index("| Name | Score |")
    assert lines[header + 1] == "|---|---|" and lines[header + 2].startswith("| Ann nested left nested right | 7\\*3 |")
    assert lines.index("Before the break") < lines.index("---") < lines.index("After the break")
    assert run.result["hyperlinks"] == [{"text": "the site", "url": "https://example.org/a b"}]


def test_docx_nested_tables_equations_and_entity_tails(tmp_path):
    """Tables nested in cells, OMML equation text and text after an unexpanded entity are kept."""
    src = make_rich_docx(tmp_path / "src.docx")
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    xml = members["word/document.xml"]
    math = (b'<w:p><m:oMathPara><m:oMath><m:r><m:t>E=mc</m:t></m:r><m:sSup><m:e><m:r><m:t>x</m:t></m:r></m:e>'
            b'<m:sup><m:r><m:t>2</m:t></m:r></m:sup></m:sSup></m:oMath></m:oMathPara></w:p>')
    ruby = ("<w:p><w:r><w:ruby><w:rt><w:r><w:t>とうきょう</w:t></w:r></w:rt><w:rubyBase><w:r><w:t>東京</w:t></w:r>"
            "</w:rubyBase></w:ruby></w:r></w:p>").encode()
    xml = xml.replace(b"<w:body>", b"<w:body>" + math + ruby, 1)
    xml = xml.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY co "Company">]>', 1)
    xml = xml.replace(b">first bullet<", b">&co; keeps its tail<")
    first_row = xml.index(b"<w:tr")  # the outer table's header row
    end = xml.index(b"</w:tr>", first_row) + len(b"</w:tr>")
    row = xml[first_row:end].replace(b">Name<", b">Row in a content control<")
    xml = xml[:end] + b"<w:sdt><w:sdtContent>" + row + b"</w:sdtContent></w:sdt>" + xml[end:]
    members["word/document.xml"] = xml
    run = run_processor(DOCX, _zip(tmp_path / "x.docx", members))
    text = run.artifacts["text.txt"].read_text()
    assert "nested left" in text and "nested right" in text
    assert "E=mcx2" in text and "東京(とうきょう)" in text
    assert "keeps its tail" in text and "Row in a content control" in text
    assert run.result["nested_tables"] == 1 and run.result["tables"] == 1


def test_docx_table_cells_in_order(tmp_path):
    d = docx.Document()
    table = d.add_table(rows=1, cols=1)
    cell = table.cell(0, 0)
    cell.text = "before"
    cell.add_table(rows=1, cols=1).cell(0, 0).text = "inside"
    cell.add_paragraph("after")
    d.save(tmp_path / "order.docx")
    run = run_processor(DOCX, tmp_path / "order.docx")
    assert run.result["table_previews"][0]["first_rows"] == [["before inside after"]]


def _damage_member(path, name, how):
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    if how == "crc":
        at = data.index(b"PK\x01\x02")
        while data[at + 46: at + 46 + int.from_bytes(data[at + 28: at + 30], "little")] != name.encode():
            at = data.index(b"PK\x01\x02", at + 4)
        data[at + 16] ^= 0xFF  # the central directory's CRC-32 of the member
    else:
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for i in range(4, 40):
            data[start + i] ^= 0x5A  # deflate data garbled
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how", ["crc", "deflate"])
@pytest.mark.parametrize("member", ["word/document.xml", "word/styles.xml"])
def test_docx_damaged_zip_is_corrupt_file(tmp_path, how, member):
    """A bad CRC or bad deflate data is a damaged file: corrupt_file, with no exception names or paths."""
    path = _damage_member(make_docx(tmp_path / "d.docx"), member, how)
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, path)
    assert info.value.code == "corrupt_file"
    for raw in ("BadZipFile", "error", "CRC", "zlib", str(tmp_path)):
        assert raw not in info.value.message


@pytest.mark.parametrize("processor,name", [(DOCX, "e.docx"), (DOC, "e.doc")])
def test_word_empty_file(tmp_path, processor, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ProcessingError) as info:
        run_processor(processor, tmp_path / name)
    assert (info.value.code, info.value.message) == ("empty_file", "The file is empty.")


def test_word_counts_cjk(tmp_path):
    d = docx.Document()
    d.add_paragraph("中文分词测试")
    d.save(tmp_path / "zh.docx")
    # segmented as a reader would: 中文 / 分词 / 测试
    assert run_processor(DOCX, tmp_path / "zh.docx").result["words"] == count_words("中文分词测试") == 3


def test_doc_markdown_structures(corpus):
    """text.md for .doc: headings from the heading styles, bulleted and numbered lists with their
    levels, tables (a nested one flattened into its cell), bold and italic runs, hyperlink fields,
    page breaks, and the other stories under their own headings."""
    def lines(name):
        return run_processor(DOC, corpus / name).artifacts["text.md"].read_text().splitlines()

    lists = lines("doc_poi_Lists.doc")
    assert "# Heading Level 1" in lists
    assert lists[lists.index("- Unordered list 1") + 1] == "- UL 2"
    assert lists[lists.index("1. Ordered list 1") + 1] == "2. OL 2"
    assert "    - ML 2:1" in lists and "    1. OL 2.1" in lists and "        1. OL 2.2.1" in lists
    table = lines("doc_poi_simple_table.doc")
    at = table.index("| Cell 1,1 | Cell 1,2 | Cell 1,3 |")
    assert table[at + 1: at + 3] == ["|---|---|---|", "| Cell 2,1 | Cell 2,2 | Cell 2,3 |"]
    assert "| D | E 1 2 3 4 F | G |" in lines("doc_poi_innertable.doc")
    assert "Sample text is hard. That is where [http://hipsum.co](<http://hipsum.co>) comes in handy." in \
        lines("doc_textract.doc")
    assert "Some of them even feature **bold**, *italic* and underlined text" in lines("doc_poi_test2.doc")
    unicode = lines("doc_poi_HeaderFooterUnicode.doc")
    assert unicode.index("That’s it for page one") < unicode.index("---") < unicode.index(
        "This is page two. *Les Précieuses ridicules.* The end.")
    assert "Header (odd, section 1): This is a simple header, with a € euro symbol in it." in unicode
    fields = lines("doc_poi_test_fields.doc")
    assert fields.index("## Footnotes") < fields.index("Footnote with field: Fridrich Strba")
    assert "## Header text boxes" in fields


def _reference_words(path) -> set[str]:
    """Each paragraph's w:t text joined (runs split words anywhere), read straight from the XML."""
    from lxml import etree

    from processors.words import tokens

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"), etree.XMLParser(resolve_entities=False))
    words: set[str] = set()
    for para in root.iter(w + "p"):
        words |= set(tokens("".join(t.text or "" for t in para.iter(w + "t"))))
    return words


def test_docx_markdown_keeps_as_many_words_as_markitdown(corpus, tmp_path):
    markitdown = pytest.importorskip("markitdown")
    from processors.words import tokens

    converter = markitdown.MarkItDown()
    for path in sorted(corpus.glob("docx_*.docx")):
        reference = _reference_words(path)
        ours = set(tokens(run_processor(DOCX, path, out_dir=tmp_path / path.name).artifacts["text.md"]
                          .read_text().replace("*", "")))
        theirs = set(tokens(converter.convert(str(path)).text_content.replace("*", "")))
        assert len(reference & ours) >= len(reference & theirs), (path.name, sorted((reference & theirs) - ours))


def test_docx_other_stories_labelled(corpus):
    """Headers and footers, footnotes, endnotes and comments follow the body in text.txt and text.md
    under their labels, as for .doc, each with its part in the result."""
    run = run_processor(DOCX, corpus / "docx_poi_footnotes.docx")
    text = run.artifacts["text.txt"].read_text()
    assert text.index("so snoskoy") < text.index("--- Footnotes ---") < text.index("snoska")
    assert [p["part"] for p in run.result["parts"]] == ["main", "footnotes"]
    run = run_processor(DOCX, corpus / "docx_poi_endnotes.docx")
    assert run.artifacts["text.md"].read_text().rstrip().endswith("## Endnotes\n\nXXX")
    run = run_processor(DOCX, corpus / "docx_hdr_header_footer.docx")
    assert "--- Headers and footers ---\nHeader (section 1): Header for section-1" in \
        run.artifacts["text.txt"].read_text()
