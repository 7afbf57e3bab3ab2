"""The ``jobs.*`` settings, converted once at start-up through one typed table.

A bad value raises :class:`ConfigurationError` naming the key, the value and what is expected,
so ``pserve`` and ``celery worker`` stop at once instead of running half-configured.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyramid.settings import asbool

from .errors import ConfigurationError
from .limits import Limits

PREFIX = "jobs."

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
               "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
               "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.I)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_size(value: str | int) -> int:
    """``100MB`` (decimal), ``64MiB`` (binary), or a plain number of bytes."""
    if isinstance(value, int):
        return value
    m = _SIZE.match(str(value))
    if not m or (m.group(2) or "").lower() not in _SIZE_UNITS:
        raise ValueError(value)
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower()])


def format_size(n: int) -> str:
    """``2 GB``, ``512 MB``: a size as people say it (decimal units, as the settings take them)."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def parse_duration(value: str | float) -> float:
    """``600`` or ``600s``, ``10m``, ``2h``, ``7d``, ``250ms``: seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1)) * _DURATION_UNITS[m.group(2).lower() if m.group(2) else None]


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return asbool(value)
    raise ValueError(value)


def parse_positive_int(value: Any) -> int:
    n = int(str(value).strip())
    if n <= 0:
        raise ValueError(value)
    return n


def parse_memory_limit(value: Any) -> int:
    """0 turns the ceiling off; anything below 100 MB could not even start a job."""
    n = parse_size(str(value).strip())
    if n and n < 100 * 10**6:
        raise ValueError(value)
    return n


def parse_positive_size(value: Any) -> int:
    n = parse_size(value)
    if n <= 0:
        raise ValueError(value)
    return n


def parse_queues(value: Any) -> dict[str, str]:
    """``pdf xlsx = heavy`` lines (or ``;``-separated): processor names to the queue their jobs go to."""
    routes: dict[str, str] = {}
    for line in str(value).replace(";", "\n").splitlines():
        if not line.strip():
            continue
        names, sep, queue = line.partition("=")
        queue = queue.strip()
        if not sep or not names.split() or not queue or len(queue.split()) != 1:
            raise ValueError(value)
        for name in names.split():
            routes[name] = queue
    return routes
def parse_choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        value = str(value).strip().lower()
        if value not in choices:
            raise ValueError(value)
        return value

    return parse


def parse_url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = str(value).strip()
        if value.split("://", 1)[0] not in schemes or "://" not in value:
            raise ValueError(value)
        return value

    return parse


def parse_prefix(value: str) -> str:
    """``/jobs``, or ``/`` for the root (when another framework mounts the jobs app under a path)."""
    value = str(value).strip()
    if not value.startswith("/") or not re.match(r"^[A-Za-z0-9/_.~-]+$", value):
        raise ValueError(value)
    return value.rstrip("/")


def parse_optional(value: Any) -> str | None:
    value = str(value).strip()
    return value or None


def parse_celery_value(value: Any) -> Any:
    """Celery options from an ini are strings; give them their types (``false`` is not true)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    low = text.lower()
    if low in ("true", "false", "yes", "no", "on", "off"):
        return asbool(low)
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class JobsSettings:
    """Every ``jobs.*`` setting, typed. Stored on the registry as ``registry.jobs_settings``."""

    broker_url: str
    store_url: str
    data_dir: str
    embedded_worker: bool = False
    route_prefix: str = "/jobs"
    max_upload_size: int = 100 * 10**6
    time_limit: float = 600.0
    result_ttl: float = 7 * 86400.0
    permission_submit: str | None = None
    permission_view: str | None = None
    permission_admin: str | None = None
    metrics: bool = False
    permission_metrics: str | None = None
    progress_interval: float = 0.5
    heartbeat_interval: float = 5.0
    stale_after: float = 60.0
    queued_grace: float = 60.0
    sweep_interval: float = 60.0
    worker_concurrency: int = 2
    visibility_timeout: float = 3600.0
    max_files_per_request: int = 20
    max_options_size: int = 16 * 1024
    auth: str | None = None
    auth_users: str | None = None
    auth_users_file: str | None = None
    auth_admins: tuple[str, ...] = ()
    consumer_timeout: float = 1800.0
    #: the ``jobs.*`` values as the user wrote them, to quote them back in messages
    written: dict = field(default_factory=dict, compare=False, repr=False)
    #: the address space of a process running a job (``RLIMIT_AS``); past it the job fails ``too_large``
    memory_limit: int = 2 * 10**9
    #: attempts before a job whose worker keeps dying (or whose disk is full) fails for good
    max_attempts: int = 3
    #: processor name -> queue its jobs are sent to (others go to the default queue)
    queues: dict = field(default_factory=dict)
    #: the ``jobs.limit.*`` overrides; which names exist is up to the installed processors
    limits: Limits = field(default_factory=Limits)
    celery: dict = field(default_factory=dict)

    @property
    def hard_time_limit(self) -> float:
        """The time after which Celery kills the process: the soft limit plus a grace period."""
        return self.time_limit + max(10.0, self.time_limit * 0.1)


