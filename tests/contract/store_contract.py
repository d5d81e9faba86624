"""The Store contract: one suite for every implementation of the Store interface.

It runs unchanged under CPython (against MemoryStore, see tests/unit/test_store_contract.py)
and inside Brython in the browser (against the IndexedDB store). So it imports nothing
but the project's records module, and keeps to what Brython runs well: plain ``async def``
checks, no ``await`` inside comprehensions, no generators or lambdas that await.

Each check is ``async def check_xxx(store, check)``: ``store`` is a freshly opened, empty
store and ``check(condition, message)`` fails the check when ``condition`` is false.
``CHECKS`` lists them all, and ``run_all(make_store, report)`` runs each one with a new
store from ``await make_store()`` and calls ``report(name, ok, message)``.

Records are built with ``records.new_record`` and get their ``seq`` here, so the suite
does not depend on the engine. Their ids sort in ``seq`` order, as real job ids sort in
creation order (a store may list by id).
"""

from brython_jobs.errors import StorageError
from brython_jobs.records import (
    MAX_DEPTH, MAX_SAFE_INT, check_payload,
    CANCELLED, COMPLETED, FAILED, PENDING, PROCESSING, STATUSES, new_record, touch,
)


class CheckFailed(Exception):
    """Raised by ``check`` when a condition does not hold."""


def _check(condition, message):
    if not condition:
        raise CheckFailed(message)


# -- helpers -------------------------------------------------------------------------

def job(seq, name="task", queue="default", priority=0, run_at=100.0, status=PENDING,
        key=None, ttl=None, payload=None, finished_at=None):
    """A record with id ``job-<seq>``, in ``status`` (times derived from ``run_at``)."""
    rec = new_record("job-" + str(seq + 10000)[1:], name, payload, queue, priority, 50.0,
                     run_at, ttl, "fail", 3, key)
    rec["seq"] = seq
    if status == PROCESSING:
        rec["status"] = PROCESSING
        rec["attempts"] = 1
        rec["started_at"] = run_at
        rec["owner"] = 1
    elif status != PENDING:
        rec["status"] = status
        rec["attempts"] = 1
        rec["started_at"] = run_at
        rec["finished_at"] = run_at + 1.0 if finished_at is None else finished_at
    return touch(rec)


async def put_all(store, recs, metas=None):
    """Store records (and meta values) in one transaction."""
    def fn(tx):
        for rec in recs:
            tx.put(rec)
        if metas is not None:
            for key in metas:
                tx.put_meta(key, metas[key])
    await store.atomic(fn)


def ids(recs):
    out = []
    for rec in recs:
        out.append(rec["id"])
    return out


def seqs(recs):
    out = []
    for rec in recs:
        out.append(rec["seq"])
    return out


async def snapshot(store):
    """Everything observable, to compare before and after a refused write."""
    return {"jobs": await store.query(limit=None), "counts": await store.counts(),
            "meta": await store.meta_prefix("")}


# -- atomic --------------------------------------------------------------------------

async def check_open_is_idempotent(store, check):
    """Opening an open store again is harmless; an empty store has no jobs."""
    await store.open()
    check(await store.query(limit=None) == [], "a fresh store is empty")
    await put_all(store, [job(1)])
    await store.open()
    check(await store.get("job-0001") is not None, "a record survives a second open()")


async def check_put_and_get_round_trip(store, check):
    """A record written by atomic comes back from get() equal, JSON-like data intact."""
    payload = {"text": "ünïcode ✓ 漢字", "n": 3, "x": 1.5, "neg": -2, "yes": True,
               "no": False, "none": None, "list": [1, "two", [3.25, None], {"k": []}],
               "nested": {"a": {"b": {"c": [True, False]}}}, "empty": {}}
    rec = job(1, payload=payload, key="the-key", ttl=30.0, priority=7)
    rec["progress"] = {"fraction": 0.5, "message": "half"}
    rec["trigger"] = {"kind": "debounce", "first": 90.0, "last": 95.5}
    await put_all(store, [rec])
    got = await store.get(rec["id"])
    check(got == rec, f"get() returned {got!r}, expected {rec!r}")
    check(await store.get("job-9999") is None, "get() of an unknown id is None")


async def check_atomic_reads_jobs_and_metas(store, check):
    """atomic gives fn the named jobs and meta values (None when missing) and returns
    what fn returned."""
    a = job(1)
    await put_all(store, [a], {"m": {"epoch": 3, "tab": "x"}})
    seen = {}

    def fn(tx):
        seen["jobs"] = dict(tx.jobs)
        seen["metas"] = dict(tx.metas)
        return ["result", 42]
    out = await store.atomic(fn, job_ids=["job-0001", "job-0404"], meta_keys=["m", "nope"])
    check(out == ["result", 42], f"atomic returned {out!r}, not what fn returned")
    check(seen["jobs"] == {"job-0001": a, "job-0404": None},
          f"tx.jobs was {seen['jobs']!r}")
    check(seen["metas"] == {"m": {"epoch": 3, "tab": "x"}, "nope": None},
          f"tx.metas was {seen['metas']!r}")


