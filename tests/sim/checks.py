"""The invariants, checked against the shared store and what the simulated tabs did.

Two kinds of checks:

* ``commit(...)``: every write transaction that committed is compared with the store
  before it and with what the writing tab owned (its leader epoch, the handler attempts
  it was running): no job lost, no write accepted from a fenced leader or from a
  superseded attempt, attempts never above max_attempts.
* ``state()`` after every step of the scheduler: at most one processing job per queue,
  at most one live attempt per job and per queue, at most one unfinished run per
  recurring schedule; and per tab, one terminal event per job and finish (``event``).

A violation is recorded as ``(invariant, detail)``; the run stops at the first one.
"""

PROCESSING = "processing"
PENDING = "pending"
TERMINAL = ("completed", "failed", "cancelled")
LEADER = "leader"


def owner_epoch(owner):
    """The leader epoch named by a record's ``owner`` (an int, or a richer value that
    names the epoch and the claim)."""
    if type(owner) is dict:
        return owner.get("epoch")
    if type(owner) in (list, tuple):
        return owner[0] if owner else None
    if type(owner) is str and "." in owner:
        head = owner.split(".", 1)[0]
        return int(head) if head.isdigit() else owner
    return owner


def claim_of(rec):
    return (rec["id"], rec["attempts"], rec["started_at"])


class Attempt:
    """One handler call the simulation saw start in a tab."""

    def __init__(self, tab, job, now, timeout):
        self.tab = tab
        self.job = job
        self.job_id = job.id
        self.queue = job.queue
        self.claim = (job.id, job.attempt, job.started_at)
        self.t0 = now
        self.timeout = timeout
        self.finished = False
        self.progress_calls = 0

    def timed_out(self, now):
        return self.timeout is not None and now - self.t0 >= self.timeout - 1e-6

    def live(self, now, epoch):
        """Running, and its outcome would be accepted: its tab leads under ``epoch``,
        the store's current one. (A tab thawed after it was replaced may run on a
        while, but every write it makes is fenced: that is checked on commit.)"""
        tab = self.tab
        return (not self.finished and not self.job.cancelled and not self.timed_out(now)
                and tab.ctx.alive and not tab.ctx.frozen and tab.jobs.is_leader
                and owner_epoch(getattr(self.job, "epoch", epoch)) == epoch)


