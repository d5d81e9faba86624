"""The demo page (README command 1) works as its users would use it."""

from selenium.webdriver.common.by import By

from harness import wait_for


def open_demo(tabs):
    tab = tabs.open_page("/www/index.html")
    wait_for(lambda: tab.js("return window.demoReady === true"), timeout=30,
             message="the demo never became ready")
    return tab


def rebuild_rows(tab):
    return tab.js("""return [...document.querySelectorAll('tr.job')]
        .filter(r => r.textContent.includes('rebuild-embeddings'))
        .map(r => [r.id, r.querySelector('.status').textContent])""")


def test_a_burst_of_calendar_edits_rebuilds_the_index_once_in_a_worker(tabs):
    """Given the demo open in two tabs, When three lessons are renamed in quick
    succession in one tab, Then one rebuild job runs (in the leader's worker), completes,
    and both tabs show the rebuilt index."""
    first = open_demo(tabs)
    second = open_demo(tabs)
    before = {row[0] for row in rebuild_rows(first)}

    first.switch()
    for i in range(3):
        tabs.driver.find_elements(By.CSS_SELECTOR, "button.rename")[i].click()

    def new_rows():
        return [row for row in rebuild_rows(second) if row[0] not in before]
    rows = wait_for(lambda: [r for r in new_rows() if r[1] == "completed"] and new_rows(),
                    timeout=30, message="no rebuild completed")
    assert len(rows) == 1
    for tab in (first, second):
        status = wait_for(lambda: "built in a worker" in tab.js(
            "return document.getElementById('index-status').textContent") and tab.js(
            "return document.getElementById('index-status').textContent"))
        assert "renamed a lesson" in status
