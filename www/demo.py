"""The demo: a lesson calendar whose embedding index is rebuilt in the background.

Every tab runs this same script: it declares the queue, its handlers and its triggers;
the one leader tab runs the jobs. Lessons are the app's own data (kept in localStorage
here); the index is what the "rebuild-embeddings" job computes from the last six months.
"""

from browser import document, html, window, aio
import javascript

from brython_jobs import JobQueue

jobs = JobQueue("planner", retries=3, backoff=1.0, keep_completed=3600.0)
DAY = 86400.0
storage = window.localStorage


# -- the app's data --------------------------------------------------------------------
def load_lessons():
    raw = storage.getItem("demo:lessons")
    if not raw:  # JS null: nothing stored yet
        return seed_lessons()
    return javascript.JSON.parse(raw)


def save_lessons(lessons):
    storage.setItem("demo:lessons", javascript.JSON.stringify(lessons))


def seed_lessons():
    subjects = ["Algebra", "Poetry", "Chemistry", "Map reading", "French verbs",
                "Fractions", "Photosynthesis", "Essay planning"]
    now = window.Date.now() / 1000
    lessons = []
    for i in range(24):
        lessons.append({"id": i + 1, "at": now - (i * 8 + 1) * DAY,
                        "title": subjects[i % len(subjects)] + f" #{i // len(subjects) + 1}"})
    save_lessons(lessons)
    return lessons


def day_text(at):
    return window.Date.new(at * 1000).toISOString()[:10]


# -- handlers (the leader tab runs them) --------------------------------------------------
@jobs.handler("rebuild-embeddings", queue="embeddings", timeout=60,
              worker="embed_worker.py")
def rebuild_embeddings(job):
    """Runs in a web worker (embed_worker.py): the page only names the job."""


def recent_lessons():
    since = window.Date.now() / 1000 - 182 * DAY
    return [lesson for lesson in load_lessons() if lesson["at"] >= since]


@jobs.handler("say-hello")
def say_hello(job):
    return {"greeting": f"hello, {job.payload['who']}"}


@jobs.handler("flaky")
def flaky(job):
    if job.attempt < 3:
        raise ConnectionError(f"the server did not answer (attempt {job.attempt})")
    return {"attempt": job.attempt}


@jobs.handler("always-fails", retries=1)
def always_fails(job):
    raise ValueError("this job always fails")


@jobs.handler("slow", queue="slow")
async def slow(job):
    for step in range(10):
        await aio.sleep(0.4)
        await job.update_progress((step + 1) / 10, f"step {step + 1} of 10")
    return {"steps": 10}


rebuild_soon = jobs.debounced("rebuild-embeddings", wait=1.5, max_wait=10.0)


# -- the page ------------------------------------------------------------------------
def render_lessons():
    ul = document["lessons"]
    ul.clear()
    lessons = sorted(load_lessons(), key=lambda lesson: -lesson["at"])
    for lesson in lessons[:12]:
        li = html.LI(f"{day_text(lesson['at'])} · {lesson['title']} ")
        edit = html.BUTTON("rename", Class="rename")
        edit.bind("click", lambda ev, lid=lesson["id"]: rename_lesson(lid))
        drop = html.BUTTON("delete", Class="delete")
        drop.bind("click", lambda ev, lid=lesson["id"]: delete_lesson(lid))
        li <= edit
        li <= drop
        ul <= li
    if len(lessons) > 12:
        ul <= html.LI(f"… and {len(lessons) - 12} earlier lessons", Class="muted")


def lessons_changed(reason):
    render_lessons()
    # Returns at once; a burst of edits (in any tab) becomes one job, which carries the
    # latest lessons of the last six months to the worker.
    rebuild_soon({"reason": reason, "lessons": recent_lessons()})


def add_lesson(ev):
    ev.preventDefault()
    lessons = load_lessons()
    when = document["lesson-date"].value
    at = window.Date.parse(when) / 1000 if when else window.Date.now() / 1000
    next_id = max([lesson["id"] for lesson in lessons] + [0]) + 1
    lessons.append({"id": next_id, "at": at, "title": document["lesson-title"].value})
    save_lessons(lessons)
    document["lesson-title"].value = ""
    lessons_changed("added a lesson")


def rename_lesson(lesson_id):
    lessons = load_lessons()
    for lesson in lessons:
        if lesson["id"] == lesson_id:
            lesson["title"] = lesson["title"] + " (revised)"
    save_lessons(lessons)
    lessons_changed("renamed a lesson")