async def check_atomic_replaces_and_deletes(store, check):
    """put replaces a record by id, delete removes one; deleting an unknown id is fine."""
    a = job(1, payload="old")
    b = job(2)
    await put_all(store, [a, b])

    def fn(tx):
        new = dict(tx.jobs["job-0001"])
        new["payload"] = "new"
        tx.put(new)
        tx.delete("job-0002")
        tx.delete("job-0404")
    await store.atomic(fn, job_ids=["job-0001", "job-0002"])
    got = await store.get("job-0001")
    check(got is not None and got["payload"] == "new", f"replaced record is {got!r}")
    check(await store.get("job-0002") is None, "deleted record is gone")
    check(ids(await store.query(limit=None)) == ["job-0001"], "only the replaced one left")


async def check_atomic_last_write_of_an_id_wins(store, check):
    """Within one transaction, the last put/delete of an id decides what is stored."""
    await put_all(store, [job(3), job(4)])

    def fn(tx):
        tx.put(job(1, payload="v1"))
        tx.put(job(1, payload="v2"))   # put, put: the second version
        tx.put(job(2))
        tx.delete("job-0002")          # put, delete: gone
        tx.delete("job-0003")
        tx.put(job(3, payload="back"))  # delete, put: there
        tx.put(job(4, payload="x"))
        tx.delete("job-0004")          # an existing record: put, delete: gone
    await store.atomic(fn)
    one = await store.get("job-0001")
    check(one is not None and one["payload"] == "v2", f"put twice left {one!r}")
    check(await store.get("job-0002") is None, "put then delete must not store it")
    three = await store.get("job-0003")
    check(three is not None and three["payload"] == "back",
          f"delete then put left {three!r}")
    check(await store.get("job-0004") is None, "put then delete must delete it")


async def check_atomic_meta_put_and_delete(store, check):
    """put_meta stores JSON-like values; putting None deletes the key."""
    await put_all(store, [], {"a": {"x": [1, 2]}, "b": [1, "two"], "c": 5, "d": "text"})
    check(await store.meta_get("a") == {"x": [1, 2]}, "dict meta value")
    check(await store.meta_get("b") == [1, "two"], "list meta value")
    check(await store.meta_get("c") == 5, "number meta value")

    def fn(tx):
        tx.put_meta("a", None)
        tx.put_meta("c", 6)
    await store.atomic(fn)
    check(await store.meta_get("a") is None, "put_meta(key, None) deletes the key")
    check(await store.meta_get("c") == 6, "put_meta replaces a value")
    check(await store.meta_get("d") == "text", "untouched meta value kept")
    check(await store.meta_get("never") is None, "an unknown meta key reads as None")


async def check_atomic_pending_keys_find_only_pending(store, check):
    """pending_keys gives, per key, the pending record holding it, else None."""
    await put_all(store, [
        job(1, key="k", status=COMPLETED),
        job(2, key="k", status=PROCESSING),
        job(3, key="k"),
        job(4, key="other"),
        job(5, key="done", status=FAILED),
        job(6, key="busy", status=PROCESSING),
    ])
    seen = {}

    def fn(tx):
        seen["by_key"] = dict(tx.by_key)
    await store.atomic(fn, pending_keys=["k", "done", "busy", "absent"])
    by_key = seen["by_key"]
    check(by_key.get("k") is not None and by_key["k"]["id"] == "job-0003",
          f"the pending job with key k is job-0003, got {by_key.get('k')!r}")
    check(by_key.get("done", "missing") is None, "a failed job with the key is not pending")
    check(by_key.get("busy", "missing") is None, "a processing job is not pending")
    check(by_key.get("absent", "missing") is None, "an unused key gives None")


async def check_atomic_raising_writes_nothing(store, check):
    """When fn raises, nothing it wrote is stored and the exception propagates."""
    await put_all(store, [job(1, payload="keep"), job(2)], {"m": 1})
    before = await snapshot(store)

    def fn(tx):
        tx.put(job(3))
        changed = dict(tx.jobs["job-0001"])
        changed["payload"] = "lost"
        tx.put(changed)
        tx.delete("job-0002")
        tx.put_meta("m", 2)
        tx.put_meta("new", 1)
        raise ValueError("boom")
    raised = None
    try:
        await store.atomic(fn, job_ids=["job-0001"], meta_keys=["m"])
    except ValueError as exc:
        raised = exc
    check(raised is not None and str(raised) == "boom", "fn's ValueError propagates")
    after = await snapshot(store)
    check(after == before, f"a failed transaction changed the store: {after!r}")


