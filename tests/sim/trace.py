"""The record of one run: actions and key events in virtual time, printed for a failing
seed (the same seed replays it exactly)."""


class Trace:
    """``add(who, kind, detail)`` appends ``(time, who, kind, detail)``."""

    def __init__(self, sched):
        self.sched = sched
        self.items = []

    def add(self, who, kind, detail=""):
        self.items.append((self.sched.time, who, kind, detail))

    def kinds(self):
        return [item[2] for item in self.items]

    def format(self, last=None):
        items = self.items if last is None else self.items[-last:]
        lines = []
        for time, who, kind, detail in items:
            lines.append(f"{time:10.3f}  {who:<6} {kind:<18} {detail}")
        return "\n".join(lines)
