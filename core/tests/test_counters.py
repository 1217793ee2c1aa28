"""core.counters: several counts sent in one round trip, and counted in the process
while Redis is down (a throttle's budget must never become unlimited)."""

import uuid

import pytest

from core.counters import FallbackCache


@pytest.fixture
def keys() -> tuple[str, str]:
    prefix = f"counted-{uuid.uuid4()}"
    return f"{prefix}:a", f"{prefix}:b"


def test_many_counts_go_in_one_round_trip_and_answer_each_total(keys):
    counters = FallbackCache(shared="throttle", local="throttle-local")
    a, b = keys
    assert counters.incr_many({a: 3, b: 1}, 60) == {a: 3, b: 1}
    assert counters.incr_many({a: 2}, 60) == {a: 5}
    assert counters.incr(b, 60) == 2  # the same counter `incr` reads
    assert not counters.degraded


def test_many_counts_go_on_in_the_process_while_redis_is_down(settings, keys, caplog):
    settings.CACHES = {**settings.CACHES, "down": {**settings.CACHES["throttle"], "LOCATION": "redis://127.0.0.1:1/0"}}
    counters = FallbackCache(shared="down", local="throttle-local")
    a, b = keys
    assert counters.incr_many({a: 3, b: 1}, 60) == {a: 3, b: 1}
    assert counters.incr_many({a: 2, b: 2}, 60) == {a: 5, b: 3}
    assert counters.degraded
    switched = [r for r in caplog.records if "counting in process memory" in r.getMessage()]
    assert len(switched) == 1  # the switch is logged once, not on every call
