"""A queue with a worker handler loads its worker pool (workers.py) in idle time after
start(), not on the first worker job (CPython, MemoryStore, a stub runtime; the browser
side is tests/browser/test_workers.py)."""

import sys
import types

import pytest

from brython_jobs.jobqueue import JobQueue
from brython_jobs.memory_store import MemoryStore
from tests.unit.start_runtime import StartRuntime


class IdleRuntime(StartRuntime):
    """Idle callbacks are kept in ``idle_calls`` and run only when the test says so."""

    def __init__(self):
        StartRuntime.__init__(self)
        self.idle_calls = []
        self.bundled = {"brython_jobs.workers"}  # as with the script-tag bundle

    def idle(self, fn):
        self.idle_calls.append(fn)

    def preloadable(self, module):
        return module in self.bundled


class FakePool:
    made = []

    def __init__(self, queue):
        FakePool.made.append(queue)

    def stop_all(self):
        pass


@pytest.fixture
def fake_workers(monkeypatch):
    """workers.py needs the browser: stand a module with a WorkerPool in for it."""
    FakePool.made = []
    module = types.ModuleType("brython_jobs.workers")
    module.WorkerPool = FakePool
    monkeypatch.setitem(sys.modules, "brython_jobs.workers", module)
    return FakePool


def queue_with(runtime, worker):
    jobs = JobQueue("q", store=MemoryStore(), runtime=runtime)

    @jobs.handler("embed", worker=worker)
    def embed(job):
        pass
    return jobs


async def test_a_worker_handler_loads_the_pool_in_idle_time_after_start(fake_workers):
    # Given a queue whose handler runs in a worker
    rt = IdleRuntime()
    jobs = queue_with(rt, "embed_worker.py")
    # When it starts, Then nothing is loaded yet but one idle callback is queued
    await jobs.start()
    assert fake_workers.made == [] and jobs._workers is None
    assert len(rt.idle_calls) == 1
    # And when the page is idle, the pool is made, before any job ran
    rt.idle_calls[0]()
    assert fake_workers.made == [jobs]
    assert jobs._workers is not None


async def test_no_worker_handler_no_preload(fake_workers):
    # Given a queue whose handler runs on the page
    rt = IdleRuntime()
    jobs = queue_with(rt, None)
    # When it starts, Then no idle work is queued and no pool is ever made
    await jobs.start()
    assert rt.idle_calls == []
    assert fake_workers.made == []


async def test_a_queue_stopped_before_idle_time_loads_nothing(fake_workers):
    # Given a started queue with a worker handler, stopped before the page was idle
    rt = IdleRuntime()
    jobs = queue_with(rt, "embed_worker.py")
    await jobs.start()
    await jobs.stop()
    # When the idle callback runs, Then it makes no pool
    rt.idle_calls[0]()
    assert fake_workers.made == []


async def test_a_module_that_would_need_a_request_is_not_loaded_ahead(fake_workers):
    # Given a page whose package comes from static .py files (workers.py not bundled)
    rt = IdleRuntime()
    rt.bundled = set()
    jobs = queue_with(rt, "embed_worker.py")
    await jobs.start()
    # When the page is idle, Then no pool is made: importing would be a synchronous
    # request, during which Firefox runs other callbacks of the page
    rt.idle_calls[0]()
    assert fake_workers.made == [] and jobs._workers is None


class RecordingStore(MemoryStore):
    """A MemoryStore that notes the order of preload() and open()."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def preload(self):
        self.calls.append("preload")

    async def open(self):
        self.calls.append("open")
        await super().open()


@pytest.mark.parametrize("bundled, expected", [
    ({"brython_jobs.jobqueue", "brython_jobs.workers"}, ["open"]),
    (set(), ["preload", "open"]),
])
async def test_from_static_files_start_imports_the_lazy_modules_before_anything_runs(
        fake_workers, monkeypatch, bundled, expected):
    """Given a queue whose package comes from static .py files (nothing bundled),
    When it starts, Then the store's and the queue's first-use modules are imported
    before the store opens (before any coroutine of the queue is in flight: Firefox runs
    other callbacks during Brython's synchronous import request); with the bundle,
    nothing is imported ahead."""
    rt = IdleRuntime()
    rt.bundled = bundled
    store = RecordingStore()
    jobs = JobQueue("q", store=store, runtime=rt)
    import brython_jobs
    monkeypatch.delitem(sys.modules, "brython_jobs.triggers", raising=False)
    monkeypatch.delattr(brython_jobs, "triggers", raising=False)

    await jobs.start()

    assert store.calls == expected
    assert ("brython_jobs.triggers" in sys.modules) == (not bundled)
