"""An in-memory store with the same interface and semantics as the IndexedDB store.

Used by the CPython tests of the core, and usable in a page for a queue that needs no
durability. Records are deep-copied on the way in and out, as a real store serializes
them, so a caller can never change stored state by mutating what it holds.
"""

from .picking import pick_key
from .records import PENDING, STATUSES
from .store import Store, Tx


def clone(value):
    """Deep copy of JSON-like data (no ``copy`` import: it is costly in the browser)."""
    kind = type(value)
    if kind is dict:
        out = {}
        for k in value:
            out[k] = clone(value[k])
        return out
    if kind is list or kind is tuple:
        out = []
        for item in value:
            out.append(clone(item))
        return out
    return value


class MemoryStore(Store):
    """A ``Store`` kept in a dict. ``writes`` counts committed write transactions."""

    def __init__(self):
        self.jobs = {}
        self.meta = {}
        self.is_open = False
        self.writes = 0

    async def open(self):
        self.is_open = True

    def close(self):
        self.is_open = False

    def _pending_by_key(self, key):
        best = None
        for rec in self.jobs.values():
            if rec["status"] == PENDING and rec.get("key") == key:
                if best is None or rec["seq"] < best["seq"]:
                    best = rec
        return clone(best)

    def _commit(self, tx):
        # Like IndexedDB, writes happen only after fn returned without raising.
        for rec in tx.final_puts():
            self.jobs[rec["id"]] = clone(rec)
        for job_id in tx.deletes:
            self.jobs.pop(job_id, None)
        for key in tx.meta_puts:
            value = tx.meta_puts[key]
            if value is None:
                self.meta.pop(key, None)
            else:
                self.meta[key] = clone(value)
        if tx.puts or tx.deletes or tx.meta_puts:
            self.writes += 1

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        tx = self._read(job_ids, meta_keys, pending_keys)
        result = fn(tx)
        self._commit(tx)
        return result

    def _read(self, job_ids, meta_keys, pending_keys):
        jobs = {}
        for job_id in job_ids:
            jobs[job_id] = clone(self.jobs.get(job_id))
        metas = {}
        for key in meta_keys:
            metas[key] = clone(self.meta.get(key))
        by_key = {}
        for key in pending_keys:
            by_key[key] = self._pending_by_key(key)
        return Tx(jobs, metas, by_key)

    async def walk_pending(self, queue, fn, meta_keys=(), job_ids=(), pending_keys=()):
        tx = self._read(job_ids, meta_keys, pending_keys)
        result = fn(tx, None)
        if not result:
            candidates = []
            for rec in self.jobs.values():
                if rec["status"] == PENDING and rec["queue"] == queue:
                    candidates.append(rec)
            candidates.sort(key=pick_key)
            for rec in candidates:
                result = fn(tx, clone(rec))
                if result:
                    break
        self._commit(tx)
        return result

    async def get(self, job_id):
        return clone(self.jobs.get(job_id))

    async def query(self, status=None, queue=None, name=None, limit=100):
        out = []
        for rec in self.jobs.values():
            if status is not None and rec["status"] != status:
                continue
            if queue is not None and rec["queue"] != queue:
                continue
            if name is not None and rec["name"] != name:
                continue
            out.append(rec)
        out.sort(key=lambda r: r["seq"])
        if limit is not None:
            out = out[:limit]
        return clone(out)

    async def counts(self):
        out = {}
        for status in STATUSES:
            out[status] = 0
        for rec in self.jobs.values():
            out[rec["status"]] += 1
        return out

    async def pending_heads(self):
        heads = {}
        for rec in self.jobs.values():
            if rec["status"] == PENDING:
                q = rec["queue"]
                if q not in heads or rec["run_at"] < heads[q]:
                    heads[q] = rec["run_at"]
        return heads

    async def overview(self, now):
        expired = False
        for rec in self.jobs.values():
            limit = rec.get("expires_at")
            if rec["status"] == PENDING and limit is not None and limit < now:
                expired = True
                break
        return {"heads": await self.pending_heads(), "next_expiry": await self.next_expiry(),
                "expired": expired}

    async def expiring(self, until):
        out = []
        for rec in self.jobs.values():
            limit = rec.get("expires_at")
            if rec["status"] == PENDING and limit is not None and limit < until:
                out.append(rec)
        out.sort(key=lambda r: r["expires_at"])
        return clone(out)

    async def next_expiry(self):
        best = None
        for rec in self.jobs.values():
            limit = rec.get("expires_at")
            if rec["status"] == PENDING and limit is not None:
                if best is None or limit < best:
                    best = limit
        return best

    async def purge(self, status, before):
        doomed = []
        for rec in self.jobs.values():
            if rec["status"] == status and rec["finished_at"] is not None \
                    and rec["finished_at"] < before:
                doomed.append(rec["id"])
        for job_id in doomed:
            del self.jobs[job_id]
        if doomed:
            self.writes += 1
        return len(doomed)

    async def meta_get(self, key):
        return clone(self.meta.get(key))

    async def meta_prefix(self, prefix):
        out = {}
        for key in self.meta:
            if key.startswith(prefix):
                out[key] = clone(self.meta[key])
        return out

    # -- paging for the inspector (see Store) ---------------------------------------
    def _newest_first(self):
        recs = list(self.jobs.values())
        recs.sort(key=lambda r: r["id"], reverse=True)
        return recs

    async def page(self, status=None, queue=None, name=None, has=None, limit=50,
                   before=None, scan=2000):
        out = []
        seen = 0
        last = None
        for rec in self._newest_first():
            if before is not None and rec["id"] >= before:
                continue
            if status is not None and rec["status"] != status:
                continue
            if len(out) >= limit or seen >= scan:
                return clone(out), last  # something older is left to look at
            seen += 1
            last = rec["id"]
            if (queue is None or rec["queue"] == queue) and \
                    (name is None or rec["name"] == name) and \
                    (has is None or rec.get(has) is not None):
                out.append(rec)
        return clone(out), None

    async def find(self, text, limit=20):
        out = []
        for rec in self._newest_first():
            key = rec.get("key")
            if rec["id"].startswith(text) or (key is not None and key.startswith(text)):
                out.append(rec)
                if len(out) >= limit:
                    break
        return clone(out)

    async def queue_counts(self):
        out = {}
        for rec in self.jobs.values():
            per = out.setdefault(rec["queue"], {})
            per[rec["status"]] = per.get(rec["status"], 0) + 1
        return out

    async def finished_histogram(self, start, width, buckets):
        from .records import FINISHED  # appended code: the module's imports stay as they are
        out = {}
        for status in FINISHED:
            out[status] = [0] * buckets
        for rec in self.jobs.values():
            if rec["status"] in out and rec["finished_at"] is not None:
                i = int((rec["finished_at"] - start) // width)
                if 0 <= i < buckets:
                    out[rec["status"]][i] += 1
        return out

    async def latest_by_key(self, key):
        out = {}
        for status in STATUSES:
            out[status] = None
        for rec in self._newest_first():
            if rec.get("key") == key and out[rec["status"]] is None:
                out[rec["status"]] = clone(rec)
        return out

    async def keyed_pending(self, scan=500):
        keys = []
        for rec in self.jobs.values():
            if rec.get("key") is not None and rec["key"] not in keys:
                keys.append(rec["key"])
        keys.sort()
        out = []
        for key in keys[:scan]:
            rec = self._pending_by_key(key)
            if rec is not None:
                out.append(rec)
        return out
