"""The in-page inspector: see and act on a queue's jobs from any page of the app.

    from brython_jobs.inspector import Inspector
    Inspector(jobs).mount(document["jobs-panel"])

It shows counts per status and queue (paused queues marked), a chart of jobs finished per
minute over the last hour, the jobs newest first (by status, paged, filtered by queue and
name, searchable by id or key), one job's detail, the leader, recurring schedules and
pending debounce/throttle bursts; it can cancel, redrive (one job or every failed job of a
queue), run a delayed job now, delete a finished job, clean finished jobs by status and age,
pause and resume queues and unschedule. It works from any tab, leader or not.

It updates from the queue's events (coalesced, one render at a time) and never polls, so
an idle page costs nothing. ``JobQueue`` never imports this module: pages that do not
show the inspector do not load it. Everything shown is text (see inspector_view.py).
"""

from . import jsenv
from .admin import duration
from .inspector_view import (
    CSS, add, button, chart, clear, el, json_text, progress_bar, time_cell, time_text,
    value_block,
)

STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
FINISHED = ("completed", "failed", "cancelled")
LIVE = ("enqueued", "started", "progress", "completed", "failed", "cancelled", "retrying",
        "leader")
COALESCE = 0.15  # seconds: a burst of events gives one render


class Inspector:
    """``Inspector(jobs, page_size=25, text_limit=600)``; ``mount(element)`` renders into
    ``element`` and returns the inspector; ``unmount()`` removes it and its listeners.
    ``await inspector.first_render`` waits for the first complete render."""

    def __init__(self, jobs, page_size=25, text_limit=600):
        self.jobs = jobs
        self.page_size = page_size
        self.text_limit = text_limit
        self.status = None        # None: every status
        self.queue = None
        self.name = None
        self.text = ""            # search by id or key; overrides the filters
        self.before = None        # the page shown starts after this id
        self.newer = []           # the ``before`` of each newer page, for "Newer"
        self.next = None
        self.selected = None      # job id shown in the detail
        self.expanded = set()     # "job id:field" shown in full
        self.renders = 0
        self.root = None
        self.first_render = jsenv.future()
        self._timer = None
        self._busy = False
        self._again = False
        self._parts = {}
        self._queue_names = None

    # -- mounting ------------------------------------------------------------------
    def mount(self, element):
        root = el("div", None, "bji", {"data-renders": 0})
        add(root, el("style", CSS))
        parts = self._parts
        for name in ("leader", "counts", "chart", "jobs", "pager", "detail", "schedules",
                     "bursts"):
            parts[name] = el("div", None, "bji-" + name)
        head = el("div", None, "toolbar")
        add(head, el("strong", f"Jobs · {self.jobs.name}"),
            button("Refresh", lambda: self.refresh_soon(0), focus="refresh"))
        parts["note"] = el("p", None, "note muted", {"role": "status", "aria-live": "polite"})
        add(root, add(el("section"), head, parts["leader"], parts["note"]))
        add(root, add(el("section"), el("h3", "Queues"), parts["counts"]))
        add(root, add(el("section"), el("h3", "Finished per minute, last hour"),
                      parts["chart"]))
        add(root, add(el("section"), el("h3", "Jobs"), self._toolbar(), parts["jobs"],
                      parts["pager"]))
        add(root, parts["detail"])
        add(root, add(el("section"), el("h3", "Recurring schedules"), parts["schedules"]))
        add(root, add(el("section"), el("h3", "Pending bursts (debounced / throttled)"),
                      parts["bursts"]))
        add(root, add(el("section"), el("h3", "Clean finished jobs"), self._cleaner()))
        self.root = root
        element.appendChild(root)
        for event in LIVE:
            self.jobs.on(event, self._on_event)
        self.refresh_soon(0)
        return self

    def unmount(self):
        for event in LIVE:
            self.jobs.off(event, self._on_event)
        jsenv.cancel_call(self._timer)
        if self.root is not None and self.root.parentNode:
            self.root.parentNode.removeChild(self.root)
        self.root = None

    def _toolbar(self):
        bar = el("div", None, "toolbar")
        self._status_buttons = {}
        for status in (None,) + STATUSES:
            label = status or "all"
            b = button(label, lambda s=status: self._set_filter("status", s),
                       focus="status:" + label)
            self._status_buttons[label] = b
            add(bar, b)
        self._queue_select = el("select", None, None, {"aria-label": "queue"})
        self._queue_select.bind("change", lambda ev: self._set_filter(
            "queue", self._queue_select.value or None))
        self._name_input = el("input", None, None, {"type": "search", "placeholder": "name",
                                                    "aria-label": "filter by job name"})
        self._name_input.bind("input", lambda ev: self._typed())
        self._search_input = el("input", None, None, {
            "type": "search", "placeholder": "id or key", "aria-label": "search by id or key"})
        self._search_input.bind("input", lambda ev: self._typed())
        add(bar, self._queue_select, self._name_input, self._search_input)
        return bar

    def _cleaner(self):
        box = el("div", None, "toolbar")
        pick = el("select", None, None, {"aria-label": "status to clean"})
        for status in FINISHED:
            option = el("option", status)
            option.value = status
            add(pick, option)
        age = el("input", None, None, {"type": "number", "min": 0, "value": 60,
                                        "aria-label": "older than (minutes)"})
        age.setAttribute("style", "width: 5rem")

        def clean():
            try:
                minutes = float(age.value)
            except ValueError:
                self.say("older than: give a number of minutes")
                return
            status = pick.value
            self.act(f"clean {status}", lambda: self.jobs.clean(status, minutes * 60),
                     lambda n: f"deleted {n} {status} job(s) older than {minutes:g} min")
        add(box, pick, el("span", "older than"), age, el("span", "min"),
            button("Clean", clean, focus="clean"))
        return box

    # -- state changes -------------------------------------------------------------
    def _set_filter(self, what, value):
        setattr(self, what, value)
        self.before = None
        self.newer = []
        self.refresh_soon(0)

    def _typed(self):
        self.name = self._name_input.value.strip() or None
        self.text = self._search_input.value.strip()
        self.before = None
        self.newer = []
        self.refresh_soon(0.25)

    def _older(self):
        self.newer.append(self.before)
        self.before = self.next
        self.refresh_soon(0)

    def _newer(self):
        if self.newer:
            self.before = self.newer.pop()
        self.refresh_soon(0)

    def select(self, job_id):
        """Show the detail of ``job_id`` (None closes it)."""
        self.selected = job_id
        self.refresh_soon(0)

    def _toggle(self, key):
        if key in self.expanded:
            self.expanded.discard(key)
        else:
            self.expanded.add(key)
        self.refresh_soon(0)

    def say(self, text):
        if self.root is not None:
            self._parts["note"].textContent = text

    def act(self, what, make, done_text=None):
        """Run an action (``make()`` returns its awaitable), say how it went, refresh."""
        async def go():
            try:
                result = await make()
                self.say(done_text(result) if done_text else f"{what}: done")
            except Exception as exc:
                self.say(f"{what} failed: {type(exc).__name__}: {exc}")
            self.refresh_soon(0)
        jsenv.spawn(go(), "inspector " + what)

    # -- refreshing ----------------------------------------------------------------
    def _on_event(self, value):
        self.refresh_soon()

    def refresh_soon(self, delay=COALESCE):
        if self._timer is not None or self.root is None:
            return
        self._timer = jsenv.call_later(delay, self._tick)

    def _tick(self):
        self._timer = None
        if self._busy:
            self._again = True
            return
        jsenv.spawn(self._refresh(), "inspector refresh")

    async def _refresh(self):
        self._busy = True
        try:
            data = await self._load()
            if self.root is not None:
                self._render(data)
        except Exception as exc:
            self.say(f"could not read the queue: {type(exc).__name__}: {exc}")
        finally:
            self._busy = False
        if not self.first_render.done():
            self.first_render.set_result(True)
        if self._again:
            self._again = False
            self.refresh_soon(0)

    async def _load(self):
        jobs = self.jobs
        queues = await jobs.queue_counts()
        counts = {}
        for status in STATUSES:  # the totals, from the per-queue counts (one read less)
            counts[status] = 0
            for q in queues:
                counts[status] += queues[q].get(status, 0)
        data = {"counts": counts, "queues": queues, "paused": await jobs.paused()}
        if self.text:
            data["rows"] = await jobs.search(self.text, self.page_size)
            data["next"] = None
        else:
            rows, nxt = await jobs.page(self.status, self.queue, self.name, self.page_size,
                                        self.before)
            data["rows"] = rows
            data["next"] = nxt
        data["chart"] = await jobs.finished_per_minute(60)
        data["leader"] = await jobs.leader_info()
        data["schedules"] = await jobs.schedules()
        data["bursts"] = await jobs.bursts()
        data["job"] = None if self.selected is None else await jobs.get(self.selected)
        return data

    def _render(self, data):
        now = jsenv.now()
        focused = jsenv.scope.document.activeElement
        focus_key = None
        if focused is not None and self.root.contains(focused):
            focus_key = focused.getAttribute("data-focus")
        self.next = data["next"]
        parts = self._parts
        self._render_leader(data["leader"], now)
        self._render_counts(data["counts"], data["queues"], data["paused"])
        add(clear(parts["chart"]), chart(data["chart"], now))
        self._render_rows(data["rows"], now)
        self._render_detail(data["job"], now)
        self._render_schedules(data["schedules"], now)
        self._render_bursts(data["bursts"], now)
        if focus_key:
            for node in self.root.querySelectorAll("[data-focus]"):
                if node.getAttribute("data-focus") == focus_key:
                    node.focus()
                    break
        self.renders += 1
        self.root.setAttribute("data-renders", self.renders)

    # -- sections ------------------------------------------------------------------
    def _render_leader(self, info, now):
        if info["state"] == "none":
            text = "Leader: none elected yet"
        else:
            text = f"Leader: tab {(info['tab'] or '?')[:8]} · epoch {info['epoch']}"
            if info["since"] is not None:
                text += f" · since {time_text(info['since'], now)}"
            if info["state"] == "resigned":
                text += " · resigned"
            else:
                text += f" · heartbeat {info['heartbeat_age']:.1f} s ago"
                if info["state"] == "silent":
                    text += " (silent: about to be replaced)"
        text += f" · this tab ({info['this_tab'][:8]}): {info['role']}"
        self._parts["leader"].textContent = text

    def _render_counts(self, counts, queues, paused):
        table = el("table")
        head = add(el("tr"), el("th", "queue"))
        for status in STATUSES:
            add(head, el("th", status, "num"))
        add(table, add(head, el("th", "")))
        names = sorted(set(list(queues) + list(paused)))
        for q in names:
            per = queues.get(q) or {}
            row = el("tr", None, None, {"data-queue": q})
            cell = add(el("td"), button(q, lambda q=q: self._set_filter("queue", q),
                                        focus="q:" + q, label="show jobs of queue " + q))
            if q in paused:
                add(cell, " ", el("span", "paused", "paused"))
            add(row, cell)
            for status in STATUSES:
                n = per.get(status, 0)
                add(row, el("td", n, "num st-" + status if n else "num muted"))
            actions = el("td")
            if q in paused:
                add(actions, button("Resume", lambda q=q: self.act(
                    "resume " + q, lambda: self.jobs.resume(q)), focus="resume:" + q))
            else:
                add(actions, button("Pause", lambda q=q: self.act(
                    "pause " + q, lambda: self.jobs.pause(q)), focus="pause:" + q))
            if per.get("failed"):
                add(actions, button("Redrive failed", lambda q=q: self.act(
                    "redrive failed of " + q, lambda: self.jobs.redrive_failed(q),
                    lambda n: f"redrove {n} failed job(s) of {q}"), focus="redrive-all:" + q))
            add(table, add(row, actions))
        total = add(el("tr"), el("th", "all queues"))
        for status in STATUSES:
            add(total, el("th", counts.get(status, 0), "num"))
        add(table, add(total, el("th", "")))
        add(clear(self._parts["counts"]), table)
        # keep the filter controls in step
        for label in self._status_buttons:
            pressed = (self.status or "all") == label and not self.text
            self._status_buttons[label].setAttribute("aria-pressed",
                                                     "true" if pressed else "false")
        select = self._queue_select
        if names != self._queue_names:  # rebuilt only on a change: a user may be choosing
            self._queue_names = names
            clear(select)
            for q in [None] + names:
                option = el("option", q or "all queues")
                option.value = q or ""
                add(select, option)
        select.value = self.queue or ""

    def _actions(self, job, now, where):
        out = []
        jid = job.id
        if job.status in ("pending", "processing"):
            out.append(button("Cancel", lambda: self.act(
                "cancel", lambda: self.jobs.cancel(jid)), focus=f"{where}cancel:{jid}"))
        if job.status == "pending" and job.run_at is not None and job.run_at > now:
            out.append(button("Run now", lambda: self.act(
                "run now", lambda: self.jobs.promote(jid)), focus=f"{where}promote:{jid}"))
        if job.status in ("failed", "cancelled"):
            out.append(button("Redrive", lambda: self.act(
                "redrive", lambda: self.jobs.redrive(jid)), focus=f"{where}redrive:{jid}"))
        if job.status in FINISHED:
            out.append(button("Delete", lambda: self.act(
                "delete", lambda: self.jobs.delete(jid)), focus=f"{where}delete:{jid}"))
        return out

    def _render_rows(self, rows, now):
        table = el("table")
        head = el("tr")
        for title in ("job", "name", "queue", "status", "attempts", "created", "due / ended",
                      ""):
            add(head, el("th", title))
        add(table, head)
        for job in rows:
            row = el("tr", None, "bji-job", {"data-id": job.id, "data-status": job.status,
                                             "data-name": job.name})
            add(row, add(el("td"), button(job.id[:13], lambda j=job.id: self.select(j),
                                          focus="open:" + job.id,
                                          label="show job " + job.id)))
            add(row, el("td", job.name), el("td", job.queue),
                el("td", job.status, "status st-" + job.status),
                el("td", f"{job.attempts} of {job.max_attempts}", "num"),
                time_cell(job.created_at, now),
                time_cell(job.finished_at if job.status in FINISHED else job.run_at, now))
            add(table, add(row, add(el("td"), *self._actions(job, now, "row:"))))
        if not rows:
            add(table, add(el("tr"), el("td", "no jobs match", "muted", {"colspan": 8})))
        add(clear(self._parts["jobs"]), table)
        pager = clear(self._parts["pager"])
        if self.text:
            add(pager, el("span", f"search results for {self.text!r} (id or key prefix)",
                          "muted"))
            return
        if self.newer:
            add(pager, button("‹ Newer", self._newer, focus="newer"))
        if self.next is not None:
            add(pager, button("Older ›", self._older, focus="older"))
        add(pager, el("span", f" page {len(self.newer) + 1}", "muted"))

    def _field(self, dl, name, value):
        add(dl, el("dt", name), add(el("dd"), value if type(value) is not str else value))

    def _block(self, job, field, value):
        key = f"{job.id}:{field}"
        return value_block(json_text(value), self.text_limit, key in self.expanded,
                           lambda: self._toggle(key), "show:" + key)

    def _render_detail(self, job, now):
        box = clear(self._parts["detail"])
        if self.selected is None:
            box.removeAttribute("class")
            return
        box.setAttribute("class", "bji-detail detail")
        head = add(el("div", None, "toolbar"), el("strong", "Job "),
                   el("code", self.selected),
                   button("Close", lambda: self.select(None), focus="close-detail"))
        add(box, head)
        if job is None:
            add(box, el("p", "This job no longer exists.", "muted"))
            return
        dl = el("dl")
        self._field(dl, "name", job.name)
        self._field(dl, "queue", job.queue)
        self._field(dl, "status", el("span", job.status, "st-" + job.status))
        self._field(dl, "attempts", f"{job.attempts} of {job.max_attempts}")
        self._field(dl, "priority", str(job.priority))
        self._field(dl, "key", job.key if job.key is not None else "—")
        prog = el("span")
        if job.progress:
            add(prog, progress_bar(job.progress.get("fraction") or 0),
                f" {int((job.progress.get('fraction') or 0) * 100)}%",
                f" {job.progress.get('message') or ''}")
        else:
            add(prog, "—")
        self._field(dl, "progress", prog)
        for label, t in (("created", job.created_at), ("due", job.run_at),
                         ("started", job.started_at), ("finished", job.finished_at),
                         ("expires", job.expires_at)):
            self._field(dl, label, time_text(t, now))
        if job.error:
            self._field(dl, "error", add(el("span"), el("code", job.error.get("code")), " ",
                                         job.error.get("message") or ""))
        add(box, dl)
        add(box, el("h3", "payload"), self._block(job, "payload", job.payload))
        add(box, el("h3", "result"), self._block(job, "result", job.result))
        if job.error:
            add(box, el("h3", "error"), self._block(job, "error", job.error))
        add(box, add(el("div", None, "toolbar"), *self._actions(job, now, "detail:")))

    def _render_schedules(self, schedules, now):
        box = clear(self._parts["schedules"])
        if not schedules:
            add(box, el("p", "none", "muted"))
            return
        table = el("table")
        head = el("tr")
        for title in ("key", "name", "queue", "every", "next due", "last run", ""):
            add(head, el("th", title))
        add(table, head)
        for s in schedules:
            row = el("tr", None, "bji-schedule", {"data-key": s["key"]})
            last = s["last_run"]
            last_cell = el("td", "—" if last is None else last["status"] + " ")
            if last is not None:
                add(last_cell, el("span", time_text(last["finished_at"], now), "muted"))
            key = s["key"]
            add(row, el("td", key), el("td", s["name"]), el("td", s["queue"]),
                el("td", duration(s["interval"])), time_cell(s["next_due"], now), last_cell,
                add(el("td"), button("Unschedule", lambda k=key: self.act(
                    "unschedule " + k, lambda: self.jobs.unschedule(k)),
                    focus="unschedule:" + key)))
            add(table, row)
        add(box, table)

    def _render_bursts(self, bursts, now):
        box = clear(self._parts["bursts"])
        if not bursts:
            add(box, el("p", "none", "muted"))
            return
        table = el("table")
        head = el("tr")
        for title in ("key", "name", "kind", "first call", "last call", "due", ""):
            add(head, el("th", title))
        add(table, head)
        for b in bursts:
            row = el("tr", None, "bji-burst", {"data-key": b["key"] or ""})
            add(row, el("td", b["key"] or "—"), el("td", b["name"]), el("td", b["kind"]),
                time_cell(b["first_call"], now), time_cell(b["last_call"], now),
                time_cell(b["due"], now),
                add(el("td"), button("Open", lambda j=b["job_id"]: self.select(j),
                                     focus="burst:" + b["job_id"])))
            add(table, row)
        add(box, table)
