"""The job record as clients see it: the store's record less its internal fields and secret options."""
from __future__ import annotations

from collections.abc import Callable

PUBLIC = ("id", "state", "filename", "size", "media_type", "processor", "options", "created_at", "started_at",
          "finished_at", "progress", "error", "attempt")


def job_json(doc: dict, url: Callable[[str, dict], str] | None = None) -> dict:
    """``url(route_suffix, kw)`` builds links; without it (in a worker) links are left out."""
    out = {k: doc.get(k) for k in PUBLIC}
    secret = set(doc.get("secret_options") or ())
    out["options"] = {k: v for k, v in (doc.get("options") or {}).items() if k not in secret}
    out["cancel_requested"] = bool(doc.get("cancel_requested"))
    artifacts = []
    for a in doc.get("artifacts") or []:
        item = dict(a)
        if url is not None:
            item["url"] = url("artifact", {"id": doc["id"], "name": a["name"]})
        artifacts.append(item)
    out["artifacts"] = artifacts
    if url is not None:
        out["links"] = {
            "self": url("job", {"id": doc["id"]}),
            "result": url("result", {"id": doc["id"]}),
            "cancel": url("cancel", {"id": doc["id"]}),
            "page": url("page", {"id": doc["id"]}),
        }
    return out
