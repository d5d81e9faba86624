"""The inspector's operations (brython_jobs/admin.py) over MemoryStore with a fake clock,
and the paging contract (tests/contract/paging_contract.py) against MemoryStore."""

import asyncio

import pytest

import paging_contract
from brython_jobs.admin import Admin
from brython_jobs.engine import job_spec
from brython_jobs.memory_store import MemoryStore


@pytest.fixture
def admin(store, clock):
    return Admin(store, clock)


async def make_memory_store():
    store = MemoryStore()
    await store.open()
    return store


@pytest.mark.parametrize("check_fn", paging_contract.CHECKS, ids=lambda fn: fn.__name__)
def test_memory_store_meets_the_paging_contract(check_fn):
    """Given a fresh MemoryStore, When the paging check runs, Then it passes."""
    ok, message = asyncio.run(paging_contract.run_one(check_fn, make_memory_store))
    assert ok, message


async def finish(engine, clock, rec, ok=True):
    """Run ``rec`` to the end as a leader would (claim, then complete or fail)."""
    epoch = await engine.become_leader("tab")
    claimed, _ = await engine.claim_next(rec["queue"], epoch)
    assert claimed["id"] == rec["id"]
    if ok:
        return await engine.complete(claimed, epoch, {"ok": True})
    return await engine.fail(claimed, epoch, "handler_error", "boom", final=True)


# -- delete ---------------------------------------------------------------------------

async def test_delete_removes_a_finished_job_only(admin, engine, enqueue, clock, store):
    """Given a completed job and a pending one, When each is deleted, Then the completed
    one is gone and the pending one raises ValueError and stays."""
    done = await finish(engine, clock, await enqueue("a"))
    waiting = await enqueue("b")
    gone = await admin.delete(done["id"])
    assert gone["id"] == done["id"] and await store.get(done["id"]) is None
    with pytest.raises(ValueError, match="only a finished job"):
        await admin.delete(waiting["id"])
    assert (await store.get(waiting["id"]))["status"] == "pending"


async def test_delete_of_an_unknown_id_raises_key_error(admin):
    """Given no such job, When it is deleted, Then KeyError (also for a non-str id)."""
    with pytest.raises(KeyError):
        await admin.delete("job-9999")
    with pytest.raises(KeyError):
        await admin.delete(42)


async def test_delete_checks_the_job_as_stored_not_as_last_seen(admin, engine, enqueue, clock,
                                                              store):
    """Given a failed job another tab redrove (pending again), When this tab deletes it
    by id, Then the transaction re-reads it and refuses: the job is pending."""
    rec = await finish(engine, clock, await enqueue("a"), ok=False)
    assert rec["status"] == "failed"
    await engine.redrive(rec["id"])
    with pytest.raises(ValueError):
        await admin.delete(rec["id"])
    assert (await store.get(rec["id"]))["status"] == "pending"


# -- clean ----------------------------------------------------------------------------

async def test_clean_deletes_by_status_and_age(admin, engine, enqueue, clock, store):
    """Given two completed jobs finished 100 s and 10 s ago and a failed one 100 s ago,
    When completed jobs older than 50 s are cleaned, Then only the old completed one goes."""
    old = await finish(engine, clock, await enqueue("a"))
    old_failed = await finish(engine, clock, await enqueue("b"), ok=False)
    clock.advance(90)
    new = await finish(engine, clock, await enqueue("c"))
    clock.advance(10)
    assert await admin.clean("completed", 50) == 1
    assert await store.get(old["id"]) is None
    assert await store.get(new["id"]) is not None
    assert await store.get(old_failed["id"]) is not None
    assert await admin.clean("failed", 0) == 1


@pytest.mark.parametrize("status,older,exc", [
    ("pending", 0, ValueError), ("processing", 10, ValueError), ("done", 0, ValueError),
    ("completed", -1, ValueError), ("completed", "1h", TypeError), ("failed", None, TypeError),
])
async def test_clean_refuses_bad_input_before_writing(admin, store, status, older, exc):
    """Given bad arguments, When clean is called, Then it raises and writes nothing."""
    with pytest.raises(exc):
        await admin.clean(status, older)
    assert store.writes == 0


# -- promote --------------------------------------------------------------------------

async def test_promote_makes_a_delayed_job_due_now_with_its_expiry(admin, enqueue, clock,
                                                                  engine):
    """Given a job due in an hour with a 30 s ttl, When it is promoted, Then it is due now,
    expires 30 s from now, and a leader claims it at once."""
    rec = await enqueue("later", delay=3600, ttl=30)
    clock.advance(5)
    new, changed = await admin.promote(rec["id"])
    assert changed and new["run_at"] == clock() and new["expires_at"] == clock() + 30
    epoch = await engine.become_leader("tab")
    claimed, _ = await engine.claim_next("default", epoch)
    assert claimed["id"] == rec["id"]