# key (without prefix) -> (field name, parser, what is expected)
_TABLE: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "broker_url": ("broker_url", parse_url(("redis", "rediss", "amqp", "amqps", "pyamqp", "sqla+sqlite",
                                            "sqla+postgresql", "sqla+mysql", "memory", "filesystem")),
                   "a broker URL such as redis://localhost:6379/0 or sqla+sqlite:///var/broker.sqlite"),
    "store_url": ("store_url", parse_url(("sqlite", "redis", "rediss", "postgresql", "postgres")),
                  "a store URL such as sqlite:///var/jobs.sqlite, redis://localhost:6379/1 or "
                  "postgresql://user@localhost/db"),
    "data_dir": ("data_dir", lambda v: os.path.abspath(str(v).strip()) if str(v).strip() else _raise(v),
                 "a directory for uploads and outputs"),
    "embedded_worker": ("embedded_worker", parse_bool, "true or false"),
    "route_prefix": ("route_prefix", parse_prefix, "a URL path starting with '/', such as /jobs"),
    "max_upload_size": ("max_upload_size", parse_size, "a size such as 100MB, 64MiB or a number of bytes"),
    "time_limit": ("time_limit", parse_duration, "a duration such as 600, 10m or 1h"),
    "result_ttl": ("result_ttl", parse_duration, "a duration such as 7d, 12h or a number of seconds"),
    "permission.submit": ("permission_submit", parse_optional, "a Pyramid permission name"),
    "permission.view": ("permission_view", parse_optional, "a Pyramid permission name"),
    "permission.admin": ("permission_admin", parse_optional, "a Pyramid permission name"),
    "metrics": ("metrics", parse_bool, "true or false"),
    "permission.metrics": ("permission_metrics", parse_optional, "a Pyramid permission name"),
    "progress_interval": ("progress_interval", parse_duration, "a duration such as 0.5 or 250ms"),
    "heartbeat_interval": ("heartbeat_interval", parse_duration, "a duration such as 5s"),
    "stale_after": ("stale_after", parse_duration, "a duration such as 60s"),
    "queued_grace": ("queued_grace", parse_duration, "a duration such as 60s"),
    "sweep_interval": ("sweep_interval", parse_duration, "a duration such as 60s"),
    "worker_concurrency": ("worker_concurrency", parse_positive_int, "a positive integer"),
    "visibility_timeout": ("visibility_timeout", parse_duration, "a duration such as 3600 or 1h"),
    "max_files_per_request": ("max_files_per_request", parse_positive_int, "a positive integer such as 20"),
    "max_options_size": ("max_options_size", parse_positive_size, "a size such as 16kB"),
    "auth": ("auth", parse_choice(("tokens", "basic", "none")), "tokens, basic or none"),
    "auth.users": ("auth_users", parse_optional, "lines of 'user sha256:HASH' (tokens) or "
                                                 "'user pbkdf2_sha256$...' (passwords)"),
    "auth.users_file": ("auth_users_file", parse_optional, "the path of a file of 'user HASH' lines"),
    "auth.admins": ("auth_admins", lambda v: tuple(str(v).split()), "user names separated by spaces"),
    "consumer_timeout": ("consumer_timeout", parse_duration,
                         "a duration such as 30m: RabbitMQ's consumer_timeout, as the server is configured"),
    "memory_limit": ("memory_limit", parse_memory_limit, "a size of at least 100MB, such as 2GB, or 0 for none"),
    "max_attempts": ("max_attempts", parse_positive_int, "a positive integer, such as 3"),
    "queues": ("queues", parse_queues, "lines of processor names = queue, such as 'pdf xlsx = heavy'"),
}


