"""The queue's core operations over any ``Store``, with an injected clock.

Pure Python (no browser imports): the browser facade (jobqueue.py) and the CPython tests
drive the same code. Each operation is one store transaction whose logic is a plain
function of what the transaction read, so two tabs racing on a job always see each
other's committed writes.

Leadership is fenced by an epoch: becoming leader increments ``meta["leader"]["epoch"]``
in a transaction, a claimed job records the epoch as its ``owner``, and every write a
leader makes checks, in the same transaction, that the stored epoch is still its own.
A leader that was frozen and replaced therefore cannot write anything when it wakes.
"""

from . import timing
from . import transitions as tr
from .picking import plan
from .records import (
    PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, DEFAULT_QUEUE, ON_EXPIRE,
    check_name, check_number, check_payload, new_record, touch,
)

LEADER = "leader"
PAUSED = "paused"
SEQ = "seq"
SCHEDULE = "schedule:"
THROTTLE = "throttle:"


class Fenced(Exception):
    """This tab is no longer the leader: another tab took over. Nothing was written."""


class Config:
    """Queue-wide settings, as given to ``JobQueue``."""

    def __init__(self, retries=3, backoff=2.0, backoff_max=300.0, keep_completed=86400.0,
                 leader_silence=10.0, concurrency=4, keep_failed=None):
        if type(retries) is not int or retries < 0:
            raise ValueError(f"retries must be an int >= 0, not {retries!r}")
        check_number(backoff, "backoff", allow_none=False, minimum=0)
        check_number(backoff_max, "backoff_max", minimum=0)
        check_number(keep_completed, "keep_completed", minimum=0)
        check_number(leader_silence, "leader_silence", allow_none=False, minimum=0.1)
        if type(concurrency) is not int or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, not {concurrency!r}")
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.keep_completed = keep_completed
        self.leader_silence = leader_silence
        self.concurrency = concurrency
        self.keep_failed = keep_failed


def job_spec(name, payload=None, queue=None, priority=0, delay=None, run_at=None, ttl=None,
             on_expire="fail", retries=None, key=None, now=0.0, default_queue=None,
             default_retries=3):
    """Validate an enqueue request and return the fields of its record.

    Raises ``TypeError``/``ValueError`` before anything is written."""
    check_name(name, "name")
    check_payload(payload)
    if queue is None:
        queue = default_queue or DEFAULT_QUEUE
    check_name(queue, "queue")
    if type(priority) not in (int, float) or type(priority) is bool or priority != priority:
        raise TypeError(f"priority must be a number, not {priority!r}")
    if delay is not None and run_at is not None:
        raise ValueError("give delay or run_at, not both")
    check_number(delay, "delay", minimum=0)
    check_number(run_at, "run_at")
    check_number(ttl, "ttl", minimum=0)
    if on_expire not in ON_EXPIRE:
        raise ValueError(f"on_expire must be 'fail' or 'cancel', not {on_expire!r}")
    if retries is None:
        retries = default_retries
    if type(retries) is not int or retries < 0:
        raise ValueError(f"retries must be an int >= 0, not {retries!r}")
    if key is not None:
        check_name(key, "key")
    due = now
    if delay is not None:
        due = now + delay
    elif run_at is not None:
        due = run_at
    return {
        "name": name, "payload": payload, "queue": queue, "priority": priority,
        "run_at": due, "ttl": ttl, "on_expire": on_expire, "max_attempts": 1 + retries,
        "key": key, "created_at": now,
    }


def _check_leader(tx, epoch):
    leader = tx.metas.get(LEADER)
    if leader is None or leader.get("epoch") != epoch:
        raise Fenced(f"leader epoch {epoch} was replaced by "
                     f"{None if leader is None else leader.get('epoch')}")


def _next_seq(tx):
    seq = (tx.metas.get(SEQ) or 0) + 1
    tx.put_meta(SEQ, seq)
    return seq


def run_key(schedule_key):
    """The job key that a recurring schedule's pending run carries."""
    return "every:" + schedule_key


