"""The browser as the core sees it, in virtual time: one ``SimRuntime`` per tab
(brython_jobs.runtime.Runtime), Web Locks and BroadcastChannel shared by the tabs of one
``Origin``. Each fake keeps the real API's semantics that the core depends on:

* timers follow WebIDL/HTML: a delay past 2**31-1 ms (or negative, or NaN) is 0, a timer
  nested deeper than 5 levels waits at least 4 ms; a hidden tab's timers wake only on
  whole minutes (Chrome's intensive throttling); a frozen tab runs nothing;
* Web Locks: exclusive, granted in request order; ``steal`` grants at once and ends the
  holder's request with AbortError while the holder's code keeps running; a withdrawn
  queued request ends with AbortError; a closed or crashed tab's locks are released, a
  frozen tab keeps them;
* BroadcastChannel: every other open channel of the name gets a deep copy, after a random
  delay, in per-sender order; a closed or dead receiver loses it, a frozen one gets it on
  thaw; the sender's own channel never does.
"""

import inspect
import json

from brython_jobs.runtime import Channel, LockRequest, Locks, Runtime, later

from .scheduler import IO, MESSAGE, TIMER, SimFuture, Task

EPOCH0 = 1_790_000_000.0   # the virtual wall clock at time 0 (epoch seconds)
MAX_MS = 2 ** 31 - 1


class Origin:
    """What the tabs of one origin share: the wall clock, locks, channels, the trace."""

    def __init__(self, sched, trace):
        self.sched = sched
        self.rng = sched.rng
        self.trace = trace
        self.wall_offset = 0.0
        self.locks = LockManager(self)
        self.channels = ChannelHub(self)
        self.on_report = None   # fn(runtime, where, exc), set by the world

    def wall(self):
        return EPOCH0 + self.sched.time + self.wall_offset

    def step_clock(self, delta):
        """The machine's wall clock jumps (NTP, a user, a resumed laptop)."""
        self.wall_offset += delta


