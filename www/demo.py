"""The demo: a lesson calendar whose embedding index is rebuilt in the background.

Every tab runs this same script: it declares the queue, its handlers and its triggers;
the one leader tab runs the jobs. Lessons are the app's own data (kept in localStorage
here). The index is what the "rebuild-embeddings" job computes, in a web worker, from the
title and notes of every lesson of the last six months (hashed TF-IDF, see tfidf.py); it
is stored as that job's result, and every tab uses the newest one: typing a new lesson
shows the most similar past lessons and when such lessons were usually planned.
The jobs themselves are shown by the package's inspector.
"""

from browser import document, html, window, aio
import javascript

from brython_jobs import JobQueue
from brython_jobs.inspector import Inspector

import tfidf

jobs = JobQueue("planner", retries=3, backoff=1.0, keep_completed=86400.0)
DAY = 86400.0
REBUILD = "rebuild-embeddings"
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
storage = window.localStorage
state = {"index": None, "job": None}


# -- the app's data --------------------------------------------------------------------
SEED = (  # title, notes, weekday (0 = Sunday), hour
    ("Algebra: linear equations", "solve for x, balance both sides, word problems", 1, 9),
    ("Poetry: reading sonnets", "rhyme scheme, volta, read aloud in pairs", 3, 14),
    ("Chemistry: acids and bases", "pH scale, indicators, neutralisation lab", 2, 11),
    ("Map reading outdoors", "grid references, contour lines, compass bearings", 5, 13),
    ("French verbs: present tense", "regular -er verbs, conjugation drills, dialogue", 4, 10),
    ("Fractions with pizza", "equivalent fractions, adding halves and quarters", 1, 10),
    ("Photosynthesis", "chlorophyll, light, carbon dioxide, leaf experiment", 2, 9),
    ("Essay planning", "thesis, paragraph outline, evidence and quotes", 4, 15),
)


def load_lessons():
    raw = storage.getItem("demo:lessons")
    if not raw:  # JS null: nothing stored yet
        return seed_lessons()
    return javascript.JSON.parse(raw)


def save_lessons(lessons):
    storage.setItem("demo:lessons", javascript.JSON.stringify(lessons))


def seed_lessons():
    """32 weekly lessons back from today (about seven months, so a few fall out of the
    six-month window), each subject on its usual weekday and hour."""
    today = window.Date.new()
    lessons = []
    for i in range(32):
        title, notes, weekday, hour = SEED[i % len(SEED)]
        day = window.Date.new(today.getFullYear(), today.getMonth(), today.getDate(), hour)
        back = (day.getDay() - weekday) % 7 or 7  # the last such weekday before today
        day.setDate(day.getDate() - back - 7 * i)
        lessons.append({"id": i + 1, "at": day.getTime() / 1000, "title": title,
                        "notes": notes})
    save_lessons(lessons)
    return lessons


def recent_lessons():
    since = window.Date.now() / 1000 - 182 * DAY
    return [lesson for lesson in load_lessons() if lesson["at"] >= since]


def when_text(at):
    d = window.Date.new(at * 1000)
    return (f"{WEEKDAYS[d.getDay()][:3]} {d.toISOString()[:10]} "
            f"{d.getHours():02d}:{d.getMinutes():02d}")


# -- handlers (the leader tab runs them) --------------------------------------------------
@jobs.handler(REBUILD, queue="embeddings", timeout=60, worker="embed_worker.py")
def rebuild_embeddings(job):
    """Runs in a web worker (embed_worker.py): the page only names the job."""


@jobs.handler("tidy-lessons", queue="maintenance")
def tidy_lessons(job):
    """Recurring: how many lessons fell out of the six-month window."""
    since = window.Date.now() / 1000 - 182 * DAY
    return {"older_than_six_months": len([x for x in load_lessons() if x["at"] < since])}


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


rebuild_soon = rebuild_embeddings.debounced(wait=1.5, max_wait=10.0)


def rebuild_payload(reason):
    lessons = recent_lessons()
    return {"reason": reason, "lessons": lessons, "fingerprint": tfidf.fingerprint(lessons)}


# -- the calendar ----------------------------------------------------------------------
def render_lessons():
    ul = document["lessons"]
    ul.clear()
    lessons = sorted(load_lessons(), key=lambda lesson: -lesson["at"])
    for lesson in lessons[:10]:
        li = html.LI()
        li <= html.SPAN(when_text(lesson["at"]), Class="muted")
        li <= " " + lesson["title"] + " "
        edit = html.BUTTON("rename", Class="rename")
        edit.bind("click", lambda ev, lid=lesson["id"]: rename_lesson(lid))
        drop = html.BUTTON("delete", Class="delete")
        drop.bind("click", lambda ev, lid=lesson["id"]: delete_lesson(lid))
        li <= edit
        li <= drop
        ul <= li
    if len(lessons) > 10:
        ul <= html.LI(f"… and {len(lessons) - 10} earlier lessons", Class="muted")


def lessons_changed(reason):
    render_lessons()
    # Returns at once; a burst of edits (in any tab) becomes one job, which carries the
    # latest lessons of the last six months to the worker.
    rebuild_soon(rebuild_payload(reason))


