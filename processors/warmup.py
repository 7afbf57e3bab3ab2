"""What each built-in processor loads on first use, loaded ahead by :meth:`Processor.warm`.

The processors import their readers inside ``process`` so the web process stays light; a process
that forks job processes (the embedded worker's fork server, a Celery worker before its pool starts)
loads them once here instead of once per job: pandas costs about 0.3 s, jieba's dictionary about
0.4 s more.
"""
from __future__ import annotations

import importlib
import os


def load(*modules: str) -> None:
    """Import ``modules``; one that is not installed is left for the job to report.

    numpy's OpenBLAS would start a thread per core at import: the process that forks jobs is to stay
    single-threaded (a fork copies no other thread, but a lock one held), and each job is one
    process on one core anyway, so it is asked for none unless the operator set otherwise."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def load_words() -> None:
    """The word tokenizer and jieba's dictionary (Chinese), which every document processor uses."""
    from .words import warm

    warm()