async def test_promote_leaves_a_due_job_and_refuses_a_finished_one(admin, enqueue, engine,
                                                                  clock, store):
    """Given a job already due, When promoted, Then unchanged (no write); Given a
    completed job, Then ValueError; Given no such job, Then KeyError."""
    due = await enqueue("now")
    writes = store.writes
    same, changed = await admin.promote(due["id"])
    assert not changed and same["run_at"] == due["run_at"] and store.writes == writes
    done = await finish(engine, clock, due)
    with pytest.raises(ValueError, match="only a pending job"):
        await admin.promote(done["id"])
    with pytest.raises(KeyError):
        await admin.promote("job-9999")


# -- reading --------------------------------------------------------------------------

async def test_page_validates_and_lists_newest_first(admin, enqueue):
    """Given three jobs, When a page of two is read, Then the newest two and a next id;
    bad arguments raise before any read."""
    a = await enqueue("x")
    b = await enqueue("x")
    c = await enqueue("y", queue="other")
    recs, nxt = await admin.page(limit=2)
    assert [r["id"] for r in recs] == [c["id"], b["id"]] and nxt == b["id"]
    recs, nxt = await admin.page(before=nxt)
    assert [r["id"] for r in recs] == [a["id"]] and nxt is None
    recs, _ = await admin.page(queue="other")
    assert [r["id"] for r in recs] == [c["id"]]
    with pytest.raises(ValueError):
        await admin.page(status="done")
    with pytest.raises(ValueError):
        await admin.page(limit=0)
    with pytest.raises(TypeError):
        await admin.page(before=3)


async def test_page_of_ten_thousand_jobs_looks_at_one_page(admin, store, enqueue):
    """Given 10,000 stored jobs, When the newest page of 25 is read, Then 25 jobs come
    back with a next id (the MemoryStore sorts, but the contract bounds the page)."""
    specs = []
    for i in range(10000):
        specs.append(job_spec("bulk", {"i": i}, now=1000.0))
    from brython_jobs.engine import Engine
    eng = Engine(store, lambda: 1000.0, lambda: 0.0, iter_ids().__next__)
    await eng.enqueue_many(specs)
    recs, nxt = await admin.page(status="pending", limit=25)
    assert len(recs) == 25 and recs[0]["payload"] == {"i": 9999} and nxt == recs[-1]["id"]


def iter_ids():
    n = 0
    while True:
        n += 1
        yield f"bulk-{n:06d}"


async def test_search_by_id_prefix_or_key(admin, enqueue):
    """Given jobs with and without keys, When searching, Then id prefixes and key
    prefixes match, blank text matches nothing."""
    a = await enqueue("x", key="lesson-42")
    await enqueue("x")
    assert [r["id"] for r in await admin.search(" lesson-4 ")] == [a["id"]]
    assert [r["id"] for r in await admin.search(a["id"][:8])][-1] == a["id"]
    assert await admin.search("   ") == []
    with pytest.raises(TypeError):
        await admin.search(None)


async def test_queue_counts_fill_every_status(admin, enqueue, engine, clock):
    """Given a pending job in q1 and a completed one in q2, Then each queue lists all five
    statuses with zeros."""
    await enqueue("x", queue="q1")
    await finish(engine, clock, await enqueue("y", queue="q2"))
    got = await admin.queue_counts()
    assert got["q1"] == {"pending": 1, "processing": 0, "completed": 0, "failed": 0,
                         "cancelled": 0}
    assert got["q2"]["completed"] == 1 and got["q2"]["pending"] == 0


async def test_finished_per_minute_buckets_the_last_hour_by_outcome(admin, enqueue, engine,
                                                                   clock):
    """Given a job completed 30 min ago and one failed now, When the histogram is read,
    Then 60 minutes ending with the current one, one count in each right bucket."""
    clock.set(7200.0 + 15)  # 15 s into a minute
    await finish(engine, clock, await enqueue("a"))
    clock.advance(30 * 60)
    await finish(engine, clock, await enqueue("b"), ok=False)
    got = await admin.finished_per_minute()
    assert got["start"] == 7200.0 + 30 * 60 + 60 - 3600 and got["width"] == 60.0
    assert len(got["completed"]) == 60 and sum(got["completed"]) == 1
    assert got["completed"][29] == 1 and got["failed"][59] == 1
    assert sum(got["cancelled"]) == 0
    with pytest.raises(ValueError):
        await admin.finished_per_minute(0)


async def test_schedules_show_interval_next_due_and_last_run(admin, engine, clock):
    """Given a schedule every 600 s whose first run completed, When schedules are read,
    Then it shows the interval, the next run due 600 s after the first, and the last run."""
    await engine.every("sync", 600, payload={"full": False}, queue="bg")
    recs = await engine.store.query(status="pending")
    first = await finish(engine, clock, recs[0])
    got = await admin.schedules()
    assert len(got) == 1
    s = got[0]
    assert (s["key"], s["name"], s["queue"], s["interval"]) == ("sync", "sync", "bg", 600)
    assert s["next_due"] == first["run_at"] + 600 and s["next_job"] is not None
    assert s["last_run"] == {"id": first["id"], "status": "completed",
                             "finished_at": first["finished_at"]}


