"""Time arithmetic (timing.py), with exact numbers."""

import pytest

from brython_jobs.timing import (
    compute_backoff, debounce_due, is_expired, next_recurrence, throttle_due,
)


# -- compute_backoff ----------------------------------------------------------------

@pytest.mark.parametrize("attempt, delay", [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)])
def test_backoff_doubles_per_attempt(attempt, delay):
    """Given backoff 2 and no jitter, When attempt n failed, Then wait 2 * 2**(n-1)."""
    assert compute_backoff(attempt, 2.0, 300.0, 0.0) == delay


def test_backoff_is_capped():
    """Given backoff 2 capped at 10, When attempt 4 (nominal 16) failed, Then wait 10."""
    assert compute_backoff(4, 2.0, 10.0, 0.0) == 10.0


def test_backoff_without_cap_keeps_growing():
    """Given no cap, When attempt 11 failed with backoff 1, Then wait 2**10."""
    assert compute_backoff(11, 1.0, None, 0.0) == 1024.0


@pytest.mark.parametrize("rand", [0.0, 0.25, 0.5, 0.999999])
def test_jitter_only_shortens_by_up_to_ten_percent(rand):
    """Given a nominal delay of 8 (and one capped at 10),
    When rand is anywhere in [0, 1),
    Then the delay lies in (90%, 100%] of nominal, so the cap is a true upper bound."""
    d = compute_backoff(3, 2.0, 300.0, rand)
    assert 7.2 < d <= 8.0
    capped = compute_backoff(30, 2.0, 10.0, rand)
    assert 9.0 < capped <= 10.0


def test_jitter_is_proportional_to_rand():
    """Given rand 0.5, Then the nominal 8s delay is shortened by 5%."""
    assert compute_backoff(3, 2.0, 300.0, 0.5) == pytest.approx(8.0 * 0.95)


def test_zero_backoff_retries_at_once():
    """Given backoff=0, When any attempt failed, Then the retry is immediate."""
    assert compute_backoff(1, 0, 300.0, 0.7) == 0.0
    assert compute_backoff(50, 0.0, None, 0.0) == 0.0


@pytest.mark.parametrize("attempt", [61, 100, 2000, 10 ** 9])
def test_huge_attempt_numbers_do_not_overflow(attempt):
    """Given an absurd attempt number, Then the delay is the cap (or a finite number
    with no cap) and nothing overflows."""
    assert compute_backoff(attempt, 2.0, 300.0, 0.0) == 300.0
    uncapped = compute_backoff(attempt, 2.0, None, 0.0)
    assert uncapped == 2.0 * 2 ** 60


def test_attempt_zero_or_below_uses_the_base_delay():
    """Given attempt 0, Then the delay is the base backoff."""
    assert compute_backoff(0, 3.0, 300.0, 0.0) == 3.0


# -- is_expired ---------------------------------------------------------------------

def test_is_expired_edges():
    """Given a job whose limit is t=110,
    Then at 109 and at exactly 110 it may still start; just past 110 it is expired."""
    rec = {"expires_at": 110.0}
    assert not is_expired(rec, 109.0)
    assert not is_expired(rec, 110.0)
    assert is_expired(rec, 110.000001)


def test_no_ttl_never_expires():
    """Given no expires_at, Then the job never expires."""
    assert not is_expired({"expires_at": None}, 1e12)
    assert not is_expired({}, 1e12)


# -- next_recurrence ----------------------------------------------------------------

def test_next_run_is_one_interval_after_the_previous_due_time():
    """Given a run due at 100 every 60s that finished at 130, Then the next is due 160."""
    assert next_recurrence(100.0, 60.0, 130.0) == 160.0


def test_a_long_gap_collapses_into_one_catch_up():
    """Given a run due at 100 every 60s that only ran at t=1000 (tabs were closed),
    Then the next is due at the first grid point after now (1060), not at 160:
    the late run was the single catch-up."""
    assert next_recurrence(100.0, 60.0, 1000.0) == 1060.0


def test_finishing_exactly_on_a_grid_point_moves_past_it():
    """Given now exactly equal to prev + k*interval, Then the next due is after now."""
    assert next_recurrence(100.0, 60.0, 160.0) == 220.0
    assert next_recurrence(100.0, 60.0, 400.0) == 460.0


@pytest.mark.parametrize("prev, interval, now", [
    (0.1, 0.1, 0.3), (1764345600.123, 0.7, 1764349999.9), (1764345600.5, 600, 1764345600.5),
])
def test_next_recurrence_is_always_after_now_and_within_one_interval(prev, interval, now):
    """Given float due times and intervals, Then the next due time is after now and at
    most one interval away (never in the past, never a skipped period)."""
    due = next_recurrence(prev, interval, now)
    assert now < due <= now + interval


# -- debounce_due / throttle_due ---------------------------------------------------

def test_debounce_runs_wait_after_the_last_call():
    """Given a burst from t=10 to t=25 with wait 2 and no max_wait, Then due at 27."""
    assert debounce_due(10.0, 25.0, 2.0, None) == 27.0


def test_debounce_runs_no_later_than_max_wait_after_the_first_call():
    """Given a burst from t=10 to t=25, wait 2, max_wait 8, Then due at 18."""
    assert debounce_due(10.0, 25.0, 2.0, 8.0) == 18.0
    # max_wait not reached yet: the wait rule applies
    assert debounce_due(10.0, 12.0, 2.0, 8.0) == 14.0


def test_throttle_first_call_runs_now():
    """Given no previous run, When called at 50, Then due at 50."""
    assert throttle_due(50.0, None, 10.0) == 50.0


def test_throttle_inside_the_interval_waits_for_its_end():
    """Given the previous run was due at 45 with interval 10,
    When called at 50, Then due at 55; when called at 60, Then due now."""
    assert throttle_due(50.0, 45.0, 10.0) == 55.0
    assert throttle_due(60.0, 45.0, 10.0) == 60.0
    assert throttle_due(55.0, 45.0, 10.0) == 55.0