async def check_records_read_are_copies(store, check):
    """Changing a record after writing it, or one read back, changes nothing stored."""
    rec = job(1, payload={"n": 1})
    await put_all(store, [rec])
    rec["payload"]["n"] = 2
    got = await store.get("job-0001")
    check(got["payload"] == {"n": 1}, "mutating the written record changed the store")
    got["payload"]["n"] = 3
    got["status"] = FAILED
    listed = await store.query(limit=None)
    listed[0]["payload"]["n"] = 4
    again = await store.get("job-0001")
    check(again["payload"] == {"n": 1} and again["status"] == PENDING,
          f"mutating a record read back changed the store: {again!r}")
    meta = {"list": [1]}
    await put_all(store, [], {"m": meta})
    meta["list"].append(2)
    read = await store.meta_get("m")
    read["list"].append(3)
    check(await store.meta_get("m") == {"list": [1]}, "meta values must be copies too")


# -- walk_pending ------------------------------------------------------------------

async def check_walk_pending_pick_order(store, check):
    """walk_pending meets the queue's pending jobs by highest priority, then earliest
    due time, then enqueue order; after fn(tx, None); other queues and statuses are not
    visited; it returns the last value fn returned."""
    await put_all(store, [
        job(1, queue="q", priority=0, run_at=100.0),
        job(2, queue="q", priority=5, run_at=300.0),
        job(3, queue="q", priority=5, run_at=200.0),
        job(4, queue="q", priority=0, run_at=100.0),
        job(5, queue="q", priority=-3, run_at=10.0),
        job(6, queue="q", priority=5, run_at=200.0),
        job(7, queue="other", priority=99, run_at=1.0),
        job(8, queue="q", priority=99, run_at=1.0, status=PROCESSING),
        job(9, queue="q", priority=99, run_at=1.0, status=COMPLETED),
        job(10, queue="q", priority=2.5, run_at=500.0),
    ])
    seen = []

    def fn(tx, rec):
        seen.append(None if rec is None else rec["seq"])
        return False
    out = await store.walk_pending("q", fn)
    check(seen == [None, 3, 6, 2, 10, 1, 4, 5], f"walk order was {seen!r}")
    check(out is False, f"walk_pending returned {out!r}, fn last returned False")


async def check_walk_pending_stops_when_fn_returns_true(store, check):
    """The walk ends at the first truthy value, which walk_pending returns."""
    await put_all(store, [job(1), job(2), job(3)])
    seen = []

    def fn(tx, rec):
        seen.append(None if rec is None else rec["seq"])
        if rec is not None and rec["seq"] == 2:
            return "found"
        return None
    out = await store.walk_pending("default", fn)
    check(seen == [None, 1, 2], f"visited {seen!r}, expected to stop at seq 2")
    check(out == "found", f"walk_pending returned {out!r}, not fn's last value")


async def check_walk_pending_none_call_reads_metas_and_can_stop(store, check):
    """fn(tx, None) comes first with the meta values read; returning True there ends the
    walk before any record."""
    await put_all(store, [job(1)], {"paused": ["default"]})
    seen = []

    def fn(tx, rec):
        seen.append(None if rec is None else rec["seq"])
        if rec is None:
            seen.append(tx.metas.get("paused"))
            seen.append(tx.metas.get("absent", "missing"))
            return True
        return False
    out = await store.walk_pending("default", fn, meta_keys=["paused", "absent"])
    check(out is True, f"walk_pending returned {out!r}")
    check(seen == [None, ["default"], None], f"fn saw {seen!r}")


async def check_walk_pending_empty_queue(store, check):
    """With no pending job in the queue, fn is called once, with None."""
    await put_all(store, [job(1, queue="elsewhere"), job(2, status=FAILED)])
    seen = []

    def fn(tx, rec):
        seen.append(rec)
        return False
    out = await store.walk_pending("default", fn)
    check(seen == [None], f"fn was called with {seen!r}")
    check(not out, f"walk_pending returned {out!r}")


