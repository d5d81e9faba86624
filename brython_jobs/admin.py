"""What the inspector reads and changes, over any ``Store``, with an injected clock.

Pure Python (no browser imports), tested under CPython against MemoryStore; the facade
(``JobQueue.page``, ``delete``, ``clean``, ``promote``, ``schedules``, ``leader_info``,
``bursts``...) calls it with the queue's store and clock, then emits the events.

Reads are bounded so the inspector stays responsive with many stored jobs: a page reads
about ``limit`` records (cursors over the id order), counts come from index counts, the
chart from one count per minute and outcome. Each change is one store transaction that
re-reads the job and writes it (``Store.atomic``), so a change made from any tab checks
the job as it is now, not as some tab last saw it.
"""

from .metas import LEADER, SCHEDULE, run_key
from .records import FINISHED, PENDING, PROCESSING, STATUSES, check_name, check_number, touch

MAX_PAGE = 500
MINUTE = 60.0


def _check_status(status, allowed=STATUSES):
    if status is not None and status not in allowed:
        raise ValueError(f"status must be one of {', '.join(allowed)}, not {status!r}")


def _check_limit(limit):
    if type(limit) is not int or not (1 <= limit <= MAX_PAGE):
        raise ValueError(f"limit must be an int from 1 to {MAX_PAGE}, not {limit!r}")


def _check_id(job_id):
    if type(job_id) is not str or not job_id:
        raise KeyError(job_id)


