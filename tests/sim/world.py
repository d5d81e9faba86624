"""One simulated run: 3 to 5 tabs of one origin over one shared MemoryStore, the
real ``JobQueue`` in each, actions drawn from the seed, the invariants after every step,
then a quiet period with faults off that checks liveness.

Liveness (the bound is stated and checked in liveness.py) is judged in the quiet
period: faults off, no more actions, at least one tab visible and unfrozen.
"""

import random
import traceback

from brython_jobs.errors import StorageError
from brython_jobs.memory_store import MemoryStore

from . import actions
from .checks import Checker
from .liveness import Liveness
from .faulty_store import KINDS, injected
from .fakes import Origin
from .scheduler import Context, Scheduler
from .tabs import SimTab
from .trace import Trace


class Settings:
    """``duration``: virtual seconds of actions; ``tabs``: (fewest, most) tabs at start;
    ``faults``: inject store faults; ``gap``: mean virtual seconds between actions;
    ``hangs``: the rate per store operation of one that never settles (0: none)."""

    def __init__(self, duration=80.0, tabs=(3, 5), faults=True, gap=0.6, max_tabs=6,
                 script=None, config=None, ignore=(), quiet_freeze=0.3, hangs=0.0):
        self.duration = duration
        self.script = script    # [(virtual time, fn(world))] instead of drawn actions
        self.config = config    # JobQueue settings instead of drawn ones
        self.ignore = set(ignore)  # invariants not checked (to look past a known bug)
        self.quiet_freeze = quiet_freeze  # share of quiet periods begun by freezing the leader
        self.tabs = tabs
        self.faults = faults
        self.gap = gap
        self.max_tabs = max_tabs
        self.hangs = hangs


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
        # Hangs draw from their own stream: a run without them replays as it always did.
        self.hang_rng = random.Random(seed * 2 + 1) if self.settings.hangs else None
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
        tab = self.tab_of(runtime)
        if getattr(exc, "name", None) == "Stalled" and tab is not None and tab.store.hung:
            self.expected_reports += 1  # the watchdog saw a hang this run injected
            self.trace.add(name, "reported", f"{where}: {exc}")
            return
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
        kinds = KINDS + ("hang",) if self.settings.hangs else KINDS
        out = {kind: 0 for kind in kinds}
        for tab in self.tabs:
            for kind in kinds:
                out[kind] += tab.faults.injected[kind]
        return out

    def hung(self):
        """Store operations that never settled in this run, over all tabs."""
        return sum(tab.store.hung for tab in self.tabs)

    # -- the run -----------------------------------------------------------------------------
    def open_tab(self):
        tab = SimTab(self, len(self.tabs), self.draw_rates())
        if self.quiet:
            tab.faults.enabled = False
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
        """Faults off, one tab visible and thawed, no more actions: every due job runs
        (liveness.py)."""
        self.quiet = True
        self.trace.add("world", "quiet", "faults off, no more actions")
        for tab in self.tabs:
            tab.faults.enabled = False
        lead = actions.leader_tab(self)
        others = [t for t in self.tabs if t.in_queue() and t is not lead]
        if lead is not None and others and not lead.ctx.frozen \
                and self.rng.random() < self.settings.quiet_freeze:
            # The quiet period starts with the leader frozen without warning (the
            # machine slept, its main thread hung): a visible tab must take over.
            actions.freeze(self, lead, warned=False)
        live = [t for t in self.tabs if t.in_queue() and not (t is lead and t.ctx.frozen)]
        live = [t for t in live if not t.store.open_hung]
        if not any(t.visible_and_working() for t in live):
            if live:
                actions.wake_up(self, live[0])
            else:
                self.open_tab()
        Liveness(self).run()
        if not self.checker.violations:
            self.checker.lost(self.known)


def run_seed(seed, settings=None):
    return World(seed, settings).run()