def _raise(value: Any) -> Any:
    raise ValueError(value)


def parse_settings(settings: Mapping[str, Any], *, here: str | None = None) -> JobsSettings:
    """Build :class:`JobsSettings` from a Pyramid settings mapping (keys ``jobs.*``)."""
    here = here or settings.get("here") or os.getcwd()
    var = os.path.join(here, "var")
    values: dict[str, Any] = {
        "broker_url": f"sqla+sqlite:///{os.path.join(var, 'broker.sqlite')}",
        "store_url": f"sqlite:///{os.path.join(var, 'jobs.sqlite')}",
        "data_dir": os.path.join(var, "files"),
    }
    limits: dict[str, int] = {}
    celery: dict[str, Any] = {}
    written: dict[str, str] = {}
    for key, raw in settings.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if name.startswith("celery."):
            celery[name[len("celery."):]] = parse_celery_value(raw)
            continue
        if name.startswith("limit."):
            limit = name[len("limit."):]
            if not re.fullmatch(r"[a-z][a-z0-9_]*", limit):
                raise ConfigurationError(key, raw, "a limit name such as jobs.limit.max_pages")
            try:
                limits[limit] = parse_size(raw)
            except ValueError:
                raise ConfigurationError(key, raw, "a positive number (sizes may say 10MB)") from None
            continue
        if name not in _TABLE:
            raise ConfigurationError(key, raw, f"one of the known settings jobs.{', jobs.'.join(sorted(_TABLE))}, "
                                               "jobs.limit.*, jobs.celery.*")
        field_name, parse, expected = _TABLE[name]
        try:
            values[field_name] = parse(raw)
            written[name] = str(raw).strip()
        except (ValueError, TypeError):
            raise ConfigurationError(key, raw, expected) from None
    parsed = JobsSettings(limits=Limits(limits), celery=celery, written=written, **values)
    _check_consistency(parsed)
    return parsed


def _check_consistency(s: JobsSettings) -> None:
    limit = s.written.get("time_limit", f"{s.time_limit:g}")
    if s.broker_url.startswith(("redis", "rediss")):
        vt = s.celery.get("broker_transport_options", {}).get("visibility_timeout", s.visibility_timeout)
        if s.hard_time_limit >= float(vt):
            raise ConfigurationError(
                "jobs.time_limit", limit,
                f"a limit whose hard kill ({s.hard_time_limit:.0f}s) stays below the Redis visibility timeout "
                f"({s.written.get('visibility_timeout', f'{float(vt):g}s')}, jobs.visibility_timeout), "
                "or Redis would hand a running job to a second worker",
            )
    if s.broker_url.startswith(("amqp", "amqps", "pyamqp")) and s.hard_time_limit >= s.consumer_timeout:
        raise ConfigurationError(
            "jobs.time_limit", limit,
            f"a limit whose hard kill ({s.hard_time_limit:.0f}s) stays below RabbitMQ's consumer_timeout "
            f"({s.written.get('consumer_timeout', '30m, the server default')}, jobs.consumer_timeout), or "
            "RabbitMQ closes the channel of a job still running; raise consumer_timeout in rabbitmq.conf and "
            "set jobs.consumer_timeout to match",
        )
    if s.embedded_worker and s.broker_url.startswith("memory"):
        return
    if s.heartbeat_interval * 2 > s.stale_after:
        raise ConfigurationError("jobs.stale_after", s.stale_after,
                                 f"at least twice jobs.heartbeat_interval ({s.heartbeat_interval:.0f}s)")
