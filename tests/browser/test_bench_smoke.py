"""The benchmark tool runs end to end (tiny sizes). Benchmarks are not tests: nothing
about timings is asserted here, only that every figure could be measured and that each
figure of issue 12's table is reported with its baseline, ratio, goal and verdict."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Issue 12's table, by the ids of the bench's figures.
ISSUE_12_FIGURES = ("throughput_one", "throughput_many", "latency_follower", "latency_same",
                    "page_bundle_warm", "page_bundle_cold", "page_static_warm",
                    "worker_first_job_gap")


def test_the_benchmark_runs_with_tiny_sizes(tmp_path, engine):
    """Given the benchmark tool, When it runs with --quick in this test's engine,
    Then it exits 0, prints the table with its baselines, the goals section and where
    the time goes, and writes the JSON, in which every figure of issue 12 has a
    baseline, a ratio and a met/missed verdict (whichever it is: the sizes are too small
    to mean anything)."""
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--quick",
                          "--browser", engine, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Throughput" in run.stdout and "baseline" in run.stdout
    assert "Page cost" in run.stdout
    assert "Goals of issue 12" in run.stdout
    assert "Where the time goes" in run.stdout
    assert "not measured" not in run.stdout
    figures = {fig["id"]: fig for fig in json.loads(out.read_text())["figures"]}
    for fid in ISSUE_12_FIGURES:
        fig = figures[fid]
        assert fig["value"]["median"] is not None, fig
        assert fig["baseline"]["median"] is not None, fig
        # Firefox and WebKit round performance.now() to 1 ms: a floor may read 0, no ratio.
        assert fig["ratio"] is not None or fig["baseline"]["median"] == 0, fig
        assert fig["goal"]["text"] and fig["goal"]["ok"] in (True, False), fig