async def check_walk_pending_applies_writes(store, check):
    """Records and meta values written during the walk are stored when it ends."""
    await put_all(store, [job(1, priority=1), job(2), job(3, queue="b")], {"seq": 3})

    def fn(tx, rec):
        if rec is None:
            return False
        if rec["seq"] == 1:
            gone = dict(rec)
            gone["status"] = CANCELLED
            gone["finished_at"] = 150.0
            tx.put(touch(gone))
            return False
        claimed = dict(rec)
        claimed["status"] = PROCESSING
        claimed["started_at"] = 151.0
        claimed["attempts"] = 1
        tx.put(touch(claimed))
        tx.put(job(4))
        tx.put_meta("seq", tx.metas["seq"] + 1)
        return True
    out = await store.walk_pending("default", fn, meta_keys=["seq"])
    check(out is True, "the walk ended with True")
    one = await store.get("job-0001")
    two = await store.get("job-0002")
    check(one["status"] == CANCELLED, f"job-0001 is {one['status']}")
    check(two["status"] == PROCESSING and two["started_at"] == 151.0,
          f"job-0002 is {two!r}")
    check(await store.get("job-0004") is not None,
          "a record inserted during the walk is stored")
    check(await store.meta_get("seq") == 4, "a meta value written in the walk is stored")
    counts = await store.counts()
    check(counts[PENDING] == 2 and counts[PROCESSING] == 1 and counts[CANCELLED] == 1,
          f"counts after the walk: {counts!r}")


async def check_walk_pending_meets_stored_records_and_keeps_the_last_write(store, check):
    """A record inserted by fn(tx, None) is not met by the walk (which sees the
    records as stored when it began), and a record put twice (claimed, then put back as
    inserted) is stored as last written: what a claim made in an enqueue relies on."""
    await put_all(store, [job(1)], {"seq": 1})
    met = []

    def fn(tx, rec):
        if rec is None:
            fresh = job(2)
            tx.put(fresh)
            claimed = dict(fresh)
            claimed["status"] = PROCESSING
            claimed["attempts"] = 1
            claimed["started_at"] = 151.0
            tx.put(touch(claimed))
            tx.put_meta("seq", 2)
            state["fresh"] = fresh
            return False
        met.append(rec["id"])
        tx.put(state["fresh"])  # the stored job-0001 goes first: put the new one back
        return True
    state = {}
    out = await store.walk_pending("default", fn, meta_keys=["seq"])
    check(out is True, "the walk ended with True")
    check(met == ["job-0001"], f"the walk met {met!r}, not only the stored record")
    two = await store.get("job-0002")
    check(two is not None and two["status"] == PENDING and two["attempts"] == 0,
          f"job-0002 is stored as last written (pending): {two!r}")
    counts = await store.counts()
    check(counts[PENDING] == 2 and counts[PROCESSING] == 0, f"counts: {counts!r}")


async def check_walk_pending_raising_writes_nothing(store, check):
    """When fn raises during the walk, nothing it wrote is stored."""
    await put_all(store, [job(1), job(2)], {"m": 1})
    before = await snapshot(store)

    def fn(tx, rec):
        if rec is None:
            tx.put_meta("m", 2)
            return False
        changed = dict(rec)
        changed["payload"] = "lost"
        tx.put(changed)
        if rec["seq"] == 2:
            raise KeyError("stop")
        return False
    raised = False
    try:
        await store.walk_pending("default", fn, meta_keys=["m"])
    except KeyError:
        raised = True
    check(raised, "fn's KeyError propagates")
    after = await snapshot(store)
    check(after == before, f"a failed walk changed the store: {after!r}")


# -- get / query ---------------------------------------------------------------------

async def check_query_filters(store, check):
    """query() keeps the records matching every filter given, oldest first."""
    await put_all(store, [
        job(4, name="a", queue="q1"),
        job(1, name="a", queue="q1", status=COMPLETED),
        job(3, name="b", queue="q2", status=COMPLETED),
        job(2, name="b", queue="q1"),
        job(5, name="a", queue="q2", status=FAILED),
    ])
    cases = [
        ({}, [1, 2, 3, 4, 5]),
        ({"status": PENDING}, [2, 4]),
        ({"status": COMPLETED}, [1, 3]),
        ({"status": CANCELLED}, []),
        ({"queue": "q1"}, [1, 2, 4]),
        ({"name": "a"}, [1, 4, 5]),
        ({"status": COMPLETED, "queue": "q1"}, [1]),
        ({"queue": "q2", "name": "a"}, [5]),
        ({"status": PENDING, "queue": "q1", "name": "b"}, [2]),
        ({"queue": "nope"}, []),
    ]
    for case in cases:
        got = await store.query(status=case[0].get("status"), queue=case[0].get("queue"),
                                name=case[0].get("name"), limit=None)
        check(seqs(got) == case[1], f"query({case[0]!r}) gave seqs {seqs(got)!r}, "
                                    f"expected {case[1]!r}")


