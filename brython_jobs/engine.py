"""The queue's core operations over any ``Store``, with an injected clock.

Pure Python (no browser imports): the browser facade (jobqueue.py) and the CPython tests
drive the same code. Each operation is one store transaction whose logic is a plain
function of what the transaction read, so two tabs racing on a job always see each
other's committed writes.

Leadership is fenced by an epoch: becoming leader increments ``meta["leader"]["epoch"]``
in a transaction, a claimed job records the epoch as its ``owner`` and a new claim token
as its ``claim``, and every write a leader makes checks, in the same transaction, that the
stored epoch is still its own and that the job is still processing under the attempt it
holds. A leader that was frozen and replaced therefore cannot write anything when it
wakes, and a late outcome of an earlier attempt is refused.

Recurring schedules live in recurring.py, debounce/throttle in bursts.py and the control
operations any tab may call (cancel, redrive, pause) in control.py, all mixed in; request
validation (``Config``, ``job_spec``) in specs.py.
"""

from . import timing
from . import transitions as tr
from .bursts import Bursts
from .control import Control
from .errors import Fenced  # noqa: F401  (re-exported under its old home)
from .metas import (  # noqa: F401  (LEADER...THROTTLE re-exported)
    LEADER, PAUSED, SEQ, SCHEDULE, THROTTLE, check_leader, next_seq, run_key,
)
from .picking import plan
from .records import (
    PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, check_payload, is_number,
    new_record, problem,
)
from .recurring import Recurring
from .specs import Config, job_spec  # noqa: F401  (re-exported)


