"""Control operations any tab may call: cancel, redrive, pause. Pure; mixed into
``Engine`` (engine.py). Each is one transaction that re-reads the job (or the paused set)
and writes it back; a cancelled recurring run puts the schedule's next run."""

from . import transitions as tr
from .metas import PAUSED, run_key
from .records import CANCELLED, CORRUPT, FAILED, PENDING, check_name


class Control:
    """The control operations of ``Engine`` (needs ``store``, ``clock``,
    ``_finish_metas`` and ``_schedule_next``)."""

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
            key = new.get("key")
            if new["status"] == PENDING and key is not None:
                holder = tx.by_key.get(key)
                if holder is not None and holder["id"] != job_id:
                    # A newer request with this key is pending: the redriven job runs
                    # as well, but without the key (one pending job per key).
                    new = dict(new)
                    new["key"] = None
            tx.put(new)
            if new["status"] == CANCELLED:
                self._schedule_next(tx, new, now)
            return new, True
        pending_keys = [run_key(known["schedule"])] if known.get("schedule") else []
        if known.get("key") is not None and known["key"] not in pending_keys:
            pending_keys.append(known["key"])
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
        """Redrive every failed job (of ``queue``) but those set aside as ``corrupt`` (they
        cannot run: redrive them one by one once repaired); returns the redriven
        records."""
        out = []
        for rec in await self.store.query(status=FAILED, queue=queue, limit=None):
            err = rec.get("error")
            if type(err) is dict and err.get("code") == CORRUPT:
                continue
            new, changed = await self.redrive(rec["id"])
            if changed:
                out.append(new)
        return out

    async def set_paused(self, queue, paused):
        """Pause or resume ``queue`` (persisted); returns the paused names."""
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
        """The set of paused queue names."""
        return set(await self.store.meta_get(PAUSED) or [])
