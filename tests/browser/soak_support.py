"""The soak (issue 14, item 7), shared by tests/browser/test_soak.py and tools/soak.py.

Three tabs of one queue enqueue jobs from page timers while the leader is killed every
round, alternately by closing its tab and by crashing its renderer (CDP Page.crash); a
new tab replaces each killed one. Every fact is counted in the server's run log
(tools/serve.py), outside the browser: ``enq`` once an enqueue returned (the job is
durable), ``run`` when a handler starts, ``leader`` on each leadership change, ``kill``
written by the soak itself. Before trusting the log, a tab writes a marker and is
crashed: the marker must still be there.

At the end every acknowledged job must be ``completed`` (else it is lost), each kill may
cause at most one re-run (one queue runs one job at a time) and no re-run may happen
without a kill, and exactly one tab leads.
"""

import json
import time

import faults_support as fs
import harness

PAGE = "/tests/pages/faults.html"
TABS = 3


class Soak:
    """One soak on a dedicated browser. ``run_round(jobs)`` enqueues about ``jobs`` jobs
    across the open tabs, then kills the leader; ``finish()`` checks and summarises."""

    def __init__(self, browser, server, queue, say=None, every_ms=120, job_seconds=0.03):
        self.browser = browser
        self.server = server
        self.queue = queue
        self.say = say or (lambda text: None)
        self.every_ms = every_ms
        self.job_seconds = job_seconds
        self.log = fs.RunLog(server, queue)
        self.tabs = harness.Tabs(harness.browsers.Session("chromium", browser.driver), server,
                                 browser.base_handle)
        self.open = []
        self.kills = []      # (server time, "close" | "crash")
        self.rounds = 0
        self.started = time.monotonic()

    # -- set-up ----------------------------------------------------------------------
    def _new_tab(self):
        tab = self.tabs.open(PAGE, queue=self.queue, log=self.queue)
        self.open.append(tab)
        return tab

    def check_log_survives_crash(self):
        """The run log is trusted only once a marker outlived a crashed renderer."""
        tab = self.tabs.open(PAGE, queue=self.queue, log=self.queue + "_check")
        tab.call("page.log", "marker")
        fs.crash(tab)
        self._close_crashed(tab)
        check = fs.RunLog(self.server, self.queue + "_check")
        assert len(check.records("marker")) == 1, "the run log lost a crashed tab's line"

    def start(self):
        self.check_log_survives_crash()
        while len(self.open) < TABS:
            self._new_tab()
        self.leader(timeout=15)

    # -- one round -------------------------------------------------------------------
    def leader(self, timeout=10):
        """The one open tab that leads (waits until exactly one does)."""
        def one():
            leaders = [t for t in self.open if t.call("page.state")["is_leader"]]
            return leaders[0] if len(leaders) == 1 else None
        return fs.wait(one, timeout=timeout, interval=0.02,
                       message="no single leader among the open tabs")

    def acked(self):
        return self.log.count("enq")

    def run_round(self, jobs):
        """Enqueue ``jobs`` jobs from all open tabs, and kill the leader once about
        half of them are acknowledged (so jobs are queued and running at the kill)."""
        self.rounds += 1
        goal = self.acked() + jobs
        per_tab = -(-jobs // len(self.open))
        for tab in self.open:
            tab.call("page.stream", per_tab, self.every_ms, f"r{self.rounds}",
                     self.job_seconds)
        fs.wait(lambda: self.acked() >= goal - jobs // 2, timeout=30, interval=0.05,
                message="the tabs stopped enqueueing")
        leader = self.leader()
        victim = leader.call("page.state")["tab"]
        how = "close" if len(self.kills) % 2 == 0 else "crash"
        # The kill is stamped by the server just before it happens.
        self.log.append(json.dumps({"kind": "kill", "how": how}))
        self.kills.append(how)
        self.open.remove(leader)
        if how == "close":
            leader.close()
        else:
            fs.crash(leader)
            self._close_crashed(leader)
        # The killed tab's stream died with it: the new tab enqueues what it had left.
        done = sum(1 for r in self.log.records("enq")
                   if r["tab"] == victim and r["tag"].startswith(f"r{self.rounds}-"))
        left = max(0, per_tab - done)
        fresh = self._new_tab()
        if left:
            fresh.call("page.stream", left, self.every_ms, f"r{self.rounds}b",
                       self.job_seconds)
        # Let this round's streams run out before the next round starts its own (an
        # enqueue cut short by the kill is never acknowledged: allow a few).
        fs.wait(lambda: self.acked() >= goal - 3, timeout=30, interval=0.05,
                message="the surviving tabs stopped enqueueing")

    def _close_crashed(self, tab):
        try:
            self.browser.driver.switch_to.window(tab.handle)
            self.browser.driver.close()
        except Exception:
            pass  # a crashed window may refuse; it does no harm
        self.tabs.park()

    # -- the verdict -----------------------------------------------------------------
    def finish(self, drain_timeout=120):
        """Wait until every acknowledged job finished (or the timeout), then count.
        Returns the summary dict; ``ok`` is False on any loss or excess re-run."""
        for each in self.open:
            each.call("page.stop_stream")
        tab = self.leader()

        def drained():
            counts = tab.call("counts")
            return counts["pending"] + counts["processing"] == 0 and counts
        try:
            fs.wait(drained, timeout=drain_timeout, interval=0.5,
                    message="jobs were still waiting at the end")
        except AssertionError as exc:
            self.say(f"soak: {exc}")
        statuses = {}
        unfinished = {}  # "status/code" -> how many jobs did not complete
        by_status = tab.call("page.statuses", "work")
        for status in by_status:
            for job_id, code in by_status[status]:
                statuses[job_id] = status
                if status != "completed":
                    what = f"{status}/{code}"
                    unfinished[what] = unfinished.get(what, 0) + 1
        samples = []  # why some jobs did not complete, from their stored error
        for status in by_status:
            for job_id, code in by_status[status][:2]:
                if status != "completed":
                    rec = tab.call("get", job_id)
                    samples.append(f"{status} after {rec['attempts']} attempts: "
                                   f"{rec['error']}")
        acked = {r["id"] for r in self.log.records("enq")}
        lost = sorted(i for i in acked if statuses.get(i) != "completed")

        runs = {}
        for rec in self.log.records("run"):
            runs.setdefault(rec["id"], []).append(rec["server_at"])
        kill_times = [r["server_at"] for r in self.log.records("kill")]
        per_kill = [0] * len(kill_times)
        unexplained = 0
        for times in runs.values():
            for at in sorted(times)[1:]:
                before = [k for k, t in enumerate(kill_times) if t <= at]
                if before:
                    per_kill[before[-1]] += 1
                else:
                    unexplained += 1
        leaders = [t for t in self.open if t.call("page.state")["is_leader"]]
        changes = sum(1 for r in self.log.records("leader") if r["value"])
        errors = self.tabs.collect_errors()
        summary = {
            "minutes": round((time.monotonic() - self.started) / 60, 1),
            "jobs": len(statuses), "acknowledged": len(acked),
            "completed": sum(1 for s in statuses.values() if s == "completed"),
            "kills": len(kill_times), "closes": self.kills.count("close"),
            "crashes": self.kills.count("crash"), "lost": len(lost), "lost_ids": lost[:10],
            "reruns": sum(per_kill), "max_reruns_per_kill": max(per_kill or [0]),
            "unexplained_reruns": unexplained, "leader_changes": changes,
            "leaders_at_end": len(leaders), "console_errors": errors[:5],
            "not_completed": unfinished, "samples": samples,
        }
        summary["ok"] = (not lost and not unfinished and summary["max_reruns_per_kill"] <= 1
                         and not unexplained and len(leaders) == 1 and not errors)
        return summary

    def close(self):
        self.tabs.close_all()


def summary_line(s):
    return (f"soak: {s['minutes']} min, {s['jobs']} jobs ({s['acknowledged']} acknowledged, "
            f"{s['completed']} completed), {s['kills']} kills ({s['closes']} tab closes, "
            f"{s['crashes']} renderer crashes), {s['lost']} lost, {s['reruns']} re-runs "
            f"(at most {s['max_reruns_per_kill']} per kill, {s['unexplained_reruns']} "
            f"without a kill), {s['leader_changes']} leader changes, "
            f"{s['leaders_at_end']} leader at the end, {len(s['console_errors'])} console "
            f"errors, not completed: {s['not_completed'] or 0}: "
            f"{'OK' if s['ok'] else 'FAILED'}")
