"""The demo page (README command 1) works as its users would use it."""

from selenium.webdriver.common.by import By

from harness import Tab, wait_for


def open_demo(tabs):
    tabs.driver.switch_to.new_window("tab")
    tab = Tab(tabs, tabs.driver.current_window_handle, tabs.base_url + "/www/index.html")
    tabs.opened.append(tab)
    tabs.driver.get(tab.url)
    wait_for(lambda: tab.js("return window.demoReady === true"), timeout=30,
             message="the demo never became ready")
    return tab


def rebuilds(tab):
    """The rebuild jobs the demo's inspector lists: [id, status], newest first."""
    return tab.js("""return [...document.querySelectorAll('tr.bji-job')]
        .filter(r => r.dataset.name === 'rebuild-embeddings')
        .map(r => [r.dataset.id, r.dataset.status])""")


def index_status(tab):
    return tab.js("return document.getElementById('index-status').textContent")


def index_job(tab):
    return tab.js("return document.getElementById('index-status').dataset.job || null")


def suggestions(tab, text):
    """Type ``text`` as a new lesson's title; the suggestions shown."""
    tab.switch()
    box = tab.driver.find_element(By.ID, "lesson-title")
    box.clear()
    box.send_keys(text)
    return tab.js("""return [...document.querySelectorAll('#suggestions li')]
        .map(li => li.textContent)""")


def test_a_burst_of_calendar_edits_rebuilds_the_index_once_in_a_worker(tabs):
    """Given the demo open in two tabs (the first load finds no index and rebuilds it
    once, deduplicated by key), When three lessons are renamed in quick succession in
    one tab, Then one rebuild job runs in the leader's worker and completes, both tabs
    use the new index, and typing in the other tab suggests the renamed lessons (which
    only the new index knows) with when such lessons are usually planned."""
    first = open_demo(tabs)
    second = open_demo(tabs)
    wait_for(lambda: "built in a worker" in index_status(first)
             and index_job(second) == index_job(first), timeout=30,
             message=lambda: f"no index on load: {index_status(first)!r}")
    assert "stale on load" in index_status(first)
    wait_for(lambda: [r[1] for r in rebuilds(second)] == ["completed"], timeout=10,
             message=lambda: f"one rebuild on load expected: {rebuilds(second)}")
    old_index = index_job(first)
    assert not [s for s in suggestions(second, "revised") if "(revised)" in s]

    first.switch()
    for i in range(3):
        tabs.driver.find_elements(By.CSS_SELECTOR, "button.rename")[i].click()

    def new_rebuilds():
        return [r for r in rebuilds(second) if r[0] != old_index]
    done = wait_for(lambda: [r for r in new_rebuilds() if r[1] == "completed"] and new_rebuilds(),
                    timeout=30, message=lambda: f"no rebuild completed: {rebuilds(second)}")
    assert len(done) == 1
    for tab in (first, second):
        wait_for(lambda tab=tab: index_job(tab) == done[0][0], timeout=10,
                 message="a tab did not switch to the new index")
        assert "built in a worker" in index_status(tab) and "renamed a lesson" in index_status(tab)

    shown = wait_for(lambda: suggestions(second, "revised"), timeout=10)
    revised = [s for s in shown if "(revised)" in s]
    assert len(revised) == 3 and shown[:3] == revised, shown
    assert shown[-1].startswith("usually planned on ") and "of 3 similar lessons" in shown[-1]
