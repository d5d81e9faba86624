"""The benchmark's report (tools/bench/report.py): goals, verdicts and the goals table.
Plain CPython on hand-made figures; no browser."""

import os
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools")


@pytest.fixture(scope="module")
def report():
    if TOOLS not in sys.path:
        sys.path.insert(0, TOOLS)
    from bench import report as module
    return module


def fig(fid, median, baseline=None, **extra):
    """A figure as the groups make it (core.figure's fields)."""
    base = None if baseline is None else {"median": baseline, "p95": baseline}
    out = {"id": fid, "label": fid, "n": 3, "unit": "ms", "latency": True,
           "value": {"median": median, "p95": median, "max": extra.pop("max", median)},
           "baseline": base, "ratio": None if baseline in (None, 0) else median / baseline}
    out.update(extra)
    return out


def test_a_ratio_goal_is_met_or_missed_by_its_factor(report):
    """Given throughput at 0.5x and 1.6x the baseline (goal >= 1.5x for batches),
    When the goals are applied, Then one is missed by 3x and the other met."""
    slow = fig("throughput_one", 50.0, 100.0, unit="jobs/s")
    fast = fig("throughput_many", 160.0, 100.0, unit="jobs/s")
    report.apply_goals([slow, fast])
    assert slow["goal"]["ok"] is False and slow["goal"]["text"] == ">= 1x"
    assert slow["goal"]["off"] == pytest.approx(2.0)
    assert fast["goal"]["ok"] is True and fast["goal"]["text"] == ">= 1.5x"


def test_the_worker_gap_goal_holds_for_every_run(report):
    """Given a worker gap whose median meets 50 ms but whose worst run does not,
    When the goals are applied, Then the goal is missed (it is checked on the max)."""
    gap = fig("worker_first_job_gap", 30.0, 16.0, max=120.0)
    report.apply_goals([gap])
    assert gap["goal"]["ok"] is False
    assert gap["goal"]["value"] == 120.0
    assert gap["goal"]["text"] == "<= 50 ms every run"
    assert "(max 120" in report.fmt_stat(gap["value"], gap)


def test_a_latency_goal_is_on_the_median_not_the_ratio(report):
    """Given a same-tab latency of 2.5 ms against a 0 ms floor (no ratio),
    When the goals are applied, Then the 3 ms goal is met all the same."""
    same = fig("latency_same", 2.5, 0.0)
    report.apply_goals([same])
    assert same["goal"]["ok"] is True


def test_the_goals_table_lists_issue_12_in_order_and_names_what_is_missing(report):
    """Given a run that measured only the two throughput figures,
    When the goals table is rendered, Then it counts their verdicts, lists all eight
    figures in the issue's order, and says which were not measured."""
    figures = report.apply_goals([fig("throughput_many", 160.0, 100.0, unit="jobs/s"),
                                  fig("throughput_one", 50.0, 100.0, unit="jobs/s")])
    text = report.render_goals(figures, quick=False)
    assert "Goals of issue 12: 1 met, 1 missed (throughput_one)" in text
    rows = [line for line in text.splitlines()
            if line.startswith(("throughput", "latency", "page", "worker"))]
    assert [row.split()[0] for row in rows] == list(report.ISSUE_12)
    assert sum("not measured in this run" in row for row in rows) == 6
