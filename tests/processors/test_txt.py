from __future__ import annotations

import codecs
import subprocess
import sys

import pytest

from processors.txt import CHUNK, SAMPLE, TextProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = TextProcessor()


def run(tmp_path, data: bytes, **kw):
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    return run_processor(P, path, **kw)


@pytest.mark.parametrize(
    "data,encoding,bom",
    [
        (codecs.BOM_UTF8 + "héllo wörld\n".encode(), "utf-8", True),
        ("héllo wörld\n".encode("utf-16"), "utf-16-le", True),
        (codecs.BOM_UTF16_BE + "héllo wörld\n".encode("utf-16-be"), "utf-16-be", True),
        ("hello world, plain ascii\n".encode("utf-16-le"), "utf-16-le", False),
        ("héllo wörld\n".encode(), "utf-8", False),
    ],
)
def test_boms_and_unicode(tmp_path, data, encoding, bom):
    r = run(tmp_path, data).result
    assert r["encoding"] == encoding and r["bom"] is bom
    assert r["words"] in (2, 4) and "\ufeff" not in r["preview"]


def test_windows_western_text_prefers_cp1252(tmp_path):
    text = "Le naïve garçon a déjà mangé la crème brûlée à l'hôtel. " * 20
    r = run(tmp_path, text.encode("cp1252")).result
    assert r["encoding"] == "cp1252"
    assert "naïve" in r["preview"] and "déjà" in r["preview"]


def test_counts_newlines_and_words(tmp_path):
    r = run(tmp_path, b"one two\r\n\r\nthree one\r\nlast").result
    assert r["lines"] == 4 and r["blank_lines"] == 1 and r["words"] == 5 and r["characters"] == 26
    assert r["newline"] == "CRLF" and r["newlines"]["CRLF"] == 3
    assert r["top_words"][0] == {"word": "one", "count": 2}
    assert run(tmp_path, b"a\nb\rc\r\n").result["newline"] == "mixed"


def test_empty_file(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"")
    assert (info.value.code, info.value.message) == ("empty_file", "The file is empty.")


def test_words_and_crlf_straddling_chunks(tmp_path):
    # a CRLF and a word cut exactly at the 1 MiB read boundary are counted once
    head = b"x" * (CHUNK - 1)
    r = run(tmp_path, head + b"\r\nsplitword tail\r\n").result
    assert r["newlines"]["CRLF"] == 2 and r["newlines"]["CR"] == 0 and r["lines"] == 2
    assert r["words"] == 3


def test_artifact_is_utf8_copy(tmp_path):
    data = "Привет, мир\n".encode("cp1251") * 50
    run_ = run(tmp_path, data)
    assert run_.artifacts["text.txt"].read_text(encoding="utf-8") == data.decode("cp1251")


