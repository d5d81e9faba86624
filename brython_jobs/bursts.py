"""Debounced and throttled triggers in the core: ``debounce``, ``throttle`` and the purge
of stale throttle state. Pure; mixed into ``Engine`` (engine.py).

A debounced burst lives with its pending job: ``trigger = {"kind": "debounce", "first",
"last"}`` (the burst's first and latest call). A throttled key keeps meta
``throttle:<key> = {"start", "interval"}``: when its latest run STARTED (written by the
claim), so the next run is due no earlier than one interval after that start.
"""

from . import timing
from .metas import SEQ, THROTTLE
from .records import is_number, touch

# A stored call time more than this ahead of the writer's clock means the wall clock
# stepped back since (every tab of a machine reads the same clock, and batches are
# written within moments of their calls).
CLOCK_STEP = 1.0


class Bursts:
    """The trigger operations of ``Engine`` (needs ``store``, ``clock``, ``_insert`` and
    ``_live_by_key``)."""

    async def debounce(self, spec, first_call, last_call, wait, max_wait, ended=None):
        """One coalesced batch of debounced calls made between ``first_call`` and
        ``last_call`` with ``spec["payload"]`` the latest. Joins the burst whose job is
        still pending and can still run (same key), else starts a new burst. The latest
        call carries the payload (tabs' batches may be written out of call order);
        after the wall clock stepped back, the stored calls lie in the future and the
        newest write wins. Returns ``(record, created)``; a pending job found
        past its expiry is expired and appended to ``ended``."""
        now = self.clock()
        key = spec["key"]
        gone = []

        def fn(tx):
            cur = self._live_by_key(tx, key, now, gone)
            if cur is None:
                trig = {"kind": "debounce", "first": first_call, "last": last_call}
                spec2 = dict(spec)
                spec2["run_at"] = timing.debounce_due(first_call, last_call, wait, max_wait)
                return self._insert(tx, spec2, now, trigger=trig), True
            new = dict(cur)
            if _is_latest(cur.get("trigger"), last_call, now):
                new["payload"] = spec["payload"]
            trig = _joined(cur.get("trigger"), cur, first_call, last_call, now)
            new["trigger"] = trig
            due = timing.debounce_due(trig["first"], trig["last"], wait, max_wait)
            if cur["attempts"] > 0 and cur.get("error") is not None and cur["run_at"] > due:
                due = cur["run_at"]  # waiting for its retry: the backoff still holds
            new["run_at"] = due
            if new.get("ttl") is not None:
                new["expires_at"] = new["run_at"] + new["ttl"]
            touch(new)
            tx.put(new)
            return new, False
        out = await self.store.atomic(fn, meta_keys=(SEQ,), pending_keys=(key,))
        if ended is not None:
            ended.extend(gone)
        return out

    async def throttle(self, spec, interval, ended=None):
        """A throttled call: a pending run with this key takes the latest payload; else a
        new run is due now, or one ``interval`` after the previous run's start. Returns
        ``(record, created)``."""
        now = self.clock()
        key = spec["key"]
        gone = []

        def fn(tx):
            cur = self._live_by_key(tx, key, now, gone)
            if cur is not None:
                new = dict(cur)
                new["payload"] = spec["payload"]
                tx.put(new)
                return new, False
            due = timing.throttle_due(now, last_start(tx.metas.get(THROTTLE + key)),
                                      interval)
            spec2 = dict(spec)
            spec2["run_at"] = due
            rec = self._insert(tx, spec2, now,
                               trigger={"kind": "throttle", "interval": interval})
            return rec, True
        out = await self.store.atomic(fn, meta_keys=(SEQ, THROTTLE + key),
                                      pending_keys=(key,))
        if ended is not None:
            ended.extend(gone)
        return out

    def _note_start(self, tx, rec, now):
        """At a claim: a throttled run records its start for the next run's spacing."""
        trig = rec.get("trigger")
        if type(trig) is dict and trig.get("kind") == "throttle" and rec.get("key"):
            tx.put_meta(THROTTLE + rec["key"], {"start": now,
                                                "interval": trig.get("interval")})

    async def _purge_throttles(self, now):
        """Delete ``throttle:<key>`` entries older than their interval whose key has no
        pending run (they no longer space anything). Returns how many."""
        entries = await self.store.meta_prefix(THROTTLE)
        n = 0
        for mkey in entries:
            if not _throttle_stale(entries[mkey], now):
                continue

            def fn(tx, mkey=mkey):
                if tx.by_key.get(mkey[len(THROTTLE):]) is not None \
                        or not _throttle_stale(tx.metas.get(mkey), now):
                    return False
                tx.put_meta(mkey, None)
                return True
            if await self.store.atomic(fn, meta_keys=(mkey,),
                                       pending_keys=(mkey[len(THROTTLE):],)):
                n += 1
        return n


def last_start(value):
    """The last start recorded for a throttled key (an older version stored the last
    due time as a bare number), or None."""
    if type(value) is dict:
        value = value.get("start")
    return value if is_number(value) else None


def _throttle_stale(value, now):
    if value is None:
        return False
    start = last_start(value)
    if start is None:
        return True  # malformed: it spaces nothing
    interval = value.get("interval") if type(value) is dict else None
    if not is_number(interval):
        interval = 0  # an older entry: its interval is unknown
    return start + interval < now


def _is_latest(trig, last_call, now):
    """True when a batch whose latest call was at ``last_call`` carries the burst's
    payload: it is no older than the burst's latest call, or that call lies in this
    clock's future (the wall clock stepped back since)."""
    last = trig.get("last") if type(trig) is dict else None
    if not is_number(last):
        return True
    return last_call >= last or last > now + CLOCK_STEP


def _joined(trig, cur, first_call, last_call, now):
    """The burst's first and latest call times after a batch joins it."""
    trig = trig if type(trig) is dict else {}
    first = trig.get("first")
    last = trig.get("last")
    if not is_number(first):
        first = cur.get("created_at") if is_number(cur.get("created_at")) else first_call
    if not is_number(last):
        last = first
    if last > now + CLOCK_STEP:
        # The stored calls lie in this clock's future: the wall clock stepped back. Count
        # the burst from this batch, so it runs `wait` after it on the clock as it is.
        first, last = first_call, last_call
    else:
        if last_call > last:
            last = last_call
        if first_call < first:
            first = first_call
    return {"kind": "debounce", "first": first, "last": last}
