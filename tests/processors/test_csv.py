from __future__ import annotations

import csv
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
