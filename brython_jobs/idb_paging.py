"""The IndexedDB side of the inspector's reads (the ``Store`` methods ``page``, ``find``,
``queue_counts``, ``finished_histogram``, ``latest_by_key`` and ``keyed_pending``, see
store.py). ``IndexedDBStore`` delegates to these functions and imports this module on
first use, so a page that never inspects its queue never loads it.

Cursors run in the "prev" direction over the primary key (ids sort in creation order) or
over the ``status`` index (equal keys sort by primary key), so a page costs about
``limit`` record reads however many jobs are stored; counts come from index counts and
skip scans, never from reading records.
"""

from . import idb
from .idb_store import JOBS, _HIGH, _load, _load_all
from .jsenv import NULL, is_nullish
from .records import FINISHED, PENDING, STATUSES


async def page(store, status=None, queue=None, name=None, has=None, limit=50,
               before=None, scan=2000):
    tx = store._tx("readonly", JOBS)
    jobs = tx.objectStore(JOBS)
    if status is None:
        rng = NULL if before is None else idb.key_range(None, before, False, True)
        cursor = idb.Cursor(jobs.openCursor(rng, "prev"))
        cur = await cursor.next()
    else:
        cursor = idb.Cursor(jobs.index("status").openCursor(idb.only(status), "prev"))
        cur = await cursor.next()
        if before is not None and cur is not None and cur.primaryKey >= before:
            if cur.primaryKey > before:
                cur.continuePrimaryKey(status, before)  # jump, do not step
                cur = await cursor.next()
            if cur is not None and cur.primaryKey == before:
                cursor.advance()
                cur = await cursor.next()
    out = []
    seen = 0
    last = None
    while cur is not None:
        if len(out) >= limit or seen >= scan:
            return out, last
        seen += 1
        value = cur.value
        last = cur.primaryKey
        # Filters read the JS object directly: only matches are converted.
        if (queue is None or value.queue == queue) and \
                (name is None or value.name == name) and \
                (has is None or not is_nullish(getattr(value, has, None))):
            out.append(_load(value))
        cursor.advance()
        cur = await cursor.next()
    return out, None


async def find(store, text, limit=20):
    tx = store._tx("readonly", JOBS)
    jobs = tx.objectStore(JOBS)
    by_key = idb.request(jobs.index("key").getAll(
        idb.key_range([text], [text + "\uffff"]), limit * 10))
    cursor = idb.Cursor(jobs.openCursor(idb.key_range(text, text + "\uffff"), "prev"))
    found = {}
    while len(found) < limit:
        cur = await cursor.next()
        if cur is None:
            break
        found[cur.primaryKey] = _load(cur.value)
        cursor.advance()
    for rec in _load_all(await by_key):
        found[rec["id"]] = rec
    ids = sorted(found, reverse=True)[:limit]
    out = []
    for job_id in ids:
        out.append(found[job_id])
    return out


async def queue_counts(store):
    # A skip scan over the `pick` index ([status, queue, ...]): one key per (status,
    # queue) pair, each counted by the index, so no record is read.
    tx = store._tx("readonly", JOBS)
    index = tx.objectStore(JOBS).index("pick")
    cursor = idb.Cursor(index.openKeyCursor())
    pairs = []
    counts = []
    while True:
        cur = await cursor.next()
        if cur is None:
            break
        status = cur.key[0]
        queue = cur.key[1]
        pairs.append((status, queue))
        counts.append(idb.request(index.count(
            idb.key_range([status, queue], [status, queue, _HIGH]))))
        cursor.advance([status, queue, _HIGH])
    values = await store._gather(counts)
    out = {}
    i = 0
    for pair in pairs:
        out.setdefault(pair[1], {})[pair[0]] = int(values[i])
        i += 1
    return out


async def finished_histogram(store, start, width, buckets):
    tx = store._tx("readonly", JOBS)
    index = tx.objectStore(JOBS).index("stime")
    reqs = []
    for status in FINISHED:
        for i in range(buckets):
            lo = start + i * width
            reqs.append(idb.request(index.count(
                idb.key_range([status, lo], [status, lo + width], False, True))))
    values = await store._gather(reqs)
    out = {}
    i = 0
    for status in FINISHED:
        row = []
        for b in range(buckets):
            row.append(int(values[i]))
            i += 1
        out[status] = row
    return out


async def latest_by_key(store, key):
    tx = store._tx("readonly", JOBS)
    index = tx.objectStore(JOBS).index("key")
    reqs = []
    for status in STATUSES:
        reqs.append(idb.request(index.openCursor(idb.only([key, status]), "prev")))
    out = {}
    i = 0
    for status in STATUSES:
        cur = await reqs[i]
        out[status] = None if cur is None else _load(cur.value)
        i += 1
    return out


async def keyed_pending(store, scan=500):
    # A skip scan over the `key` index ([key, status]; statuses sort cancelled <
    # completed < failed < pending < processing): per distinct key, jump to its
    # pending entries, take them, jump to the next key.
    tx = store._tx("readonly", JOBS)
    cursor = idb.Cursor(tx.objectStore(JOBS).index("key").openCursor())
    out = []
    keys = 0
    last = None
    while True:
        cur = await cursor.next()
        if cur is None:
            break
        key = cur.key[0]
        status = cur.key[1]
        if key != last:
            keys += 1
            last = key
            if keys > scan:
                break
        if status < PENDING:
            cursor.advance([key, PENDING])
        elif status == PENDING:
            out.append(_load(cur.value))
            cursor.advance()
        else:
            cursor.advance([key, _HIGH])
    return out
