"""Command line of the simulator.

    python -m tests.sim --seed N [--trace]        replay one seed (prints its trace)
    python -m tests.sim --seeds 100000 [--start S] [--procs 2]
                                                  the long mode: many seeds, a summary

The summary gives the seeds run, store faults injected by kind, invariant checks made and
the first failing seeds (with the command that replays each); the exit status is 1 when
any seed failed. Python's string hashing is pinned (PYTHONHASHSEED=0) so that a seed
replays exactly in another process.
"""

import argparse
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _pin_hash_seed(argv):
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, "-m", "tests.sim"] + argv, env)


def run_range(args):
    """Run seeds ``start .. start+count-1``; returns a summary dict (picklable)."""
    start, count, duration, ignore, hangs = args
    from .world import Settings, run_seed
    settings = Settings(duration=duration, ignore=ignore, hangs=hangs)
    out = {"seeds": 0, "checks": 0, "steps": 0, "actions": 0, "faults": {},
           "failed": []}
    for seed in range(start, start + count):
        res = run_seed(seed, settings)
        out["seeds"] += 1
        out["checks"] += res.checks
        out["steps"] += res.steps
        out["actions"] += res.actions
        for kind, n in res.faults.items():
            out["faults"][kind] = out["faults"].get(kind, 0) + n
        if not res.ok:
            out["failed"].append((seed, res.violations[0][0], res.violations[0][1]))
    return out


def run_many(start, count, duration, procs, ignore=(), hangs=0.0):
    chunks = []
    size = max(1, (count + procs * 4 - 1) // (procs * 4))
    for s in range(start, start + count, size):
        chunks.append((s, min(size, start + count - s), duration, tuple(ignore), hangs))
    if procs <= 1:
        parts = [run_range(c) for c in chunks]
    else:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            parts = pool.map(run_range, chunks)
    total = {"seeds": 0, "checks": 0, "steps": 0, "actions": 0, "faults": {},
             "failed": []}
    for part in parts:
        for key in ("seeds", "checks", "steps", "actions"):
            total[key] += part[key]
        for kind, n in part["faults"].items():
            total["faults"][kind] = total["faults"].get(kind, 0) + n
        total["failed"].extend(part["failed"])
    total["failed"].sort()
    return total


def cpu_seconds():
    """CPU time of this process and its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def summary(total, seconds, show=10, cpu=None, ignore=()):
    faults = ", ".join(f"{k} {v}" for k, v in sorted(total["faults"].items()))
    lines = [f"seeds run: {total['seeds']}, failed: {len(total['failed'])}",
             f"faults injected: {faults}",
             f"invariant checks: {total['checks']}, steps: {total['steps']}, "
             f"actions: {total['actions']}, {seconds:.1f}s"
             + ("" if cpu is None else f" (cpu {cpu:.1f}s)")]
    by = {}
    for seed, invariant, _detail in total["failed"]:
        by.setdefault(invariant, []).append(seed)
    for invariant in sorted(by, key=lambda k: -len(by[k])):
        seeds = by[invariant]
        lines.append(f"  {len(seeds):5d} x {invariant}: seeds "
                     + ", ".join(str(s) for s in seeds[:8]) + (" ..." if len(seeds) > 8 else ""))
    for seed, invariant, detail in total["failed"][:show]:
        lines.append(f"FAILED seed {seed}: {invariant}: {detail}\n"
                     f"  replay: python -m tests.sim --seed {seed} --trace"
                     + "".join(f' --ignore "{i}"' for i in ignore))
    return "\n".join(lines)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    _pin_hash_seed(argv)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    parser = argparse.ArgumentParser(prog="python -m tests.sim")
    parser.add_argument("--seed", type=int, help="replay one seed")
    parser.add_argument("--trace", action="store_true", help="print the whole trace")
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--duration", type=float, default=None,
                        help="virtual seconds of actions per run")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--show", type=int, default=10, help="failing seeds to detail")
    parser.add_argument("--ignore", action="append", default=[], metavar="INVARIANT",
                        help="do not stop on this invariant (to look past a known bug)")
    parser.add_argument("--hangs", type=float, default=0.0, metavar="RATE",
                        help="per store operation, the chance that it never settles")
    args = parser.parse_args(argv)
    from .world import Settings, run_seed
    duration = args.duration if args.duration is not None else Settings().duration
    if args.seed is not None:
        res = run_seed(args.seed, Settings(duration=duration, ignore=args.ignore,
                                           hangs=args.hangs))
        print(res.describe(full_trace=args.trace))
        return 0 if res.ok else 1
    t0 = time.time()
    c0 = cpu_seconds()
    total = run_many(args.start, args.seeds, duration, args.procs, args.ignore, args.hangs)
    print(summary(total, time.time() - t0, args.show, cpu_seconds() - c0, args.ignore))
    return 1 if total["failed"] else 0