class SimRuntime(Runtime):
    """One tab's runtime. ``ctx`` owns everything the tab schedules."""

    def __init__(self, origin, ctx):
        self.origin = origin
        self.ctx = ctx
        self.sched = origin.sched
        self.locks = TabLocks(origin.locks, ctx)
        self._origin_time = self.sched.time   # performance.now() counts from page load
        self._last_ms = 0
        self._lifecycle = []
        self.channels = []
        self.reports = []
        self.retrying = []  # the reports made with retrying=True
        self.warnings = []

    # -- clocks and ids ----------------------------------------------------------------
    def now(self):
        return self.origin.wall()

    def monotonic(self):
        return self.sched.time - self._origin_time

    def random(self):
        return self.origin.rng.random()

    def new_id(self):
        # Like jsenv.new_id: 48 bits of milliseconds, strictly increasing in this tab
        # even when the wall clock steps back, then random bits.
        ms = int(self.origin.wall() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        stamp = f"{ms:012x}"
        rnd = f"{self.origin.rng.getrandbits(80):020x}"
        return f"{stamp[:8]}-{stamp[8:]}-4{rnd[:3]}-{rnd[3:7]}-{rnd[7:19]}"

    # -- timers and tasks --------------------------------------------------------------
    def call_later(self, seconds, fn):
        ms = seconds * 1000
        if ms != ms or ms < 0 or ms > MAX_MS:
            ms = 0          # WebIDL: the long overflows; every engine fires at once
        ms = int(ms)
        level = self.sched.nesting
        if level > 5 and ms < 4:
            ms = 4          # HTML: deeply nested timers are clamped to 4 ms

        def tick():
            try:
                fn()
            except Exception as exc:
                self.report("timer", exc)
        return self.sched.later(ms / 1000, self.ctx, tick, TIMER, level + 1)

    def cancel_call(self, handle):
        if handle is not None:
            handle.cancelled = True

    def idle(self, fn):
        # A simulated tab is idle whenever its tasks are done: the browser's fallback
        # timer (WebKit has no requestIdleCallback) stands for both.
        self.call_later(0.2, fn)

    def call_soon(self, fn):
        def run():
            try:
                fn()
            except Exception as exc:
                self.report("microtask", exc)
        self.sched.micro(self.ctx, run)

    def spawn(self, coro, where):
        Task(self.sched, self.ctx, coro, where, self.report)

    def future(self):
        return SimFuture(self.sched, self.ctx)

    def is_awaitable(self, value):
        return inspect.iscoroutine(value) or isinstance(value, SimFuture)

    def sleep(self, seconds):
        """A future that a timer settles after ``seconds`` (for simulated handlers)."""
        fut = self.future()
        later(self, seconds, lambda: fut.set_result(None))
        return fut

    def io_wait(self, seconds):
        """A future settled after ``seconds`` by a non-timer event (store completions:
        never throttled, but held while frozen)."""
        fut = self.future()
        self.sched.later(seconds, self.ctx, lambda: fut.set_result(None), IO)
        return fut

    # -- reporting -----------------------------------------------------------------------
    def report(self, where, exc, retrying=False):
        self.reports.append((where, exc))
        if retrying:
            self.retrying.append(where)  # a console warning in a browser
        if self.origin.on_report is not None:
            self.origin.on_report(self, where, exc)

    def warn(self, message):
        self.warnings.append(message)
        self.origin.trace.add(self.ctx.name, "warn", message)

    # -- page lifecycle ----------------------------------------------------------------
    def visible(self):
        return not self.ctx.hidden

    def on_lifecycle(self, callback):
        self._lifecycle.append(callback)

    def fire_lifecycle(self, event):
        """Call the lifecycle callbacks now, in this tab (the world's actions do)."""
        for cb in list(self._lifecycle):
            try:
                cb(event)
            except Exception as exc:
                self.report(f"lifecycle {event}", exc)

    def channel(self, name, on_message):
        ch = self.origin.channels.open(self, name, on_message)
        self.channels.append(ch)
        return ch


# -- Web Locks ---------------------------------------------------------------------------
HELD = "held"
QUEUED = "queued"
ENDED = "ended"


class SimLockRequest(LockRequest):
    def __init__(self, manager, ctx, name, on_granted, on_ended):
        self._manager = manager
        self.ctx = ctx
        self.name = name
        self.on_granted = on_granted
        self.on_ended = on_ended
        self.state = QUEUED

    def release(self):
        self._manager.release(self)

    def __repr__(self):
        return f"<lock {self.name} {self.ctx.name} {self.state}>"


class LockManager:
    """The origin's lock table: one holder and a FIFO queue per name."""

    def __init__(self, origin):
        self.origin = origin
        self.holders = {}
        self.queues = {}
        self.steals = 0

    def _deliver(self, req, fn):
        # Promise reactions in the requesting tab: after the current task, in order.
        self.origin.sched.later(0.0, req.ctx, fn, IO)

    def _grant(self, req):
        req.state = HELD
        self.holders[req.name] = req
        self.origin.trace.add(req.ctx.name, "lock granted", req.name)

        def granted():
            if req.state == HELD:   # not released before the grant reached the tab
                req.on_granted()
        self._deliver(req, granted)

    def _end(self, req, error):
        req.state = ENDED
        self._deliver(req, lambda: req.on_ended(error))

    def request(self, ctx, name, on_granted, on_ended, steal=False):
        req = SimLockRequest(self, ctx, name, on_granted, on_ended)
        queue = self.queues.setdefault(name, [])
        if steal:
            old = self.holders.pop(name, None)
            if old is not None:
                self.steals += 1
                self.origin.trace.add(ctx.name, "lock stolen", f"{name} from {old.ctx.name}")
                self._end(old, "AbortError")
            self._grant(req)
        elif name not in self.holders and not queue:
            self._grant(req)
        else:
            queue.append(req)
        return req

    def release(self, req):
        if req.state == HELD:
            del self.holders[req.name]
            self._end(req, None)
            self._next(req.name)
        elif req.state == QUEUED:
            self.queues[req.name].remove(req)
            self._end(req, "AbortError")

    def _next(self, name):
        queue = self.queues.get(name)
        if queue and name not in self.holders:
            self._grant(queue.pop(0))

    def drop(self, ctx):
        """A tab closed or crashed: its locks go, its queued requests vanish."""
        for name in list(self.queues):
            self.queues[name] = [r for r in self.queues[name] if r.ctx is not ctx]
        for name in list(self.holders):
            req = self.holders[name]
            if req.ctx is ctx:
                req.state = ENDED
                del self.holders[name]
                self._next(name)

    def holder(self, name):
        req = self.holders.get(name)
        return None if req is None else req.ctx


class TabLocks(Locks):
    """``navigator.locks`` of one tab."""

    def __init__(self, manager, ctx):
        self._manager = manager
        self._ctx = ctx

    def request(self, name, on_granted, on_ended, steal=False):
        return self._manager.request(self._ctx, name, on_granted, on_ended, steal)

    async def held(self, name):
        # navigator.locks.query() answers asynchronously, as of when it runs.
        fut = SimFuture(self._manager.origin.sched, self._ctx)
        self._manager.origin.sched.later(0.0005, self._ctx, lambda: fut.set_result(
            self._manager.holder(name) is not None), IO)
        return await fut


# -- BroadcastChannel ----------------------------------------------------------------------
class SimChannel(Channel):
    def __init__(self, hub, runtime, name, on_message):
        self._hub = hub
        self.runtime = runtime
        self.ctx = runtime.ctx
        self.name = name
        self.on_message = on_message
        self.closed = False

    def post(self, message):
        self._hub.post(self, message)

    def close(self):
        self.closed = True


class ChannelHub:
    def __init__(self, origin):
        self.origin = origin
        self.by_name = {}
        self._last = {}   # (sender, receiver) -> last delivery time: per-sender order
        self.sent = 0
        self.lost = 0

    def open(self, runtime, name, on_message):
        ch = SimChannel(self, runtime, name, on_message)
        self.by_name.setdefault(name, []).append(ch)
        return ch

    def delay(self):
        rng = self.origin.rng
        if rng.random() < 0.05:
            return rng.uniform(0.05, 0.8)   # a busy receiver's event loop
        return rng.uniform(0.0002, 0.01)

    def post(self, sender, message):
        if sender.closed:
            return   # InvalidStateError in a browser; the runtime contract says lost
        text = json.dumps(message, allow_nan=False)  # JSON-like only, as the bus sends
        sched = self.origin.sched
        self.sent += 1
        for other in self.by_name.get(sender.name, ()):
            if other is sender or other.closed or not other.ctx.alive:
                continue
            pair = (id(sender), id(other))
            when = max(sched.time + self.delay(), self._last.get(pair, 0.0))
            self._last[pair] = when
            sched.at(when, other.ctx, self._deliverer(other, text), MESSAGE)

    def _deliverer(self, receiver, text):
        def deliver():
            if receiver.closed:
                self.lost += 1
                return
            try:
                receiver.on_message(json.loads(text))
            except Exception as exc:
                receiver.runtime.report("channel message", exc)
        return deliver

    def drop(self, ctx):
        for name in self.by_name:
            self.by_name[name] = [c for c in self.by_name[name] if c.ctx is not ctx]
