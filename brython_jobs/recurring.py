"""Recurring schedules in the core: ``every``, ``unschedule``, ``ensure_schedules`` and the
putting of each next run. Pure; mixed into ``Engine`` (engine.py).

A schedule lives in meta ``schedule:<key>``: its job fields, ``interval``, ``next_due``
(the due time it gave its latest run) and ``run`` (that run's job id). Its pending run
carries the job key ``every:<key>`` (``run_key``), so a store finds it by key.
"""

from . import timing
from . import transitions as tr
from .metas import LEADER, SCHEDULE, SEQ, check_leader, run_key
from .records import PENDING, PROCESSING, check_name
from .specs import job_spec, schedule_spec


class Recurring:
    """The recurring-schedule operations of ``Engine`` (needs ``store``, ``clock``,
    ``config`` and ``_insert``)."""

    def _finish_metas(self, rec, base):
        """Meta keys a transaction that finishes ``rec`` must read (a recurring run puts
        its next run: the schedule and the enqueue counter)."""
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
        sched["run"] = rec["id"]
        tx.put_meta(SCHEDULE + sched["key"], sched)
        return rec

    async def every(self, name, seconds, payload=None, queue=None, key=None, priority=0,
                    retries=None, default_queue=None):
        """Declare a recurring schedule (idempotent per key). Every field is validated
        on each declaration, before anything is written. Returns the pending run's record
        when this call created the schedule and its run, else None.

        A new schedule adopts an unfinished run of the same key left from before (a run
        still processing after ``unschedule``, or a pending one an older version left
        without its schedule record) instead of putting a second run."""
        sched = schedule_spec(name, seconds, payload, queue, key, priority, retries,
                              default_queue, self.config.retries)
        key = sched["key"]
        running = []
        if await self.store.meta_get(SCHEDULE + key) is None:
            for rec in await self.store.query(status=PROCESSING, limit=None):
                if rec.get("schedule") == key:
                    running.append(rec["id"])
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
            left = tx.by_key.get(run_key(key))
            if left is None or left.get("schedule") != key:
                left = None
                for job_id in running:
                    cur = tx.jobs.get(job_id)
                    if cur is not None and cur.get("status") == PROCESSING \
                            and cur.get("schedule") == key:
                        left = cur
            if left is not None:
                adopted = dict(sched)
                adopted["next_due"] = left["run_at"]
                adopted["run"] = left["id"]
                tx.put_meta(SCHEDULE + key, adopted)
                return None
            return self._put_run(tx, sched, now, now)
        return await self.store.atomic(fn, job_ids=running, meta_keys=(SCHEDULE + key, SEQ),
                                       pending_keys=(run_key(key),))

    async def unschedule(self, key):
        """Remove a schedule and cancel its pending run; ``(existed, cancelled run)``.
        A run under way finishes (only the leader writes a processing job); declaring
        the schedule again meanwhile adopts it (see ``every``)."""
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

    async def ensure_schedules(self, epoch):
        """Leader start-up: every schedule has a pending or running run (repairs a run
        lost to a crash between finishing one run and putting the next). Returns the
        runs put.

        Fenced by leader ``epoch`` (``Fenced`` once another tab leads) and decided inside
        each schedule's transaction: it re-reads the schedule, its pending run and its
        latest run there, so a run claimed or put meanwhile is never doubled."""
        created = []
        schedules = await self.store.meta_prefix(SCHEDULE)
        legacy = await self._legacy_runs(schedules)
        for mkey in schedules:
            seen = schedules[mkey]
            skey = seen.get("key") if type(seen) is dict else None
            if type(skey) is not str:
                continue
            ids = list(legacy.get(skey, ()))
            if seen.get("run") is not None and seen["run"] not in ids:
                ids.append(seen["run"])
            rec = await self._ensure_one(epoch, skey, seen.get("run"), ids)
            if rec is not None:
                created.append(rec)
        return created

    async def _legacy_runs(self, schedules):
        """{schedule key: [job ids]} of the pending and processing runs of schedules
        written by an older version (no ``run`` field): their deciding transaction
        re-reads these, so a run claimed meanwhile is seen as running."""
        found = {}
        old = []
        for mkey in schedules:
            sched = schedules[mkey]
            if type(sched) is dict and sched.get("run") is None \
                    and type(sched.get("key")) is str:
                old.append(sched["key"])
        if not old:
            return found
        for rec in await self.store.query(status=PROCESSING, limit=None):
            if rec.get("schedule") in old:
                found.setdefault(rec["schedule"], []).append(rec["id"])
        for skey in old:
            rkey = run_key(skey)
            run = await self.store.atomic(lambda tx, rkey=rkey: tx.by_key.get(rkey),
                                          pending_keys=(rkey,))
            if run is not None:
                found.setdefault(skey, []).append(run["id"])
        return found

    async def _ensure_one(self, epoch, skey, seen_run, ids):
        now = self.clock()

        def fn(tx):
            check_leader(tx, epoch)
            sched = tx.metas.get(SCHEDULE + skey)
            if sched is None or tx.by_key.get(run_key(skey)) is not None:
                return None
            if sched.get("run") != seen_run:
                return None  # a run was put since the first read: it exists
            for job_id in ids:
                cur = tx.jobs.get(job_id)
                if cur is not None and cur.get("status") in (PENDING, PROCESSING):
                    return None
            due = sched.get("next_due")
            if due is None or due < now:
                due = now
            return self._put_run(tx, sched, due, now)
        return await self.store.atomic(fn, job_ids=ids,
                                       meta_keys=(SCHEDULE + skey, SEQ, LEADER),
                                       pending_keys=(run_key(skey),))
