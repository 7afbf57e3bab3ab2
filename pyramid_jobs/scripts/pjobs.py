"""``pjobs``: the command line, in the manner of pserve, pshell and proutes (a config URI first).

    pjobs run FILE [--processor NAME] [--options JSON]          run a processor here, no server
    pjobs submit URL FILE... [--processor NAME] [--options JSON] [--wait]
    pjobs processors CONFIG_URI                                 installed processors and their packages
    pjobs list CONFIG_URI [--state STATE] [--limit N]
    pjobs show CONFIG_URI JOB_ID
    pjobs cancel CONFIG_URI JOB_ID
    pjobs sweep CONFIG_URI                                      re-enqueue stranded jobs, remove expired ones

Progress bars (tqdm) go to stderr, results (JSON) to stdout; the exit status is 0 only when every
job succeeded. ``pjobs submit`` sends the API token in ``PJOBS_TOKEN``, when set.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from ..store import CANCELLED, ENDED, SUCCEEDED


class CommandError(Exception):
    """A mistake in what was asked (a missing file, a URL that is no jobs API): one line, no traceback."""


def _readable_file(name: str) -> Path:
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"{name}: no such file" if not path.exists() else f"{name}: not a file")
    return path


def _options(raw: str | None) -> dict:
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise SystemExit("pjobs: --options must be a JSON object")
    return value


class _Bar:
    """One tqdm bar following a job's progress snapshots (percent, with the step as its label)."""

    def __init__(self, label: str, position: int = 0):
        from tqdm import tqdm

        self.label = label
        self.bar = tqdm(total=100, desc=label, position=position, file=sys.stderr, leave=True,
                        bar_format="{desc} {percentage:5.1f}% |{bar}| {postfix}")

    def show(self, progress: dict | None, state: str | None = None) -> None:
        if progress:
            self.bar.n = min(float(progress.get("percent") or 0), 100.0)
            step = f"step {progress.get('step')}/{progress.get('steps')} {progress.get('step_name') or ''}"
            self.bar.set_description_str(f"{self.label} [{step}]", refresh=False)
            self.bar.set_postfix_str(f"{state + ' ' if state else ''}{progress.get('message') or ''}"[:60],
                                     refresh=False)
        elif state:
            self.bar.set_postfix_str(state)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def cmd_run(args: argparse.Namespace) -> int:
    from ..errors import JobCancelled, ProcessingError
    from ..plugins import ProcessorSet, make_plugin_manager
    from ..renderers import dumps
    from ..testing import run_processor

    path = _readable_file(args.file)
    processors = ProcessorSet.from_plugin_manager(make_plugin_manager())
    processor = processors.get(args.processor) if args.processor else processors.for_filename(path.name)
    if processor is None:
        print(f"pjobs: no processor for {path.name}; installed: {', '.join(p.name for p in processors)}",
              file=sys.stderr)
        return 2
    bar = _Bar(f"{path.name} ({processor.name})")
    last = [0.0]

    def sink(snapshot: dict) -> bool:
        if time.monotonic() - last[0] > 0.1:
            bar.show(snapshot)
            last[0] = time.monotonic()
        return False

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="pjobs-"))
    try:
        run = _run_with_sink(run_processor, processor, path, _options(args.options), out, sink)
    except ProcessingError as exc:
        bar.close()
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
        return 1
    except JobCancelled:
        bar.close()
        return 1
    bar.show({**(run.events[-1] if run.events else {}), "percent": 100.0})
    bar.close()
    print(dumps({"result": run.result, "artifacts": {k: str(v) for k, v in run.artifacts.items()}}, indent=2))
    return 0


def _run_with_sink(run_processor: Any, processor: Any, path: Path, options: dict, out: Path, sink: Any) -> Any:
    from ..context import JobContext
    from ..limits import limits_for
    from ..renderers import to_jsonable
    from ..testing import ProcessorRun

    ctx = JobContext(path, out_dir=out, steps=processor.steps, options=options, sink=sink, interval=0.1,
                     limits=limits_for(processor))
    result = processor.process(ctx)
    return ProcessorRun(result=to_jsonable(result), events=[ctx.progress.snapshot()], artifacts=ctx.artifacts,
                        out_dir=out)


def _post_file(url: str, path: Path, processor: str | None, options: str | None) -> dict:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
             "Content-Type: application/octet-stream\r\n\r\n".encode() + path.read_bytes() + b"\r\n"]
    for name, value in (("processor", processor), ("options", options)):
        if value:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(url.rstrip("/"), data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                          "Accept": "application/json", **_auth()})
    return _json_answer(req, timeout=300)


def _json_answer(req: urllib.request.Request | str, timeout: float) -> dict:
    """The JSON an API answered (error answers included); a server that is no jobs API is a CommandError."""
    url = req.full_url if isinstance(req, urllib.request.Request) else req
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return _parse_json(res.read(), url)
    except urllib.error.HTTPError as exc:
        return _parse_json(exc.read(), url, exc.code)
    except urllib.error.URLError as exc:
        raise CommandError(f"{url}: cannot connect ({exc.reason})") from None


def _parse_json(body: bytes, url: str, status: int = 200) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not ("id" in value or "error" in value or "jobs" in value or "state" in value
                                           or status == 200):
        raise CommandError(f"{url} is not a pyramid_jobs API (HTTP {status}); give the jobs collection URL, "
                           "such as http://localhost:6543/jobs")
    return value


