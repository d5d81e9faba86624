"""One tab's connection to the shared ``MemoryStore``, with latency and faults.

Every operation waits a random small latency, then runs on the shared store in one
synchronous step: like an IndexedDB readwrite transaction, the read, the core's ``fn``
and the commit happen with no other tab in between, and two tabs' transactions
serialize. Then it waits again for the completion to reach the tab (a completion event
of the tab: held while it is frozen, lost when it dies).

A transaction keeps its place once the page created it, even when the page is frozen
(or its main thread hangs) before it ran: IndexedDB runs readwrite transactions of one
scope in the order they were created, so no other tab's later transaction can come
first, and the core's ``fn`` (page code, run at thaw in a browser) sees what it would
have seen then. It runs as an event of the store (not of the tab), and only while the
page lives: a dead page's transaction aborts. (Not modelled: while such a frozen page's
transaction is open, a browser holds the other tabs' transactions back, or evicts the
page; here they run after it at once.)

Faults, drawn per operation from the tab's ``Faults`` (seeded):

* ``transient``: a ``StorageError`` before anything ran (an aborted transaction);
* ``full``:      on writes, ``StorageFull`` (QuotaExceededError) before anything ran;
* ``commit``:    on writes, the transaction ran (the core's ``fn`` saw the records and
                 returned) but the commit failed: every change is rolled back and
                 ``StorageFull`` or ``StorageError`` is raised. The core must not trust
                 what its ``fn`` computed.

And, only in runs that ask for it (``--hangs RATE``), drawn from a random stream of its
own so that every other seed replays as before:

* ``hang``:      the operation never settles and nothing of it runs (a transaction the
                 browser never completes). The core must not lead a queue that silently
                 stopped (stall.py).

A commit that succeeded is shown to ``observer(store, op, jobs_before, meta_before)``,
which checks it against what the writing tab owned.
"""

from brython_jobs.errors import StorageError, StorageFull
from brython_jobs.store import Store

from .scheduler import IO, Context

WRITES = ("atomic", "walk_pending", "purge")
KINDS = ("transient", "full", "commit")


class Faults:
    """Per-tab fault rates (probability per operation) and counters by kind."""

    def __init__(self, rng, transient=0.0, full=0.0, commit=0.0, hang=0.0, hang_rng=None):
        self.rng = rng
        self.rates = {"transient": transient, "full": full, "commit": commit}
        self.hang_rate = hang
        self.hang_rng = hang_rng
        self.enabled = True
        self.injected = {"transient": 0, "full": 0, "commit": 0, "hang": 0}
        self.forced = []   # [kind, count, ops or None]: scripted faults, in order

    def force(self, kind, count=1, ops=None):
        """Fail the next ``count`` operations (named in ``ops``, else any) with ``kind``
        (for scripted scenarios; works even when random faults are off)."""
        self.forced.append([kind, count, ops])

    def _forced(self, op, write):
        for item in self.forced:
            kind, count, ops = item
            if (ops is None or op in ops) and (write or kind == "transient"):
                item[1] -= 1
                if item[1] <= 0:
                    self.forced.remove(item)
                self.injected[kind] += 1
                return kind
        return None

    def draw(self, write, op=None):
        if self.forced:
            kind = self._forced(op, write)
            if kind is not None:
                return kind
        if not self.enabled:
            return None
        roll = self.rng.random()
        for kind in KINDS:
            if kind != "transient" and not write:
                continue
            rate = self.rates[kind]
            if roll < rate:
                self.injected[kind] += 1
                return kind
            roll -= rate
        return None

    def draw_hang(self):
        """True when this operation never settles (``hang`` runs only)."""
        if not self.enabled or not self.hang_rate or self.hang_rng.random() >= self.hang_rate:
            return False
        self.injected["hang"] += 1
        return True

    def any(self):
        return bool(self.forced) or (
            self.enabled and any(self.rates[k] > 0 for k in KINDS))


def injected(exc):
    """True for an exception this store raised on purpose."""
    return getattr(exc, "injected", False)


def _fault(kind, op):
    if kind == "transient":
        exc = StorageError(f"simulated transient failure of {op}", "UnknownError")
    elif kind == "full":
        exc = StorageFull(f"simulated quota error on {op}", "QuotaExceededError")
    else:
        exc = StorageError(f"simulated failed commit of {op}", "AbortError")
    exc.injected = True
    return exc