async def check_query_limit(store, check):
    """limit keeps the oldest n; limit=None returns all; the default limit is 100."""
    recs = []
    i = 105
    while i >= 1:  # written newest first: the order must come from seq, not insertion
        recs.append(job(i, status=COMPLETED if i % 2 else PENDING))
        i -= 1
    await put_all(store, recs)
    check(seqs(await store.query(limit=3)) == [1, 2, 3], "limit=3 keeps the oldest three")
    everything = await store.query(limit=None)
    check(len(everything) == 105, f"limit=None gave {len(everything)} of 105")
    check(seqs(everything) == sorted(seqs(everything)), "limit=None is oldest first")
    default = await store.query()
    check(len(default) == 100 and default[0]["seq"] == 1 and default[99]["seq"] == 100,
          f"the default limit gave {len(default)} records")
    pending = await store.query(status=PENDING, limit=2)
    check(seqs(pending) == [2, 4], f"status filter with limit gave {seqs(pending)!r}")
    named = await store.query(name="task", limit=2)
    check(seqs(named) == [1, 2], f"name filter with limit gave {seqs(named)!r}")
    check(await store.query(limit=0) == [], "limit=0 gives nothing")


# -- counts ----------------------------------------------------------------------------

async def check_counts(store, check):
    """counts() has every status, with 0 for the absent ones."""
    empty = await store.counts()
    want = {}
    for status in STATUSES:
        want[status] = 0
    check(empty == want, f"counts of an empty store: {empty!r}")
    await put_all(store, [job(1), job(2), job(3, status=PROCESSING),
                          job(4, status=FAILED), job(5, status=FAILED),
                          job(6, status=FAILED)])
    got = await store.counts()
    want = {PENDING: 2, PROCESSING: 1, COMPLETED: 0, FAILED: 3, CANCELLED: 0}
    check(got == want, f"counts: {got!r}, expected {want!r}")


# -- pending_heads ---------------------------------------------------------------------

async def check_pending_heads(store, check):
    """pending_heads() maps each queue with pending jobs to its earliest due time, across
    priorities; other statuses do not count."""
    check(await store.pending_heads() == {}, "no pending job: no heads")
    await put_all(store, [
        job(1, queue="a", priority=9, run_at=300.0),
        job(2, queue="a", priority=0, run_at=200.0),
        job(3, queue="a", priority=-1, run_at=250.0),
        job(4, queue="a", run_at=50.0, status=PROCESSING),
        job(5, queue="b", run_at=400.0),
        job(6, queue="b", priority=3, run_at=500.0),
        job(7, queue="c", run_at=10.0, status=COMPLETED),
    ])
    heads = await store.pending_heads()
    check(heads == {"a": 200.0, "b": 400.0}, f"pending_heads: {heads!r}")


# -- expiry ----------------------------------------------------------------------------

async def check_expiring_and_next_expiry(store, check):
    """expiring(until) gives the pending records with expires_at < until (strictly);
    next_expiry() the smallest expires_at of a pending job, or None."""
    check(await store.next_expiry() is None, "no job: no expiry")
    check(await store.expiring(1e12) == [], "no job: nothing expiring")
    await put_all(store, [
        job(1, run_at=100.0, ttl=10.0),                    # 110
        job(2, run_at=100.0, ttl=50.0),                    # 150
        job(3, run_at=100.0),                              # no ttl
        job(4, run_at=90.0, ttl=5.0, status=PROCESSING),   # 95, not pending
        job(5, run_at=90.0, ttl=1.0, status=CANCELLED),    # 91, not pending
        job(6, queue="b", run_at=100.0, ttl=30.0),         # 130
    ])
    check(await store.next_expiry() == 110.0, "next_expiry is the earliest pending limit")
    cases = [(110.0, []), (110.5, [1]), (150.0, [1, 6]), (1e12, [1, 2, 6])]
    for case in cases:
        got = await store.expiring(case[0])
        got_seqs = sorted(seqs(got))
        check(got_seqs == case[1], f"expiring({case[0]}) gave seqs {got_seqs!r}, "
                                   f"expected {case[1]!r}")
    full = await store.expiring(120.0)
    check(len(full) == 1 and full[0] == job(1, run_at=100.0, ttl=10.0),
          "expiring returns whole records")
    await put_all(store, [job(1, run_at=100.0, ttl=10.0, status=FAILED)])
    check(await store.next_expiry() == 130.0, "a finished job no longer expires")


# -- purge -----------------------------------------------------------------------------