def _auth() -> dict:
    """``PJOBS_TOKEN`` in the environment: the API token for a server under ``jobs.auth = tokens``."""
    token = os.environ.get("PJOBS_TOKEN", "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def _get(url: str) -> dict:
    return _json_answer(urllib.request.Request(url, headers=_auth()), timeout=60)


def cmd_submit(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    origin = base.split("/", 3)
    root = "/".join(origin[:3])
    jobs = []
    failures = 0
    paths = [_readable_file(name) for name in args.files]
    for name, path in zip(args.files, paths, strict=True):
        answer = _post_file(base, path, args.processor, args.options)
        if "id" not in answer:
            failures += 1
            print(json.dumps({"file": name, **answer}))
        else:
            jobs.append(answer)
            if not args.wait:
                print(json.dumps(answer))
    if not args.wait:
        return 1 if failures else 0
    bars = {job["id"]: _Bar(job["filename"], position=i) for i, job in enumerate(jobs)}
    pending = {job["id"]: job for job in jobs}
    final = {}
    while pending:
        for job_id, job in list(pending.items()):
            current = _get(root + job["links"]["self"])
            bars[job_id].show(current.get("progress"), current["state"])
            if current["state"] in ENDED:
                final[job_id] = current
                del pending[job_id]
        time.sleep(0.3)
    for bar in bars.values():
        bar.close()
    for job in jobs:
        done = final[job["id"]]
        out: dict[str, Any] = {"id": done["id"], "filename": done["filename"], "state": done["state"]}
        if done["state"] == SUCCEEDED:
            out["result"] = _get(root + done["links"]["result"])
            out["artifacts"] = {a["name"]: root + a["url"] for a in done.get("artifacts", [])}
        else:
            out["error"] = done.get("error")
        print(json.dumps(out))
    ok = failures == 0 and all(j["state"] == SUCCEEDED for j in final.values())
    return 0 if ok else 1


def _bootstrap(config_uri: str) -> Any:
    from pyramid.paster import setup_logging

    from ..bootstrap import bootstrap_command
    from ..runtime import get_runtime

    try:
        setup_logging(config_uri)
    except Exception:
        pass
    env = bootstrap_command(config_uri)
    env["runtime"] = get_runtime(env["registry"])
    return env


def cmd_processors(args: argparse.Namespace) -> int:
    env = _bootstrap(args.config_uri)
    for p in env["runtime"].processors.describe():
        print(f"{p['name']:10} {p['plugin']:20} {' '.join(p['extensions']):30} {p['description']}")
    env["closer"]()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ..jobjson import job_json

    env = _bootstrap(args.config_uri)
    docs, _ = env["runtime"].store.list(state=args.state, limit=args.limit)
    for doc in docs:
        job = job_json(doc)
        pct = (job["progress"] or {}).get("percent") or 0
        print(f"{job['id']}  {job['state']:9}  {pct:5.1f}%  {job['processor']:6}  {job['created_at']}  "
              f"{job['filename']}")
    env["closer"]()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..jobjson import job_json
    from ..renderers import dumps

    env = _bootstrap(args.config_uri)
    doc = env["runtime"].store.get(args.job_id)
    env["closer"]()
    if doc is None:
        print(f"pjobs: no job {args.job_id}", file=sys.stderr)
        return 1
    print(dumps(job_json(doc), indent=2))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    env = _bootstrap(args.config_uri)
    store = env["runtime"].store
    doc = store.get(args.job_id)
    if doc is None:
        print(f"pjobs: no job {args.job_id}", file=sys.stderr)
        return 1
    if doc["state"] in ENDED:
        print(f"pjobs: job {args.job_id} already ended ({doc['state']})", file=sys.stderr)
        return 1
    doc = store.cancel(args.job_id)
    print(f"{args.job_id} {CANCELLED if doc['state'] == CANCELLED else 'cancel requested'}")
    env["closer"]()
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweep import sweep

    env = _bootstrap(args.config_uri)
    report = sweep(env["runtime"])
    print(json.dumps({"requeued": report.requeued, "expired": report.expired, "orphans": report.orphans}))
    env["closer"]()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pjobs", description="pyramid_jobs on the command line")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a processor on a file here, without a server")
    run.add_argument("file")
    run.add_argument("--processor")
    run.add_argument("--options")
    run.add_argument("--out", help="folder for the output files (default: a new temporary folder)")
    run.set_defaults(fn=cmd_run)
    submit = sub.add_parser("submit", help="upload files through the HTTP API")
    submit.add_argument("url", help="the API's collection URL, such as http://localhost:6543/jobs")
    submit.add_argument("files", nargs="+")
    submit.add_argument("--processor")
    submit.add_argument("--options")
    submit.add_argument("--wait", action="store_true", help="show progress bars, then the results")
    submit.set_defaults(fn=cmd_submit)
    for name, fn, help_ in (("processors", cmd_processors, "the installed processors"),
                            ("sweep", cmd_sweep, "re-enqueue stranded jobs and remove expired ones")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("config_uri")
        s.set_defaults(fn=fn)
    lst = sub.add_parser("list", help="recent jobs")
    lst.add_argument("config_uri")
    lst.add_argument("--state")
    lst.add_argument("--limit", type=int, default=20)
    lst.set_defaults(fn=cmd_list)
    for name, fn, help_ in (("show", cmd_show, "one job as JSON (secrets left out)"),
                            ("cancel", cmd_cancel, "cancel a queued or running job")):
        s = sub.add_parser(name, help=help_)
        s.add_argument("config_uri")
        s.add_argument("job_id")
        s.set_defaults(fn=fn)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except CommandError as exc:
        print(f"pjobs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
