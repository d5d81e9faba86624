"""Job events on the bus go out in batches: until the next task, an ``enqueued`` event at
the end of the current task (the leader wakes on it), always in order."""

from brython_jobs.bus import Bus


class Rt:
    """Microtasks and 0 s timers kept in lists, run by the test."""

    def __init__(self):
        self.soon = []
        self.timers = []
        self.posted = []

    def channel(self, name, on_message):
        rt = self

        class Channel:
            def post(self, message):
                rt.posted.append(message)

            def close(self):
                pass
        return Channel()

    def call_soon(self, fn):
        self.soon.append(fn)

    def call_later(self, seconds, fn):
        self.timers.append(fn)

    def end_of_task(self):
        while self.soon:
            self.soon.pop(0)()

    def next_task(self):
        self.end_of_task()
        timers, self.timers = self.timers, []
        for fn in timers:
            fn()

    def report(self, where, exc, retrying=False):
        raise exc

    def warn(self, message):
        raise AssertionError(message)


def ev(event, job_id):
    return {"event": event, "job": {"id": job_id}}


def test_an_outcome_and_the_next_start_posted_in_two_microtasks_go_out_as_one_message():
    """Given a bus, When completed is posted, a microtask passes, started is posted,
    Then nothing is sent before the next task, and then one events message with both."""
    rt = Rt()
    bus = Bus(rt, "q", "tab", lambda message: None)

    bus.post_event(ev("completed", "a"))
    rt.end_of_task()
    bus.post_event(ev("started", "b"))
    rt.end_of_task()
    assert rt.posted == []

    rt.next_task()
    assert len(rt.posted) == 1
    assert rt.posted[0]["type"] == "events"
    assert [e["event"] for e in rt.posted[0]["data"]] == ["completed", "started"]


def test_an_enqueued_event_goes_out_at_the_end_of_the_task_with_what_came_before():
    """Given a completed event batched, When an enqueued event is posted,
    Then at the end of the task both go out, in order, and the timer sends nothing more."""
    rt = Rt()
    bus = Bus(rt, "q", "tab", lambda message: None)

    bus.post_event(ev("completed", "a"))
    bus.post_event(ev("enqueued", "b"))
    rt.end_of_task()

    assert len(rt.posted) == 1
    assert [e["job"]["id"] for e in rt.posted[0]["data"]] == ["a", "b"]
    rt.next_task()
    assert len(rt.posted) == 1


def test_a_single_event_is_sent_as_an_event_message():
    """Given one started event, When the next task comes, Then one plain event message."""
    rt = Rt()
    bus = Bus(rt, "q", "tab", lambda message: None)

    bus.post_event(ev("started", "a"))
    rt.next_task()

    assert [m["type"] for m in rt.posted] == ["event"]
    assert rt.posted[0]["data"]["job"]["id"] == "a"
