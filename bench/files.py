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
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def xlsx_file(path: Path, rows: int) -> Path:
    """``rows`` x 10 columns of numbers, text, dates, booleans: the mix real sheets hold."""
    import datetime

    import openpyxl

    rnd = random.Random(2)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(["id", "price", "city", "quantity", "note", "when", "paid", "ratio", "code", "stamp"])
    day = datetime.date(2020, 1, 1)
    stamp = datetime.datetime(2024, 1, 1, 8, 30)
    for i in range(rows):
        ws.append([i, round(rnd.uniform(1, 1000), 2), rnd.choice(["Oslo", "Lima", "Pune"]), rnd.randint(0, 500),
                   f"item {i % 977}", day + datetime.timedelta(days=i % 2000), i % 3 == 0, rnd.random(),
                   f"C-{rnd.randint(0, 99999):05d}", stamp + datetime.timedelta(minutes=i)])
    wb.save(path)
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
