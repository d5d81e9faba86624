"""The Store contract suite (tests/contract/store_contract.py) against MemoryStore: one
pytest test per contract check, plus checks that the suite itself catches broken stores."""

import asyncio

import pytest

import store_contract
from brython_jobs.memory_store import MemoryStore
from brython_jobs.store import Tx


async def make_memory_store():
    store = MemoryStore()
    await store.open()
    return store


@pytest.mark.parametrize("check_fn", store_contract.CHECKS, ids=lambda fn: fn.__name__)
def test_memory_store_meets_the_contract(check_fn):
    """Given a fresh MemoryStore, When the contract check runs, Then it passes."""
    ok, message = asyncio.run(store_contract.run_one(check_fn, make_memory_store))
    assert ok, message


def test_run_all_reports_every_check_once():
    """Given the MemoryStore, When run_all runs the whole suite,
    Then report is called once per check, in order, all passing."""
    reports = []
    summary = asyncio.run(store_contract.run_all(
        make_memory_store, lambda name, ok, message: reports.append((name, ok, message))))
    names = [fn.__name__ for fn in store_contract.CHECKS]
    assert [r[0] for r in reports] == names
    assert all(r[1] for r in reports), [r for r in reports if not r[1]]
    assert summary == {"passed": len(names), "failed": []}
    assert len(set(names)) == len(names)


# -- the suite has teeth: deliberately broken stores fail the checks that cover them ----

class CommitsOnError(MemoryStore):
    """Writes what fn wrote even when fn raised."""

    async def atomic(self, fn, job_ids=(), meta_keys=(), pending_keys=()):
        seen = []

        def spy(tx):
            seen.append(tx)
            return fn(tx)
        try:
            return await MemoryStore.atomic(self, spy, job_ids, meta_keys, pending_keys)
        except Exception:
            self._commit(seen[0])
            raise


class FifoWalk(MemoryStore):
    """Walks pending jobs in enqueue order, ignoring priority and due time."""

    async def walk_pending(self, queue, fn, meta_keys=()):
        tx = Tx({}, {key: self.meta.get(key) for key in meta_keys})
        result = fn(tx, None)
        if not result:
            recs = [r for r in self.jobs.values()
                    if r["status"] == "pending" and r["queue"] == queue]
            for rec in sorted(recs, key=lambda r: r["seq"]):
                result = fn(tx, dict(rec))
                if result:
                    break
        self._commit(tx)
        return result


class InclusiveExpiry(MemoryStore):
    """expiring(until) includes a job expiring exactly at ``until``."""

    async def expiring(self, until):
        return await MemoryStore.expiring(self, until + 1e-9)


class ForgetsDefaultLimit(MemoryStore):
    async def query(self, status=None, queue=None, name=None, limit=100):
        return await MemoryStore.query(self, status, queue, name, None)


@pytest.mark.parametrize("broken, caught_by", [
    (CommitsOnError, "check_atomic_raising_writes_nothing"),
    (FifoWalk, "check_walk_pending_pick_order"),
    (InclusiveExpiry, "check_expiring_and_next_expiry"),
    (ForgetsDefaultLimit, "check_query_limit"),
])
def test_the_suite_catches_a_broken_store(broken, caught_by):
    """Given a store that breaks one documented rule,
    When the suite runs, Then the check covering that rule fails with a message."""
    async def make():
        store = broken()
        await store.open()
        return store
    reports = {}
    asyncio.run(store_contract.run_all(
        make, lambda name, ok, message: reports.__setitem__(name, (ok, message))))
    ok, message = reports[caught_by]
    assert not ok and message
