from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import zlib

import pytest

from bench.files import pdf_bytes
from processors.pdf import PdfProcessor, pages_without_text
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = PdfProcessor()


def make_pdf(pages: list[bytes], *, extra_objects: list[bytes] | None = None, compress: bool = False) -> bytes:
    """A well-formed PDF with one content stream per page, written by hand so tests control every byte."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled below)
    kids = []
    font = len(objects) + 1
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for content in pages:
        data = zlib.compress(content) if compress else content
        filt = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), filt) + data + b"\nendstream")
        stream_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (stream_id, font))
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    objects += extra_objects or []
    return pdf_bytes(objects)


def text_page(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 712 Td (" + text.encode("latin-1") + b") Tj ET"


def run(tmp_path, data: bytes, **kw):
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    return run_processor(P, path, **kw)


def test_pages_text_and_progress(tmp_path):
    data = make_pdf([text_page(f"Hello page {i}") for i in range(1, 6)] + [b""], compress=True)
    r = run(tmp_path, data)
    assert r.result["pages"] == 6 and r.result["pdf_version"] == "1.7"
    assert [p["characters"] > 0 for p in r.result["per_page"]] == [True] * 5 + [False]
    text = r.artifacts["text.txt"].read_text()
    assert text.split("\f")[2].strip() == "Hello page 3"
    assert r.step_names == ["Open", "Extract text", "Recognise text", "Summarise"]
    messages = [e["message"] for e in r.events if e["step_name"] == "Extract text"]
    assert "page 3 of 6" in messages
    assert r.result["pages_needing_ocr"] == [], "an empty page is blank, not a scan"


def test_image_only_page_needs_ocr(tmp_path):
    image = b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray " \
            b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream"
    data = make_pdf([b"q 100 0 0 100 0 0 cm /Im1 Do Q"], extra_objects=[image])
    data = data.replace(b"/Resources << /Font << /F1 3 0 R >> >>",
                        b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 6 0 R >> >>")
    r = run(tmp_path, data, options={"ocr": "never"}).result  # with OCR (auto) the page is read, so needs none
    assert r["pages_needing_ocr"] == [1] and r["per_page"][0]["needs_ocr"] is True


def test_max_pages(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, make_pdf([text_page("x")] * 3), limits={"max_pages": 2})
    assert info.value.code == "too_large"


def test_decompression_bomb_is_reported_not_blank(tmp_path):
    bomb = b"BT /F1 12 Tf 72 712 Td (boom) Tj ET " + b" " * (8 * 1024 * 1024)
    data = make_pdf([text_page("fine page"), bomb], compress=True)
    started = time.monotonic()
    r = run(tmp_path, data, limits={"max_stream_size": 1024 * 1024}).result
    assert time.monotonic() - started < 30
    assert r["per_page"][0]["characters"] > 0
    assert [s["page"] for s in r["pages_skipped"]] == [2] and "limit" in r["pages_skipped"][0]["reason"]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"\x00garbage" * 100,
        make_pdf([text_page("x")])[:60],
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R] "
        b"/Count 1 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
    ids=["garbage", "truncated", "page-tree-loop"],
)
def test_hostile_files_end_with_a_code(tmp_path, data):
    started = time.monotonic()
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data)
    assert info.value.code in ("corrupt_file", "too_large", "empty_file")
    assert time.monotonic() - started < 30


def test_empty_file(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"")
    assert info.value.code == "empty_file"


def test_sniff():
    assert P.sniff(b"%PDF-1.7\n...") and P.sniff(b"\xef\xbb\xbf junk %PDF-1.4")
    assert not P.sniff(b"PK\x03\x04") and not P.sniff(b"hello")


def test_encrypted_corpus(corpus):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "pdf_encrypted.pdf")
    assert info.value.code == "encrypted" and "password" in info.value.message
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "pdf_encrypted.pdf", options={"password": "wrong"})
    assert info.value.code == "encrypted"
    r = run_processor(P, corpus / "pdf_encrypted.pdf", options={"password": "openpassword"}).result
    assert r["encryption"]["encrypted"] and "Lorem ipsum" in r["preview"]


def test_corpus_metadata_outline_forms(corpus):
    outline = run_processor(P, corpus / "pdf_outline.pdf").result
    assert outline["pages"] == 4 and len(outline["outline"]) >= 3
    assert all(o["page"] and 1 <= o["page"] <= 4 for o in outline["outline"])
    forms = run_processor(P, corpus / "pdf_forms.pdf").result
    assert len(forms["form_fields"]) >= 2 and {f["type"] for f in forms["form_fields"]} & {"text", "button"}
    gdoc = run_processor(P, corpus / "pdf_google_docs.pdf").result
    assert gdoc["info"]["title"] == "PDF Example Document"
    arabic = run_processor(P, corpus / "pdf_arabic.pdf").result
    assert "حَبيبي" in arabic["preview"]


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{4,}", text)}


@pytest.mark.parametrize("name", ["pdf_minimal.pdf", "pdf_4_pages.pdf", "pdf_multicolumn.pdf", "pdf_outline.pdf",
                                  "pdf_google_docs.pdf", "pdf_textract.pdf", "pdf_forms.pdf"])
def test_corpus_text_holds_what_pdftotext_finds(corpus, name, tmp_path):
    run_ = run_processor(P, corpus / name, out_dir=tmp_path)
    ours = _words(run_.artifacts["text.txt"].read_text())
    assert ours, name
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: the yardstick comparison is skipped")
    theirs = _words(subprocess.run(["pdftotext", str(corpus / name), "-"], capture_output=True, text=True).stdout)
    missing = theirs - ours
    assert len(missing) <= 0.05 * len(theirs), f"{name}: {sorted(missing)[:20]}"


def _encrypted(tmp_path, algorithm: str, user: str) -> bytes:
    """A two-page PDF encrypted by pypdf's writer (AES needs `cryptography`, a dependency)."""
    import io

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(
        [text_page("Secret quarterly figures"), text_page("Second page")]))))
    writer.encrypt(user_password=user, owner_password="owner-only", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_with_empty_user_password_opens_without_asking(tmp_path, algorithm):
    r = run(tmp_path, _encrypted(tmp_path, algorithm, user="")).result
    assert r["encryption"]["encrypted"] and r["encryption"]["algorithm"] == algorithm
    assert "Secret quarterly figures" in r["preview"] and r["pages"] == 2


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_with_user_password(tmp_path, algorithm):
    data = _encrypted(tmp_path, algorithm, user="s3cret")
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data)
    assert info.value.code == "encrypted" and "s3cret" not in info.value.message
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data, options={"password": "nope"})
    assert info.value.code == "encrypted" and "wrong" in info.value.message and "nope" not in info.value.message
    r = run(tmp_path, data, options={"password": "s3cret"}).result
    assert "Secret quarterly figures" in r["preview"] and r["encryption"]["algorithm"] == algorithm


