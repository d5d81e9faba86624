"""Operation observers (events.Observers): the public hook behind ``jobs.observe``, used
by the benchmark's timers and by the event system's deliveries."""

from brython_jobs.engine import Engine, job_spec
from brython_jobs.events import Events, Observers


class Ticks:
    """A monotonic clock that moves 0.5 s at each reading."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 0.5
        return self.t


class Rt:
    """The little of a Runtime that Events needs."""

    def __init__(self):
        self.reports = []

    def is_awaitable(self, value):
        return False

    def spawn(self, coro, where):
        raise AssertionError("no coroutine expected")

    def report(self, where, exc, retrying=False):
        self.reports.append((where, exc))


async def test_an_observed_engine_reports_each_operation_after_it_ran(store, clock):
    """Given an engine attached to observers and one observer,
    When a job is enqueued, claimed and completed,
    Then the observer got each operation's name and duration, in order."""
    engine = Engine(store, clock, lambda: 0.0, iter(["a", "b"]).__next__)
    observers = Observers(Ticks(), lambda where, exc: None)
    observers.attach(engine)
    seen = []
    observers.add(lambda op, seconds: seen.append((op, seconds)))

    epoch = await engine.become_leader("tab")
    await engine.enqueue_many([job_spec("n", None, now=clock())])
    held, _ = await engine.claim_next("default", epoch)
    await engine.complete(held, epoch, None)

    assert seen == [("become_leader", 0.5), ("enqueue_many", 0.5), ("claim_next", 0.5),
                    ("complete", 0.5)]
    assert (await store.get("a"))["status"] == "completed"


async def test_nothing_is_wrapped_while_nobody_observes(store, clock):
    """Given an engine attached to observers,
    When no observer was ever added, and when the last one is removed,
    Then the engine runs its plain class methods (nothing timed, nothing reported)."""
    engine = Engine(store, clock, lambda: 0.0, iter(["a", "b"]).__next__)
    observers = Observers(Ticks(), lambda where, exc: None)
    observers.attach(engine)
    assert "enqueue_many" not in vars(engine) and not observers.active

    seen = []
    cb = observers.add(lambda op, seconds: seen.append(op))
    assert "enqueue_many" in vars(engine)
    observers.remove(cb)
    await engine.enqueue_many([job_spec("n", None, now=clock())])

    assert "enqueue_many" not in vars(engine) and not observers.active
    assert seen == []


async def test_an_observer_that_raises_is_reported_and_the_operation_still_returns(
        store, clock):
    """Given an observer that raises,
    When an operation runs,
    Then its result comes back, the error is reported, and later observers still run."""
    engine = Engine(store, clock, lambda: 0.0, iter(["a"]).__next__)
    reports = []
    observers = Observers(Ticks(), lambda where, exc: reports.append(where))
    observers.attach(engine)

    def bad(op, seconds):
        raise RuntimeError("observer bug")
    seen = []
    observers.add(bad)
    observers.add(lambda op, seconds: seen.append(op))

    out = await engine.enqueue_many([job_spec("n", None, now=clock())])

    assert out[0][0]["id"] == "a"
    assert reports == ["observer of enqueue_many"]
    assert seen == ["enqueue_many"]


def test_event_deliveries_are_timed_only_while_observed():
    """Given Events sharing the observers, with a completed callback,
    When a completed event fires unobserved, then observed,
    Then only the observed delivery is reported, as event:completed."""
    observers = Observers(Ticks(), lambda where, exc: None)
    events = Events(Rt(), observers)
    got = []
    events.on("completed", lambda job: got.append(job.id))
    seen = []

    events.fire("completed", {"id": "a", "status": "completed"})
    observers.add(lambda op, seconds: seen.append((op, seconds)))
    events.fire("completed", {"id": "b", "status": "completed"})
    events.fire("started", {"id": "b", "status": "processing"})  # nobody listens

    assert got == ["a", "b"]
    assert seen == [("event:completed", 0.5)]


def test_an_observer_must_be_callable():
    """Given observers, When something not callable is added, Then TypeError."""
    observers = Observers(Ticks(), lambda where, exc: None)
    try:
        observers.add(42)
    except TypeError as exc:
        assert "callable" in str(exc)
    else:
        raise AssertionError("no TypeError")
