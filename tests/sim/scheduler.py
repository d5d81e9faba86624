"""Virtual time for the simulator: one event heap, coroutine tasks and futures.

Nothing here uses real time, threads or asyncio. Every callback that runs belongs to an
owner (``Context``: a simulated tab, or the world that drives the actions), so a tab can
be frozen (its callbacks wait until it is thawed), hidden (its timers wake only on whole
minutes) or killed (its callbacks are dropped). The order of events is fully decided by
(time, sequence number), so one seed always gives one run.

Like a JavaScript event loop, a macrotask (a timer, a message delivery, a lock grant, a
store completion) runs, then every microtask it queued (task steps woken by futures) runs
before the next macrotask.
"""

import heapq
import math
import random

TIMER = "timer"       # a setTimeout wake-up: throttled while hidden, clamped when nested
IO = "io"             # store completions, lock grants, lifecycle events
MESSAGE = "message"   # a BroadcastChannel delivery
MINUTE = 60.0         # Chrome's intensive throttling aligns hidden timers to this


class Context:
    """What a tab's callbacks belong to. ``alive`` False: closed or crashed (every
    callback is dropped); ``frozen``: callbacks wait in ``held``; ``hidden``: timers are
    aligned to whole minutes of virtual time."""

    def __init__(self, sched, name):
        self.sched = sched
        self.name = name
        self.alive = True
        self.frozen = False
        self.hidden = False
        self.held = []
        self.deferred = []    # timer events pushed to a minute boundary while hidden
        self.tasks = []       # every Task spawned here, closed when the run ends

    def __repr__(self):
        return f"<Context {self.name}>"


class Event:
    __slots__ = ("time", "owner", "fn", "kind", "nesting", "cancelled", "due", "micro",
                 "gen")

    def __init__(self, time, owner, fn, kind, nesting=0, micro=False):
        self.time = time
        self.owner = owner
        self.fn = fn
        self.kind = kind
        self.nesting = nesting
        self.cancelled = False
        self.due = time
        self.micro = micro
        self.gen = 0          # a re-queued event leaves its older heap entry stale