def test_broken_page_tree_still_gives_its_pages(tmp_path):
    good = make_pdf([text_page("Recovered first page"), text_page("Recovered second page")])
    broken = good.replace(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Catalog /Pages 99 0 R >>")
    r = run(tmp_path, broken)
    assert r.result["pages"] == 2
    pages = r.artifacts["text.txt"].read_text().split("\f")
    assert "Recovered first page" in pages[0] and "Recovered second page" in pages[1]


def test_nothing_readable_is_corrupt_without_details(tmp_path):
    data = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 99 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data)
    assert info.value.code == "corrupt_file"
    assert str(tmp_path) not in info.value.message and "Error" not in info.value.message


def _font_with_to_unicode(mapping: dict[int, int]) -> list[bytes]:
    """Objects 6 (a Helvetica whose ToUnicode maps the given codes) and 7 (the CMap)."""
    lines = b"".join(b"<%02X> <%04X>\n" % (code, uni) for code, uni in mapping.items())
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def /CMapType 2 def\n"
            b"1 begincodespacerange <00> <FF> endcodespacerange\n%d beginbfchar\n" % len(mapping) + lines +
            b"endbfchar endcmap CMapName currentdict /CMap defineresource pop end end")
    return [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 7 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"]


def test_hygiene_ligatures_controls_and_tex_minus(tmp_path):
    content = b"BT /F2 12 Tf 72 712 Td (xAyBz Cnd the Celd Dow) Tj ET"
    data = make_pdf([content], extra_objects=_font_with_to_unicode({0x41: 0x0000, 0x42: 0x0007, 0x43: 0xFB01,
                                                                     0x44: 0xFB02}))
    data = data.replace(b"/Resources << /Font << /F1 3 0 R >> >>", b"/Resources << /Font << /F1 3 0 R /F2 6 0 R >> >>")
    r = run(tmp_path, data)
    text = r.artifacts["text.txt"].read_text()
    assert "xyz find the field flow" in text or "x\u2212yz find the field flow" in text, repr(text)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\ufb00-\ufb06]", text)
    assert "find" in r.artifacts["text.md"].read_text()