async def check_purge(store, check):
    """purge(status, before) deletes the jobs of that status finished before ``before``
    (strictly) and returns how many; others stay."""
    await put_all(store, [
        job(1, status=COMPLETED, finished_at=100.0),
        job(2, status=COMPLETED, finished_at=199.0),
        job(3, status=COMPLETED, finished_at=200.0),
        job(4, status=FAILED, finished_at=50.0),
        job(5, status=CANCELLED, finished_at=50.0),
        job(6, run_at=10.0),
        job(7, run_at=10.0, status=PROCESSING),
    ])
    n = await store.purge(COMPLETED, 200.0)
    check(n == 2, f"purge returned {n}, expected 2")
    left = seqs(await store.query(limit=None))
    check(left == [3, 4, 5, 6, 7], f"after purge: {left!r}")
    check(await store.purge(COMPLETED, 200.0) == 0, "nothing more to purge")
    check(await store.purge(FAILED, 51.0) == 1, "purging failed jobs by finish time")
    check(seqs(await store.query(limit=None)) == [3, 5, 6, 7], "only the failed one went")


# -- meta ------------------------------------------------------------------------------

async def check_meta_get_and_prefix(store, check):
    """meta_get reads one value (None when absent); meta_prefix returns the values of
    the keys starting with the prefix."""
    check(await store.meta_prefix("schedule:") == {}, "no meta: empty prefix result")
    await put_all(store, [], {
        "schedule:a": {"key": "a", "interval": 60},
        "schedule:b": {"key": "b", "interval": 1.5},
        "schedule": "not it",
        "schedul:x": 1,
        "throttle:a": 100.0,
        "leader": {"epoch": 2, "tab": "t", "beat": None},
    })
    got = await store.meta_prefix("schedule:")
    want = {"schedule:a": {"key": "a", "interval": 60},
            "schedule:b": {"key": "b", "interval": 1.5}}
    check(got == want, f"meta_prefix('schedule:') gave {got!r}")
    check(await store.meta_prefix("throttle:") == {"throttle:a": 100.0}, "throttle prefix")
    check(await store.meta_prefix("zzz") == {}, "unused prefix")
    leader = await store.meta_get("leader")
    check(leader == {"epoch": 2, "tab": "t", "beat": None}, f"meta_get gave {leader!r}")
    check(await store.meta_get("missing") is None, "missing meta key is None")


async def check_walk_pending_reads_jobs_and_keys_first(store, check):
    """walk_pending reads the named jobs and keyed pending jobs before fn(tx, None), which
    may write (finish a job); the walk then sees the records as stored at the start."""
    running = job(1, queue="q", status=PROCESSING)
    await put_all(store, [running, job(2, queue="q", key="k"), job(3, queue="q")])
    seen = []

    def fn(tx, rec):
        if rec is None:
            seen.append(tx.jobs["job-0001"]["status"])
            seen.append(tx.by_key["k"]["seq"])
            done = dict(tx.jobs["job-0001"])
            done["status"] = COMPLETED
            done["finished_at"] = 200.0
            tx.put(touch(done))
            return False
        seen.append(rec["seq"])
        return rec["seq"] == 3
    out = await store.walk_pending("q", fn, job_ids=["job-0001"], pending_keys=["k"])
    check(out is True, f"walk_pending returned {out!r}")
    check(seen == [PROCESSING, 2, 2, 3], f"fn saw {seen!r}")
    stored = await store.get("job-0001")
    check(stored["status"] == COMPLETED, f"the finish written in fn(tx, None) was lost: "
                                         f"{stored['status']}")


async def check_overview(store, check):
    """overview(now) gives pending_heads, next_expiry and whether anything expired."""
    await put_all(store, [
        job(1, queue="a", run_at=300.0),
        job(2, queue="a", priority=3, run_at=200.0, ttl=50.0),
        job(3, queue="b", run_at=150.0, ttl=5.0),
        job(4, queue="c", run_at=10.0, status=COMPLETED),
    ])
    ov = await store.overview(100.0)
    check(ov["heads"] == {"a": 200.0, "b": 150.0}, f"heads {ov['heads']!r}")
    check(ov["next_expiry"] == 155.0, f"next_expiry {ov['next_expiry']!r}")
    check(ov["expired"] is False, "nothing is past its limit at 100")
    ov = await store.overview(155.5)
    check(ov["expired"] is True, "job 3 is past its limit (155) at 155.5")


async def check_query_and_keys_follow_id_order(store, check):
    """Listing follows primary key order (job id), as IndexedDB lists: query with or
    without a status, and the pending job of a key (the smallest id among equal index
    keys), even where ids sort differently from seq."""
    recs = []
    for seq, job_id in ((1, "job-c"), (2, "job-a"), (3, "job-b")):
        rec = job(seq, key="k")
        rec["id"] = job_id
        recs.append(rec)
    done = job(4, status=COMPLETED)
    done["id"] = "job-0"
    recs.append(done)
    await put_all(store, recs)
    everything = ids(await store.query(limit=None))
    check(everything == ["job-0", "job-a", "job-b", "job-c"], f"query gave {everything!r}")
    pending = ids(await store.query(status=PENDING, limit=None))
    check(pending == ["job-a", "job-b", "job-c"], f"query(pending) gave {pending!r}")
    named = ids(await store.query(name="task", limit=2))
    check(named == ["job-0", "job-a"], f"query(name, limit=2) gave {named!r}")
    seen = {}

    def fn(tx):
        seen["k"] = tx.by_key["k"]
    await store.atomic(fn, pending_keys=["k"])
    check(seen["k"] is not None and seen["k"]["id"] == "job-a",
          f"the pending job of key k is {seen['k']!r}, expected job-a (smallest id)")