class Admin:
    """The inspector's operations. ``clock()`` returns epoch seconds."""

    def __init__(self, store, clock):
        self.store = store
        self.clock = clock

    # -- reading -------------------------------------------------------------------
    async def page(self, status=None, queue=None, name=None, limit=50, before=None):
        """Jobs newest first: ``(records, next)``; pass ``next`` as ``before`` for the
        following (older) page; ``next`` is None on the last page."""
        _check_status(status)
        _check_limit(limit)
        for value, what in ((queue, "queue"), (name, "name")):
            if value is not None:
                check_name(value, what)
        if before is not None and type(before) is not str:
            raise TypeError(f"before must be a job id (str), not {before!r}")
        return await self.store.page(status, queue, name, None, limit, before)

    async def search(self, text, limit=20):
        """Jobs whose id or key starts with ``text`` (stripped), newest first."""
        if type(text) is not str:
            raise TypeError(f"search text must be a str, not {text!r}")
        _check_limit(limit)
        text = text.strip()
        if not text:
            return []
        return await self.store.find(text, limit)

    async def queue_counts(self):
        """``{queue: {status: n}}`` with every status present (0 when none)."""
        raw = await self.store.queue_counts()
        out = {}
        for queue in raw:
            per = {}
            for status in STATUSES:
                per[status] = raw[queue].get(status, 0)
            out[queue] = per
        return out

    async def finished_per_minute(self, minutes=60):
        """Jobs finished per minute over the last ``minutes`` minutes, by outcome:
        ``{"start": t, "width": 60.0, "completed": [n, ...], "failed": [...],
        "cancelled": [...]}``, oldest minute first; the last one is the current minute."""
        if type(minutes) is not int or not (1 <= minutes <= 1440):
            raise ValueError(f"minutes must be an int from 1 to 1440, not {minutes!r}")
        now = self.clock()
        end = (now // MINUTE + 1) * MINUTE  # the end of the current minute
        start = end - minutes * MINUTE
        out = await self.store.finished_histogram(start, MINUTE, minutes)
        out["start"] = start
        out["width"] = MINUTE
        return out

    async def schedules(self):
        """The recurring schedules, by key: ``{"key", "name", "queue", "interval",
        "payload", "next_due", "next_job", "last_run"}``; ``last_run`` is None or
        ``{"id", "status", "finished_at"}`` of the newest finished run."""
        metas = await self.store.meta_prefix(SCHEDULE)
        out = []
        for mkey in sorted(metas):
            sched = metas[mkey]
            runs = await self.store.latest_by_key(run_key(sched["key"]))
            nxt = runs[PENDING] or runs[PROCESSING]
            last = None
            for status in FINISHED:
                rec = runs[status]
                t = None if rec is None else rec.get("finished_at")
                if type(t) in (int, float) and (last is None or t > last["finished_at"]):
                    last = rec
            out.append({
                "key": sched["key"], "name": sched["name"], "queue": sched["queue"],
                "interval": sched["interval"], "payload": sched.get("payload"),
                "next_due": sched.get("next_due") if nxt is None else nxt["run_at"],
                "next_job": None if nxt is None else nxt["id"],
                "last_run": None if last is None else {
                    "id": last["id"], "status": last["status"],
                    "finished_at": last["finished_at"]},
            })
        return out

    async def bursts(self, limit=50):
        """Pending debounced/throttled bursts, newest first: ``{"job_id", "key",
        "name", "queue", "kind", "first_call", "last_call", "due"}`` (a throttled run
        records no calls: None)."""
        _check_limit(limit)
        recs = []
        for rec in await self.store.keyed_pending():
            if rec.get("trigger") is not None:
                recs.append(rec)
        recs.sort(key=lambda r: r["id"], reverse=True)
        out = []
        for rec in recs[:limit]:
            trig = rec["trigger"]
            out.append({"job_id": rec["id"], "key": rec.get("key"), "name": rec["name"],
                        "queue": rec["queue"], "kind": trig.get("kind"),
                        "first_call": trig.get("first"), "last_call": trig.get("last"),
                        "due": rec["run_at"]})
        return out

    async def leader_info(self, tab_id, is_leader, silence):
        """Who leads: ``{"tab", "epoch", "since", "hidden", "heartbeat_age", "state",
        "role", "this_tab"}``. ``hidden``: the leader's page was hidden at its last
        heartbeat. ``state`` is ``"none"`` (never elected), ``"resigned"``, ``"silent"``
        (heartbeat older than ``silence``: about to be replaced) or ``"alive"``;
        ``role`` is this tab's: ``"leader"`` or ``"follower"``. ``since`` is None when
        the stored leader record does not carry it."""
        info = await self.store.meta_get(LEADER)
        now = self.clock()
        out = {"tab": None, "epoch": None, "since": None, "hidden": None, "heartbeat_age": None,
               "state": "none", "role": "leader" if is_leader else "follower",
               "this_tab": tab_id}
        if info is None:
            return out
        out["tab"] = info.get("tab")
        out["epoch"] = info.get("epoch")
        out["since"] = info.get("since")
        out["hidden"] = info.get("hidden")
        beat = info.get("beat")
        if beat is None:
            out["state"] = "resigned"
        else:
            out["heartbeat_age"] = max(0.0, now - beat)
            out["state"] = "silent" if now - beat > silence else "alive"
        return out

    # -- changing (one transaction each) ---------------------------------------------
    async def delete(self, job_id):
        """Delete a finished job; returns its last record. ``KeyError`` if unknown,
        ``ValueError`` if it is pending or processing (cancel it first)."""
        _check_id(job_id)

        def fn(tx):
            cur = tx.jobs[job_id]
            if cur is None:
                raise KeyError(job_id)
            if cur["status"] not in FINISHED:
                raise ValueError(f"job {job_id} is {cur['status']}: only a finished job "
                                 "can be deleted (cancel it first)")
            tx.delete(job_id)
            return cur
        return await self.store.atomic(fn, job_ids=(job_id,))

    async def clean(self, status, older_than):
        """Delete jobs of a finished ``status`` that finished more than ``older_than``
        seconds ago; returns how many."""
        if status not in FINISHED:
            raise ValueError(f"status must be one of {', '.join(FINISHED)}, not {status!r}")
        check_number(older_than, "older_than", allow_none=False, minimum=0)
        return await self.store.purge(status, self.clock() - older_than)

    async def promote(self, job_id):
        """Make a delayed pending job due now (its expiry moves with it). Returns
        ``(record, changed)``; a job already due is returned unchanged. ``KeyError`` if
        unknown, ``ValueError`` if it is not pending."""
        _check_id(job_id)
        now = self.clock()

        def fn(tx):
            cur = tx.jobs[job_id]
            if cur is None:
                raise KeyError(job_id)
            if cur["status"] != PENDING:
                raise ValueError(f"job {job_id} is {cur['status']}: only a pending job "
                                 "can be run now")
            if cur["run_at"] <= now:
                return cur, False
            new = dict(cur)
            new["run_at"] = now
            if new.get("ttl") is not None:
                new["expires_at"] = now + new["ttl"]
            touch(new)
            tx.put(new)
            return new, True
        return await self.store.atomic(fn, job_ids=(job_id,))


# -- pure formatting the inspector uses (here so it is tested under CPython) ------------
def relative(t, now):
    """``"in 5 s"``, ``"3 min ago"``, ``"2 h ago"``, ``"now"``; ``""`` for None."""
    if t is None:
        return ""
    if type(t) not in (int, float):
        return "?"  # a malformed stored value: shown, never fatal
    d = t - now
    ahead = d > 0
    d = abs(d)
    if d < 1:
        return "now"
    if d < 90:
        text = f"{int(d)} s"
    elif d < 5400:
        text = f"{int(d / 60)} min"
    elif d < 172800:
        text = f"{int(d / 3600)} h"
    else:
        text = f"{int(d / 86400)} d"
    return "in " + text if ahead else text + " ago"


def duration(seconds):
    """``"90 s"``, ``"10 min"``, ``"1.5 h"``, ``"2 d"`` for an interval."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 5400:
        return f"{seconds / 60:g} min"
    if seconds < 172800:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 86400:g} d"


def preview(text, limit):
    """``(shown, hidden)``: the first ``limit`` characters of ``text`` and how many more
    there are (0: nothing is hidden)."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit
