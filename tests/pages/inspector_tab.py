"""A test tab with the inspector: one JobQueue with a few handlers, driven from Selenium
through ``bjCall`` (driver.py); ``page.mount`` shows the inspector in ``#inspector``.

URL parameters: ``queue`` (the queue name) and ``lead=0`` (only watch and control: the
tab never becomes leader, as the standalone inspector page does).
"""

import sys

from browser import document, window, aio

from brython_jobs import JobQueue

import driver

params = window.URLSearchParams.new(window.location.search)
QUEUE = params.get("queue") or "test"
LEAD = params.get("lead") != "0"

jobs = JobQueue(QUEUE, retries=0, backoff=0)
if not LEAD:
    _start = jobs.start

    async def observe():
        await _start(lead=False)
    jobs.start = observe  # driver.install calls jobs.start()


@jobs.handler("echo")
def echo(job):
    return job.payload


@jobs.handler("fail")
def fail(job):
    raise ValueError("always fails: " + str(job.payload))


@jobs.handler("slow")
async def slow(job):
    for i in range(4):
        await aio.sleep(job.payload.get("step", 0.2))
        await job.update_progress((i + 1) / 4, f"step {i + 1} of 4")
    return {"steps": 4}


state = {"inspector": None, "loaded_before": "brython_jobs.inspector" in sys.modules}


async def page_mount(page_size=25, text_limit=600):
    """Mount the inspector (importing it now) and wait for its first render."""
    from brython_jobs.inspector import Inspector
    insp = Inspector(jobs, page_size=page_size, text_limit=text_limit)
    state["inspector"] = insp
    insp.mount(document["inspector"])
    await insp.first_render
    return insp.renders


def page_renders():
    return state["inspector"].renders


def page_loaded_before_mount():
    """Was brython_jobs.inspector imported before page.mount (by JobQueue, say)?"""
    return state["loaded_before"]


triggers = {}


def page_debounce(name, wait, payload=None, max_wait=None):
    """Call a debounced trigger for ``name`` (made on first use), as page code does."""
    if name not in triggers:
        triggers[name] = jobs.debounced(name, wait=wait, max_wait=max_wait)
    triggers[name](payload)
    return True


driver.install(jobs, {"mount": page_mount, "renders": page_renders,
                      "loaded_before_mount": page_loaded_before_mount,
                      "debounce": page_debounce})
