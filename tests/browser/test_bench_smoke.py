"""The benchmark tool runs end to end (tiny sizes). Benchmarks are not tests: nothing
about timings is asserted here, only that every figure could be measured."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_benchmark_runs_with_tiny_sizes(tmp_path, engine):
    """Given the benchmark tool, When it runs with --quick in this test's engine,
    Then it exits 0, prints the table with its baselines and writes the JSON."""
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--quick",
                          "--browser", engine, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Throughput" in run.stdout and "baseline" in run.stdout
    assert "Page cost" in run.stdout
    assert out.exists() and out.stat().st_size > 0
