"""A stub ``Runtime`` with just enough for ``JobQueue.start()`` under asyncio: no lock is
ever granted (these tests are about start(), not leading), timers never fire, messages go
nowhere. Tests subclass it for what they watch (persist(), idle callbacks...)."""

import asyncio

from brython_jobs.runtime import Channel, LockRequest, Locks, Runtime


class _Request(LockRequest):
    def release(self):
        pass


class _NoLocks(Locks):
    def request(self, name, on_granted, on_ended, steal=False):
        return _Request()  # never granted


class _Quiet(Channel):
    def post(self, message):
        pass

    def close(self):
        pass


class StartRuntime(Runtime):
    def __init__(self):
        self.locks = _NoLocks()
        self.warnings = []
        self.ids = 0

    def now(self):
        return 1000.0

    def monotonic(self):
        return 0.0

    def random(self):
        return 0.0

    def new_id(self):
        self.ids += 1
        return f"id-{self.ids:04d}"

    def call_later(self, seconds, fn):
        return None  # timers never fire here

    def cancel_call(self, handle):
        pass

    def call_soon(self, fn):
        asyncio.get_running_loop().call_soon(fn)

    def spawn(self, coro, where):
        asyncio.ensure_future(coro)

    def future(self):
        return asyncio.get_running_loop().create_future()

    def warn(self, message):
        self.warnings.append(message)

    def on_lifecycle(self, callback):
        pass

    def channel(self, name, on_message):
        return _Quiet()