async def check_malformed_index_keys_order_as_indexeddb(store, check):
    """A pending record whose run_at is not a number is walked after the numeric ones
    (IndexedDB sorts strings after numbers) and one whose run_at is missing is not
    indexed, so not walked; heads and overview do not fail on them, and a queue whose
    only pending record has a non-numeric run_at is due (so a walk can set it aside)."""
    odd = job(1, run_at=300.0)
    odd["run_at"] = "soon"
    gone = job(2, run_at=300.0)
    gone["run_at"] = None
    lone = job(4, queue="q2")
    lone["run_at"] = "later"
    await put_all(store, [odd, gone, job(3, run_at=200.0), lone])
    seen = []

    def fn(tx, rec):
        if rec is not None:
            seen.append(rec["seq"])
        return False
    await store.walk_pending("default", fn)
    check(seen == [3, 1], f"walk order was {seen!r}, expected [3, 1]")
    heads = await store.pending_heads()
    check(heads.get("default") == 200.0, f"heads {heads!r}")
    check(heads.get("q2") == 0, f"a queue holding only a malformed run_at is due: {heads!r}")
    ov = await store.overview(100.0)
    check(ov["heads"] == heads, f"overview heads {ov['heads']!r}")


OLDER_FIELDS = ("owner", "ttl", "on_expire", "schedule", "trigger", "claim", "progress",
                "result", "error", "key")


async def check_records_of_an_older_version_read_with_defaults(store, check):
    """A record written without the fields later versions added is read back, by every
    read path, with their defaults (None; on_expire "fail"; claim 0)."""
    older = job(1, run_at=100.0, ttl=20.0)
    waiting = job(2, run_at=100.0)
    for rec in (older, waiting):
        for field in OLDER_FIELDS:
            del rec[field]
    older["key"] = "k"  # still findable by key
    older["expires_at"] = 120.0
    await put_all(store, [older, waiting])
    want = job(1, run_at=100.0, ttl=20.0)
    want["ttl"] = None
    want["key"] = "k"
    got = await store.get("job-0001")
    check(got == want, f"get() gave {got!r}")
    listed = await store.query(limit=None)
    check(len(listed) == 2 and listed[0] == want, f"query() gave {listed!r}")
    filtered = await store.query(queue="default", limit=None)
    check(len(filtered) == 2 and filtered[0] == want, f"query(queue) gave {filtered!r}")
    by_status = await store.query(status=PENDING, limit=None)
    check(len(by_status) == 2 and by_status[0] == want, f"query(status) gave {by_status!r}")
    late = await store.expiring(130.0)
    check(late == [want], f"expiring() gave {late!r}")
    seen = {}

    def fn(tx):
        seen["jobs"] = tx.jobs["job-0002"]
        seen["key"] = tx.by_key["k"]
    await store.atomic(fn, job_ids=["job-0002"], pending_keys=["k"])
    check(seen["key"] == want, f"tx.by_key gave {seen['key']!r}")
    check(seen["jobs"]["claim"] == 0 and seen["jobs"]["on_expire"] == "fail"
          and seen["jobs"]["owner"] is None, f"tx.jobs gave {seen['jobs']!r}")
    walked = []

    def walk(tx, rec):
        if rec is not None:
            walked.append(rec)
        return False
    await store.walk_pending("default", walk)
    check(len(walked) == 2 and walked[0] == want, f"the walk gave {walked!r}")


async def check_a_refused_record_writes_nothing(store, check):
    """When the store refuses one record of a transaction (its id is not a valid key),
    it raises StorageError (name "DataError") and writes none of the transaction, not
    even the records put before it."""
    await put_all(store, [job(1, payload="keep")], {"m": 1})
    before = await snapshot(store)

    def fn(tx):
        changed = dict(tx.jobs["job-0001"])
        changed["payload"] = "lost"
        tx.put(changed)
        tx.put(job(2))
        tx.put_meta("m", 2)
        bad = job(3)
        bad["id"] = None
        tx.put(bad)
    raised = None
    try:
        await store.atomic(fn, job_ids=["job-0001"])
    except StorageError as exc:
        raised = exc
    check(raised is not None, "a refused record raises StorageError")
    check(raised is None or raised.name == "DataError", f"error name {raised and raised.name!r}")
    after = await snapshot(store)
    check(after == before, f"a refused transaction changed the store: {after!r}")


