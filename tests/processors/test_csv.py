from __future__ import annotations

import csv
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from processors.csv import CsvProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = CsvProcessor()


def write(tmp_path, text: str | bytes, name="t.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def by_name(result):
    return {c["name"]: c for c in result["column_summaries"]}


def test_statistics_match_pandas_across_chunks(tmp_path):
    rng = np.random.default_rng(1)
    n = 250_000  # more than one 200k-row chunk
    frame = pd.DataFrame({
        "id": np.arange(n),
        "price": rng.normal(100, 15, n).round(2),
        "city": rng.choice(["Oslo", "Lima", "Pune", "=cmd|' /C calc'!A0"], n),
        "maybe": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n)),
    })
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    run = run_processor(P, path, interval=0.01)
    r = run.result
    cols = by_name(r)
    assert r["rows"] == n and r["columns"] == 4 and r["delimiter"] == "," and r["header"]
    assert cols["id"]["type"] == "integer" and cols["id"]["min"] == 0 and cols["id"]["max"] == n - 1
    assert cols["price"]["type"] == "float"
    assert cols["price"]["mean"] == pytest.approx(frame.price.mean(), rel=1e-9)
    assert cols["price"]["std"] == pytest.approx(frame.price.std(), rel=1e-9)
    assert cols["price"]["quantiles"]["p50"] == pytest.approx(frame.price.median(), abs=1.0)
    assert cols["price"]["quantiles_exact"] is False
    assert cols["maybe"]["nulls"] == int(frame.maybe.isna().sum())
    assert cols["city"]["type"] == "text" and cols["city"]["distinct"] == 4
    top = {t["value"]: t["count"] for t in cols["city"]["top_values"]}
    assert top == frame.city.value_counts().to_dict()
    reading = [e for e in run.events if e["step_name"] == "Read rows"]
    assert len({e["current"] for e in reading}) >= 2 and reading[-1]["current"] == reading[-1]["total"]
    with open(run.artifacts["columns.csv"], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "name" and [r[0] for r in rows[1:]] == ["id", "price", "city", "maybe"]
    city_top = rows[3][-1]
    assert "=cmd" in city_top and not any(c.startswith(("=", "+", "@")) for row in rows for c in row), \
        "no cell of the artifact can be read as a formula"


def test_formula_cells_escaped_in_artifact(tmp_path):
    path = write(tmp_path, "=SUM(A1),+1,@x\n1,2,3\n4,5,6\n")
    run = run_processor(P, path)
    with open(run.artifacts["columns.csv"], newline="") as f:
        names = [row[0] for row in csv.reader(f)][1:]
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert names[0] == "'=SUM(A1)"


def test_dialects_and_options(tmp_path):
    r = run_processor(P, write(tmp_path, "a;b;c\n1;2;x\n3;4;y\n")).result
    assert r["delimiter"] == ";" and r["columns"] == 3
    r = run_processor(P, write(tmp_path, "1|2\n3|4\n"), options={"delimiter": "|"}).result
    assert r["columns"] == 2
    r = run_processor(P, write(tmp_path, "a,b\n" + "1,2\n" * 100), options={"max_rows": 10}).result
    assert r["rows"] == 10 and r["rows_truncated"]
    for bad in ({"delimiter": ";;"}, {"max_rows": 0}, {"max_rows": "ten"}, {"encoding": "nope"}):
        with pytest.raises(ProcessingError) as info:
            run_processor(P, write(tmp_path, "a,b\n1,2\n"), options=bad)
        assert info.value.code == "bad_option"


def test_encodings(tmp_path):
    text = "name,city\nJosé,São Paulo\nZoë,Köln\n"
    for enc in ("utf-8-sig", "utf-16", "cp1252"):
        r = run_processor(P, write(tmp_path, text.encode(enc))).result
        assert by_name(r)["city"]["top_values"][0]["value"] in ("São Paulo", "Köln"), enc


def test_one_huge_line_is_refused_quickly(tmp_path):
    path = tmp_path / "line.csv"
    with open(path, "wb") as f:
        f.write(b"a,b\n")
        for _ in range(40):
            f.write(b"x" * (1 << 20))
    started = time.monotonic()
    with pytest.raises(ProcessingError) as info:
        run_processor(P, path, limits={"max_field_size": 8 << 20})
    assert info.value.code == "too_large"
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("data,code", [(b"", "empty_file"), (b"\x00\x01\x02" * 100, "unsupported_content")])
def test_bad_files(tmp_path, data, code):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, write(tmp_path, data))
    assert info.value.code == code


