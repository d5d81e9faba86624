"""The deterministic simulation of many tabs with faults, driving the real JobQueue.

* ``test_regression_seeds``: seeds that once broke an invariant (tests/sim/FINDINGS.md)
  must now pass; a new failing seed is kept by adding it to ``REGRESSION_SEEDS``.
* ``test_many_seeds``: 1,000 seeds of 3-5 tabs with every fault kind (transient store
  errors, quota errors, failed commits; close, crash, freeze, hide, clock steps) in a
  subprocess that pins string hashing, so a failing seed printed here replays exactly
  with ``python -m tests.sim --seed N --trace``. Only seeds of open findings may fail.
* ``test_hang_seeds`` and ``test_many_seeds_with_hangs``: the same with store operations
  that never settle (``--hangs 0.01``: 1% of operations), which the leader's and the
  followers' watchdogs must outlive (stall.py).
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = 1000
BUDGET = 90.0   # seconds for the 1,000 seeds on the 2-core machine (2 processes)

# Findings still open in the core (FINDINGS.md): a seed of an open finding is an expected
# failure (xfail, strict: once the finding is fixed it passes and the mark must go), and
# invariants of an open finding so frequent that it would hide everything else can be
# left unchecked in the seeded runs (IGNORED) while scripted scenarios keep it in view.
OPEN = set()
IGNORED = ()

# seed -> finding: each seed broke an invariant on main f2e2037 (FINDINGS.md); all pass
# since the fixes. A seed's history depends on the core's code, so these guard less
# than the scripted scenarios, but they are cheap and keep the stories replayable.
REGRESSION_SEEDS = {
    22: "S6", 24: "S6", 30: "S1", 46: "S1", 122: "S3", 142: "S1", 167: "S1", 172: "S6",
    188: "S3", 194: "S1", 196: "S1", 231: "S1", 329: "S6", 390: "S3", 393: "S4",
    417: "S1", 418: "S1", 460: "S1", 486: "S1", 521: "S1", 577: "S1", 578: "S1",
    681: "S1", 731: "S4", 798: "S4",
    # found on main 2d46732 in seeds 1000-3999 (fixed since):
    3464: "S9", 3492: "S10",
    # found on main after the debounce fix, 76 in seeds 0-999, the others in 1000-5999
    # (fixed since):
    76: "S12", 1646: "S13", 5051: "S14", 5384: "S13",
}


# Seeds that broke an invariant with --hangs RATE (FINDINGS.md S15-S17, and "W": the
# watchdog of stall.py itself while it was built); seed -> (finding, rate). All pass.
HANGS = 0.01
HANG_SEEDS = {2: ("S16", HANGS), 38: ("S15", HANGS), 40381: ("S17", 0.05),
              20565: ("W", HANGS), 21100: ("W", HANGS), 21179: ("W", HANGS),
              21710: ("W", HANGS)}
HANG_RUN = 200  # seeds of test_many_seeds_with_hangs


def _core_takes_a_runtime():
    try:
        import inspect
        from brython_jobs.jobqueue import JobQueue
    except ImportError:
        return False
    return "runtime" in inspect.signature(JobQueue).parameters


pytestmark = pytest.mark.skipif(not _core_takes_a_runtime(),
                                reason="JobQueue does not take an injected runtime yet")


def _cli(*args, timeout=300):
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "tests.sim", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_seed_replays_exactly():
    """Given one seed run twice, then both traces are the same, event for event."""
    from tests.sim.world import run_seed
    first = run_seed(12345).trace.format()
    assert first == run_seed(12345).trace.format()
    assert first != run_seed(12346).trace.format()


def _seed_param(seed):
    finding = REGRESSION_SEEDS[seed]
    marks = ()
    if finding in OPEN:
        marks = pytest.mark.xfail(strict=True, reason=f"FINDINGS.md {finding}: open")
    return pytest.param(seed, id=f"{seed}-{finding}", marks=marks)


@pytest.mark.parametrize("seed", [_seed_param(s) for s in sorted(REGRESSION_SEEDS)])
def test_regression_seeds(seed):
    """Given a seed that once broke an invariant, when it runs, then none breaks."""
    from tests.sim.world import Settings, run_seed
    res = run_seed(seed, Settings(ignore=IGNORED))
    assert res.ok, res.describe()


def test_many_seeds():
    """Given 1,000 seeds with every fault kind, when they run (2 processes), then no
    invariant breaks, every kind of fault was injected, and the work fits in 90 s on
    two cores (CPU seconds / 2: wall time also counts other users of the machine)."""
    args = ["--seeds", str(SEEDS), "--procs", "2", "--show", str(SEEDS)]
    for invariant in IGNORED:
        args += ["--ignore", invariant]
    proc = _cli(*args)
    out = proc.stdout + proc.stderr
    assert f"seeds run: {SEEDS}," in out, out
    failed = set(int(n) for n in re.findall(r"FAILED seed (\d+):", out))
    open_seeds = set(s for s in REGRESSION_SEEDS if REGRESSION_SEEDS[s] in OPEN)
    assert failed <= open_seeds, "new failing seeds (not in FINDINGS.md): " \
        f"{sorted(failed - open_seeds)}\n{out}"
    faults = dict((k, int(v)) for k, v in re.findall(r"(\w+) (\d+)", out.split(
        "faults injected:")[1].split("\n")[0]))
    assert set(faults) == {"transient", "full", "commit"} and min(faults.values()) > 0
    cpu = float(re.search(r"\(cpu ([\d.]+)s\)", out).group(1))
    assert cpu / 2 < BUDGET, out
    assert proc.returncode == (1 if failed else 0), out


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"{s}-{HANG_SEEDS[s][0]}")
                                  for s in sorted(HANG_SEEDS)])
def test_hang_seeds(seed):
    """Given a seed that once broke an invariant when store operations hung, when it
    runs with the same hang rate, then none breaks."""
    from tests.sim.world import Settings, run_seed
    res = run_seed(seed, Settings(hangs=HANG_SEEDS[seed][1]))
    assert res.ok, res.describe()


def test_many_seeds_with_hangs():
    """Given 200 seeds in which 1% of store operations never settle (beside every other
    fault), when they run (2 processes), then no invariant breaks, liveness included
    (its bound grows by the watchdog's 3 x leader_silence and the rejoin), and hangs
    were injected."""
    proc = _cli("--seeds", str(HANG_RUN), "--start", "10000", "--procs", "2",
                "--show", str(HANG_RUN), "--hangs", str(HANGS))
    out = proc.stdout + proc.stderr
    assert f"seeds run: {HANG_RUN}," in out, out
    failed = sorted(int(n) for n in re.findall(r"FAILED seed (\d+):", out))
    assert failed == [], f"new failing seeds with --hangs {HANGS}: {failed}\n{out}"
    hangs = int(re.search(r"hang (\d+)", out).group(1))
    assert hangs > HANG_RUN, out  # about one per seed at least
    assert proc.returncode == 0, out
