"""Shared helpers for the CPython unit tests of the pure core.

* ``async def`` tests are run with ``asyncio.run`` (no plugin needed).
* ``clock`` is a fake clock whose time only moves when a test sets it: no sleeps, no
  real time anywhere.
* ``engine`` is an ``Engine`` over a fresh ``MemoryStore`` with that clock, a fixed
  ``rand`` and predictable ids (``job-0001``, ``job-0002``, ...).
"""

import asyncio
import inspect
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for path in (ROOT, os.path.join(ROOT, "tests", "contract")):
    if path not in sys.path:
        sys.path.insert(0, path)

from brython_jobs.engine import Config, Engine, job_spec  # noqa: E402
from brython_jobs.memory_store import MemoryStore  # noqa: E402

START = 1000.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` test functions to completion in a fresh event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    funcargs = pyfuncitem.funcargs
    kwargs = {}
    for name in pyfuncitem._fixtureinfo.argnames:
        kwargs[name] = funcargs[name]
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


class FakeClock:
    """``clock()`` returns ``clock.now``; tests move it with ``set`` or ``advance``."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def set(self, now):
        self.now = now

    def advance(self, seconds):
        self.now += seconds


class FixedRand:
    """``rand()`` returns ``value`` (0.0: no jitter, so backoff delays are exact)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self):
        return self.value


class Ids:
    """Predictable ids that sort in creation order: job-0001, job-0002, ..."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return f"job-{self.n:04d}"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def rand():
    return FixedRand()


@pytest.fixture
def new_id():
    return Ids()


@pytest.fixture
def store():
    s = MemoryStore()
    asyncio.run(s.open())
    return s


@pytest.fixture
def make_engine(store, clock, rand, new_id):
    """``make_engine(**config)``: an Engine over the shared store, clock, rand and ids
    (two engines made in one test act like two tabs of one queue)."""
    def make(**config):
        return Engine(store, clock, rand, new_id, Config(**config))
    return make


@pytest.fixture
def engine(make_engine):
    return make_engine()


@pytest.fixture
def enqueue(engine, clock):
    """``await enqueue(name, payload, **options)``: what ``JobQueue.enqueue`` does with the
    core: validate with ``job_spec`` at the clock's time, insert in one transaction.
    Returns the record (the existing pending one for a known key). ``via=`` another
    engine enqueues from that "tab"."""
    async def enqueue(name, payload=None, via=None, **options):
        eng = via or engine
        spec = job_spec(name, payload, now=clock(),
                        default_retries=eng.config.retries, **options)
        results = await eng.enqueue_many([spec])
        return results[0][0]
    return enqueue