def test_corpus_against_pandas(corpus):
    expected = {"csv_iris.csv": (150, 5), "csv_basic.csv": (55, 18), "csv_dummy_tab.tsv": (1, 3),
                "csv_ks_1033_realdata.csv": (1575, 14), "csv_mac_newlines.csv": (2, 3),
                "csv_test_latin1.csv": (2, 3), "csv_test_utf16_little.csv": (2, 3), "csv_bad.csv": (3, 3)}
    for name, (rows, columns) in expected.items():
        r = run_processor(P, corpus / name).result
        assert (r["rows"], r["columns"]) == (rows, columns), name
    iris = by_name(run_processor(P, corpus / "csv_iris.csv").result)
    frame = pd.read_csv(corpus / "csv_iris.csv")
    assert iris["sepal_length"]["mean"] == pytest.approx(frame.sepal_length.mean())
    assert iris["sepal_length"]["quantiles"]["p75"] == pytest.approx(frame.sepal_length.quantile(0.75))
    assert iris["species"]["distinct"] == frame.species.nunique()
    latin = run_processor(P, corpus / "csv_test_latin1.csv").result
    assert latin["encoding"] == "cp1252" and "©" in {t["value"] for t in by_name(latin)["c"]["top_values"]}
    utf16 = run_processor(P, corpus / "csv_test_utf16_little.csv").result
    assert utf16["encoding"].startswith("utf-16") and by_name(utf16)["a"]["type"] == "integer"
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "csv_empty.csv")
    assert info.value.code == "empty_file"


def test_empty_file_message(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, write(tmp_path, b""))
    assert (info.value.code, info.value.message) == ("empty_file", "The file is empty.")


def test_turkish_cp1254(tmp_path):
    text = "ad,şehir,not\nAyşe,İzmir,çok güzel\nMehmet,Muğla,ışıklı\nGül,Eskişehir,öğretmen\n"
    r = run_processor(P, write(tmp_path, text.encode("cp1254"))).result
    assert r["encoding"] == "cp1254"
    assert {t["value"] for t in by_name(r)["şehir"]["top_values"]} == {"İzmir", "Muğla", "Eskişehir"}


def test_cp1252_after_the_sniffed_sample(tmp_path):
    rows = "".join(f"{i},plain,{i * 2}\n" for i in range(12_000))
    assert len(rows) > 64 * 1024
    data = ("id,word,n\n" + rows).encode() + "12000,café,1\n12001,crème,2\n".encode("cp1252")
    r = run_processor(P, write(tmp_path, data)).result
    assert r["encoding"] == "cp1252" and r["replacement_characters"] == 0 and r["rows"] == 12_002
    assert {"café", "crème"} <= {t["value"] for t in by_name(r)["word"]["top_values"]}
    assert any("detected again" in w for w in r["warnings"])


def test_isolated_nul_in_a_field_is_read_and_reported(tmp_path):
    data = b"a,b,c\n" + b"".join(b"%d,x\x00y,%d\n" % (i, i) if i % 10 == 0 else b"%d,xy,%d\n" % (i, i)
                                 for i in range(100))
    assert P.sniff(data[:8192])
    r = run_processor(P, write(tmp_path, data)).result
    assert r["rows"] == 100 and r["nul_characters"] == 10
    assert any("NUL" in w for w in r["warnings"])


@pytest.mark.parametrize("line", ["name:value|other", "a|b|c", "key: value"])
def test_one_line_is_not_split_on_a_guess(tmp_path, line):
    r = run_processor(P, write(tmp_path, line + "\n")).result
    assert r["delimiter"] == "," and r["columns"] == 1


def test_rows_longer_than_the_header_keep_their_cells(tmp_path):
    r = run_processor(P, write(tmp_path, "a,b\n1,2\n3,4,5,6\n7,8\n")).result
    assert r["rows"] == 3 and r["columns"] == 4 and r["extra_columns"] == 2 and r["rows_longer_than_header"] == 1
    cols = by_name(r)
    assert list(cols) == ["a", "b", "column_3", "column_4"]
    assert cols["column_4"]["count"] == 1 and cols["column_4"]["min"] == 6
    assert any("column_3 to column_4" in w for w in r["warnings"])


def test_column_statistics_types(tmp_path):
    n = 12_000
    lines = ["id,ratio,day,stamp"] + [f"{i},{i / 7:.6f},2024-{1 + i % 12:02d}-{1 + i % 28:02d},"
                                      f"2024-01-01 {i % 24:02d}:{i % 60:02d}:00" for i in range(n)]
    cols = by_name(run_processor(P, write(tmp_path, "\n".join(lines) + "\n")).result)
    assert cols["id"]["type"] == "integer" and cols["id"]["distinct"] >= 10_000
    assert cols["id"]["distinct_exact"] is False
    assert cols["ratio"]["distinct"] > 0 and cols["ratio"]["distinct_exact"] is False
    assert cols["id"]["min"] == 0 and isinstance(cols["id"]["min"], int) and cols["id"]["max"] == n - 1
    assert "top_values" not in cols["id"], "12,000 distinct integers have no telling top values"
    assert isinstance(cols["id"]["max"], int)
    assert cols["day"]["type"] == "date" and (cols["day"]["min"], cols["day"]["max"]) == ("2024-01-01", "2024-12-28")
    assert cols["stamp"]["type"] == "datetime"
    assert (cols["stamp"]["min"], cols["stamp"]["max"]) == ("2024-01-01T00:00:00", "2024-01-01T23:59:00")
    assert cols["ratio"]["std"] > 0 and cols["ratio"]["quantiles"]["p50"] is not None


