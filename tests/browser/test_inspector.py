"""The in-page inspector (brython_jobs/inspector.py) in real tabs: it lists, pages,
filters and acts on jobs across two tabs, shows hostile data as text only, and the
standalone page never leads. Pages: tests/pages/inspector_tab.html, www/inspector.html."""

import json
import re


from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from harness import Tab, wait_for


def open_tab(tabs, queue_name, lead=True, **mount):
    """A tab of the queue with the inspector mounted (``lead=False``: never leads)."""
    tab = tabs.open("/tests/pages/inspector_tab.html", queue=queue_name,
                    lead=None if lead else False)
    if lead:
        wait_for(lambda: tab.call("leader_info")["role"] == "leader", timeout=15,
                 message="the tab never became leader")
    tab.call("page.mount", **mount)
    return tab


def rows(tab):
    """The job rows shown: [id, status, name], top to bottom."""
    return tab.js("""return [...document.querySelectorAll('#inspector tr.bji-job')]
        .map(r => [r.dataset.id, r.dataset.status, r.dataset.name])""")


def row_ids(tab):
    return [r[0] for r in rows(tab)]


def button(tab, text, scope):
    for node in tab.driver.find_elements(By.CSS_SELECTOR, scope + " button"):
        if node.text == text:
            return node
    return None


def click(tab, text, within="#inspector", row=None, key=None):
    """Click the button labelled ``text`` (in the row of job ``row`` if given), or press
    ``key`` on it. A render may replace the button between finding and clicking it:
    then find it again.

    The click is the button's own ``click()``, not WebDriver's pointer click: WebDriver
    clicks at the element's position, and the inspector re-renders on every event, so a
    line that rewraps above the table (the heartbeat's age, a note) or a row that goes
    can move the button between locating and clicking. In WebKit such a click once hit
    nothing ("resume did not reach", the note still showing the previous action)."""
    tab.switch()
    scope = f'#inspector tr[data-id="{row}"]' if row else within

    def attempt():
        try:
            node = button(tab, text, scope)
            if node is None:
                return False
            if key is None:
                tab.driver.execute_script("arguments[0].click()", node)
            else:
                node.send_keys(key)
        except StaleElementReferenceException:
            return False
        return True
    wait_for(attempt, timeout=10, message=f"no button {text!r} in {scope}")


def choose_queue(tab, text):
    """Pick ``text`` in the inspector's queue menu."""
    def attempt():
        try:
            Select(tab.driver.find_element(By.CSS_SELECTOR, "#inspector select")
                   ).select_by_visible_text(text)
        except StaleElementReferenceException:
            return False
        return True
    tab.switch()
    wait_for(attempt, timeout=10)


def type_into(tab, label, text):
    """Replace the text of the inspector's input labelled ``label``, key by key (as a
    user does, so each key fires an input event)."""
    tab.switch()
    box = tab.driver.find_element(By.CSS_SELECTOR, f"#inspector input[aria-label='{label}']")
    box.send_keys(Keys.CONTROL + "a")  # select all, then type over it (or delete it)
    box.send_keys(text or Keys.BACKSPACE)


def shown(tab, ids, message=None):
    """Wait until the rows shown are exactly ``ids``, in order."""
    return wait_for(lambda: row_ids(tab) == ids, timeout=10,
                    message=message or (lambda: f"rows {row_ids(tab)} != {ids}"))


def status_of(tab, job_id):
    for r in rows(tab):
        if r[0] == job_id:
            return r[1]
    return None


def test_the_inspector_lists_pages_filters_and_acts_across_two_tabs(tabs, queue_name):
    """Given a leader tab and a watching tab (never leader), both showing the inspector,
    with 23 delayed jobs in queue bulk and one failed job in queue work,
    When the watching tab pages, filters, searches and acts on jobs,
    Then its lists are newest first and paged by 10, and every action reaches the stored
    jobs, so the leader tab's inspector shows the change live."""
    leader = open_tab(tabs, queue_name, page_size=10)
    leader.call("enqueue_many", [{"name": "echo", "payload": {"i": i}, "queue": "bulk",
                                  "delay": 3600} for i in range(23)])
    failed = leader.call("enqueue", "fail", {"why": "test"}, queue="work")
    assert leader.call("wait", failed["id"], timeout=10)["status"] == "failed"
    watcher = open_tab(tabs, queue_name, lead=False, page_size=10)
    newest = [job["id"] for job in reversed(leader.call("list", limit=None))]
    assert newest[0] == failed["id"] and len(newest) == 24

    # pages of 10, newest first; "Older" is reached from the keyboard
    shown(watcher, newest[:10])
    click(watcher, "Older ›", key=Keys.ENTER)
    shown(watcher, newest[10:20])
    click(watcher, "Older ›")
    shown(watcher, newest[20:])
    assert "Older ›" not in watcher.js("return document.querySelector('.bji-pager').textContent")
    click(watcher, "‹ Newer")
    shown(watcher, newest[10:20])

    # filters: status, queue, name; search by id prefix
    click(watcher, "failed")
    shown(watcher, [failed["id"]])
    click(watcher, "pending")
    choose_queue(watcher, "bulk")
    shown(watcher, newest[1:11])
    click(watcher, "all")
    choose_queue(watcher, "all queues")
    type_into(watcher, "filter by job name", "fail")
    shown(watcher, [failed["id"]])
    type_into(watcher, "filter by job name", "")
    type_into(watcher, "search by id or key", newest[5][:30])
    shown(watcher, [newest[5]])
    type_into(watcher, "search by id or key", "")
    shown(watcher, newest[:10])

    # acts: cancel, run now, redrive all failed of a queue, delete, pause
    victim, runner = newest[1], newest[2]
    click(watcher, "Cancel", row=victim)
    wait_for(lambda: status_of(leader, victim) == "cancelled", timeout=10,
             message="the leader's inspector never showed the cancel")
    click(watcher, "Run now", row=runner)
    wait_for(lambda: status_of(leader, runner) == "completed"
             and status_of(watcher, runner) == "completed", timeout=10,
             message="the promoted job did not run and show as completed in both tabs")
    assert leader.call("get", runner)["result"] == {"i": 21}
    started = len([e for e in leader.events() if e["event"] == "started"
                   and e["data"]["id"] == failed["id"]])
    click(watcher, "Redrive failed", within="#inspector tr[data-queue='work']")
    wait_for(lambda: len([e for e in leader.events() if e["event"] == "started"
                          and e["data"]["id"] == failed["id"]]) == started + 1, timeout=10,
             message="redrive all failed of queue work did not rerun the failed job")
    click(watcher, "Delete", row=runner)
    wait_for(lambda: runner not in row_ids(watcher) and runner not in row_ids(leader),
             timeout=10, message="the deleted job is still listed")
    assert leader.call("get", runner) is None
    click(watcher, "Pause", within="#inspector tr[data-queue='bulk']")
    for tab in (watcher, leader):
        wait_for(lambda tab=tab: tab.js("return document.querySelector("
                                        "\"#inspector tr[data-queue='bulk'] .paused\") !== null"),
                 timeout=10, message="bulk is not marked paused in both tabs")
    assert leader.call("paused") == ["bulk"]
    # every control of the inspector is a real, keyboard reachable control
    assert watcher.js("""return [...document.querySelectorAll('#inspector [data-focus]')]
        .every(n => n.tagName === 'BUTTON')""")


HOSTILE = {
    "img": "<img src=x onerror=\"window.bjPwned = 'img'\">",
    "script": "</script><script>window.bjPwned = 'script'</script>",
    "svg": "<svg onload=\"window.bjPwned = 'svg'\"></svg>",
}


