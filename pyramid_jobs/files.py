"""Where a job's files live under ``jobs.data_dir``: named by job id, never by the client's name.

    {data_dir}/{id[:2]}/{id}/upload          the upload, read-only to processors
    {data_dir}/{id[:2]}/{id}/attempt-{n}/    the outputs of attempt n; the record names the winner
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class JobFiles:
    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir)

    def job_dir(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id[:2] / job_id

    def upload(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "upload"

    def attempt_dir(self, job_id: str, attempt: int) -> Path:
        return self.job_dir(job_id) / f"attempt-{int(attempt)}"

    def artifact(self, doc: dict, name: str) -> Path:
        return self.attempt_dir(doc["id"], doc["attempt"]) / name

    def job_dirs(self) -> Iterator[Path]:
        """Every job folder under the data directory."""
        for shard in self.root.glob("[0-9a-f][0-9a-f]"):
            for d in shard.iterdir():
                if d.is_dir() and JOB_ID.match(d.name):
                    yield d

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def remove_other_attempts(self, job_id: str, keep: int) -> None:
        for d in self.job_dir(job_id).glob("attempt-*"):
            if d.name != f"attempt-{keep}":
                shutil.rmtree(d, ignore_errors=True)
