"""A visible follower's alarm clock for a hidden leader (pure).

A hidden page's timers may wake once a minute, but its message handlers run at once: so
a visible follower keeps the due times it learns from job events and, while the leader
is hidden, posts ``wake`` when one comes, and the leader passes at once.
"""

from .records import PENDING
from .runtime import later


class LeaderAlarm:
    """``note(record)`` for every job event a follower sees; ``should_wake()`` says
    whether to ring (this tab follows, is visible, the leader hidden); ``wake()`` posts
    the message."""

    LIMIT = 64  # due times kept; the leader's own (late) timer covers the rest

    def __init__(self, runtime, should_wake, wake):
        self._rt = runtime
        self._should_wake = should_wake
        self._wake = wake
        self._times = []
        self._timer = None

    def note(self, rec):
        """A job event seen in this tab: remember when the job is due (or expires)."""
        if rec.get("status") != PENDING:
            return
        now = self._rt.now()
        for t in (rec.get("run_at"), rec.get("expires_at")):
            if type(t) in (int, float) and t > now and t not in self._times:
                self._times.append(t)
        self._times.sort()
        del self._times[self.LIMIT:]
        self._arm()

    def _arm(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._times:
            self._timer = later(self._rt, max(0.0, self._times[0] - self._rt.now()) + 0.002,
                                self._ring)

    def _ring(self):
        self._timer = None
        now = self._rt.now()
        rang = False
        while self._times and self._times[0] <= now:
            self._times.pop(0)
            rang = True
        if rang and self._should_wake():
            self._wake()
        self._arm()

    def stop(self):
        self._times = []
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