class Scheduler:
    """The virtual clock and event loop. ``time`` is virtual seconds since the start."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.time = 0.0
        self.steps = 0
        self._heap = []
        self._seq = 0
        self._micro = []
        self.current = None   # the Context whose callback runs now
        self.nesting = 0      # timer nesting level of the running macrotask
        self.after_step = None  # called after every macrotask and its microtasks

    # -- queueing ----------------------------------------------------------------------
    def _push(self, ev):
        self._seq += 1
        ev.gen += 1
        heapq.heappush(self._heap, (ev.time, self._seq, ev.gen, ev))

    def at(self, when, owner, fn, kind=IO, nesting=0):
        """Run ``fn()`` at virtual time ``when`` (not before now) as ``owner``."""
        ev = Event(max(when, self.time), owner, fn, kind, nesting)
        self._push(ev)
        return ev

    def later(self, delay, owner, fn, kind=IO, nesting=0):
        return self.at(self.time + max(0.0, delay), owner, fn, kind, nesting)

    def micro(self, owner, fn):
        """Run ``fn()`` after the current macrotask (a promise reaction)."""
        self._micro.append(Event(self.time, owner, fn, IO, self.nesting, micro=True))

    @staticmethod
    def cancel(ev):
        if ev is not None:
            ev.cancelled = True

    # -- owners ------------------------------------------------------------------------
    def freeze(self, ctx):
        ctx.frozen = True

    def thaw(self, ctx):
        """Release what waited while frozen, in its original order, at the current time."""
        ctx.frozen = False
        held, ctx.held = ctx.held, []
        for ev in held:
            if ev.micro:
                self._micro.append(ev)
            else:
                ev.time = self.time
                self._push(ev)

    def show(self, ctx):
        """A hidden tab becomes visible: its throttled timers fire at their own time."""
        ctx.hidden = False
        deferred, ctx.deferred = ctx.deferred, []
        for ev in deferred:
            if not ev.cancelled:
                ev.time = max(ev.due, self.time)
                self._push(ev)  # the same object: a handle still cancels it

    def kill(self, ctx):
        ctx.alive = False
        ctx.held = []
        ctx.deferred = []

    # -- running -----------------------------------------------------------------------
    def _run(self, ev):
        owner = ev.owner
        if ev.cancelled or (owner is not None and not owner.alive):
            return False
        if owner is not None and owner.frozen:
            owner.held.append(ev)
            return False
        if ev.kind == TIMER and owner is not None and owner.hidden and not ev.micro:
            aligned = math.ceil(self.time / MINUTE - 1e-9) * MINUTE
            if aligned > self.time + 1e-9:
                ev.time = aligned
                if len(owner.deferred) > 64:
                    owner.deferred = [d for d in owner.deferred if not d.cancelled]
                owner.deferred.append(ev)
                self._push(ev)
                return False
        ev.cancelled = True  # one-shot: a later cancel or show() finds it spent
        self.current = owner
        self.nesting = ev.nesting
        try:
            ev.fn()
        finally:
            self.current = None
        return True

    def _drain(self):
        while self._micro:
            batch, self._micro = self._micro, []
            for ev in batch:
                self._run(ev)

    def step(self):
        """Run the next macrotask and its microtasks. False when nothing is queued."""
        self._drain()   # work queued from outside any event (a test, the world) runs now
        while self._heap:
            time, _seq, gen, ev = heapq.heappop(self._heap)
            if ev.cancelled or gen != ev.gen:
                continue
            if time > self.time:
                self.time = time
            ran = self._run(ev)
            self._drain()
            self.nesting = 0
            if ran:
                self.steps += 1
                if self.after_step is not None:
                    self.after_step()
            return True
        return False

    def next_time(self):
        if self._micro:
            return self.time
        while self._heap and (self._heap[0][3].cancelled
                              or self._heap[0][2] != self._heap[0][3].gen):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run_until(self, until):
        """Run every event due up to ``until``, then set the clock to ``until``."""
        self._drain()   # work queued from outside any event (a test, the world)
        while True:
            nxt = self.next_time()
            if nxt is None or nxt > until:
                break
            self.step()
        if until > self.time:
            self.time = until

    def run_callable(self, owner, fn):
        """Run ``fn()`` now as ``owner`` (an action of the world), then its microtasks."""
        self.current = owner
        try:
            fn()
        finally:
            self.current = None
        self._drain()


class InvalidState(Exception):
    """A future was settled twice (a JS promise would ignore it; the sim records it)."""


class SimFuture:
    """An awaitable settled by ``set_result``/``set_exception``. Whoever awaits it is
    woken by a microtask of the future's owner (frozen owner: after thaw)."""

    def __init__(self, sched, owner):
        self._sched = sched
        self._owner = owner
        self._done = False
        self._result = None
        self._exc = None
        self._callbacks = []
        self.settled_twice = False

    def done(self):
        return self._done

    def result(self):
        if self._exc is not None:
            raise self._exc
        return self._result

    def _settle(self):
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            self._sched.micro(self._owner, cb)

    def set_result(self, value=None):
        if self._done:
            self.settled_twice = True  # like resolve() of a settled promise: ignored
            return
        self._result = value
        self._settle()

    def set_exception(self, exc):
        if self._done:
            self.settled_twice = True
            return
        self._exc = exc
        self._settle()

    def add_done_callback(self, fn):
        if self._done:
            self._sched.micro(self._owner, fn)
        else:
            self._callbacks.append(fn)

    def __await__(self):
        if not self._done:
            yield self
        return self.result()


class Task:
    """A coroutine stepped with ``send``; it may await ``SimFuture``s only. An exception
    that escapes it goes to ``on_error(where, exc)``."""

    def __init__(self, sched, owner, coro, where, on_error):
        self.sched = sched
        self.owner = owner
        self.coro = coro
        self.where = where
        self.on_error = on_error
        self.done = False
        self._waiting = None
        if owner is not None:
            owner.tasks.append(self)
        sched.micro(owner, self._step)

    def _step(self):
        fut, self._waiting = self._waiting, None
        try:
            if fut is None:
                yielded = self.coro.send(None)
            elif fut._exc is not None:
                yielded = self.coro.throw(fut._exc)
            else:
                yielded = self.coro.send(fut._result)
        except StopIteration:
            self.done = True
            return
        except Exception as exc:
            self.done = True
            self.on_error(self.where, exc)
            return
        if not isinstance(yielded, SimFuture):
            bad = SimFuture(self.sched, self.owner)
            bad.set_exception(TypeError(
                f"a simulated task awaited {yielded!r}, which is not a simulator future"))
            yielded = bad
        self._waiting = yielded
        yielded.add_done_callback(self._step)

    def close(self):
        """Drop a task that will never be resumed (its tab died or the run ended)."""
        if not self.done:
            self.done = True
            try:
                self.coro.close()
            except BaseException:
                pass