class Engine(Control, Recurring, Bursts):
    """Core operations. ``clock()`` returns epoch seconds, ``rand()`` a float in [0, 1),
    ``new_id()`` a unique job id string.

    Errors: ``Fenced`` (another tab leads), ``StaleWrite`` (the job is no longer the
    attempt the caller holds); ``TypeError``/``ValueError`` for values that cannot be
    stored (checked before anything is written); the store's ``StorageError`` (e.g.
    ``StorageFull``) propagates unchanged, never swallowed."""

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
        rec["seq"] = next_seq(tx)
        tx.put(rec)
        if rec["key"] is not None:
            tx.by_key[rec["key"]] = rec
        return rec

    def _live_by_key(self, tx, key, now, ended):
        """The pending job holding ``key`` if it can still run, else None. One past its
        expiry is expired here (and a malformed one set aside), in this transaction, and
        appended to ``ended``: a new request must never merge into a job that will not
        run."""
        cur = tx.by_key.get(key)
        if cur is None:
            return None
        bad = problem(cur)
        if bad is not None:
            gone = tr.set_aside(cur, now, bad)
        elif timing.is_expired(cur, now):
            gone = tr.expire(cur, now)
        else:
            return cur
        tx.put(gone)
        tx.by_key[key] = None
        ended.append(gone)
        return None

    async def enqueue_many(self, specs, ended=None):
        """Insert validated specs (from ``job_spec``) in one transaction. Returns a list of
        ``(record, created)``; a spec whose key matches a pending job that can still run
        yields that job. Keyed jobs found expired are expired and appended to ``ended``
        (a list, when given)."""
        now = self.clock()
        keys = []
        for spec in specs:
            if spec["key"] is not None and spec["key"] not in keys:
                keys.append(spec["key"])
        gone = []

        def fn(tx):
            out = []
            for spec in specs:
                existing = None
                if spec["key"] is not None:
                    existing = self._live_by_key(tx, spec["key"], now, gone)
                if existing is not None:
                    out.append((existing, False))
                else:
                    out.append((self._insert(tx, spec, now), True))
            return out
        out = await self.store.atomic(fn, meta_keys=(SEQ,), pending_keys=keys)
        if ended is not None:
            ended.extend(gone)
        return out

    # -- leadership ------------------------------------------------------------------
    async def become_leader(self, tab_id):
        """Start a new leader epoch for this tab; returns the epoch."""
        now = self.clock()

        def fn(tx):
            old = tx.metas.get(LEADER) or {}
            epoch = (old.get("epoch") or 0) + 1
            tx.put_meta(LEADER, {"epoch": epoch, "tab": tab_id, "beat": now, "since": now})
            return epoch
        return await self.store.atomic(fn, meta_keys=(LEADER,))

    async def heartbeat(self, epoch, hidden=False):
        """Record that the leader of ``epoch`` is alive (``hidden``: its page is hidden,
        so its timers may be throttled); raises ``Fenced`` if replaced."""
        now = self.clock()

        def fn(tx):
            check_leader(tx, epoch)
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
        """The stored ``{"epoch", "tab", "beat"}`` of the leader, or None."""
        return await self.store.meta_get(LEADER)

    async def claim_takeover(self, epoch, beat, tab_id):
        """A follower that saw the leader of ``epoch`` silent at heartbeat ``beat`` claims
        the right to steal its lock: True only for the first such claim, while the stored
        heartbeat is still that one. The claim changes the heartbeat, so every other
        follower starts a new observation window instead of stealing too (two followers
        stealing one after the other would replace the first thief as well)."""
        now = self.clock()

        def fn(tx):
            leader = tx.metas.get(LEADER)
            if leader is None or leader.get("epoch") != epoch or leader.get("beat") != beat:
                return False
            leader = dict(leader)
            leader["beat"] = now
            leader["taking_over"] = tab_id
            tx.put_meta(LEADER, leader)
            return True
        return await self.store.atomic(fn, meta_keys=(LEADER,))

    def leader_is_silent(self, info, now):
        """True when a follower may take over: no leader ever, a resigned one, or one whose
        last heartbeat is older than ``leader_silence``."""
        if info is None or info.get("beat") is None:
            return True
        return now - info["beat"] > self.config.leader_silence

    async def recover(self, epoch):
        """Leader start-up: jobs left processing by an earlier epoch (its tab closed,
        crashed or was replaced) go back to pending with the attempt counted, or fail when
        none remain; a malformed one is set aside (failed, code ``corrupt``). Returns the
        changed records, each followed by the next run it gave a recurring schedule."""
        changed = []
        stale = await self.store.query(status=PROCESSING, limit=None)
        for rec in stale:
            if rec.get("owner") == epoch:
                continue
            now = self.clock()

            def fn(tx, job_id=rec["id"], now=now):
                check_leader(tx, epoch)
                cur = tx.jobs[job_id]
                if cur is None or cur.get("status") != PROCESSING \
                        or cur.get("owner") == epoch:
                    return None
                bad = problem(cur)
                new = tr.recover(cur, now, epoch) if bad is None \
                    else tr.set_aside(cur, now, bad)
                tx.put(new)
                run = None
                if new["status"] == FAILED and bad is None:
                    run = self._schedule_next(tx, new, now)
                return new, run
            pending_keys = (run_key(rec["schedule"]),) if rec.get("schedule") else ()
            out = await self.store.atomic(fn, job_ids=(rec["id"],),
                                          meta_keys=self._finish_metas(rec, (LEADER,)),
                                          pending_keys=pending_keys)
            if out is not None:
                for one in out:
                    if one is not None:
                        changed.append(one)  # the record, then a recurring next run
        return changed

    # -- dispatching -----------------------------------------------------------------
    async def overview(self, running, paused):
        """One read for a dispatch pass: ``(queues, wake_at, expired)``, where
        ``queues``/``wake_at`` are as from ``picking.plan`` and ``expired`` says whether a
        pending job is past its limit (then ``sweep_expired`` has work). A queue whose
        head is malformed counts as due, so its walk sets the record aside."""
        now = self.clock()
        ov = await self.store.overview(now)
        heads = ov["heads"]
        for queue in heads:
            if not is_number(heads[queue]):
                heads[queue] = 0
        next_expiry = ov["next_expiry"]
        if not is_number(next_expiry):
            next_expiry = None
        queues, wake_at = plan(heads, now, running, paused, self.config.concurrency,
                               next_expiry)
        return queues, wake_at, ov["expired"]

    def _claim_step(self, tx, rec, now, epoch, state):
        """One step of a pick-order walk: set aside, expire, skip or claim ``rec``."""
        bad = problem(rec)
        if bad is not None:
            gone = tr.set_aside(rec, now, bad)
            tx.put(gone)
            state["expired"].append(gone)
            return False
        if timing.is_expired(rec, now):
            gone = tr.expire(rec, now)
            tx.put(gone)
            state["expired"].append(gone)
            run = self._schedule_next(tx, gone, now)
            if run is not None:
                state["expired"].append(run)  # a recurring schedule's next run
            return False
        if rec["run_at"] > now:
            return False  # a lower priority job may be due
        state["claimed"] = tr.claim(rec, now, epoch)
        tx.put(state["claimed"])
        self._note_start(tx, rec, now)
        return True

    async def claim_next(self, queue, epoch):
        """Claim the next due job of ``queue`` for leader ``epoch``, in one transaction that
        also checks leadership and the paused set. Pending jobs met on the way that are
        past their expiry are expired, malformed ones set aside (failed, ``corrupt``).
        Returns ``(claimed record or None, [ended records])``."""
        now = self.clock()
        state = {"claimed": None, "expired": []}

        def fn(tx, rec):
            if rec is None:
                check_leader(tx, epoch)
                return queue in (tx.metas.get(PAUSED) or [])
            return self._claim_step(tx, rec, now, epoch, state)
        # No SEQ read: a claim inserts nothing (recurring runs carry no ttl to expire).
        await self.store.walk_pending(queue, fn, meta_keys=(LEADER, PAUSED))
        return state["claimed"], state["expired"]

    def _apply(self, tx, held, epoch, change, now, side=None):
        check_leader(tx, epoch)
        new = change(tx.jobs[held["id"]], now)
        tx.put(new)
        if new["status"] != PROCESSING and new["status"] != PENDING:
            run = self._schedule_next(tx, new, now)
            if run is not None and side is not None:
                side.append(run)  # a recurring schedule's next run, for its event
        return new

    async def _leader_write(self, held, epoch, change):
        """Apply ``change(record, now)`` to a job this leader holds, fenced."""
        now = self.clock()
        pending_keys = (run_key(held["schedule"]),) if held.get("schedule") else ()
        return await self.store.atomic(
            lambda tx: self._apply(tx, held, epoch, change, now), job_ids=(held["id"],),
            meta_keys=self._finish_metas(held, (LEADER,)), pending_keys=pending_keys)

    async def _finish_and_claim(self, held, epoch, change, claim=True):
        """Like ``_leader_write``, and in the same transaction claim the next due job of
        the same queue (one transaction per job on a busy queue instead of three) unless
        ``claim`` is False. Returns ``(record, claimed or None, [side effects])``: jobs
        ended on the way and a recurring schedule's next run."""
        now = self.clock()
        queue = held["queue"]
        state = {"record": None, "claimed": None, "expired": []}

        def fn(tx, rec):
            if rec is None:
                state["record"] = self._apply(tx, held, epoch, change, now,
                                              state["expired"])
                return not claim or queue in (tx.metas.get(PAUSED) or [])
            return self._claim_step(tx, rec, now, epoch, state)
        pending_keys = (run_key(held["schedule"]),) if held.get("schedule") else ()
        metas = self._finish_metas(held, (LEADER, PAUSED))  # + SEQ for a recurring run
        await self.store.walk_pending(queue, fn, meta_keys=metas, job_ids=(held["id"],),
                                      pending_keys=pending_keys)
        return state["record"], state["claimed"], state["expired"]

    async def complete(self, held, epoch, result, claim_next=False, effects=False):
        """The handler returned: processing -> completed. ``held`` is the record as
        claimed: the write is refused with ``StaleWrite`` unless the job is still that
        attempt (same epoch and claim), with ``Fenced`` if another tab leads, and with
        ``TypeError`` if ``result`` cannot be stored. With ``claim_next`` returns
        ``(record, claimed, side effects)`` (see ``_finish_and_claim``), and so does
        ``effects=True`` (claiming nothing)."""
        check_payload(result, "result")
        token = held.get("claim")
        change = lambda rec, now: tr.complete(rec, now, epoch, result, token)  # noqa: E731
        if claim_next or effects:
            return await self._finish_and_claim(held, epoch, change, claim_next)
        return await self._leader_write(held, epoch, change)

    async def fail(self, held, epoch, code, message, final=False, backoff=None,
                   claim_next=False, effects=False):
        """The attempt ``held`` failed: retry later while attempts remain, else failed.
        Refused like ``complete`` when the job is no longer that attempt."""
        attempt = held["attempts"]
        base = self.config.backoff if backoff is None else backoff
        delay = timing.compute_backoff(attempt, base, self.config.backoff_max, self.rand())
        token = held.get("claim")
        change = lambda rec, now: tr.fail_attempt(  # noqa: E731
            rec, now, epoch, code, message, delay, final, token)
        if claim_next or effects:
            return await self._finish_and_claim(held, epoch, change, claim_next)
        return await self._leader_write(held, epoch, change)

    async def progress(self, held, epoch, fraction, message=None):
        """Store progress of the attempt ``held``; refused like ``complete``."""
        if type(fraction) not in (int, float) or not (0 <= fraction <= 1):
            raise ValueError(f"fraction must be a number from 0 to 1, not {fraction!r}")
        if message is not None and type(message) is not str:
            raise TypeError(f"message must be a str or None, not {message!r}")
        token = held.get("claim")
        return await self._leader_write(
            held, epoch,
            lambda rec, now: tr.set_progress(rec, epoch, fraction, message, token))

    async def sweep(self):
        """Expire pending jobs past their limit and delete old finished jobs. Returns the
        expired records."""
        expired = await self.sweep_expired()
        await self.purge_finished()
        return expired

    async def purge_completed(self):
        """Delete completed jobs older than ``keep_completed`` (None keeps them)."""
        if self.config.keep_completed is None:
            return 0
        return await self.store.purge(COMPLETED, self.clock() - self.config.keep_completed)

    async def purge_finished(self):
        """Delete completed jobs older than ``keep_completed``, failed and cancelled jobs
        older than ``keep_failed`` (None keeps them), and throttle state that spaces
        nothing any more. Returns how many jobs were deleted."""
        n = await self.purge_completed()
        keep = self.config.keep_failed
        now = self.clock()
        if keep is not None:
            n += await self.store.purge(FAILED, now - keep)
            n += await self.store.purge(CANCELLED, now - keep)
        await self._purge_throttles(now)
        return n

    async def sweep_expired(self):
        """Expire pending jobs past their limit; returns the expired records, each
        followed by the next run it gave a recurring schedule."""
        now = self.clock()
        expired = []
        for rec in await self.store.expiring(now):
            def fn(tx, job_id=rec["id"]):
                cur = tx.jobs[job_id]
                if cur is None or cur["status"] != PENDING or not timing.is_expired(cur, now):
                    return None
                gone = tr.expire(cur, now)
                tx.put(gone)
                return gone, self._schedule_next(tx, gone, now)
            pending_keys = (run_key(rec["schedule"]),) if rec.get("schedule") else ()
            out = await self.store.atomic(fn, job_ids=(rec["id"],),
                                          meta_keys=self._finish_metas(rec, ()),
                                          pending_keys=pending_keys)
            if out is not None:
                for one in out:
                    if one is not None:
                        expired.append(one)  # the expired job, then a next run
        return expired