def delete_lesson(lesson_id):
    save_lessons([lesson for lesson in load_lessons() if lesson["id"] != lesson_id])
    lessons_changed("deleted a lesson")


def cell_text(job):
    if job.error:
        return f"{job.error['code']}: {job.error['message']}"
    if type(job.result) is dict and "index" in job.result:
        return f"{job.result['vectors']} vectors of {job.result['dims']} dimensions"
    if job.result is not None:
        return javascript.JSON.stringify(job.result)
    return ""


def action(label, fn, job_id):
    button = html.BUTTON(label, Class=label)

    def clicked(ev):
        async def go():
            try:
                await fn(job_id)
            except Exception as exc:
                window.console.warn(f"demo: {label} failed: {exc}")
        aio.run(go())
    button.bind("click", clicked)
    return button


async def refresh():
    listed = await jobs.list(limit=None)
    counts = await jobs.counts()
    body = document["jobs"]
    body.clear()
    for job in reversed(listed[-30:]):
        row = html.TR(Class="job", id="job-" + job.id)
        row <= html.TD(html.B(job.name) + html.BR() + html.SMALL(job.id[:13], Class="muted"))
        row <= html.TD(job.queue)
        row <= html.TD(job.status, Class="status status-" + job.status)
        row <= html.TD(f"{job.attempts}/{job.max_attempts}")
        prog = ""
        if job.progress:
            prog = f"{int(job.progress['fraction'] * 100)}% {job.progress['message'] or ''}"
        row <= html.TD(prog)
        row <= html.TD(cell_text(job), Class="outcome")
        actions = html.TD()
        if job.status in ("pending", "processing"):
            actions <= action("cancel", jobs.cancel, job.id)
        if job.status in ("failed", "cancelled"):
            actions <= action("redrive", jobs.redrive, job.id)
        row <= actions
        body <= row
    document["counts"].text = " · ".join(f"{k}: {v}" for k, v in counts.items())
    show_index(listed)


def show_index(listed):
    builds = [job for job in listed if job.name == "rebuild-embeddings"]
    if not builds:
        return
    last = builds[-1]
    done = [job for job in builds if job.status == "completed"]
    if done:
        r = done[-1].result
        document["index-status"].text = (
            f"index: {r['vectors']} lessons of the last six months, {r['dims']} dimensions, "
            f"built in a worker {day_text(done[-1].finished_at)} after: {r['reason']}")
    if last.status in ("pending", "processing"):
        document["index-progress"].value = (last.progress or {}).get("fraction", 0)
        document["index-message"].text = (
            "rebuild due" if last.status == "pending" else
            ((last.progress or {}).get("message") or "rebuilding…"))
    else:
        document["index-progress"].value = 1 if last.status == "completed" else 0
        document["index-message"].text = last.status


_refreshing = {"busy": False, "again": False}


def schedule_refresh(*args):
    # Events arrive in bursts: render at most one refresh at a time, then once more.
    if _refreshing["busy"]:
        _refreshing["again"] = True
        return

    async def run():
        _refreshing["busy"] = True
        try:
            await refresh()
        except Exception as exc:
            window.console.error(f"demo: refresh failed: {exc}")
        _refreshing["busy"] = False
        if _refreshing["again"]:
            _refreshing["again"] = False
            schedule_refresh()
    aio.run(run())


def show_leader(is_leader):
    badge = document["leader"]
    badge.text = "this tab is the leader: it runs the jobs" if is_leader else \
        "this tab follows: another tab runs the jobs"
    badge.attrs["class"] = "yes" if is_leader else "no"


def enqueue_button(button_id, name, payload):
    def clicked(ev):
        async def go():
            await jobs.enqueue(name, payload)
        aio.run(go())
    document[button_id].bind("click", clicked)


async def main():
    for event in ("enqueued", "started", "progress", "completed", "failed", "cancelled",
                  "retrying"):
        jobs.on(event, schedule_refresh)
    jobs.on("leader", show_leader)
    await jobs.start()
    document["add-form"].bind("submit", add_lesson)
    enqueue_button("enqueue-hello", "say-hello", {"who": "world"})
    enqueue_button("enqueue-flaky", "flaky", None)
    enqueue_button("enqueue-fail", "always-fails", None)
    enqueue_button("enqueue-slow", "slow", None)

    def redrive_all(ev):
        aio.run(jobs.redrive_failed())
    document["redrive-failed"].bind("click", redrive_all)
    show_leader(jobs.is_leader)
    render_lessons()
    await refresh()
    window.demoReady = True

aio.run(main())