def run_now(coro):
    """Run a coroutine that must not suspend (a MemoryStore operation) to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a MemoryStore operation suspended: it would not be atomic")


class FaultyStore(Store):
    """A ``Store`` over ``inner`` (the one shared MemoryStore) for one tab."""

    def __init__(self, inner, runtime, faults, observer=None, tab=None):
        self.inner = inner
        self.rt = runtime
        self.faults = faults
        self.observer = observer
        self.tab = tab
        self.is_open = False
        self.ops = 0
        self.hung = 0  # operations of this tab that never settle
        self.open_hung = False  # its open() never settled: the page's start() waits on
        # Scripted (scenario.py): the completion of the operation being committed reaches
        # the tab after this many seconds instead of a drawn latency (a slow disk, a
        # busy tab), set by an observer during that commit; one-shot.
        self.completion_delay = None
        self._backend = Context(runtime.sched, (tab.name if tab is not None else "tab")
                                + " idb")

    def _delay(self):
        rng = self.faults.rng
        if rng.random() < 0.03:
            return rng.uniform(0.05, 0.6)  # a slow disk, a busy tab
        return rng.uniform(0.0005, 0.008)

    def _latency(self):
        return self.rt.io_wait(self._delay())

    async def _op(self, op, call):
        fut = self.rt.future()
        page = self.rt.ctx
        if self.faults.draw_hang():
            self.hung += 1
            self.open_hung = self.open_hung or op == "open"
            if self.tab is not None:
                self.tab.world.trace.add(self.tab.name, "hang", f"{op} never settles")
            await fut  # never set: nothing of the operation runs

        def transaction():
            if not page.alive:
                return  # the page died before its transaction ran: aborted
            try:
                value = self._run(op, call)
            except BaseException as exc:
                fut.set_exception(exc)
                return
            fut.set_result(value)
        # An event of the store, not of the tab: a frozen tab's transaction keeps its place.
        self.rt.sched.later(self._delay(), self._backend, transaction, IO)
        result = await fut
        delay, self.completion_delay = self.completion_delay, None
        if delay is None:
            await self._latency()
        else:
            await self.rt.io_wait(delay)
        return result

    def _run(self, op, call):
        write = op in WRITES
        self.ops += 1
        kind = self.faults.draw(write or op == "open", op)
        if kind is not None and kind != "commit":
            raise _fault(kind, op)
        inner = self.inner
        jobs_before = dict(inner.jobs)      # shallow: a commit stores fresh clones
        meta_before = dict(inner.meta)
        writes_before = inner.writes
        result = run_now(call())            # read, fn and commit in one step
        if kind == "commit" and write:
            inner.jobs.clear()
            inner.jobs.update(jobs_before)
            inner.meta.clear()
            inner.meta.update(meta_before)
            inner.writes = writes_before
            raise _fault(kind, op)
        if write and self.observer is not None:
            self.observer(self, op, jobs_before, meta_before)
        return result

    # -- the Store interface -------------------------------------------------------------
    async def open(self):
        await self._op("open", self.inner.open)
        self.is_open = True
        self.open_hung = False  # a later open (start() tried again) answered

    def close(self):
        self.is_open = False   # the shared store stays open for the other tabs

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        return await self._op("atomic", lambda: self.inner.atomic(
            fn, job_ids, meta_keys, pending_keys))

    async def walk_pending(self, queue, fn, meta_keys=(), job_ids=(), pending_keys=()):
        return await self._op("walk_pending", lambda: self.inner.walk_pending(
            queue, fn, meta_keys, job_ids, pending_keys))

    async def purge(self, status, before):
        return await self._op("purge", lambda: self.inner.purge(status, before))

    async def get(self, job_id):
        return await self._op("get", lambda: self.inner.get(job_id))

    async def query(self, status=None, queue=None, name=None, limit=100):
        return await self._op("query", lambda: self.inner.query(status, queue, name, limit))

    async def counts(self):
        return await self._op("counts", self.inner.counts)

    async def pending_heads(self):
        return await self._op("pending_heads", self.inner.pending_heads)

    async def overview(self, now):
        return await self._op("overview", lambda: self.inner.overview(now))

    async def expiring(self, until):
        return await self._op("expiring", lambda: self.inner.expiring(until))

    async def next_expiry(self):
        return await self._op("next_expiry", self.inner.next_expiry)

    async def meta_get(self, key):
        return await self._op("meta_get", lambda: self.inner.meta_get(key))

    async def meta_prefix(self, prefix):
        return await self._op("meta_prefix", lambda: self.inner.meta_prefix(prefix))

    def __getattr__(self, name):
        # An operation added to the interface later: a read, same latency and faults.
        method = getattr(self.inner, name)
        if not callable(method) or name.startswith("_"):
            return method

        async def read(*args, **kwargs):
            return await self._op(name, lambda: method(*args, **kwargs))
        return read
