"""Liveness, judged in the quiet period at the end of a run (faults off, no more
actions, at least one tab visible, unfrozen and with a working store).

The stated bound, ``bound()``, on virtual time:

* while the leader's last heartbeat says its page is visible (or there is no leader):
  ``1.5 * leader_silence + 5 s``: a frozen leader is replaced after ``leader_silence``
  of silence (seen on about ``leader_silence / 4`` watches), plus store latency and the
  new leader's start-up;
* while it says the page is hidden: ``HIDDEN_SILENCE + leader_silence + 5 s``: a hidden
  page's timers may wake once a minute, and followers give a hidden leader
  ``HIDDEN_SILENCE`` (leadership.py) before they take over.

Within that bound, sampled every 0.5 s:

* a queue that is not paused, has a due pending job and runs nothing while a
  concurrency slot is free starts a job (``idle``);
* a job that is ``processing`` is being run: some live, unfrozen tab has its handler
  call for that attempt running (``stuck``; a frozen runner must be replaced);

A run with hangs (``--hangs``) adds ``(2 * stall.FACTOR + 1) * leader_silence`` once a
store operation never settled: the leader's watchdog ends its epoch within ``2 * FACTOR *
leader_silence`` (two checks must see the call overdue), and the tab joins again
``leader_silence`` later.

And at the end every due job has run (the quiet period lasts until nothing is due, at
most ``MAX_QUIET`` virtual seconds).
"""

try:
    from brython_jobs.leadership import HIDDEN_SILENCE
except ImportError:  # an older core without the rule: hidden leaders get no grace
    HIDDEN_SILENCE = 0.0
try:
    from brython_jobs.stall import FACTOR as STALL_FACTOR
except ImportError:  # an older core without the watchdog
    STALL_FACTOR = 0.0

MAX_QUIET = 1800.0
SAMPLE = 0.5


class Liveness:
    def __init__(self, world):
        self.world = world
        self.silence = world.config["leader_silence"]
        self.idle = {}
        self.stuck = {}
        self.epoch = None

    def bound(self):
        leader = self.world.memory.meta.get("leader") or {}
        stalls = (2 * STALL_FACTOR + 1) * self.silence if self.world.hung() else 0.0
        if leader.get("hidden") and leader.get("beat") is not None:
            return HIDDEN_SILENCE + self.silence + 5.0 + stalls
        return 1.5 * self.silence + 5.0 + stalls

    def run(self):
        world = self.world
        sched = world.sched
        start = sched.time
        while sched.time < start + MAX_QUIET and not world.checker.violations:
            world._run_to(sched.time + SAMPLE)
            if not self.due() and sched.time > start + self.bound():
                return
            self.sample()
        if not world.checker.violations and self.due():
            left = [(r["id"][-6:], r["queue"], r["status"]) for r in self.due()]
            world.checker.fail("liveness", f"due jobs still not done {MAX_QUIET:.0f}s into "
                               f"the quiet period: {left}{self.note()}")

    def paused(self):
        return set(self.world.memory.meta.get("paused") or [])

    def due(self):
        now = self.world.origin.wall()
        paused = self.paused()
        out = []
        for rec in self.world.memory.jobs.values():
            if rec["queue"] in paused:
                continue
            if rec["status"] == "processing" or (
                    rec["status"] == "pending" and rec["run_at"] <= now):
                out.append(rec)
        return out

    def note(self):
        world = self.world
        leader = world.memory.meta.get("leader") or {}
        for tab in world.tabs:
            if tab.jobs.tab_id == leader.get("tab") and tab.ctx.alive:
                state = ("frozen" if tab.ctx.frozen else "hidden" if tab.ctx.hidden
                         else "visible")
                return f"; the leader {tab.name} is {state}"
        return "; no live leader"

    def _running_claims(self):
        claims = set()
        for att in self.world.checker.running.values():
            if att.tab.ctx.alive and not att.tab.ctx.frozen:
                claims.add(att.claim)
        return claims

    def sample(self):
        world = self.world
        now = world.origin.wall()
        t = world.sched.time
        bound = self.bound()
        epoch = (world.memory.meta.get("leader") or {}).get("epoch")
        if epoch != self.epoch:
            # A new leader took over: it gets the whole bound from now (the wait for the
            # takeover itself was judged under the old leader's bound).
            self.epoch = epoch
            self.idle.clear()
            self.stuck.clear()
        paused = self.paused()
        busy = set()
        due = set()
        processing = []
        for rec in world.memory.jobs.values():
            if rec["status"] == "processing":
                busy.add(rec["queue"])
                processing.append(rec)
            elif rec["status"] == "pending" and rec["run_at"] <= now \
                    and rec["queue"] not in paused:
                due.add(rec["queue"])
        free = len(busy) < world.config["concurrency"]
        for q in list(self.idle):
            if q not in due or q in busy or not free:
                del self.idle[q]
        for q in due:
            if q in busy or not free:
                continue
            since = self.idle.setdefault(q, t)
            if t - since > bound:
                world.checker.fail("liveness", f"queue {q} had a due job and ran nothing "
                                   f"for {t - since:.1f}s (bound {bound:.1f}s) with a "
                                   "visible working tab" + self.note())
                return
        claims = self._running_claims()
        seen = set()
        for rec in processing:
            claim = (rec["id"], rec["attempts"], rec["started_at"])
            seen.add(claim)
            if claim in claims:
                self.stuck.pop(claim, None)
                continue
            since = self.stuck.setdefault(claim, t)
            if t - since > bound:
                world.checker.fail("liveness", f"{rec['id'][-6:]} ({rec['queue']}) stayed "
                                   f"processing for {t - since:.1f}s with no tab running "
                                   f"it (bound {bound:.1f}s)" + self.note())
                return
        for claim in list(self.stuck):
            if claim not in seen:
                del self.stuck[claim]