def test_line_end_hyphens_joined_by_default(tmp_path):
    content = b"BT /F1 12 Tf 72 712 Td 14 TL (the extrac-) Tj T* (tion of words and Jean-) Tj T* (Paul) Tj ET"
    data = make_pdf([content])
    joined = run(tmp_path, data)
    text = joined.artifacts["text.txt"].read_text()
    assert "extraction" in text and "Jean-" in text and "Paul" in text
    assert joined.result["words"] == 7  # the extraction of words and Jean Paul
    kept = run(tmp_path, data, options={"join_hyphens": False}).artifacts["text.txt"].read_text()
    assert "extrac-\ntion" in kept
    assert any(o.name == "join_hyphens" and o.type is bool and o.default is True for o in P.options)


def test_attachments_listed(tmp_path):
    import io

    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf([text_page("With an attachment")]))))
    writer.add_attachment("figures.csv", b"a,b\n1,2\n")
    out = io.BytesIO()
    writer.write(out)
    r = run(tmp_path, out.getvalue()).result
    assert r["attachments"] == [{"name": "figures.csv", "size": 8}]


def test_outline_headings_and_page_breaks_in_markdown(corpus, tmp_path):
    r = run_processor(P, corpus / "pdf_outline.pdf", out_dir=tmp_path)
    md = r.artifacts["text.md"].read_text()
    headings = re.findall(r"^(#+) (.+)$", md, re.MULTILINE)
    assert [h for _, h in headings][:3] == ["1 Foo", "2 Bar", "3 Baz"] and all(m == "#" for m, _ in headings)
    assert len(headings) == 9
    assert md.count("\n---\n") == 3 and "<!-- page 4 -->" in md
    assert "1 Foo 2" in md, "the table of contents line is text, not a heading"


def test_links_kept_in_markdown(tmp_path):
    annot = b"<< /Type /Annot /Subtype /Link /Rect [70 700 300 730] /Border [0 0 0] " \
            b"/A << /S /URI /URI (https://example.org/report?x=1) >> >>"
    data = make_pdf([text_page("Read the report online")], extra_objects=[annot])
    data = data.replace(b"/MediaBox [0 0 612 792] /Contents", b"/MediaBox [0 0 612 792] /Annots [6 0 R] /Contents")
    md = run(tmp_path, data).artifacts["text.md"].read_text()
    assert "[Read the report online](https://example.org/report?x=1)" in md


def test_markdown_escapes_text(tmp_path):
    md = run(tmp_path, make_pdf([text_page("# not a heading *nor bold* [x](y)")])).artifacts["text.md"].read_text()
    assert "\\# not a heading \\*nor bold\\* \\[x\\](y)" in md


def test_rotated_page(tmp_path):
    content = b"BT /F1 12 Tf 0 1 -1 0 300 100 Tm (Sideways text reads fine) Tj ET"
    data = make_pdf([content]).replace(b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 612 792] /Rotate 90")
    r = run(tmp_path, data)
    assert "Sideways text reads fine" in r.artifacts["text.txt"].read_text()
    pages = json.loads(r.artifacts["pages.json"].read_text())
    assert pages[0]["rotation"] == 90


def test_right_to_left_in_logical_order_without_stray_glyphs(corpus):
    text = run_processor(P, corpus / "pdf_arabic.pdf").artifacts["text.txt"].read_text()
    assert text.split() == ["حَبيبي", "habibi", "حَبيبي"]


def test_pages_without_text_hook():
    pages = [{"page": 1, "visible_characters": 500, "images": 1},
             {"page": 2, "visible_characters": 0, "images": 2},
             {"page": 3, "visible_characters": 0, "images": 0},
             {"page": 4, "visible_characters": 3, "images": 1, "skipped": "damaged"}]
    assert pages_without_text(pages) == [2]


