from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid

import numpy as np
import pandas as pd
import pytest

from pyramid_jobs.errors import ConfigurationError
from pyramid_jobs.renderers import dumps, to_jsonable
from pyramid_jobs.settings import parse_duration, parse_settings, parse_size


def test_strict_json_values():
    value = {
        "nan": float("nan"), "inf": math.inf, "dt": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "d": datetime.date(2026, 1, 2), "dec": decimal.Decimal("1.5"), "u": uuid.UUID(int=1),
        "np_int": np.int64(3), "np_float": np.float32(0.5), "np_nan": np.float64("nan"), "arr": np.arange(3),
        "ts": pd.Timestamp("2026-01-02T03:04:05"), "nat": pd.NaT, "na": pd.NA, "set": {2, 1},
    }
    text = dumps(value)
    back = json.loads(text)
    assert "NaN" not in text and "Infinity" not in text
    assert back["nan"] is None and back["inf"] is None and back["np_nan"] is None and back["nat"] is None
    assert back["dt"] == "2026-01-02T03:04:05.000Z" and back["d"] == "2026-01-02"
    assert back["dec"] == 1.5 and back["u"] == "0" * 31 + "1" and back["np_int"] == 3 and back["arr"] == [0, 1, 2]
    assert back["ts"].startswith("2026-01-02T03:04:05") and back["na"] is None and back["set"] == [1, 2]
    with pytest.raises(TypeError):
        to_jsonable(object())


def test_sizes_and_durations():
    assert parse_size("100MB") == 100_000_000 and parse_size("64MiB") == 64 * 2**20 and parse_size("10") == 10
    assert parse_duration("7d") == 604800 and parse_duration("10m") == 600 and parse_duration("250ms") == 0.25


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("jobs.max_upload_size", "lots", "a size"),
        ("jobs.time_limit", "ten", "a duration"),
        ("jobs.embedded_worker", "maybe", "true or false"),
        ("jobs.route_prefix", "jobs", "starting with '/'"),
        ("jobs.store_url", "mysql://x", "a store URL"),
        ("jobs.broker_url", "nope", "a broker URL"),
        ("jobs.worker_concurrency", "0", "a positive integer"),
        ("jobs.no_such_thing", "1", "one of the known settings"),
    ],
)
def test_bad_setting_names_key_value_and_expectation(key, value, expected):
    with pytest.raises(ConfigurationError) as info:
        parse_settings({key: value}, here="/tmp")
    msg = str(info.value)
    assert key in msg and repr(value) in msg and expected in msg


def test_time_limit_must_stay_below_visibility_timeout():
    with pytest.raises(ConfigurationError, match="visibility timeout"):
        parse_settings({"jobs.broker_url": "redis://localhost/0", "jobs.time_limit": "2h",
                        "jobs.visibility_timeout": "1h"}, here="/tmp")
    ok = parse_settings({"jobs.broker_url": "redis://localhost/0", "jobs.time_limit": "2h",
                         "jobs.visibility_timeout": "3h"}, here="/tmp")
    assert ok.hard_time_limit < 3 * 3600


def test_time_limit_must_stay_below_rabbitmq_consumer_timeout_quoted_as_written():
    with pytest.raises(ConfigurationError) as info:
        parse_settings({"jobs.broker_url": "amqp://guest:guest@localhost//", "jobs.time_limit": "2h"}, here="/tmp")
    message = str(info.value)
    assert "consumer_timeout" in message and "'2h'" in message and "7200.0" not in message
    ok = parse_settings({"jobs.broker_url": "amqp://guest:guest@localhost//", "jobs.time_limit": "2h",
                         "jobs.consumer_timeout": "3h"}, here="/tmp")
    assert ok.hard_time_limit < ok.consumer_timeout == 3 * 3600


def test_celery_values_are_typed():
    s = parse_settings({"jobs.celery.task_always_eager": "false", "jobs.celery.worker_concurrency": "4",
                        "jobs.celery.broker_transport_options": '{"visibility_timeout": 7200}',
                        "jobs.limit.max_pages": "10"}, here="/tmp")
    assert s.celery == {"task_always_eager": False, "worker_concurrency": 4,
                        "broker_transport_options": {"visibility_timeout": 7200}}
    assert s.limits.max_pages == 10
