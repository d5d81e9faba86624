"""The in-page inspector: see and act on a queue's jobs from any page of the app.

    from brython_jobs.inspector import Inspector
    Inspector(jobs).mount(document["jobs-panel"])

It shows counts per status and queue (paused queues marked), a chart of jobs finished per
minute over the last hour, the jobs newest first (by status, paged, filtered by queue and
name, searchable by id or key), one job's detail, the leader, recurring schedules and
pending debounce/throttle bursts; it can cancel, redrive (one job or every failed job of a
queue), run a delayed job now, delete a finished job, clean finished jobs by status and age,
pause and resume queues and unschedule. It works from any tab, leader or not.

It updates from the queue's events (coalesced, one render at a time) and after an action
in another tab's inspector (deletes and pauses emit no job event); it never polls, so an
idle page costs nothing. ``JobQueue`` never imports this module: pages that do not show
the inspector do not load it. Everything shown is text (see inspector_view.py).
"""

from browser import document

from . import inspector_sections as sections
from .inspector_view import CSS, add, button, chart, clear, el

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
        self.rt = jobs.runtime    # timers, tasks and channels, as the queue's own
        self.first_render = self.rt.future()
        self._timer = None
        self._busy = False
        self._again = False
        self._parts = {}
        self._queue_names = None
        self._channel = None

    def part(self, name):
        """The mounted element of section ``name`` (leader, counts, jobs, pager, detail,
        schedules, bursts, note), for the section renderers in inspector_sections.py."""
        return self._parts[name]

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
        # Deleting, cleaning, pausing and resuming emit no job event: the inspectors of
        # the queue tell each other over their own channel, so every tab's view follows.
        self._channel = self.rt.channel("brython_jobs." + self.jobs.name + ".inspector",
                                        lambda message: self.refresh_soon())
        self.refresh_soon(0)
        return self

    def unmount(self):
        for event in LIVE:
            self.jobs.off(event, self._on_event)
        self.rt.cancel_call(self._timer)
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.root is not None and self.root.parentNode:
            self.root.parentNode.removeChild(self.root)
        self.root = None

    def _toolbar(self):
        bar = el("div", None, "toolbar")
        self._status_buttons = {}
        for status in (None,) + STATUSES:
            label = status or "all"
            b = button(label, lambda s=status: self.set_filter("status", s),
                       focus="status:" + label)
            self._status_buttons[label] = b
            add(bar, b)
        self._queue_select = el("select", None, None, {"aria-label": "queue"})
        self._queue_select.bind("change", lambda ev: self.set_filter(
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
    def set_filter(self, what, value):
        """Show only jobs whose ``what`` (status, queue) is ``value`` (None: all)."""
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

    def show_older(self):
        """The next page of older jobs."""
        self.newer.append(self.before)
        self.before = self.next
        self.refresh_soon(0)

    def show_newer(self):
        """Back to the page of newer jobs."""
        if self.newer:
            self.before = self.newer.pop()
        self.refresh_soon(0)

    def select(self, job_id):
        """Show the detail of ``job_id`` (None closes it)."""
        self.selected = job_id
        self.refresh_soon(0)

    def toggle(self, key):
        """Expand or collapse the long value shown under ``key``."""
        if key in self.expanded:
            self.expanded.discard(key)
        else:
            self.expanded.add(key)
        self.refresh_soon(0)

    def sync_filters(self, names):
        """Keep the filter controls in step with the state and the queues ``names``."""
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
            if self._channel is not None:
                self._channel.post({"changed": what})
            self.refresh_soon(0)
        self.rt.spawn(go(), "inspector " + what)

    # -- refreshing ----------------------------------------------------------------
    def _on_event(self, value):
        self.refresh_soon()

    def refresh_soon(self, delay=COALESCE):
        if self._timer is not None or self.root is None:
            return
        self._timer = self.rt.call_later(delay, self._tick)

    def _tick(self):
        self._timer = None
        if self._busy:
            self._again = True
            return
        self.rt.spawn(self._refresh(), "inspector refresh")

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
        now = self.rt.now()
        focused = document.activeElement
        focus_key = None
        if focused is not None and self.root.contains(focused):
            focus_key = focused.getAttribute("data-focus")
        self.next = data["next"]
        parts = self._parts
        sections.render_leader(self, data["leader"], now)
        sections.render_counts(self, data["counts"], data["queues"], data["paused"])
        add(clear(parts["chart"]), chart(data["chart"], now))
        sections.render_rows(self, data["rows"], now)
        sections.render_detail(self, data["job"], now)
        sections.render_schedules(self, data["schedules"], now)
        sections.render_bursts(self, data["bursts"], now)
        if focus_key:
            for node in self.root.querySelectorAll("[data-focus]"):
                if node.getAttribute("data-focus") == focus_key:
                    node.focus()
                    break
        self.renders += 1
        self.root.setAttribute("data-renders", self.renders)
