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
operations any tab may call (cancel, redrive, pause) in control.py, the leader record's
operations (become_leader, heartbeat, resign, takeover) in metas.py, all mixed in; request
validation (``Config``, ``job_spec``) in specs.py.
"""

from . import timing
from . import transitions as tr
from .bursts import Bursts
from .control import Control
from .errors import Fenced  # noqa: F401  (re-exported under its old home)
from .metas import (  # noqa: F401  (LEADER...THROTTLE re-exported)
    LEADER, PAUSED, SEQ, SCHEDULE, THROTTLE, LeaderOps, check_leader, next_seq, run_key,
)
from .picking import pick_key, plan
from .records import (
    PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, check_payload, is_number,
    new_record, problem,
)
from .recurring import Recurring
from .specs import Config, job_spec  # noqa: F401  (re-exported)


def _token(held):
    """The claim token of the attempt ``held`` (0 for a record claimed by a version
    without tokens, as stores read it), never None: the check always applies."""
    token = held.get("claim")
    return token if type(token) is int else 0


class Engine(LeaderOps, Control, Recurring, Bursts):
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

    def _insert_all(self, tx, specs, now, gone):
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

    @staticmethod
    def _keys_of(specs):
        keys = []
        for spec in specs:
            if spec["key"] is not None and spec["key"] not in keys:
                keys.append(spec["key"])
        return keys

    async def enqueue_many(self, specs, ended=None):
        """Insert validated specs (from ``job_spec``) in one transaction. Returns a list of
        ``(record, created)``; a spec whose key matches a pending job that can still run
        yields that job. Keyed jobs found expired are expired and appended to ``ended``
        (a list, when given)."""
        now = self.clock()
        gone = []
        out = await self.store.atomic(lambda tx: self._insert_all(tx, specs, now, gone),
                                      meta_keys=(SEQ,), pending_keys=self._keys_of(specs))
        if ended is not None:
            ended.extend(gone)
        return out

    async def enqueue_and_claim(self, specs, queue, epoch, live=None, ended=None):
        """``enqueue_many``, and in the same transaction claim for leader ``epoch`` the
        job of ``queue`` that a dispatch would claim next, when it is one of the new
        jobs: the leader tab's enqueue into an idle queue starts the job without a
        transaction of its own. The caller holds the queue's slot (nothing else claims
        in ``queue`` meanwhile). Nothing is claimed (the jobs are enqueued as usual) when
        another tab leads, ``queue`` is paused, ``live()`` says the caller stopped
        dispatching, no new job of ``queue`` is due, a new one is already past its TTL,
        or a stored pending job of
        ``queue`` would be picked first (due, expired or malformed: the dispatcher deals
        with it). Returns ``(list of (record, created), claimed record or None)``."""
        now = self.clock()
        gone = []
        state = {"out": None, "candidate": None, "claimed": None}

        def fn(tx, rec):
            if rec is None:
                out = state["out"] = self._insert_all(tx, specs, now, gone)
                leader = tx.metas.get(LEADER)
                if leader is None or leader.get("epoch") != epoch \
                        or queue in (tx.metas.get(PAUSED) or []) \
                        or (live is not None and not live()):
                    return True
                best = None
                for pair in out:
                    new = pair[0]
                    if not pair[1] or new["queue"] != queue:
                        continue
                    if timing.is_expired(new, now):
                        return True  # past its TTL already: the dispatcher expires it
                    if new["run_at"] <= now and (best is None
                                                 or pick_key(new) < pick_key(best)):
                        best = new
                if best is None:
                    return True
                state["candidate"] = best
                state["claimed"] = tr.claim(best, now, epoch)
                tx.put(state["claimed"])  # provisional: the walk may take it back
                return False
            # The walk meets the stored pending jobs of the queue in pick order (not
            # the new ones): the candidate stands once it sorts before the next one.
            best = state["candidate"]
            if problem(rec) is None and is_number(rec.get("npri")) \
                    and not timing.is_expired(rec, now):
                if pick_key(best) < pick_key(rec):
                    return True
                if rec["run_at"] > now:
                    return False  # not due: a dispatch would walk past it too
            tx.put(best)  # back to pending as inserted: a stored job goes first
            state["claimed"] = None
            return True
        await self.store.walk_pending(queue, fn, meta_keys=(SEQ, LEADER, PAUSED),
                                      pending_keys=self._keys_of(specs))
        if ended is not None:
            ended.extend(gone)
        return state["out"], state["claimed"]

    # -- leadership: become_leader, heartbeat, resign... in metas.LeaderOps ------------
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
        live = state.get("live")
        if live is not None and not live():
            # The caller stopped dispatching while this transaction waited (its page
            # was frozen with the request in flight): claim nothing it would not run.
            return True
        state["claimed"] = tr.claim(rec, now, epoch)
        tx.put(state["claimed"])
        self._note_start(tx, rec, now)
        return True

    async def claim_next(self, queue, epoch, live=None):
        """Claim the next due job of ``queue`` for leader ``epoch``, in one transaction that
        also checks leadership and the paused set. Pending jobs met on the way that are
        past their expiry are expired, malformed ones set aside (failed, ``corrupt``).
        Returns ``(claimed record or None, [ended records])``. ``live()``, checked inside
        the transaction, says whether the caller still dispatches: if not, nothing is
        claimed."""
        now = self.clock()
        state = {"claimed": None, "expired": [], "live": live}

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

    async def _finish_and_claim(self, held, epoch, change, claim=True, live=None):
        """Like ``_leader_write``, and in the same transaction claim the next due job of
        the same queue (one transaction per job on a busy queue instead of three) unless
        ``claim`` is False. Returns ``(record, claimed or None, [side effects])``: jobs
        ended on the way and a recurring schedule's next run."""
        now = self.clock()
        queue = held["queue"]
        state = {"record": None, "claimed": None, "expired": [], "live": live}

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

    async def complete(self, held, epoch, result, claim_next=False, effects=False,
                       live=None):
        """The handler returned: processing -> completed. ``held`` is the record as
        claimed: the write is refused with ``StaleWrite`` unless the job is still that
        attempt (same epoch and claim), with ``Fenced`` if another tab leads, and with
        ``TypeError`` if ``result`` cannot be stored. With ``claim_next`` returns
        ``(record, claimed, side effects)`` (see ``_finish_and_claim``), and so does
        ``effects=True`` (claiming nothing)."""
        check_payload(result, "result")
        token = _token(held)
        change = lambda rec, now: tr.complete(rec, now, epoch, result, token)  # noqa: E731
        if claim_next or effects:
            return await self._finish_and_claim(held, epoch, change, claim_next, live)
        return await self._leader_write(held, epoch, change)

    async def fail(self, held, epoch, code, message, final=False, backoff=None,
                   claim_next=False, effects=False, live=None):
        """The attempt ``held`` failed: retry later while attempts remain, else failed.
        Refused like ``complete`` when the job is no longer that attempt."""
        attempt = held["attempts"]
        base = self.config.backoff if backoff is None else backoff
        delay = timing.compute_backoff(attempt, base, self.config.backoff_max, self.rand())
        token = _token(held)
        change = lambda rec, now: tr.fail_attempt(  # noqa: E731
            rec, now, epoch, code, message, delay, final, token)
        if claim_next or effects:
            return await self._finish_and_claim(held, epoch, change, claim_next, live)
        return await self._leader_write(held, epoch, change)

    async def progress(self, held, epoch, fraction, message=None):
        """Store progress of the attempt ``held``; refused like ``complete``."""
        if type(fraction) not in (int, float) or not (0 <= fraction <= 1):
            raise ValueError(f"fraction must be a number from 0 to 1, not {fraction!r}")
        if message is not None and type(message) is not str:
            raise TypeError(f"message must be a str or None, not {message!r}")
        token = _token(held)
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