class Checker:
    def __init__(self, world):
        self.world = world
        self.violations = []
        self.checks = 0
        self.attempts = {}       # (tab index, claim) -> Attempt
        self.running = {}        # id(Attempt) -> Attempt, not yet finished
        self.purged = set()
        self.terminal_seen = {}  # (tab index, job id, finished_at) -> count

    def fail(self, invariant, detail):
        if not self.violations:
            self.world.trace.add("check", "VIOLATION", f"{invariant}: {detail}")
        self.violations.append((invariant, detail))

    # -- what the tabs did ---------------------------------------------------------------
    def started(self, tab, job, timeout):
        now = self.world.sched.time
        att = Attempt(tab, job, now, timeout)
        self.attempts[(tab.index, att.claim)] = att
        self.running[id(att)] = att
        if job.attempt > job.max_attempts:
            self.fail("attempts never above max_attempts",
                      f"{job.id} started attempt {job.attempt} of {job.max_attempts}")
        return att

    def finished(self, att):
        att.finished = True
        self.running.pop(id(att), None)

    def event(self, tab, event, job):
        if event not in TERMINAL:
            return
        key = (tab.index, job.id, job.finished_at)
        count = self.terminal_seen.get(key, 0) + 1
        self.terminal_seen[key] = count
        self.checks += 1
        if count > 1:
            self.fail("one terminal event per job per tab",
                      f"tab {tab.name} got {event} of {job.id} (finished_at "
                      f"{job.finished_at}) {count} times")

    # -- every committed write --------------------------------------------------------------
    def commit(self, tab, op, jobs_before, meta_before):
        store = self.world.memory
        jobs = store.jobs
        leader = store.meta.get(LEADER) or {}
        old_leader = meta_before.get(LEADER) or {}
        writer = tab.jobs.tab_id
        self.checks += 1
        if leader.get("epoch") != old_leader.get("epoch"):
            holder = self.world.origin.locks.holder(tab.lock_name)
            if holder is not tab.ctx:
                self.fail("no write accepted from a fenced leader",
                          f"{tab.name} wrote leader epoch {leader.get('epoch')} without "
                          f"holding the lock (held by {holder})")
        for job_id in jobs_before:
            if job_id not in jobs:
                old = jobs_before[job_id]
                if old["status"] not in TERMINAL:
                    self.fail("no job lost", f"{tab.name} {op} deleted {job_id} while "
                                             f"{old['status']}")
                self.purged.add(job_id)
        changes = []
        for job_id in jobs:
            new = jobs[job_id]
            old = jobs_before.get(job_id)
            if old is new:
                continue
            changes.append(f"{job_id[-6:]} {old['status'] if old else 'new'}->"
                           f"{new['status']}")
            if new["attempts"] > new["max_attempts"]:
                self.fail("attempts never above max_attempts",
                          f"{tab.name} stored {job_id} with attempts {new['attempts']} "
                          f"of {new['max_attempts']}")
            if old is None:
                continue
            self._transition(tab, op, writer, leader, old, new)
        metas = [k for k in store.meta if store.meta[k] is not meta_before.get(k)]
        self.world.trace.add(tab.name, "commit " + op, ", ".join(changes + metas))

    def _transition(self, tab, op, writer, leader, old, new):
        was, now_status = old["status"], new["status"]
        code = (new.get("error") or {}).get("code")
        lead_ok = leader.get("tab") == writer
        if was == PENDING and now_status == PROCESSING:
            if not lead_ok or leader.get("epoch") != owner_epoch(new["owner"]):
                self.fail("no write accepted from a fenced leader",
                          f"{tab.name} claimed {new['id']} under owner {new['owner']!r} "
                          f"while the leader is {leader}")
            return
        if was != PROCESSING:
            return
        if now_status == "cancelled" and code == "cancelled":
            return  # any tab may cancel
        if code == "interrupted":
            if not lead_ok:
                self.fail("no write accepted from a fenced leader",
                          f"{tab.name} recovered {new['id']} while the leader is {leader}")
            return
        if not lead_ok or leader.get("epoch") != owner_epoch(old["owner"]):
            self.fail("no write accepted from a fenced leader",
                      f"{tab.name} {op} changed {old['id']} owned by {old['owner']!r} "
                      f"({was} -> {now_status}, {code}) while the leader is {leader}")
            return
        att = self.attempts.get((tab.index, claim_of(old)))
        now = self.world.sched.time
        if now_status == PROCESSING:
            if new.get("progress") != old.get("progress") and (
                    att is None or att.progress_calls <= 0):
                self.fail("no write accepted from a superseded attempt",
                          f"{tab.name} stored progress of {old['id']} attempt "
                          f"{old['attempts']} that no running call of it asked for")
            return
        if code == "no_handler":
            return
        if att is None:
            self.fail("no write accepted from a superseded attempt",
                      f"{tab.name} stored an outcome ({now_status}, {code}) for "
                      f"{old['id']} attempt {old['attempts']} that it never ran")
        elif not att.finished and not att.timed_out(now):
            self.fail("no write accepted from a superseded attempt",
                      f"{tab.name} stored an outcome ({now_status}, {code}) for "
                      f"{old['id']} attempt {old['attempts']} while that attempt was "
                      f"still running (started {now - att.t0:.3f}s ago)")

    # -- after every step ----------------------------------------------------------------
    def state(self):
        self.checks += 1
        now = self.world.sched.time
        jobs = self.world.memory.jobs
        busy = {}
        live_runs = {}
        for rec in jobs.values():
            status = rec["status"]
            if status == PROCESSING:
                q = rec["queue"]
                if q in busy:
                    self.fail("at most one running job per queue",
                              f"{rec['id']} and {busy[q]} both processing in {q}")
                busy[q] = rec["id"]
            if rec.get("schedule") and status not in TERMINAL:
                s = rec["schedule"]
                if s in live_runs:
                    self.fail("one run per recurring schedule",
                              f"{rec['id']} and {live_runs[s]} both unfinished runs of {s}")
                live_runs[s] = rec["id"]
        if not self.running:
            return
        per_job = {}
        per_queue = {}
        epoch = (self.world.memory.meta.get(LEADER) or {}).get("epoch")
        for att in self.running.values():
            if not att.live(now, epoch):
                continue
            other = per_job.get(att.job_id)
            if other is not None:
                self.fail("no two attempts of one job running at once",
                          f"{att.job_id}: attempt {other.claim[1]} in {other.tab.name} "
                          f"and attempt {att.claim[1]} in {att.tab.name}")
            per_job[att.job_id] = att
            other = per_queue.get(att.queue)
            if other is not None and other.job_id != att.job_id:
                self.fail("at most one running job per queue",
                          f"handlers of {other.job_id} ({other.tab.name}) and "
                          f"{att.job_id} ({att.tab.name}) both live in {att.queue}")
            per_queue[att.queue] = att

    def lost(self, known):
        """At the end: every id an enqueue returned still exists or was purged."""
        jobs = self.world.memory.jobs
        for job_id in known:
            self.checks += 1
            if job_id not in jobs and job_id not in self.purged:
                self.fail("no job lost", f"{job_id} was enqueued and is gone")