def test_progress_by_declared_steps(tmp_path):
    run_ = run(tmp_path, b"word " * (3 * CHUNK // 5))
    assert run_.step_names == ["Detect encoding", "Read text", "Summarise"]
    reading = [e for e in run_.events if e["step_name"] == "Read text"]
    assert len(reading) >= 3 and reading[-1]["current"] == reading[-1]["total"]
    percents = [e["percent"] for e in run_.events]
    assert percents == sorted(percents) and percents[-1] == 100


def test_binary_is_refused(tmp_path):
    assert not P.sniff(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"\x00\x01\x02\x03" * 1000 + b"\xff\xfe\x00")
    assert info.value.code == "unsupported_content"


def test_bad_encoding_option(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"abc", options={"encoding": "klingon"})
    assert info.value.code == "bad_option"
    assert run(tmp_path, "é".encode("latin-1"), options={"encoding": "latin-1"}).result["characters"] == 1


def test_too_large(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"a" * 2000, limits={"max_text_size": 1000})
    assert info.value.code == "too_large"


def test_corpus(corpus):
    expected = {"txt_english.txt": ("utf-8", "sheep"), "txt_french_1.txt": ("cp1252", "molière"),
                "txt_russian_2.txt": ("utf-8", "в"), "txt_polish.txt": ("utf-8", "polish"),
                "txt_chinese.txt": ("big5", "wikipedia")}
    for name, (encoding, word) in expected.items():
        r = run_processor(P, corpus / name).result
        assert r["encoding"] == encoding, name
        assert word in {w["word"] for w in r["top_words"]} or word in r["preview"].lower(), name
        assert r["replacement_characters"] == 0, name


def _peak_kib(path) -> tuple[int, int]:
    code = (
        "import resource,sys;from processors.txt import TextProcessor;from pyramid_jobs.testing import run_processor;"
        f"r=run_processor(TextProcessor(), {str(path)!r}, interval=0.5).result;"
        "print(r['words'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.worker  # subprocesses on 80 MB: not part of the fast loop
def test_memory_stays_flat_on_a_large_file(tmp_path):
    """5 MB and 80 MB of text, each in a fresh process: peak RSS does not grow with the size."""
    line = ("the quick brown fox jumps over the lazy dog " * 4 + "\n").encode()
    peaks = {}
    for mb in (5, 80):
        path = tmp_path / f"{mb}.txt"
        n = mb * 1024 * 1024 // len(line)
        with open(path, "wb") as f:
            for _ in range(n // 1000):
                f.write(line * 1000)
        words, peaks[mb] = _peak_kib(path)
        assert words == 36 * (n // 1000) * 1000
    assert peaks[80] - peaks[5] < 40 * 1024, f"peak RSS grew from {peaks[5]} to {peaks[80]} KiB"


TURKISH = ("Bugün hava çok güzel, dışarı çıkıp yürüyüş yapmak istiyorum. Öğretmenimiz bize ödev verdi. "
           "Şehrin ışıkları gece boyunca yanıyor ve ağaçların gölgesi düşüyor.\n")


@pytest.mark.parametrize("repeat", [1, 40])
def test_turkish_cp1254_is_not_read_as_cp1252(tmp_path, repeat):
    r = run(tmp_path, (TURKISH * repeat).encode("cp1254")).result
    assert r["encoding"] == "cp1254" and r["language_guess"] == "Turkish"
    assert "ışıkları" in r["preview"] and "ý" not in r["preview"] and "þ" not in r["preview"]


@pytest.mark.parametrize("text,encoding", [
    ("Le naïve garçon a déjà mangé la crème brûlée à l'hôtel, près de l'église.\n", "cp1252"),
    ("Perché è così difficile? La città è bella, però il caffè è caro.\n", "cp1252"),
    ("Zażółć gęślą jaźń. Łódź jest pięknym miastem w Polsce.\n", "cp1250"),
    ("Árvíztűrő tükörfúrógép. A magyar nyelv nehéz, de szép és érdekes.\n", "cp1250"),
    ("Привет, мир. Это тестовый текст на русском языке.\n", "cp1251"),
    ("Καλημέρα κόσμε, αυτό είναι ένα δοκιμαστικό κείμενο.\n", "cp1253"),
    ("Labas pasauli, tai yra bandomasis tekstas lietuvių kalba, ąčęėįšųūž.\n", "cp1257"),
])
def test_single_byte_code_pages(tmp_path, text, encoding):
    for repeat in (1, 20):
        r = run(tmp_path, (text * repeat).encode(encoding)).result
        assert r["preview"].startswith(text[:40]), (encoding, r["encoding"])


@pytest.mark.parametrize("text", ["café", "Zoë,Köln\n", "naïve"])
def test_short_latin1_is_not_taken_for_another_code_page(tmp_path, text):
    r = run(tmp_path, text.encode("latin-1")).result
    assert r["encoding"] == "cp1252" and r["preview"] == text


def test_non_utf8_bytes_past_the_sample_are_detected_again(tmp_path):
    head = b"plain ascii words\n" * (SAMPLE // 18 + 100)
    tail = "Le café était délicieux, près de la fenêtre.\n".encode("cp1252") * 3
    r = run(tmp_path, head + tail).result
    assert r["encoding"] == "cp1252" and r["replacement_characters"] == 0
    assert "café" in {w["word"] for w in r["top_words"]} or r["words"] == 3 * (SAMPLE // 18 + 100) + 21
    assert any("detected again" in w for w in r["warnings"])
    out = run_processor(P, tmp_path / "in.txt").artifacts["text.txt"].read_text(encoding="utf-8")
    assert out.endswith("Le café était délicieux, près de la fenêtre.\n")


def test_mixed_encodings_are_counted_and_said(tmp_path):
    head = "naïve déjà vu\n".encode() * (SAMPLE // 15 + 100)
    r = run(tmp_path, head + "café\n".encode("cp1252")).result
    assert r["encoding"] == "utf-8" and r["replacement_characters"] == 1
    assert any("replaced by U+FFFD" in w for w in r["warnings"])


def test_isolated_nul_bytes_are_accepted_and_reported(tmp_path):
    data = b"some text with a stray \x00 byte in it\n" * 50
    assert P.sniff(data[:8192])
    r = run(tmp_path, data).result
    assert r["nul_bytes"] == 50 and r["words"] == 50 * 8
    assert any("NUL" in w for w in r["warnings"])


@pytest.mark.parametrize("codec", ["hex_codec", "rot13", "base64"])
def test_encoding_option_must_be_a_text_codec(tmp_path, codec):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"abc", options={"encoding": codec})
    assert info.value.code == "bad_option" and "not a text encoding" in info.value.message
    assert str(tmp_path) not in info.value.message


def test_encoding_option_is_refused_at_submit(tmp_path):
    import webtest

    from tests.conftest import settings_for
    from tests.hostapp import main as host_main

    app = webtest.TestApp(host_main({"here": str(tmp_path)}, **settings_for(tmp_path)))
    for name in ("a.txt", "a.csv"):
        res = app.post("/jobs", params={"options": '{"encoding": "hex_codec"}'},
                       upload_files=[("file", name, b"a,b\n1,2\n")], status=400)
        assert res.json["error"]["code"] == "bad_option" and "hex_codec" in res.json["error"]["message"]
    app.post("/jobs", params={"options": '{"encoding": "latin-1"}'}, upload_files=[("file", "a.txt", b"abc\n")],
             status=202)


def test_chinese_is_segmented_into_words(tmp_path):
    text = "我们今天去北京大学参观图书馆。这是一个很好的机会，大家都很高兴地学习历史。\n"
    r = run(tmp_path, text.encode()).result
    top = [w["word"] for w in r["top_words"]]
    assert r["word_segmentation"] == "jieba" and r["language_guess"] == "Chinese"
    assert 15 <= r["words"] <= 25, r["words"]  # jieba: 20; whole clauses: 3; bigrams: 31
    assert all(len(w) <= 4 for w in top) and "北京大学" in top and "图书馆" in top, top
    assert not {"的", "是", "很", "我们", "这是", "一个"} & set(top), top


def test_english_stopwords_are_not_top_words(tmp_path):
    text = "The cat sat on the mat and the dog sat by the door. It was a cat of the house.\n" * 30
    r = run(tmp_path, text.encode()).result
    top = [w["word"] for w in r["top_words"]]
    assert top[:2] == ["cat", "sat"] and not {"the", "on", "and", "a", "of", "it", "was"} & set(top)
    assert r["top_words_exclude_stopwords_of"] == ["English"]
    assert r["words"] == 20 * 30


def test_utf8_then_cp1252_in_one_chunk_is_replaced_not_switched(tmp_path):
    data = b"x" * SAMPLE + "\nnaïve\n".encode() * 10 + "café\n".encode("cp1252")
    r = run(tmp_path, data).result
    assert r["encoding"] == "utf-8" and r["replacement_characters"] == 1
    assert {"naïve", "caf"} <= {w["word"] for w in r["top_words"]}
    assert not any("detected again" in w for w in r["warnings"])


def test_web_side_imports_stay_light():
    """Loading the txt and csv plugins (as the web process does) imports no segmenter, pandas or numpy."""
    code = ("import sys, processors.txt, processors.csv; "
            "print(sorted(m for m in ('jieba', 'pandas', 'numpy', 'charset_normalizer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
