"""Payload and enqueue-request validation: bad input raises before anything is written."""

import math

import pytest

from brython_jobs.engine import Config, job_spec
from brython_jobs.records import check_payload


class Thing:
    pass


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2 ** 53 - 1, 1.5, "", "text with ünïcode",
    [], {}, [1, "a", None, [2.5, [True]]],
    {"a": {"b": [1, {"c": None}]}, "d": [], "e": {}},
])
def test_json_like_payloads_are_accepted(value):
    """Given plain JSON-like data, nested at any depth,
    When it is checked, Then no error is raised."""
    check_payload(value)


@pytest.mark.parametrize("value, kind", [
    ({1, 2}, "set"),
    (frozenset(), "frozenset"),
    (b"raw", "bytes"),
    (bytearray(b"x"), "bytearray"),
    ((1, 2), "tuple"),
    (Thing(), "Thing"),
    (object(), "object"),
    (1 + 2j, "complex"),
    (len, "builtin_function_or_method"),
])
def test_non_json_values_are_rejected_with_their_type(value, kind):
    """Given a value that is not JSON-like data,
    When it is checked, Then TypeError names its type."""
    with pytest.raises(TypeError, match=kind):
        check_payload(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_floats_json_cannot_represent_are_rejected(value):
    """Given NaN or an infinity, When checked, Then TypeError."""
    with pytest.raises(TypeError, match="JSON cannot represent"):
        check_payload(value)


@pytest.mark.parametrize("key", [1, 1.5, None, True, ("a", "b")])
def test_dict_keys_must_be_str(key):
    """Given a dict with a non-str key, When checked, Then TypeError about keys."""
    with pytest.raises(TypeError, match="keys must be str"):
        check_payload({key: 1})


def test_a_bad_value_deep_inside_is_located_in_the_message():
    """Given a set nested in a list in a dict,
    When checked, Then the error message points at where it is."""
    with pytest.raises(TypeError, match=r"payload\['a'\]\[1\]\['b'\] holds a set"):
        check_payload({"a": [0, {"b": {1}}]})


# -- job_spec -----------------------------------------------------------------------

def test_spec_defaults():
    """Given only a name, When a spec is built at now=50,
    Then it is due now in the default queue, priority 0, 1 + default retries attempts,
    created at that same instant."""
    spec = job_spec("task", now=50.0, default_retries=2)
    assert spec == {
        "name": "task", "payload": None, "queue": "default", "priority": 0,
        "run_at": 50.0, "ttl": None, "on_expire": "fail", "max_attempts": 3, "key": None,
        "created_at": 50.0,
    }


def test_spec_delay_run_at_queue_and_retries():
    """Given delay, run_at, a handler's queue and explicit retries,
    Then the due time, queue and max_attempts follow from them."""
    assert job_spec("t", delay=5, now=100.0)["run_at"] == 105.0
    assert job_spec("t", run_at=42.0, now=100.0)["run_at"] == 42.0
    assert job_spec("t", default_queue="emb")["queue"] == "emb"
    assert job_spec("t", queue="q", default_queue="emb")["queue"] == "q"
    assert job_spec("t", retries=0, default_retries=5)["max_attempts"] == 1


def test_delay_and_run_at_together_raise_value_error():
    """Given both delay and run_at, When building the spec, Then ValueError."""
    with pytest.raises(ValueError, match="not both"):
        job_spec("task", delay=1.0, run_at=2000.0)


@pytest.mark.parametrize("options, error", [
    ({"priority": "high"}, TypeError),
    ({"priority": True}, TypeError),
    ({"priority": math.nan}, TypeError),
    ({"priority": None}, TypeError),
    ({"on_expire": "drop"}, ValueError),
    ({"on_expire": None}, ValueError),
    ({"ttl": -1}, ValueError),
    ({"ttl": "10"}, TypeError),
    ({"ttl": math.nan}, TypeError),
    ({"delay": -0.5}, ValueError),
    ({"delay": "soon"}, TypeError),
    ({"delay": True}, TypeError),
    ({"run_at": "tomorrow"}, TypeError),
    ({"retries": -1}, ValueError),
    ({"retries": 1.5}, ValueError),
    ({"retries": True}, ValueError),
    ({"queue": ""}, TypeError),
    ({"queue": 3}, TypeError),
    ({"key": ""}, TypeError),
    ({"key": 7}, TypeError),
    ({"payload": {1, 2}}, TypeError),
])
def test_bad_options_raise(options, error):
    """Given one invalid option, When building the spec, Then the documented error."""
    with pytest.raises(error):
        job_spec("task", **options)


@pytest.mark.parametrize("name", ["", None, 5, b"task"])
def test_name_must_be_a_non_empty_str(name):
    """Given an empty or non-str name, When building a spec, Then TypeError."""
    with pytest.raises(TypeError, match="name"):
        job_spec(name)


def test_zero_ttl_and_zero_delay_are_allowed():
    """Given ttl=0 and delay=0, Then the spec is valid (start exactly at the due time)."""
    spec = job_spec("task", ttl=0, delay=0, now=10.0)
    assert spec["ttl"] == 0 and spec["run_at"] == 10.0


@pytest.mark.parametrize("config, error", [
    ({"retries": -1}, ValueError),
    ({"backoff": -1}, ValueError),
    ({"backoff": None}, TypeError),
    ({"keep_completed": -5}, ValueError),
    ({"leader_silence": 0}, ValueError),
    ({"concurrency": 0}, ValueError),
])
def test_bad_queue_config_raises(config, error):
    """Given one invalid queue setting, When building Config, Then it raises."""
    with pytest.raises(error):
        Config(**config)


# -- nothing is written --------------------------------------------------------------

async def test_a_bad_enqueue_writes_nothing(store, enqueue):
    """Given an empty store,
    When enqueues with a bad payload, both delay and run_at, or a bad ttl fail,
    Then the store holds no job and no write was made."""
    for payload, options in [({"when": {1}}, {}), (None, {"delay": 1, "run_at": 5}),
                             (None, {"ttl": -1}), ((1, 2), {})]:
        with pytest.raises((TypeError, ValueError)):
            await enqueue("task", payload, **options)
    assert store.writes == 0
    assert await store.query(limit=None) == []
    assert await store.meta_prefix("") == {}


async def test_a_bad_result_is_refused_before_writing(store, engine, enqueue):
    """Given a claimed job,
    When the handler's result is not JSON-like,
    Then complete raises TypeError and the job is still processing."""
    await enqueue("task")
    epoch = await engine.become_leader("tab")
    held, _ = await engine.claim_next("default", epoch)
    writes = store.writes
    with pytest.raises(TypeError):
        await engine.complete(held, epoch, {"when": {1, 2}})
    assert store.writes == writes
    assert (await store.get(held["id"]))["status"] == "processing"


async def test_a_bad_schedule_writes_nothing(store, engine):
    """Given an empty store,
    When every() gets a bad payload, a bad interval or a bad priority,
    Then it raises and neither a schedule nor a run was written."""
    with pytest.raises(TypeError):
        await engine.every("sync", 60, payload={"x": b"raw"})
    with pytest.raises(ValueError):
        await engine.every("sync", 0)
    with pytest.raises(TypeError):
        await engine.every("sync", 60, priority="high")  # found inside the transaction
    assert store.writes == 0
    assert await store.query(limit=None) == []
    assert await store.meta_prefix("") == {}
