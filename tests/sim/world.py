"""One simulated run: 3 to 5 tabs of one origin over one shared MemoryStore, the
real ``JobQueue`` in each, actions drawn from the seed, the invariants after every step,
then a quiet period with faults off that checks liveness.

Liveness bound (stated, and checked in the quiet period): while at least one tab is
visible, unfrozen and its store has no faults, a queue that is not paused, has a due
pending job and runs nothing (with a free concurrency slot) starts a job within
``LIVENESS = 1.5 * leader_silence + 5`` seconds of virtual time; and by the end of the
quiet period every due job has run.
"""

import traceback

from brython_jobs.errors import StorageError
from brython_jobs.memory_store import MemoryStore

from . import actions
from .checks import Checker
from .faulty_store import KINDS, injected
from .fakes import Origin
from .scheduler import Context, Scheduler
from .tabs import SimTab
from .trace import Trace


class Settings:
    """``duration``: virtual seconds of actions; ``tabs``: (fewest, most) tabs at start;
    ``faults``: inject store faults; ``gap``: mean virtual seconds between actions."""

    def __init__(self, duration=80.0, tabs=(3, 5), faults=True, gap=0.6, max_tabs=6,
                 script=None, config=None):
        self.duration = duration
        self.script = script    # [(virtual time, fn(world))] instead of drawn actions
        self.config = config    # JobQueue settings instead of drawn ones
        self.tabs = tabs
        self.faults = faults
        self.gap = gap
        self.max_tabs = max_tabs


class Result:
    def __init__(self, world):
        self.seed = world.seed
        self.violations = world.checker.violations
        self.checks = world.checker.checks
        self.steps = world.sched.steps
        self.actions = world.actions
        self.faults = world.fault_counts()
        self.trace = world.trace
        self.config = world.config

    @property
    def ok(self):
        return not self.violations

    def describe(self, full_trace=False):
        lines = [f"seed {self.seed}: " + ("ok" if self.ok else "FAILED"),
                 f"config {self.config}"]
        for invariant, detail in self.violations[:5]:
            lines.append(f"  invariant: {invariant}\n    {detail}")
        lines.append("trace (virtual seconds, tab, what):")
        lines.append(self.trace.format(None if full_trace else 150))
        return "\n".join(lines)