async def test_bursts_list_pending_debounced_calls(admin, engine, clock):
    """Given a debounced burst (first call at t, last at t+1, wait 2 s), When bursts are
    read, Then it shows both calls and the due time; a plain job is not a burst."""
    t = clock()
    spec = job_spec("rebuild", {"v": 1}, key="rebuild", now=t)
    await engine.debounce(spec, t, t + 1, 2.0, 10.0)
    await engine.enqueue_many([job_spec("plain", now=t)])
    got = await admin.bursts()
    assert len(got) == 1
    b = got[0]
    assert (b["key"], b["kind"], b["first_call"], b["last_call"], b["due"]) == \
        ("rebuild", "debounce", t, t + 1, t + 3)


async def test_leader_info_reports_state_age_and_role(admin, engine, clock):
    """Given no leader, Then state none; Given a leader that beat 3 s ago, Then alive
    with age 3 and its epoch; after 20 s silence, silent; after resigning, resigned."""
    got = await admin.leader_info("me", False, 10.0)
    assert got["state"] == "none" and got["role"] == "follower" and got["this_tab"] == "me"
    epoch = await engine.become_leader("tab-1")
    clock.advance(3)
    got = await admin.leader_info("me", False, 10.0)
    assert (got["tab"], got["epoch"], got["state"], got["heartbeat_age"]) == \
        ("tab-1", epoch, "alive", 3.0)
    clock.advance(20)
    assert (await admin.leader_info("tab-1", True, 10.0))["state"] == "silent"
    await engine.resign(epoch)
    got = await admin.leader_info("tab-1", True, 10.0)
    assert got["state"] == "resigned" and got["role"] == "leader" and got["heartbeat_age"] is None


# -- formatting -----------------------------------------------------------------------

@pytest.mark.parametrize("t,now,text", [
    (None, 0, ""), (100.4, 100.0, "now"), (105, 100, "in 5 s"), (10, 100, "1 min ago"),
    (100 - 600, 100, "10 min ago"), (100 + 7200, 100, "in 2 h"), (0, 86400 * 3, "3 d ago"),
])
def test_relative_times_read_as_people_say_them(t, now, text):
    """Given an instant and now, Then the relative text is as expected."""
    from brython_jobs.admin import relative
    assert relative(t, now) == text


def test_preview_truncates_and_says_how_much_is_hidden():
    """Given a long text, Then the preview is its first characters and the hidden count;
    a short text is shown whole."""
    from brython_jobs.admin import duration, preview
    assert preview("abcdef", 4) == ("abcd", 2)
    assert preview("abc", 4) == ("abc", 0)
    assert (duration(90), duration(600), duration(5400), duration(86400 * 2)) == \
        ("90 s", "10 min", "1.5 h", "2 d")


# -- the demo's text method (www/tfidf.py, pure) ------------------------------------------

def tfidf():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "www", "tfidf.py")
    spec = importlib.util.spec_from_file_location("demo_tfidf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tfidf_ranks_lessons_sharing_rare_words_first():
    """Given three lessons, When a new lesson's text shares a rare word with one and only
    common words with the others, Then that one ranks first; vectors are unit length."""
    tf = tfidf()
    index = tf.build([{"id": 1, "text": "Fractions with pizza slices"},
                      {"id": 2, "text": "Poetry reading: sonnets"},
                      {"id": 3, "text": "Reading maps and fractions"}])
    for vec in index["vectors"].values():
        assert abs(sum(w * w for _, w in vec) - 1.0) < 1e-3
    hits = tf.similar(index, "pizza fractions for beginners")
    assert [h[1] for h in hits] == ["1", "3"] and hits[0][0] > hits[1][0]
    assert tf.similar(index, "the and of") == []
    assert tf.words("Hello, World! a 42x") == ["hello", "world", "42x"]


def test_tfidf_fingerprint_changes_with_any_edit():
    """Given lessons, Then the fingerprint ignores order but changes with a title edit."""
    tf = tfidf()
    a = [{"id": 1, "at": 5.0, "title": "x"}, {"id": 2, "at": 6.0, "title": "y"}]
    b = [a[1], a[0]]
    c = [{"id": 1, "at": 5.0, "title": "x (revised)"}, a[1]]
    assert tf.fingerprint(a) == tf.fingerprint(b) != tf.fingerprint(c)


async def test_malformed_stored_records_do_not_break_the_reads(admin, store, enqueue, clock):
    """Given a stored record with an unknown status and a string finish time (written by
    something else), When the inspector's reads run, Then they answer without it where
    it cannot fit, and relative times of malformed values read "?"."""
    from brython_jobs.admin import relative
    good = await enqueue("x", key="k")
    bad = dict(await store.get(good["id"]))
    bad.update({"id": "job-9000", "status": "weird", "finished_at": "yesterday"})
    store.jobs[bad["id"]] = bad
    assert (await admin.page(limit=5))[0][0]["id"] == "job-9000"
    hist = await admin.finished_per_minute()
    assert sum(hist["completed"]) + sum(hist["failed"]) + sum(hist["cancelled"]) == 0
    runs = await store.latest_by_key("k")
    assert runs["pending"]["id"] == good["id"] and "weird" not in runs
    assert "weird" not in (await admin.queue_counts())["default"]
    assert relative("yesterday", clock()) == "?"
