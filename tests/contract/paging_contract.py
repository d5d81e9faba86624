"""The Store contract for the inspector's reads: ``page``, ``find``, ``queue_counts``,
``finished_histogram`` and ``latest_by_key`` (store.py).

Like store_contract.py it runs unchanged under CPython (MemoryStore, from
tests/unit/test_admin.py) and in the browser (IndexedDB, tests/pages/paging_contract.html
from tests/browser/test_inspector.py): plain ``async def`` checks, no ``await`` inside
comprehensions. ``run_all(make_store, report)`` runs ``CHECKS`` as store_contract does.
"""

from brython_jobs.records import CANCELLED, COMPLETED, FAILED, PENDING, PROCESSING
from store_contract import ids, job, put_all, run_one


async def _mixed(store):
    """Given 12 jobs: seq 1..12, queues a/b alternating, statuses cycling, names by 3s."""
    cycle = [PENDING, COMPLETED, FAILED, COMPLETED]
    recs = []
    for seq in range(1, 13):
        recs.append(job(seq, name="n" + str(seq % 3), queue="a" if seq % 2 else "b",
                        status=cycle[seq % 4], finished_at=1000.0 + seq * 30))
    await put_all(store, recs)
    return recs


async def check_page_lists_newest_first_and_pages_by_before(store, check):
    await _mixed(store)
    first, nxt = await store.page(limit=5)
    check(ids(first) == ["job-0012", "job-0011", "job-0010", "job-0009", "job-0008"],
          f"first page, newest first: {ids(first)}")
    check(nxt == "job-0008", f"next is the last id of a full page: {nxt!r}")
    second, nxt2 = await store.page(limit=5, before=nxt)
    check(ids(second) == ["job-0007", "job-0006", "job-0005", "job-0004", "job-0003"],
          f"second page: {ids(second)}")
    third, nxt3 = await store.page(limit=5, before=nxt2)
    check(ids(third) == ["job-0002", "job-0001"] and nxt3 is None,
          f"last page and no next: {ids(third)} {nxt3!r}")


async def check_page_by_status_uses_before_across_the_status(store, check):
    await _mixed(store)
    done, nxt = await store.page(status=COMPLETED, limit=2)
    check(ids(done) == ["job-0011", "job-0009"], f"completed, newest first: {ids(done)}")
    rest, nxt2 = await store.page(status=COMPLETED, limit=10, before=nxt)
    check(ids(rest) == ["job-0007", "job-0005", "job-0003", "job-0001"] and nxt2 is None,
          f"older completed after {nxt}: {ids(rest)} {nxt2!r}")
    # before an id that is not of that status (job-0008 is pending) still works
    older, _ = await store.page(status=COMPLETED, limit=10, before="job-0008")
    check(ids(older) == ["job-0007", "job-0005", "job-0003", "job-0001"],
          f"completed older than a pending id: {ids(older)}")
    # before an id newer than every job lists from the newest
    top, _ = await store.page(status=FAILED, limit=10, before="job-9999")
    check(ids(top) == ["job-0010", "job-0006", "job-0002"], f"failed: {ids(top)}")


async def check_page_filters_queue_name_and_has(store, check):
    recs = await _mixed(store)
    got, nxt = await store.page(queue="b", name="n0", limit=10)
    check(ids(got) == ["job-0012", "job-0006"] and nxt is None, f"queue b, name n0: {ids(got)}")
    got, _ = await store.page(status=PENDING, queue="b", limit=10)
    check(ids(got) == ["job-0012", "job-0008", "job-0004"], f"pending in b: {ids(got)}")
    trig = job(13, status=PENDING)
    trig["trigger"] = {"kind": "debounce", "first": 1.0, "last": 2.0}
    await put_all(store, [trig])
    got, _ = await store.page(status=PENDING, has="trigger", limit=10)
    check(ids(got) == ["job-0013"], f"pending with a trigger: {ids(got)}")
    check(len(recs) == 12, "setup")