def add_lesson(ev):
    ev.preventDefault()
    lessons = load_lessons()
    when = document["lesson-date"].value
    at = window.Date.parse(when) / 1000 if when else window.Date.now() / 1000
    next_id = max([lesson["id"] for lesson in lessons] + [0]) + 1
    lessons.append({"id": next_id, "at": at, "title": document["lesson-title"].value,
                    "notes": document["lesson-notes"].value})
    save_lessons(lessons)
    document["lesson-title"].value = ""
    document["lesson-notes"].value = ""
    show_suggestions()
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


# -- the index: suggestions while typing ---------------------------------------------------
def show_suggestions(ev=None):
    out = document["suggestions"]
    out.clear()
    text = document["lesson-title"].value + " " + document["lesson-notes"].value
    result = state["index"]
    if result is None or not text.strip():
        return
    hits = tfidf.similar(result["index"], text, k=4)
    if not hits:
        out <= html.LI("no similar past lesson in the index", Class="muted")
        return
    times = []
    for score, lesson_id in hits:
        about = result["lessons"][lesson_id]
        times.append(window.Date.new(about["at"] * 1000))
        li = html.LI(Class="suggestion")
        li <= html.SPAN(f"{score:.2f} ", Class="muted")
        li <= about["title"] + " "
        li <= html.SPAN(when_text(about["at"]), Class="muted")
        out <= li
    out <= html.LI(usually(times), Class="usually")


def usually(times):
    """The most common weekday and hour of similar lessons."""
    days = {}
    hours = {}
    for d in times:
        days[d.getDay()] = days.get(d.getDay(), 0) + 1
        hours[d.getHours()] = hours.get(d.getHours(), 0) + 1
    day = max(days, key=lambda k: days[k])
    hour = max(hours, key=lambda k: hours[k])
    return (f"usually planned on {WEEKDAYS[day]} around {hour:02d}:00 "
            f"({days[day]} of {len(times)} similar lessons)")


def use_index(job):
    """Show (and keep) the index a completed rebuild job produced."""
    state["index"] = job.result
    state["job"] = job.id
    r = job.result
    where = "in a worker" if r.get("worker") else "in the page"
    document["index-status"].text = (
        f"index: {r['vectors']} lessons of the last six months, {r['dims']} dimensions "
        f"(hashed TF-IDF), built {where} {when_text(job.finished_at)} after: {r['reason']}")
    document["index-status"].attrs["data-job"] = job.id
    show_suggestions()


def index_progress(job):
    if job.name != REBUILD:
        return
    if job.status == "completed":
        use_index(job)
        return
    document["index-progress"].value = (job.progress or {}).get("fraction", 0)
    document["index-message"].text = (
        "rebuild due" if job.status == "pending" else
        ((job.progress or {}).get("message") or job.status))


async def rebuild_if_stale():
    """On load: use the newest index; if it is missing or older than the lessons (and no
    rebuild is on its way), enqueue one, deduplicated by key across tabs."""
    newest, _ = await jobs.page(name=REBUILD, limit=1)
    done, _ = await jobs.page("completed", name=REBUILD, limit=1)
    if done:
        use_index(done[0])
    if newest and newest[0].status in ("pending", "processing"):
        index_progress(newest[0])
        return
    payload = rebuild_payload("the index was stale on load")
    if done and done[0].result.get("fingerprint") == payload["fingerprint"]:
        document["index-message"].text = "up to date"
        document["index-progress"].value = 1
        return
    await jobs.enqueue(REBUILD, payload, key=REBUILD)


def show_leader(is_leader):
    badge = document["leader"]
    badge.text = "this tab is the leader: it runs the jobs" if is_leader else \
        "this tab follows: another tab runs the jobs"
    badge.attrs["class"] = "yes" if is_leader else "no"


def enqueue_button(button_id, name, payload):
    def clicked(ev):
        async def go():
            try:
                await jobs.enqueue(name, payload)
            except Exception as exc:
                window.console.warn(f"demo: enqueue {name} failed: {exc}")
        aio.run(go())
    document[button_id].bind("click", clicked)


async def main():
    for event in ("enqueued", "started", "progress", "completed", "failed", "cancelled",
                  "retrying"):
        jobs.on(event, index_progress)
    jobs.on("leader", show_leader)
    await jobs.start()
    document["add-form"].bind("submit", add_lesson)
    document["lesson-title"].bind("input", show_suggestions)
    document["lesson-notes"].bind("input", show_suggestions)
    enqueue_button("enqueue-hello", "say-hello", {"who": "world"})
    enqueue_button("enqueue-flaky", "flaky", None)
    enqueue_button("enqueue-fail", "always-fails", None)
    enqueue_button("enqueue-slow", "slow", None)
    show_leader(jobs.is_leader)
    render_lessons()
    Inspector(jobs, page_size=10).mount(document["inspector"])
    await jobs.every("tidy-lessons", 600)
    await rebuild_if_stale()
    window.demoReady = True

aio.run(main())