def test_hostile_payloads_names_and_errors_are_shown_as_text_and_run_nothing(tabs, queue_name):
    """Given jobs whose payload, result, error message, name and queue hold HTML that
    would set window.bjPwned if it were parsed, When the inspector lists them and opens
    each one's detail, Then the text appears literally, no element of it exists and
    window.bjPwned stays unset; a long value is cut with a "show all" button."""
    tab = open_tab(tabs, queue_name, text_limit=600)
    echo = tab.call("enqueue", "echo", HOSTILE)
    fail = tab.call("enqueue", "fail", HOSTILE["img"])
    odd = tab.call("enqueue", HOSTILE["svg"], {"x": 1}, queue=HOSTILE["img"])
    big = tab.call("enqueue", "echo", {"big": "x" * 5000})
    for job in (echo, fail, odd, big):
        tab.call("wait", job["id"], timeout=10)
    assert tab.call("get", odd["id"])["error"]["code"] == "no_handler"

    texts = {}
    for job in (echo, fail, odd):
        click(tab, job["id"][:13], row=job["id"])
        wait_for(lambda job=job: tab.js(
            "const d = document.querySelector('.bji-detail');"
            "return d !== null && d.textContent.includes(arguments[0])", job["id"]), timeout=10)
        texts[job["id"]] = tab.js("return document.querySelector('.bji-detail').textContent")

    # a long value: cut, with a button that shows all of it (and some time passes, in
    # which an injected handler would have run)
    click(tab, big["id"][:13], row=big["id"])
    wait_for(lambda: "show all (5,010 characters)" in tab.js(
        "return document.querySelector('.bji-detail').textContent"), timeout=10)
    first = tab.js("return document.querySelector('.bji-detail pre').textContent")
    assert len(first) == 600
    click(tab, "show all (5,010 characters)", within=".bji-detail")
    wait_for(lambda: len(tab.js("return document.querySelector('.bji-detail pre').textContent"))
             == 5010, timeout=10, message="show all did not show the whole payload")

    assert tab.js("return typeof window.bjPwned") == "undefined"
    assert tab.js("""return document.querySelectorAll(
        '#inspector img, #inspector script, #inspector svg[onload], #inspector [onerror]'
        ).length""") == 0
    assert json.dumps(HOSTILE, separators=(",", ":")) in texts[echo["id"]]  # payload, result
    assert "ValueError: always fails: " + HOSTILE["img"] in texts[fail["id"]]
    assert HOSTILE["svg"] in texts[odd["id"]] and HOSTILE["img"] in texts[odd["id"]]


def test_jobqueue_does_not_load_the_inspector(tabs, queue_name):
    """Given a page that imports JobQueue and starts it, Then brython_jobs.inspector is
    not loaded until the page itself imports it."""
    tab = tabs.open("/tests/pages/inspector_tab.html", queue=queue_name)
    assert tab.call("page.loaded_before_mount") is False


def test_the_standalone_page_watches_without_leading(tabs, queue_name):
    """Given the app's tab leading a queue and www/inspector.html?queue=NAME open,
    When the app's tab closes while a job is due in a moment,
    Then the standalone page shows the queue's jobs but never takes the lead (so never
    fails a job for lack of a handler): the next app tab leads and runs the job."""
    app = open_tab(tabs, queue_name)
    done = app.call("enqueue", "echo", {"n": 1})
    app.call("wait", done["id"], timeout=10)
    # retries=1: on a loaded machine the job may come due and start in the app's tab just
    # as it closes; that attempt is interrupted and the successor reruns it. A job failed
    # for lack of a handler (the standalone page leading) fails at once, retries or not.
    later = app.call("enqueue", "echo", {"n": 2}, delay=1.5, retries=1)

    tabs.driver.switch_to.new_window("tab")
    page = Tab(tabs, tabs.driver.current_window_handle,
               f"{tabs.base_url}/www/inspector.html?queue={queue_name}")
    tabs.opened.append(page)
    tabs.driver.get(page.url)
    wait_for(lambda: page.js("""return [...document.querySelectorAll('tr.bji-job')]
        .map(r => r.dataset.id).join(' ')""") == f"{later['id']} {done['id']}", timeout=30,
        message="the standalone page never listed the queue's jobs")
    assert "follower" in page.js("return document.querySelector('.bji-leader').textContent")

    app.close()
    successor = open_tab(tabs, queue_name)
    assert successor.call("wait", later["id"], timeout=10)["status"] == "completed"
    wait_for(lambda: page.js("""return document.querySelector(
        'tr.bji-job[data-id="' + arguments[0] + '"]')?.dataset.status""", later["id"])
        == "completed", timeout=10, message="the standalone page did not see the run")


