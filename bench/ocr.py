"""OCR pages per second: the image processor next to the bare ``tesseract`` command, same page images.

Pages are A4 at 300 dpi, drawn from known words with Pillow's bundled font, so each run also
reports how many of the words came back (recall), to show both read the same thing.

- ``tesseract CLI``: one ``tesseract page.png stdout`` process per page (what a script does);
  once with Tesseract's default OpenMP threads, once with ``OMP_THREAD_LIMIT=1``.
- ``image processor, a job per page``: the processor run on each page file in turn (models loaded
  per job, as the worker does); ``one multi-page tiff job``: every page in one tiff (models
  loaded once), against the CLI on that same tiff.

    python -m bench ocr [--quick]
"""
from __future__ import annotations

import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .common import run_measured

OURS = """
import json, sys, time
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
import PIL.Image, tesserocr  # imported before the clock starts, as the worker has them loaded
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get("image")
texts = []
t, cpu = time.perf_counter(), time.process_time()
for path in sys.argv[1:]:
    run = run_processor(processor, path, interval=0.5)
    texts.append(run.artifacts["text.txt"].read_text())
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "text": "\\n".join(texts)}))
"""


def make_pages(folder: Path, count: int) -> tuple[list[Path], Path, str]:
    """``count`` page images of known text as png files, the same pages as one tiff, and the text."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(20261125)
    vocabulary = ("invoice payment account balance harbour lighthouse quarterly revenue shipping "
                  "contract delivery schedule warehouse inventory customer supplier meeting agenda "
                  "minutes budget forecast summary report chapter section figure table appendix "
                  "river mountain garden window kitchen morning evening letter number").split()
    font = ImageFont.load_default(size=42)  # about 10 pt at 300 dpi
    pages, images, words = [], [], []
    for _ in range(count):
        image = Image.new("L", (2480, 3508), 255)
        pen = ImageDraw.Draw(image)
        for line in range(40):
            text = " ".join(rng.choice(vocabulary) for _ in range(9))
            words.append(text)
            pen.text((200, 250 + line * 75), text, font=font, fill=0)
        images.append(image)
    # the tiff first: Pillow keeps a png save's encoder settings on the image and a tiff save then trips on them
    tiff = folder / "pages.tiff"
    images[0].save(tiff, save_all=True, append_images=images[1:], compression="tiff_deflate", dpi=(300, 300))
    for n, image in enumerate(images, start=1):
        pages.append(folder / f"page{n}.png")
        image.save(pages[-1], dpi=(300, 300))
    return pages, tiff, "\n".join(words)


def recall(expected: str, got: str) -> float:
    from processors.words import tokens

    want, have = list(tokens(expected)), set(tokens(got))
    return sum(1 for w in want if w in have) / max(len(want), 1)


def cli(paths: list[Path], threads: int | None) -> dict:
    env = dict(os.environ)
    if threads:
        env["OMP_THREAD_LIMIT"] = str(threads)
    texts = []
    started, cpu = time.perf_counter(), _children_cpu()
    for path in paths:
        out = subprocess.run(["tesseract", str(path), "stdout", "-l", "eng"], capture_output=True, text=True,
                             env=env, check=True)
        texts.append(out.stdout)
    return {"seconds": time.perf_counter() - started, "cpu": _children_cpu() - cpu, "text": "\n".join(texts)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    from processors import ocr

    if shutil.which("tesseract") is None or not ocr.available(load=True):
        print("   skipped: needs the tesseract command and tesserocr with English data "
              f"({ocr.unavailable_reason(load=True) or 'no tesseract command'})")
        return 0
    count = 2 if "--quick" in argv else 4
    with tempfile.TemporaryDirectory(prefix="pj-bench-ocr-") as d:
        pages, tiff, expected = make_pages(Path(d), count)
        runs = [
            ("tesseract CLI, a process per page", cli(pages, None)),
            ("tesseract CLI, OMP_THREAD_LIMIT=1", cli(pages, 1)),
            ("image processor, a job per page", run_measured(OURS, *map(str, pages))),
            ("tesseract CLI on the multi-page tiff", cli([tiff], None)),
            ("image processor, one multi-page tiff job", run_measured(OURS, str(tiff))),
        ]
    base = count / runs[0][1]["seconds"]
    with ocr.Recogniser() as engine:
        version = engine.version
    print(f"   {count} A4 pages at 300 dpi, 360 words each; tesserocr's {version}, "
          f"CLI {subprocess.run(['tesseract', '--version'], capture_output=True, text=True).stdout.split()[1]}")
    for label, run in runs:
        rate = count / run["seconds"]
        print(f"   {label:42} {run['seconds']:7.2f} s  {rate:5.3f} pages/s  ×{rate / base:4.2f} of the CLI  "
              f"CPU {run['cpu'] / count:5.2f} s/page  word recall {recall(expected, run['text']):.3f}", flush=True)
    return 0