async def check_values_at_the_limits_round_trip(store, check):
    """The largest values check_payload accepts come back exactly: ints at +-(2**53 - 1),
    tiny and huge finite floats, and data nested MAX_DEPTH levels."""
    deep = "bottom"
    level = 0
    while level < MAX_DEPTH - 1:  # the payload dict itself is the first level
        deep = [deep] if level % 2 else {"d": deep}
        level += 1
    payload = {"big": MAX_SAFE_INT, "small": -MAX_SAFE_INT, "huge": 1.7e308,
               "tiny": 5e-324, "deep": deep}
    check_payload(payload)
    rec = job(1, payload=payload, priority=-MAX_SAFE_INT)
    await put_all(store, [rec], {"m": payload})
    got = await store.get("job-0001")
    check(got == rec, "a record at the value limits did not round-trip")
    check(await store.meta_get("m") == payload, "a meta value at the limits did not")


async def check_values_beyond_the_limits_are_refused(store, check):
    """What a store cannot keep exactly is refused by check_payload with TypeError
    (never RecursionError, also where the recursion limit is low), so it is never
    written: ints beyond +-(2**53 - 1), 10**400, infinities, nesting beyond MAX_DEPTH."""
    too_deep = 0
    level = 0
    while level < 3000:
        too_deep = [too_deep]
        level += 1
    just_too_deep = 0
    level = 0
    while level < MAX_DEPTH + 1:
        just_too_deep = {"d": just_too_deep}
        level += 1
    cases = [2 ** 53, -(2 ** 53), 10 ** 400, [1, {"x": 2 ** 64}], float("inf"),
             just_too_deep, too_deep]
    i = 0
    for value in cases:
        outcome = "accepted"
        try:
            check_payload(value)
        except TypeError:
            outcome = "TypeError"
        except BaseException as exc:  # RecursionError is the failure looked for here
            outcome = type(exc).__name__
        check(outcome == "TypeError", f"case {i} gave {outcome}, not TypeError")
        i += 1


CHECKS = [
    check_open_is_idempotent,
    check_put_and_get_round_trip,
    check_atomic_reads_jobs_and_metas,
    check_atomic_replaces_and_deletes,
    check_atomic_last_write_of_an_id_wins,
    check_atomic_meta_put_and_delete,
    check_atomic_pending_keys_find_only_pending,
    check_atomic_raising_writes_nothing,
    check_records_read_are_copies,
    check_walk_pending_pick_order,
    check_walk_pending_stops_when_fn_returns_true,
    check_walk_pending_none_call_reads_metas_and_can_stop,
    check_walk_pending_empty_queue,
    check_walk_pending_applies_writes,
    check_walk_pending_meets_stored_records_and_keeps_the_last_write,
    check_walk_pending_raising_writes_nothing,
    check_query_filters,
    check_query_limit,
    check_counts,
    check_pending_heads,
    check_expiring_and_next_expiry,
    check_purge,
    check_meta_get_and_prefix,
    check_walk_pending_reads_jobs_and_keys_first,
    check_overview,
    check_query_and_keys_follow_id_order,
    check_malformed_index_keys_order_as_indexeddb,
    check_records_of_an_older_version_read_with_defaults,
    check_a_refused_record_writes_nothing,
    check_values_at_the_limits_round_trip,
    check_values_beyond_the_limits_are_refused,
]


async def run_one(check_fn, make_store):
    """Run one check on a new store from ``await make_store()``; ``(ok, message)``."""
    ok = True
    message = ""
    store = None
    try:
        store = await make_store()
        await check_fn(store, _check)
    except CheckFailed as exc:
        ok = False
        message = str(exc)
    except Exception as exc:
        ok = False
        message = f"{type(exc).__name__}: {exc}"
    if store is not None:
        try:
            store.close()
        except Exception as exc:
            if ok:
                ok = False
                message = f"close() raised {type(exc).__name__}: {exc}"
    return ok, message


async def run_all(make_store, report):
    """Run every check, each on a new store; ``report(name, ok, message)`` after each.
    Returns ``{"passed": n, "failed": [names]}``."""
    passed = 0
    failed = []
    for check_fn in CHECKS:
        outcome = await run_one(check_fn, make_store)
        report(check_fn.__name__, outcome[0], outcome[1])
        if outcome[0]:
            passed += 1
        else:
            failed.append(check_fn.__name__)
    return {"passed": passed, "failed": failed}