def test_the_paging_contract_holds_for_indexeddb(tabs):
    """Given the paging contract (also run against MemoryStore under CPython), When it
    runs in the page against the IndexedDB store, Then every check passes."""
    tab = tabs.open("/tests/pages/contract.html", suite="paging")
    raw = wait_for(lambda: tab.js("return window.bjContract || null"), timeout=60)
    summary = json.loads(raw)
    assert "error" not in summary, summary.get("error")
    assert summary["failed"] == [], [r for r in summary["results"] if not r["ok"]]
    assert summary["passed"] == 9


def text_of(tab, css):
    return tab.js("const n = document.querySelector(arguments[0]);"
                  "return n === null ? null : n.textContent", css)


def test_schedules_bursts_progress_clean_and_resume_from_another_tab(tabs, queue_name):
    """Given a leader tab with a recurring schedule, a debounced burst waiting, a slow job
    reporting progress and completed jobs, and a watching tab showing the inspector,
    When the watching tab looks and acts,
    Then it shows the schedule (interval, next due, last run), the burst (first and last
    call, due), the running job's progress bar; Unschedule, Clean and Resume there change
    what the leader tab reads."""
    leader = open_tab(tabs, queue_name)
    for i in range(3):
        leader.call("wait", leader.call("enqueue", "echo", {"i": i})["id"], timeout=10)
    leader.call("every", "echo", 3600, {"hourly": True}, key="hourly")
    wait_for(lambda: leader.call("schedules")[0]["last_run"] is not None, timeout=10)
    leader.call("page.debounce", "echo", 60, {"burst": 1})
    wait_for(lambda: leader.call("bursts"), timeout=10)
    leader.call("page.debounce", "echo", 60, {"burst": 2})
    slow = leader.call("enqueue", "slow", {"step": 2.5}, queue="slow")  # runs 10 s
    leader.call("pause", "mail")
    watcher = open_tab(tabs, queue_name, lead=False)

    # the schedule and the burst
    wait_for(lambda: text_of(watcher, "tr.bji-schedule[data-key='hourly']"), timeout=10)
    row = text_of(watcher, "tr.bji-schedule[data-key='hourly']")
    assert "60 min" in row and "in 59 min" in row and "completed" in row, row
    wait_for(lambda: text_of(watcher, "tr.bji-burst[data-key='echo']"), timeout=10)
    burst = text_of(watcher, "tr.bji-burst[data-key='echo']")
    assert "debounce" in burst and re.search(r"in 5\d s", burst), burst  # due: 60 s wait
    (data,) = watcher.call("bursts")
    assert data["first_call"] < data["last_call"] and data["due"] == data["last_call"] + 60

    # the running job's progress, in its detail
    click(watcher, slow["id"][:13], row=slow["id"])
    fraction = wait_for(lambda: watcher.js(
        "const b = document.querySelector('.bji-detail [role=progressbar]');"
        "return b && Number(b.getAttribute('aria-valuenow'))"), timeout=15,
        message="no progress bar in the running job's detail")
    assert 25 <= fraction <= 100
    assert "step " in text_of(watcher, ".bji-detail")

    # unschedule, clean, resume
    click(watcher, "Unschedule", row=None, within="tr.bji-schedule[data-key='hourly']")
    wait_for(lambda: leader.call("schedules") == [], timeout=10,
             message="unschedule did not remove the schedule")
    completed = leader.call("counts")["completed"]
    assert completed >= 4
    watcher.switch()
    Select(watcher.driver.find_element(
        By.CSS_SELECTOR, "#inspector select[aria-label='status to clean']")
    ).select_by_visible_text("completed")
    type_into(watcher, "older than (minutes)", "0")
    click(watcher, "Clean")
    wait_for(lambda: "deleted" in (text_of(watcher, ".bji .note") or ""), timeout=10)
    assert text_of(watcher, ".bji .note") == \
        f"deleted {completed} completed job(s) older than 0 min"
    assert leader.call("counts")["completed"] == 0
    wait_for(lambda: watcher.js(
        "return document.querySelector(\"tr[data-queue='mail'] .paused\") !== null"),
        timeout=10, message="a paused queue without jobs is not listed as paused")
    click(watcher, "Resume", within="tr[data-queue='mail']")
    wait_for(lambda: leader.call("paused") == [], timeout=10,
             message=lambda: "resume did not reach; the watcher says "
             f"{text_of(watcher, '.bji .note')!r}")
