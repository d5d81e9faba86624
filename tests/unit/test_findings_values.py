"""Regression tests for issue 10's value findings (6, 9, 10): bad input is refused with
TypeError/ValueError before anything is written, on every path."""

import math

import pytest

from brython_jobs.engine import SCHEDULE, Config, job_spec
from brython_jobs import records
from brython_jobs.records import check_number, check_payload

T0 = 1000.0
MAX_DEPTH = 100  # records.MAX_DEPTH, checked below
NON_FINITE = [math.inf, -math.inf, math.nan]


def refusal(value):
    """What a non-finite number raises: ValueError for an infinity, and for NaN
    TypeError (it is not a number at all, as before) or ValueError."""
    return ValueError if value == value else (TypeError, ValueError)


def nested(depth):
    """A list nested ``depth`` levels deep: nested(1) == [0]."""
    value = 0
    for _ in range(depth):
        value = [value]
    return value


# -- finding 6 --------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    {"priority": "high"}, {"priority": math.inf}, {"priority": None}, {"priority": True},
    {"retries": -1}, {"retries": "3"}, {"payload": {1, 2}}, {"queue": ""},
])
async def test_finding_06_redeclaring_a_schedule_validates_every_field(engine, store, bad):
    """Given a schedule declared once with valid fields,
    When it is declared again with a bad field,
    Then TypeError/ValueError, as for a first declaration, and the stored schedule is
    unchanged."""
    await engine.every("sync", 60)
    before = await store.meta_get(SCHEDULE + "sync")
    with pytest.raises((TypeError, ValueError)):
        await engine.every("sync", 60, **bad)
    assert await store.meta_get(SCHEDULE + "sync") == before


async def test_finding_06_a_first_declaration_with_a_bad_priority_writes_nothing(
        engine, store):
    """Given no schedule, When every() is declared with priority "high",
    Then TypeError and nothing is stored."""
    with pytest.raises(TypeError):
        await engine.every("sync", 60, priority="high")
    assert await store.meta_prefix("") == {}
    assert await store.query(limit=None) == []


# -- finding 9 (core half) -----------------------------------------------------------

@pytest.mark.parametrize("field", ["backoff", "backoff_max", "keep_completed",
                                   "leader_silence"])
@pytest.mark.parametrize("value", NON_FINITE)
def test_finding_09_config_refuses_non_finite_durations(field, value):
    """Given a non-finite duration (inf spins a timer, nan compares false),
    When a Config is made with it, Then ValueError."""
    with pytest.raises(refusal(value)):
        Config(**{field: value})


@pytest.mark.parametrize("value", NON_FINITE)
def test_finding_09_keep_failed_refuses_non_finite_durations(value):
    """Given keep_failed inf or nan, When a Config is made, Then ValueError; a finite
    value and None (keep them) are accepted."""
    with pytest.raises(refusal(value)):
        Config(keep_failed=value)
    assert Config(keep_failed=None).keep_failed is None
    assert Config(keep_failed=60).keep_failed == 60


@pytest.mark.parametrize("value", NON_FINITE)
def test_finding_09_a_timeout_of_inf_is_refused(value):
    """Given timeout=inf (every attempt would fail at once: an inf timer fires now),
    When checked as the handler's timeout is, Then ValueError."""
    with pytest.raises(refusal(value)):
        check_number(value, "timeout", minimum=0)


# -- finding 10 -------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["priority", "delay", "run_at", "ttl"])
@pytest.mark.parametrize("value", NON_FINITE)
def test_finding_10_non_finite_numbers_in_a_job_spec_are_refused(field, value):
    """Given priority/delay/run_at/ttl inf, -inf or nan (stored as null by IndexedDB),
    When the enqueue request is validated, Then ValueError."""
    with pytest.raises(refusal(value)):
        job_spec("task", **{field: value})


@pytest.mark.parametrize("value", NON_FINITE)
async def test_finding_10_a_non_finite_interval_is_refused(engine, store, value):
    """Given every() with seconds inf or nan, Then ValueError and nothing is written."""
    with pytest.raises(refusal(value)):
        await engine.every("sync", value)
    assert await store.meta_prefix("") == {}


@pytest.mark.parametrize("value", [
    2 ** 53, -(2 ** 53), 2 ** 70, 10 ** 400, [1, 2 ** 60], {"a": {"b": -(2 ** 64)}},
])
def test_finding_10_ints_a_js_number_cannot_hold_are_refused(value):
    """Given an int beyond JS's exact integer range (rounded by IndexedDB; 10**400
    becomes null), anywhere in a payload, When checked, Then TypeError."""
    with pytest.raises(TypeError, match="exact"):
        check_payload(value)


def test_finding_10_the_largest_exact_ints_are_accepted():
    """Given +-(2**53 - 1), the largest ints a JS number holds exactly, Then accepted."""
    check_payload([2 ** 53 - 1, -(2 ** 53 - 1)])


def test_finding_10_payload_nesting_is_limited():
    """Given a payload nested MAX_DEPTH levels, Then accepted; one level more, or far
    deeper than the recursion limit, Then TypeError (never RecursionError)."""
    check_payload(nested(MAX_DEPTH))
    check_payload({"a": nested(MAX_DEPTH - 1)})
    with pytest.raises(TypeError, match="deep"):
        check_payload(nested(MAX_DEPTH + 1))
    with pytest.raises(TypeError, match="deep"):
        check_payload(nested(20000))


async def test_finding_10_a_result_out_of_range_is_refused_and_the_job_keeps_running(
        engine, enqueue, store):
    """Given a running job, When its result holds 10**400, Then TypeError and the job is
    still processing (nothing written)."""
    await enqueue("r")
    epoch = await engine.become_leader("tab")
    held, _ = await engine.claim_next("default", epoch)
    with pytest.raises(TypeError):
        await engine.complete(held, epoch, {"n": 10 ** 400})
    assert (await store.get(held["id"]))["status"] == "processing"


async def test_finding_10_one_bad_spec_writes_no_job_of_the_batch(engine, store, clock):
    """Given a batch of requests where the second has priority inf,
    When it is validated and enqueued as JobQueue.enqueue_many does, Then ValueError
    and no job of the batch is stored."""
    with pytest.raises(ValueError):
        specs = [job_spec("a", now=clock()), job_spec("b", priority=math.inf, now=clock())]
        await engine.enqueue_many(specs)
    assert await store.query(limit=None) == []


@pytest.mark.parametrize("options", [
    {"retries": 2 ** 60}, {"delay": 1.7e308, "run_at": None}, {"run_at": 1.7e308, "ttl": 1.7e308},
])
def test_finding_10_values_that_add_up_beyond_a_js_number_are_refused(options):
    """Given retries whose attempt count a JS number cannot hold exactly, or a due time or
    expiry that overflows to inf although each part is finite,
    When the request is validated, Then ValueError."""
    with pytest.raises(ValueError):
        job_spec("task", now=1.7e308 if "delay" in options else 0.0, **options)
