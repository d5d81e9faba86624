"""Leader election over the Web Locks API (``navigator.locks``).

The tab holding the exclusive lock named ``lock_name`` leads. Every other tab keeps one
queued request, so when the leader closes, crashes or resigns the next tab is granted
the lock at once. A frozen tab keeps its lock forever, so a follower may ``steal`` it
(the queue decides when, from the leader's heartbeat). A stolen holder's request promise
rejects with AbortError while its callback keeps running: that rejection is how the old
leader learns it must step down.
"""

from .jsenv import scope, is_nullish, report


class LeaderElection:
    """Join with ``join()``; ``on_change(is_leader)`` is called on every change."""

    def __init__(self, lock_name, on_change):
        self.lock_name = lock_name
        self.on_change = on_change
        self.is_leader = False
        self.active = False
        self._generation = 0
        self._release = None
        self._abort = None

    def _set(self, leading):
        if leading != self.is_leader:
            self.is_leader = leading
            try:
                self.on_change(leading)
            except Exception as exc:
                report("leader change", exc)

    def _request(self, steal=False):
        self._generation += 1
        gen = self._generation
        options = {"mode": "exclusive"}
        if steal:
            options["steal"] = True  # a signal cannot go with steal
            self._abort = None
        else:
            self._abort = scope.AbortController.new()
            options["signal"] = self._abort.signal

        def granted(lock):
            if is_nullish(lock) or gen != self._generation or not self.active:
                return None  # an outdated request: returning releases the lock at once

            def hold(resolve, reject):
                self._release = resolve
            held = scope.Promise.new(hold)
            self._set(True)
            return held

        def settled(value):
            if gen == self._generation:
                self._release = None
                self._set(False)

        def rejected(err):
            # AbortError: our lock was stolen (we step down and queue again), or our
            # queued request was withdrawn by resign()/steal().
            if gen != self._generation:
                return
            self._release = None
            self._set(False)
            if self.active:
                self._request()
        scope.navigator.locks.request(self.lock_name, options, granted).then(
            settled, rejected)

    def join(self):
        """Queue for leadership (idempotent)."""
        if not self.active:
            self.active = True
            self._request()

    def steal(self):
        """Take the lock from a holder that stopped answering."""
        if self.active and not self.is_leader:
            self._withdraw()
            self._request(steal=True)

    def _withdraw(self):
        if self._abort is not None:
            abort = self._abort
            self._abort = None
            abort.abort()
        if self._release is not None:
            release = self._release
            self._release = None
            release(True)

    def step_down(self):
        """Give up leadership now (lost fencing) but stay queued for the next turn."""
        if self.active:
            self._generation += 1
            self._withdraw()
            self._set(False)
            self._request()

    def resign(self):
        """Leave the election: release the lock or withdraw the queued request."""
        self.active = False
        self._generation += 1
        self._withdraw()
        self._set(False)

    async def holder_exists(self):
        """True if some context of this origin holds the lock right now."""
        state = await scope.navigator.locks.query()
        for lock in state.held:
            if lock.name == self.lock_name:
                return True
        return False