class World:
    def __init__(self, seed, settings=None):
        self.seed = seed
        self.settings = settings or Settings()
        self.sched = Scheduler(seed)
        self.rng = self.sched.rng
        self.trace = Trace(self.sched)
        self.origin = Origin(self.sched, self.trace)
        self.origin.on_report = self.on_report
        self.memory = MemoryStore()
        self.checker = Checker(self)
        self.ctx = Context(self.sched, "world")
        self.tabs = []
        self.known = []
        self.actions = 0
        self.expected_reports = 0
        self.quiet = False
        self.config = self._draw_config()
        if self.settings.config:
            self.config.update(self.settings.config)
        self.triggers = {"wait": self.rng.choice([0.5, 2.0]), "max_wait": 6.0,
                         "interval": self.rng.choice([3.0, 10.0])}
        self.liveness = 1.5 * self.config["leader_silence"] + 5.0
        self.sched.after_step = self.checker.state

    def _draw_config(self):
        r = self.rng
        return {"retries": r.choice([0, 1, 2, 3]), "backoff": r.choice([0.0, 0.5, 2.0]),
                "backoff_max": 8.0, "keep_completed": r.choice([None, 20.0, 86400.0]),
                "keep_failed": r.choice([None, 30.0]),
                "leader_silence": r.choice([2.0, 4.0, 10.0]),
                "concurrency": r.choice([1, 2, 4])}

    def draw_rates(self):
        if not self.settings.faults:
            return {}
        if type(self.settings.faults) is dict:
            return dict(self.settings.faults)
        r = self.rng
        level = r.choice([0.0, 0.02, 0.08, 0.2])
        return {"transient": level, "full": level * r.random() / 2,
                "commit": level * r.random() / 2}

    # -- hooks from the tabs ---------------------------------------------------------------
    def observe(self, store, op, jobs_before, meta_before):
        self.checker.commit(store.tab, op, jobs_before, meta_before)

    def tab_of(self, runtime):
        for tab in self.tabs:
            if tab.rt is runtime:
                return tab
        return None

    def on_report(self, runtime, where, exc):
        name = runtime.ctx.name
        if injected(exc) or (isinstance(exc, StorageError) and not self.quiet
                             and injected(exc.__cause__ or exc.__context__)):
            self.expected_reports += 1
            self.trace.add(name, "reported", f"{where}: {exc}")
            return
        frames = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.trace.add(name, "UNEXPECTED", f"{where}: {type(exc).__name__}: {exc}\n{frames}")
        self.checker.fail("no unexpected exception",
                          f"{name} reported {where}: {type(exc).__name__}: {exc}")

    def fault_counts(self):
        out = {kind: 0 for kind in KINDS}
        for tab in self.tabs:
            for kind in KINDS:
                out[kind] += tab.faults.injected[kind]
        return out

    # -- the run -----------------------------------------------------------------------------
    def open_tab(self):
        tab = SimTab(self, len(self.tabs), self.draw_rates())
        self.tabs.append(tab)
        self.trace.add(tab.name, "open", f"faults {tab.faults.rates}")
        return tab

    def _act(self):
        if self.quiet or self.checker.violations:
            return
        self.actions += 1
        actions.act(self)
        self.sched.later(self.rng.expovariate(1 / self.settings.gap), self.ctx, self._act)

    def _scripted(self, fn):
        def run():
            if not self.checker.violations:
                self.actions += 1
                fn(self)
        return run

    def _run_to(self, until):
        sched = self.sched
        while not self.checker.violations:
            nxt = sched.next_time()
            if nxt is None or nxt > until:
                break
            sched.step()
        if not self.checker.violations and sched.time < until:
            sched.time = until

    def run(self):
        """Run the actions, then the quiet period; returns a ``Result``."""
        try:
            count = self.rng.randint(*self.settings.tabs)
            for _ in range(count):
                self.open_tab()
            if self.settings.script is None:
                self.sched.later(0.5, self.ctx, self._act)
            else:
                for when, fn in self.settings.script:
                    self.sched.at(when, self.ctx, self._scripted(fn))
            self._run_to(self.settings.duration)
            if not self.checker.violations:
                self._quiet()
        finally:
            for tab in self.tabs:
                for task in tab.ctx.tasks:
                    task.close()
        return Result(self)

    def _quiet(self):
        """Faults off, one tab visible and thawed, no more actions: every due job runs."""
        self.quiet = True
        self.trace.add("world", "quiet", "faults off, no more actions")
        for tab in self.tabs:
            tab.faults.enabled = False
        live = [t for t in self.tabs if t.ctx.alive]
        if not any(t.visible_and_working() for t in live):
            if live:
                actions.wake_up(self, live[0])
            else:
                self.open_tab()
        start = self.sched.time
        deadline = start + self.liveness + self._work_left() + 10.0
        idle = {}
        while self.sched.time < deadline and not self.checker.violations:
            self._run_to(self.sched.time + 0.5)
            if self._drained() and self.sched.time > start + self.liveness:
                break
            self._check_idle(idle)
        if not self.checker.violations:
            self.checker.lost(self.known)
        if not self.checker.violations and not self._drained():
            left = [(r["id"][-6:], r["queue"], r["status"], r["run_at"] - self.origin.wall())
                    for r in self._due()]
            self.checker.fail("liveness", f"due jobs still not done {deadline - start:.0f}s "
                              f"into the quiet period: {left}{self._leader_note()}")

    def _leader_note(self):
        leader = self.memory.meta.get("leader") or {}
        for tab in self.tabs:
            if tab.jobs.tab_id == leader.get("tab") and tab.ctx.alive:
                state = ("frozen" if tab.ctx.frozen else "hidden" if tab.ctx.hidden
                         else "visible")
                return f"; the leader {tab.name} is {state}"
        return "; no live leader"

    def _work_left(self):
        total = 0.0
        for rec in self.memory.jobs.values():
            if rec["status"] in ("pending", "processing"):
                p = rec["payload"] if type(rec["payload"]) is dict else {}
                tries = rec["max_attempts"] - rec["attempts"] + 1
                total += tries * (p.get("t", 0.1) + self.config["backoff_max"] + 0.5)
        return total

    def _paused(self):
        return set(self.memory.meta.get("paused") or [])

    def _due(self):
        now = self.origin.wall()
        paused = self._paused()
        out = []
        for rec in self.memory.jobs.values():
            if rec["queue"] in paused:
                continue
            if rec["status"] == "processing" or (
                    rec["status"] == "pending" and rec["run_at"] <= now):
                out.append(rec)
        return out

    def _drained(self):
        return not self._due()

    def _check_idle(self, idle):
        now = self.origin.wall()
        paused = self._paused()
        busy = set()
        due = set()
        for rec in self.memory.jobs.values():
            if rec["status"] == "processing":
                busy.add(rec["queue"])
            elif rec["status"] == "pending" and rec["run_at"] <= now \
                    and rec["queue"] not in paused:
                due.add(rec["queue"])
        free = len(busy) < self.config["concurrency"]
        t = self.sched.time
        for q in list(idle):
            if q not in due or q in busy or not free:
                del idle[q]
        for q in due:
            if q in busy or not free:
                continue
            since = idle.setdefault(q, t)
            if t - since > self.liveness:
                self.checker.fail("liveness", f"queue {q} had a due job and ran nothing for "
                                  f"{t - since:.1f}s (bound {self.liveness:.1f}s) with a "
                                  "visible working tab" + self._leader_note())
                return


def run_seed(seed, settings=None):
    return World(seed, settings).run()