def test_dates_then_text_is_text(tmp_path):
    cols = by_name(run_processor(P, write(tmp_path, "d\n2024-01-01\n2024-02-30x\n")).result)
    assert cols["d"]["type"] == "text"


def _peak_mib(path, limits: str = "None") -> tuple[str, float, float]:
    code = (
        "import resource,time,sys;from processors.csv import CsvProcessor;from pyramid_jobs import ProcessingError;"
        "from pyramid_jobs.testing import run_processor;t=time.monotonic();code='ok'\n"
        f"try: run_processor(CsvProcessor(), {str(path)!r}, limits={limits})\n"
        "except ProcessingError as e: code=e.code\n"
        "print(code, time.monotonic()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return out[0], float(out[1]), float(out[2])


def test_a_million_column_header_is_refused_before_parsing(tmp_path):
    wide = tmp_path / "wide.csv"
    with open(wide, "wb") as f:
        f.write(b",".join(b"c%d" % i for i in range(1_000_000)) + b"\n")
    small = write(tmp_path, "a,b\n1,2\n", name="small.csv")
    _, _, baseline = _peak_mib(small)
    code, seconds, peak = _peak_mib(wide)
    assert code == "too_large" and seconds < 10
    assert peak - baseline < 60, f"peak {peak:.0f} MiB against {baseline:.0f} MiB for a tiny csv"


def test_a_quoted_field_spanning_many_lines_is_bounded(tmp_path):
    path = tmp_path / "field.csv"
    with open(path, "wb") as f:
        f.write(b'a,b\n1,"')
        for _ in range(12):
            f.write(b"line of a very long quoted field\n" * 32_768)  # 1 MiB of short lines
        f.write(b'"\n')
    code, seconds, peak = _peak_mib(path, "{'max_field_size': 4 << 20}")
    assert code == "too_large" and seconds < 20
    r = run_processor(P, path).result  # under the default 16 MiB limit it is one field of one row
    assert r["rows"] == 1 and by_name(r)["b"]["max_length"] > 12 << 20


def test_a_stray_quote_is_not_a_quoted_field(tmp_path):
    body = "".join(f'{i},5" screen,{i}\n' for i in range(20_000))
    r = run_processor(P, write(tmp_path, "id,size,n\n" + body), limits={"max_field_size": 64 << 10}).result
    assert r["rows"] == 20_000


def test_chunks_are_sized_by_bytes(tmp_path):
    from processors.csv import _chunk_rows

    assert _chunk_rows("a,b\n1,2\n" * 100, 2) == 200_000
    wide = ",".join(["x" * 10] * 5000) + "\n"
    assert _chunk_rows(wide * 3, 5000) <= 800


def test_text_md_shows_the_first_rows_capped(tmp_path):
    header = ",".join(f"c{i}" for i in range(30))
    rows = "\n".join(",".join(str(r * 100 + c) for c in range(30)) for r in range(50))
    run = run_processor(P, write(tmp_path, header + "\n" + rows + "\n|*x,2\n"), filename="wide.csv")
    md = run.artifacts["text.md"].read_text(encoding="utf-8")
    lines = md.splitlines()
    assert lines[0] == "# wide.csv"
    table = [line for line in lines if line.startswith("|")]
    assert table[0].startswith("| c0 | c1 |") and table[0].count("|") == 21 and len(table) == 22
    assert "first 20 of 51 rows" in md and "first 20 of 30 columns" in md


def test_text_md_cells_read_as_written(corpus):
    md = run_processor(P, corpus / "csv_iris.csv").artifacts["text.md"].read_text(encoding="utf-8")
    assert "| 5.1 | 3.5 | 1.4 | 0.2 | Iris-setosa |" in md and "first 20 of 150 rows" in md


def test_parse_errors_say_no_raw_exception_text(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, write(tmp_path, 'a,b\n1,"never closed\n2,3\n'))
    assert info.value.code == "corrupt_file"
    assert "C error" not in info.value.message and "tokenizing" not in info.value.message
    assert str(tmp_path) not in info.value.message and "delimiter" in info.value.message