async def check_page_scan_budget_returns_a_next(store, check):
    await _mixed(store)
    got, nxt = await store.page(name="n1", limit=10, scan=4)
    # scanned 12, 11, 10, 9: only job-0010 has name n1 (10 % 3 == 1)
    check(ids(got) == ["job-0010"], f"matches within the budget: {ids(got)}")
    check(nxt == "job-0009", f"next continues after the last scanned id: {nxt!r}")
    more, _ = await store.page(name="n1", limit=10, scan=100, before=nxt)
    check(ids(more) == ["job-0007", "job-0004", "job-0001"], f"the rest: {ids(more)}")


async def check_find_matches_id_or_key_prefix(store, check):
    a = job(1, key="sync-calendar")
    b = job(2, key="sync-contacts", status=COMPLETED)
    c = job(3, key="other")
    await put_all(store, [a, b, c])
    got = await store.find("sync-c")
    check(ids(got) == ["job-0002", "job-0001"], f"key prefix, newest first: {ids(got)}")
    got = await store.find("job-0003")
    check(ids(got) == ["job-0003"], f"exact id: {ids(got)}")
    got = await store.find("job-000", limit=2)
    check(ids(got) == ["job-0003", "job-0002"], f"id prefix with a limit: {ids(got)}")
    got = await store.find("nothing")
    check(got == [], f"no match: {ids(got)}")


async def check_queue_counts(store, check):
    await _mixed(store)
    await put_all(store, [job(20, queue="c", status=PROCESSING),
                          job(21, queue="c", status=CANCELLED)])
    got = await store.queue_counts()
    check(got == {"a": {COMPLETED: 6}, "b": {PENDING: 3, FAILED: 3},
                  "c": {PROCESSING: 1, CANCELLED: 1}}, f"per queue and status: {got}")


async def check_finished_histogram(store, check):
    await put_all(store, [
        job(1, status=COMPLETED, finished_at=1000.0),     # bucket 0 (start inclusive)
        job(2, status=COMPLETED, finished_at=1059.9),     # bucket 0
        job(3, status=FAILED, finished_at=1060.0),        # bucket 1
        job(4, status=CANCELLED, finished_at=1179.0),     # bucket 2
        job(5, status=COMPLETED, finished_at=1180.0),     # past the end
        job(6, status=COMPLETED, finished_at=999.0),      # before the start
        job(7, status=PENDING),
    ])
    got = await store.finished_histogram(1000.0, 60.0, 3)
    check(got == {COMPLETED: [2, 0, 0], FAILED: [0, 1, 0], CANCELLED: [0, 0, 1]},
          f"per bucket and outcome: {got}")


async def check_latest_by_key(store, check):
    await put_all(store, [job(1, key="k", status=COMPLETED), job(2, key="k", status=COMPLETED),
                          job(3, key="k", status=PENDING), job(4, key="other")])
    got = await store.latest_by_key("k")
    check(got[COMPLETED] is not None and got[COMPLETED]["id"] == "job-0002",
          f"newest completed: {got[COMPLETED]}")
    check(got[PENDING]["id"] == "job-0003" and got[FAILED] is None and got[PROCESSING] is None
          and got[CANCELLED] is None, f"one per status: {got}")


async def check_keyed_pending(store, check):
    await put_all(store, [job(1, key="a", status=COMPLETED), job(2, key="a", status=PENDING),
                          job(3, key="b", status=PROCESSING), job(4, key="c", status=FAILED),
                          job(5, key="c", status=PENDING), job(6, key="d", status=CANCELLED),
                          job(7, status=PENDING)])
    got = await store.keyed_pending()
    check(sorted(ids(got)) == ["job-0002", "job-0005"], f"pending with a key: {ids(got)}")
    few = await store.keyed_pending(scan=1)
    check(ids(few) == ["job-0002"], f"one key looked at: {ids(few)}")


CHECKS = [
    check_keyed_pending,
    check_page_lists_newest_first_and_pages_by_before,
    check_page_by_status_uses_before_across_the_status,
    check_page_filters_queue_name_and_has,
    check_page_scan_budget_returns_a_next,
    check_find_matches_id_or_key_prefix,
    check_queue_counts,
    check_finished_histogram,
    check_latest_by_key,
]


async def run_all(make_store, report):
    """Run every check on a new store; ``report(name, ok, message)`` after each.
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
