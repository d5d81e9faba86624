"""JobQueue(persist=True) asks the runtime for persistent storage once, at start(), and
storage() reports the runtime's estimate (CPython, MemoryStore, a stub runtime)."""


from brython_jobs.jobqueue import JobQueue
from brython_jobs.memory_store import MemoryStore
from brython_jobs.runtime import Runtime
from tests.unit.start_runtime import StartRuntime


class StubRuntime(StartRuntime):
    """``grant``: what persist() answers."""

    def __init__(self, grant):
        StartRuntime.__init__(self)
        self.grant = grant
        self.persist_calls = 0

    async def persist(self):
        self.persist_calls += 1
        return self.grant

    async def storage_estimate(self):
        return {"usage": 10, "quota": 100, "persisted": self.persist_calls > 0 and self.grant}


async def test_persist_is_asked_once_at_start():
    # Given a queue made with persist=True
    rt = StubRuntime(grant=True)
    jobs = JobQueue("q", store=MemoryStore(), runtime=rt, persist=True)
    assert rt.persist_calls == 0  # nothing is asked before start()
    # When it starts (twice: start is idempotent)
    await jobs.start()
    await jobs.start()
    # Then persistence was asked for once, and storage() reports it granted
    assert rt.persist_calls == 1
    assert await jobs.storage() == {"usage": 10, "quota": 100, "persisted": True}
    assert rt.warnings == []


async def test_no_persist_by_default():
    # Given a queue made without persist
    rt = StubRuntime(grant=True)
    jobs = JobQueue("q", store=MemoryStore(), runtime=rt)
    # When it starts, then nothing is asked and storage() says not persisted
    await jobs.start()
    assert rt.persist_calls == 0
    assert (await jobs.storage())["persisted"] is False


async def test_refused_persist_warns_and_the_queue_still_starts():
    # Given a browser that refuses persistence
    rt = StubRuntime(grant=False)
    jobs = JobQueue("q", store=MemoryStore(), runtime=rt, persist=True)
    # When the queue starts, then it is started, with one warning naming eviction
    await jobs.start()
    assert jobs.started
    assert rt.persist_calls == 1
    assert len(rt.warnings) == 1 and "evicted" in rt.warnings[0]
    job = await jobs.enqueue("x", {"a": 1})
    assert (await jobs.get(job.id)).status == "pending"


async def test_default_runtime_estimate_is_unknown():
    # Given the interface's defaults (a context with no storage API)
    rt = Runtime()
    # Then persist() is refused and the estimate says nothing it cannot know
    assert await rt.persist() is False
    assert await rt.storage_estimate() == {"usage": None, "quota": None, "persisted": False}
