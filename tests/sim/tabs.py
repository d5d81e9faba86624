"""A simulated tab: its context, runtime and faulty store, one real ``JobQueue`` on
them, the same handlers in every tab (as a page registers them) and two triggers.

Handlers (what a job does is decided by its payload, drawn when it is enqueued, so a
replay does the same):

``quick``   a plain ``def``: returns at once
``work``    ``async``: sleeps ``t``, may report progress half way, raises while
            ``attempt <= fails``
``slow``    ``async``: sleeps ``t``, longer than ``leader_silence``
``capped``  ``async`` with ``timeout=2``: sleeps ``t`` (0.2 to 4 s), so it often times out
(no handler is registered for ``ghost`` jobs: they fail with ``no_handler``.)
"""

from brython_jobs.errors import StorageError
from brython_jobs.jobqueue import JobQueue

from .faulty_store import Faults, FaultyStore, injected
from .fakes import SimRuntime
from .scheduler import Context

QUEUE_NAME = "sim"
CAPPED_TIMEOUT = 2.0


class SimTab:
    def __init__(self, world, index, rates):
        self.world = world
        self.index = index
        self.name = f"t{index}"
        sched = world.sched
        self.ctx = Context(sched, self.name)
        self.rt = SimRuntime(world.origin, self.ctx)
        self.faults = Faults(world.rng, hang=world.settings.hangs, hang_rng=world.hang_rng,
                             **rates)
        self.store = FaultyStore(world.memory, self.rt, self.faults,
                                 observer=world.observe, tab=self)
        self.jobs = JobQueue(QUEUE_NAME, store=self.store, runtime=self.rt, **world.config)
        self.lock_name = "brython_jobs." + QUEUE_NAME + ".leader"
        self.started = False
        self.closed = False
        self._register()
        for event in ("enqueued", "started", "retrying", "completed", "failed",
                      "cancelled"):
            self.jobs.on(event, self._listener(event))
        self.jobs.on("leader", lambda leading: world.trace.add(
            self.name, "leader" if leading else "follower"))
        trig = world.triggers
        self.debounce = self.jobs.debounced("quick", wait=trig["wait"],
                                            max_wait=trig["max_wait"], key="deb")
        self.throttle = self.jobs.throttled("quick", interval=trig["interval"], key="thr")
        self.rt.spawn(self._start(), "opening the tab")

    def usable(self):
        """Page code can act in this tab now (open, started, not frozen)."""
        return self.ctx.alive and self.started and self.jobs.started \
            and not self.ctx.frozen

    def in_queue(self):
        """Open and taking part (not stopped by page code)."""
        return self.ctx.alive and (self.jobs.started or not self.started)

    def visible_and_working(self):
        # A tab whose store never opened (a hang) never started: it cannot lead.
        return self.in_queue() and not self.ctx.frozen and not self.ctx.hidden \
            and not self.faults.any() and not self.store.open_hung

    async def _start(self):
        while self.ctx.alive:
            try:
                await self.jobs.start()
                self.started = True
                self.world.trace.add(self.name, "started")
                return
            except StorageError as exc:
                # A hung open makes start() give up after its time limit (jobqueue.py):
                # the page tries again, as it would after an injected error.
                if not injected(exc) and not (exc.name == "Timeout" and self.store.open_hung):
                    raise
                self.world.trace.add(self.name, "start failed", str(exc))
            await self.rt.sleep(1.0)

    def _listener(self, event):
        checker = self.world.checker
        trace = self.world.trace

        def on_event(job):
            trace.add(self.name, "ev " + event, f"{job.id[-6:]} {job.name} "
                      f"a{job.attempts}/{job.max_attempts} {job.status}"
                      + (f" {job.error['code']}" if job.error else ""))
            checker.event(self, event, job)
        return on_event

    # -- handlers ----------------------------------------------------------------------
    def _register(self):
        jobs = self.jobs
        rt = self.rt
        checker = self.world.checker

        def quick(job):
            att = checker.started(self, job, None)
            checker.finished(att)
            payload = job.payload if type(job.payload) is dict else {}
            return {"n": payload.get("n")}
        jobs.handler("quick")(quick)

        async def body(job, att):
            p = job.payload if type(job.payload) is dict else {}
            t = p.get("t", 0.5)
            await rt.sleep(t / 2)
            if p.get("progress"):
                att.progress_calls += 1
                try:
                    await job.update_progress(0.5, "half way")
                finally:
                    att.progress_calls -= 1
            await rt.sleep(t / 2)
            if job.attempt <= p.get("fails", 0):
                raise RuntimeError(f"planned failure of attempt {job.attempt}")
            return {"slept": t}

        def tracked(timeout):
            async def handler(job):
                att = checker.started(self, job, timeout)
                try:
                    return await body(job, att)
                finally:
                    checker.finished(att)
            return handler
        jobs.handler("work")(tracked(None))
        jobs.handler("slow")(tracked(None))
        jobs.handler("capped", timeout=CAPPED_TIMEOUT)(tracked(CAPPED_TIMEOUT))