def test_word_count_fast_path_matches_shared_tokenizer():
    import random

    from processors.pdftext import word_count
    from processors.words import count_words

    rnd = random.Random(5)
    alphabet = "ab Z'’-_1 \n\t.é−ﬁ漢字"
    for _ in range(5000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        assert word_count(text) == count_words(text), text


def test_usable_characters_on_bytes_match_their_definition():
    """Not space (any of str.split's), not U+FFFD, not private use: counted on bytes, checked on text."""
    import random
    import re

    from processors.pdftext import usable_characters

    def defined(text: str) -> int:
        return sum(1 for c in text if not c.isspace() and not re.match("[\ufffd\ue000-\uf8ff]", c))

    every_space = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    rnd = random.Random(3)
    alphabet = "ab.é漢\ufffd\ue000\uf8ff\ud800\x00\x1f" + every_space
    texts = [every_space, "x" + every_space + "\ufffd\U000f0000"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30))) for _ in range(5000)]
    for text in texts:
        assert usable_characters(text) == defined(text), repr(text)


def test_markdown_escaping_and_blank_lines_match_the_line_by_line_rules():
    """The one-pass paths (markers found from the line end, blank lines dropped by one search) give
    what escaping each line and keeping the non-blank ones gives."""
    import random
    import re

    from processors.markdown import escape
    from processors.pdfmarkdown import page_markdown

    def by_lines(text: str, number: int) -> str:
        marker = re.compile(r"^(\s*)([#+\-=>]|\d+[.)](?=\s|$))", re.MULTILINE)
        special = re.compile(r"([\\`*_\[\]<>|])")

        def neutralise(m: re.Match) -> str:
            mark = m.group(2)
            return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)

        escaped = marker.sub(neutralise, special.sub(r"\\\1", text))
        head = ("\n---\n\n" if number > 1 else "") + f"<!-- page {number} -->\n\n"
        return head + "".join(line + "\n" for line in escaped.split("\n") if line.strip())

    rnd = random.Random(7)
    alphabet = "ab #+-=>1.)\n\t \u00a0\u2028\x0b\x1c\r9*_[|"
    for _ in range(20000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30)))
        number = rnd.randint(1, 2)
        assert page_markdown(text, number) == by_lines(text, number), repr(text)
    assert escape("# a\n  1. b\n2) c") == "\\# a\n  1\\. b\n2\\) c"


def test_empty_file_message(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"")
    assert (info.value.code, info.value.message) == ("empty_file", "The file is empty.")


def test_clean_rules():
    from processors.pdftext import clean

    assert clean("a\x00b \x07\x1b\ufb03x\r\nnext") == "a\u2212b ffix\nnext"
    assert clean("offi\ufffecial, Jean\ufffePaul") == "official, Jean-\nPaul"  # PDFium's own hyphen join
    assert clean("offi\ufffecial", join_hyphens=False) == "offi-\ncial"
    assert clean("inter\u00ad\nnational") == "international\n"
    assert clean("COVID-\n19 and well-\nknown") == "COVID-\n19 and wellknown\n"


def test_cancel_mid_extraction_stops_the_page_reader(tmp_path):
    import threading

    from pyramid_jobs.errors import JobCancelled

    data = make_pdf([text_page(f"page {i}") for i in range(40)], compress=True)
    with pytest.raises(JobCancelled):
        run(tmp_path, data, cancel_after=8)
    assert not [t for t in threading.enumerate() if t.name == "pdf-pages"]



def test_a_damaged_filter_name_is_a_damaged_file(tmp_path, corpus):
    """PDFium refuses the file, and pypdf meets a filter it does not know in the object stream that
    holds the pages (/Flate£ecode, as a flipped byte makes it): corrupt_file, not a crash."""
    data = (corpus / "pdf_4_pages.pdf").read_bytes()
    at = data.index(b"/FlateDecode", data.index(b"/ObjStm"))
    (tmp_path / "bad.pdf").write_bytes(data[:at] + b"/Flate\xa3ecode" + data[at + 12:])
    with pytest.raises(ProcessingError) as info:
        run_processor(P, tmp_path / "bad.pdf")
    assert info.value.code == "corrupt_file"