class Engine:
    """Core operations. ``clock()`` returns epoch seconds, ``rand()`` a float in [0, 1),
    ``new_id()`` a unique job id string."""

    def __init__(self, store, clock, rand, new_id, config=None):
        self.store = store
        self.clock = clock
        self.rand = rand
        self.new_id = new_id
        self.config = config or Config()

    # -- creating jobs -------------------------------------------------------------
    def _insert(self, tx, spec, now, schedule=None, trigger=None):
        # created_at from the same clock reading as run_at, so that a delay is exact
        created = spec.get("created_at", now)
        rec = new_record(self.new_id(), spec["name"], spec["payload"], spec["queue"],
                         spec["priority"], created, spec["run_at"], spec["ttl"],
                         spec["on_expire"], spec["max_attempts"], spec["key"],
                         schedule=schedule, trigger=trigger)
        rec["seq"] = _next_seq(tx)
        tx.put(rec)
        if rec["key"] is not None:
            tx.by_key[rec["key"]] = rec
        return rec

    async def enqueue_many(self, specs):
        """Insert validated specs (from ``job_spec``) in one transaction. Returns a list of
        ``(record, created)``; a spec whose key matches a pending job yields that job."""
        now = self.clock()
        keys = []
        for spec in specs:
            if spec["key"] is not None and spec["key"] not in keys:
                keys.append(spec["key"])

        def fn(tx):
            out = []
            for spec in specs:
                existing = tx.by_key.get(spec["key"]) if spec["key"] is not None else None
                if existing is not None:
                    out.append((existing, False))
                else:
                    out.append((self._insert(tx, spec, now), True))
            return out
        return await self.store.atomic(fn, meta_keys=(SEQ,), pending_keys=keys)

    # -- leadership ------------------------------------------------------------------
    async def become_leader(self, tab_id):
        """Start a new leader epoch for this tab; returns the epoch."""
        now = self.clock()

        def fn(tx):
            old = tx.metas.get(LEADER) or {}
            epoch = (old.get("epoch") or 0) + 1
            tx.put_meta(LEADER, {"epoch": epoch, "tab": tab_id, "beat": now})
            return epoch
        return await self.store.atomic(fn, meta_keys=(LEADER,))

    async def heartbeat(self, epoch, hidden=False):
        """Record that the leader of ``epoch`` is alive (``hidden``: its page is hidden);
        raises ``Fenced`` if replaced."""
        now = self.clock()

        def fn(tx):
            _check_leader(tx, epoch)
            leader = dict(tx.metas[LEADER])
            leader["beat"] = now
            leader["hidden"] = hidden
            tx.put_meta(LEADER, leader)
        await self.store.atomic(fn, meta_keys=(LEADER,))

    async def resign(self, epoch):
        """Mark the epoch as ended so no follower waits for its silence."""
        def fn(tx):
            leader = tx.metas.get(LEADER)
            if leader is not None and leader.get("epoch") == epoch:
                leader = dict(leader)
                leader["beat"] = None
                tx.put_meta(LEADER, leader)
        await self.store.atomic(fn, meta_keys=(LEADER,))

    async def leader_info(self):
        return await self.store.meta_get(LEADER)

    def leader_is_silent(self, info, now):
        """True when a follower may take over: no leader ever, a resigned one, or one whose
        last heartbeat is older than ``leader_silence``."""
        if info is None or info.get("beat") is None:
            return True
        return now - info["beat"] > self.config.leader_silence

    async def recover(self, epoch):
        """Leader start-up: jobs left processing by an earlier epoch (its tab closed,
        crashed or was replaced) go back to pending with the attempt counted, or fail when
        none remain. Returns the changed records."""
        changed = []
        stale = await self.store.query(status=PROCESSING, limit=None)
        for rec in stale:
            if rec["owner"] == epoch:
                continue
            now = self.clock()

            def fn(tx, job_id=rec["id"], now=now):
                _check_leader(tx, epoch)
                cur = tx.jobs[job_id]
                if cur is None:
                    return None
                new = tr.recover(cur, now, epoch)
                if new is cur:
                    return None
                tx.put(new)
                if new["status"] == FAILED:
                    self._schedule_next(tx, new, now)
                return new
            pending_keys = (run_key(rec["schedule"]),) if rec.get("schedule") else ()
            new = await self.store.atomic(fn, job_ids=(rec["id"],),
                                          meta_keys=self._finish_metas(rec, (LEADER,)),
                                          pending_keys=pending_keys)
            if new is not None:
                changed.append(new)
        return changed

    # -- dispatching -----------------------------------------------------------------
    async def overview(self, running, paused):
        """One read for a dispatch pass: ``(queues, wake_at, expired)``, where
        ``queues``/``wake_at`` are as from ``picking.plan`` and ``expired`` says whether a
        pending job is past its limit (then ``sweep_expired`` has work)."""
        now = self.clock()
        ov = await self.store.overview(now)
        queues, wake_at = plan(ov["heads"], now, running, paused, self.config.concurrency,
                               ov["next_expiry"])
        return queues, wake_at, ov["expired"]

    def _claim_step(self, tx, rec, now, epoch, state):
        """One step of a pick-order walk: expire, skip or claim ``rec``."""
        if timing.is_expired(rec, now):
            gone = tr.expire(rec, now)
            tx.put(gone)
            self._schedule_next(tx, gone, now)
            state["expired"].append(gone)
            return False
        if rec["run_at"] > now:
            return False  # a lower priority job may be due
        state["claimed"] = tr.claim(rec, now, epoch)
        tx.put(state["claimed"])
        return True

    async def claim_next(self, queue, epoch):
        """Claim the next due job of ``queue`` for leader ``epoch``, in one transaction that
        also checks leadership and the paused set. Pending jobs met on the way that are
        past their expiry are expired. Returns ``(claimed record or None, [expired])``."""
        now = self.clock()
        state = {"claimed": None, "expired": []}

        def fn(tx, rec):
            if rec is None:
                _check_leader(tx, epoch)
                return queue in (tx.metas.get(PAUSED) or [])
            return self._claim_step(tx, rec, now, epoch, state)
        # No SEQ read: a claim inserts nothing (recurring runs carry no ttl to expire).
        await self.store.walk_pending(queue, fn, meta_keys=(LEADER, PAUSED))
        return state["claimed"], state["expired"]

    def _finish_metas(self, rec, base):
        keys = list(base)
        if rec.get("schedule"):
            keys.append(SCHEDULE + rec["schedule"])
            keys.append(SEQ)
        return keys

    def _schedule_next(self, tx, rec, now):
        """When a recurring run ends (any way), put the schedule's next run, unless the
        schedule is gone or a pending run already exists."""
        skey = rec.get("schedule")
        if not skey:
            return None
        sched = tx.metas.get(SCHEDULE + skey)
        if sched is None:
            return None
        # by_key was read before this transaction changed ``rec``: when it names ``rec``
        # itself (a pending run just cancelled or expired), no other run is pending.
        other = tx.by_key.get(run_key(skey))
        if other is not None and other["id"] != rec["id"]:
            return None
        # The grid follows the due time the schedule gave this run, not a retry's run_at.
        prev_due = sched.get("next_due")
        if prev_due is None:
            prev_due = rec["run_at"]
        due = timing.next_recurrence(prev_due, sched["interval"], now)
        return self._put_run(tx, sched, due, now)

    def _put_run(self, tx, sched, due, now):
        spec = job_spec(sched["name"], sched["payload"], queue=sched["queue"],
                        priority=sched["priority"], run_at=due, key=run_key(sched["key"]),
                        retries=sched.get("retries"), default_retries=self.config.retries,
                        now=now)
        rec = self._insert(tx, spec, now, schedule=sched["key"])
        sched = dict(sched)
        sched["next_due"] = due
        tx.put_meta(SCHEDULE + sched["key"], sched)
        return rec

    async def _leader_write(self, held, epoch, change):
        """Apply ``change(record, now)`` to a job this leader holds, fenced."""
        now = self.clock()

        def fn(tx):
            _check_leader(tx, epoch)
            new = change(tx.jobs[held["id"]], now)
            tx.put(new)
            if new["status"] != PROCESSING and new["status"] != PENDING:
                self._schedule_next(tx, new, now)
            return new
        pending_keys = (run_key(held["schedule"]),) if held.get("schedule") else ()
        return await self.store.atomic(fn, job_ids=(held["id"],),
                                       meta_keys=self._finish_metas(held, (LEADER,)),
                                       pending_keys=pending_keys)

    async def _finish_and_claim(self, held, epoch, change):
        """Like ``_leader_write``, and in the same transaction claim the next due job of
        the same queue (one transaction per job on a busy queue instead of three).
        Returns ``(record, claimed or None, [expired])``."""
        now = self.clock()
        queue = held["queue"]
        state = {"record": None, "claimed": None, "expired": []}

        def fn(tx, rec):
            if rec is None:
                _check_leader(tx, epoch)
                new = change(tx.jobs[held["id"]], now)
                tx.put(new)
                if new["status"] != PROCESSING and new["status"] != PENDING:
                    self._schedule_next(tx, new, now)
                state["record"] = new
                return queue in (tx.metas.get(PAUSED) or [])
            return self._claim_step(tx, rec, now, epoch, state)
        pending_keys = (run_key(held["schedule"]),) if held.get("schedule") else ()
        metas = self._finish_metas(held, (LEADER, PAUSED))  # + SEQ for a recurring run
        await self.store.walk_pending(queue, fn, meta_keys=metas, job_ids=(held["id"],),
                                      pending_keys=pending_keys)
        return state["record"], state["claimed"], state["expired"]

    async def complete(self, held, epoch, result, claim_next=False):
        """The handler returned: processing -> completed. Raises ``StaleWrite`` or
        ``Fenced`` when this leader no longer owns the job. With ``claim_next`` returns
        ``(record, claimed, expired)`` (see ``_finish_and_claim``)."""
        check_payload(result, "result")
        change = lambda rec, now: tr.complete(rec, now, epoch, result)  # noqa: E731
        if claim_next:
            return await self._finish_and_claim(held, epoch, change)
        return await self._leader_write(held, epoch, change)

    async def fail(self, held, epoch, code, message, final=False, backoff=None,
                   claim_next=False):
        """The attempt failed: retry later while attempts remain, else failed."""
        attempt = held["attempts"]
        base = self.config.backoff if backoff is None else backoff
        delay = timing.compute_backoff(attempt, base, self.config.backoff_max, self.rand())
        change = lambda rec, now: tr.fail_attempt(  # noqa: E731
            rec, now, epoch, code, message, delay, final)
        if claim_next:
            return await self._finish_and_claim(held, epoch, change)
        return await self._leader_write(held, epoch, change)

    async def progress(self, held, epoch, fraction, message=None):
        if type(fraction) not in (int, float) or not (0 <= fraction <= 1):
            raise ValueError(f"fraction must be a number from 0 to 1, not {fraction!r}")
        if message is not None and type(message) is not str:
            raise TypeError(f"message must be a str or None, not {message!r}")
        return await self._leader_write(
            held, epoch, lambda rec, now: tr.set_progress(rec, epoch, fraction, message))

    async def sweep(self):
        """Expire pending jobs past their limit and delete old completed jobs. Returns the
        expired records."""
        expired = await self.sweep_expired()
        await self.purge_completed()
        return expired

    async def purge_finished(self):
        """Delete finished jobs older than their keep time; returns how many."""
        n = await self.purge_completed()
        if self.config.keep_failed is not None:
            before = self.clock() - self.config.keep_failed
            n += await self.store.purge(FAILED, before)
            n += await self.store.purge(CANCELLED, before)
        return n

    async def purge_completed(self):
        """Delete completed jobs older than ``keep_completed`` (None keeps them)."""
        if self.config.keep_completed is None:
            return 0
        return await self.store.purge(COMPLETED, self.clock() - self.config.keep_completed)

    async def sweep_expired(self):
        """Expire pending jobs past their limit; returns the expired records."""
        now = self.clock()
        expired = []
        for rec in await self.store.expiring(now):
            def fn(tx, job_id=rec["id"]):
                cur = tx.jobs[job_id]
                if cur is None or cur["status"] != PENDING or not timing.is_expired(cur, now):
                    return None
                gone = tr.expire(cur, now)
                tx.put(gone)
                self._schedule_next(tx, gone, now)
                return gone
            pending_keys = (run_key(rec["schedule"]),) if rec.get("schedule") else ()
            gone = await self.store.atomic(fn, job_ids=(rec["id"],),
                                           meta_keys=self._finish_metas(rec, ()),
                                           pending_keys=pending_keys)
            if gone is not None:
                expired.append(gone)
        return expired

    # -- control from any tab --------------------------------------------------------
    async def _control(self, job_id, change):
        if type(job_id) is not str:
            raise KeyError(job_id)
        known = await self.store.get(job_id)
        if known is None:
            raise KeyError(job_id)
        now = self.clock()

        def fn(tx):
            cur = tx.jobs[job_id]
            if cur is None:
                raise KeyError(job_id)
            new = change(cur, now)
            if new is cur:
                return cur, False
            tx.put(new)
            if new["status"] == CANCELLED:
                self._schedule_next(tx, new, now)
            return new, True
        pending_keys = (run_key(known["schedule"]),) if known.get("schedule") else ()
        return await self.store.atomic(fn, job_ids=(job_id,),
                                       meta_keys=self._finish_metas(known, ()),
                                       pending_keys=pending_keys)

    async def cancel(self, job_id):
        """pending/processing -> cancelled. Returns ``(record, changed)``."""
        return await self._control(job_id, tr.cancel)

    async def redrive(self, job_id):
        """failed/cancelled -> pending, attempts 0. Returns ``(record, changed)``."""
        return await self._control(job_id, tr.redrive)

    async def redrive_failed(self, queue=None):
        """Redrive every failed job (of ``queue``); returns the redriven records."""
        out = []
        for rec in await self.store.query(status=FAILED, queue=queue, limit=None):
            new, changed = await self.redrive(rec["id"])
            if changed:
                out.append(new)
        return out

    async def set_paused(self, queue, paused):
        check_name(queue, "queue")

        def fn(tx):
            names = list(tx.metas.get(PAUSED) or [])
            if paused and queue not in names:
                names.append(queue)
            elif not paused and queue in names:
                names.remove(queue)
            else:
                return names
            tx.put_meta(PAUSED, names)
            return names
        return await self.store.atomic(fn, meta_keys=(PAUSED,))

    async def paused(self):
        return set(await self.store.meta_get(PAUSED) or [])

    # -- recurring jobs --------------------------------------------------------------
    async def every(self, name, seconds, payload=None, queue=None, key=None, priority=0,
                    retries=None, default_queue=None):
        """Declare a recurring schedule (idempotent per key). Returns the pending run's
        record when this call created the schedule, else None."""
        check_name(name, "name")
        check_number(seconds, "seconds", allow_none=False)
        if seconds <= 0:
            raise ValueError(f"seconds must be > 0, not {seconds!r}")
        check_payload(payload)
        if key is None:
            key = name
        check_name(key, "key")
        if queue is None:
            queue = default_queue or DEFAULT_QUEUE
        check_name(queue, "queue")
        sched = {"key": key, "name": name, "interval": seconds, "payload": payload,
                 "queue": queue, "priority": priority, "retries": retries}
        now = self.clock()

        def fn(tx):
            old = tx.metas.get(SCHEDULE + key)
            if old is not None:
                # Declared again (every tab does so on load): keep the one schedule and
                # its pending run; a changed interval applies from the next run on.
                merged = dict(old)
                merged.update(sched)
                if merged != old:
                    tx.put_meta(SCHEDULE + key, merged)
                return None
            return self._put_run(tx, sched, now, now)
        return await self.store.atomic(fn, meta_keys=(SCHEDULE + key, SEQ),
                                       pending_keys=(run_key(key),))

    async def unschedule(self, key):
        """Remove a schedule and cancel its pending run; True if it existed."""
        check_name(key, "key")
        now = self.clock()

        def fn(tx):
            old = tx.metas.get(SCHEDULE + key)
            if old is None:
                return False, None
            tx.put_meta(SCHEDULE + key, None)
            run = tx.by_key.get(run_key(key))
            if run is not None:
                run = tr.cancel(run, now)
                run["error"]["message"] = "its schedule was removed"
                tx.put(run)
            return True, run
        return await self.store.atomic(fn, meta_keys=(SCHEDULE + key,),
                                       pending_keys=(run_key(key),))

    async def ensure_schedules(self, epoch=None):
        """Leader start-up: every schedule has a pending or running run (repairs a run
        lost to a crash between finishing one run and putting the next)."""
        created = []
        schedules = await self.store.meta_prefix(SCHEDULE)
        running = await self.store.query(status=PROCESSING, limit=None)
        busy = set()
        for rec in running:
            if rec.get("schedule"):
                busy.add(rec["schedule"])
        for mkey in schedules:
            skey = schedules[mkey]["key"]
            if skey in busy:
                continue
            now = self.clock()

            def fn(tx, skey=skey, now=now):
                sched = tx.metas.get(SCHEDULE + skey)
                if sched is None or tx.by_key.get(run_key(skey)) is not None:
                    return None
                due = sched.get("next_due")
                if due is None or due < now:
                    due = now
                return self._put_run(tx, sched, due, now)
            rec = await self.store.atomic(fn, meta_keys=(SCHEDULE + skey, SEQ),
                                          pending_keys=(run_key(skey),))
            if rec is not None:
                created.append(rec)
        return created

    # -- debounced and throttled triggers -----------------------------------------------
    async def debounce(self, spec, first_call, last_call, wait, max_wait):
        """One coalesced batch of debounced calls made between ``first_call`` and
        ``last_call`` with ``spec["payload"]`` the latest. Joins the burst whose job is
        still pending (same key), else starts a new burst. Returns ``(record, created)``."""
        now = self.clock()
        key = spec["key"]

        def fn(tx):
            cur = tx.by_key.get(key)
            if cur is None:
                trig = {"kind": "debounce", "first": first_call, "last": last_call}
                spec2 = dict(spec)
                spec2["run_at"] = timing.debounce_due(first_call, last_call, wait, max_wait)
                return self._insert(tx, spec2, now, trigger=trig), True
            trig = dict(cur.get("trigger") or {"first": cur["created_at"], "last": 0})
            trig["kind"] = "debounce"
            new = dict(cur)
            if last_call >= trig["last"]:
                trig["last"] = last_call
                new["payload"] = spec["payload"]
            if first_call < trig["first"]:
                trig["first"] = first_call
            new["trigger"] = trig
            new["run_at"] = timing.debounce_due(trig["first"], trig["last"], wait, max_wait)
            if new.get("ttl") is not None:
                new["expires_at"] = new["run_at"] + new["ttl"]
            touch(new)
            tx.put(new)
            return new, False
        return await self.store.atomic(fn, meta_keys=(SEQ,), pending_keys=(key,))

    async def throttle(self, spec, interval):
        """A throttled call: a pending run with this key takes the latest payload; else a
        new run is due now, or at the end of the interval after the previous run's due
        time. Returns ``(record, created)``."""
        now = self.clock()
        key = spec["key"]

        def fn(tx):
            cur = tx.by_key.get(key)
            if cur is not None:
                new = dict(cur)
                new["payload"] = spec["payload"]
                tx.put(new)
                return new, False
            due = timing.throttle_due(now, tx.metas.get(THROTTLE + key), interval)
            spec2 = dict(spec)
            spec2["run_at"] = due
            rec = self._insert(tx, spec2, now, trigger={"kind": "throttle"})
            tx.put_meta(THROTTLE + key, due)
            return rec, True
        return await self.store.atomic(fn, meta_keys=(SEQ, THROTTLE + key),
                                       pending_keys=(key,))
