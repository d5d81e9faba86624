"""Make docs/inspector.png: the standalone inspector over the demo's queue, from a real
headless run (so the README's picture can be refreshed after a change).

It serves the repository on 127.0.0.1, opens the demo (www/index.html) in headless
Chromium, waits for its index to be built in the worker, clicks the demo's buttons (jobs
that succeed, fail, retry and report progress), renames a lesson (a debounced burst),
opens www/inspector.html?queue=planner in a second tab, shows the failed job's detail
and saves a full-page PNG.

Usage: ``.venv/bin/python tools/screenshot.py [--out docs/inspector.png] [--width 1180]``
(after tools/bootstrap.sh).
"""

import argparse
import base64
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

import harness  # noqa: E402  (the test suite's browser and server helpers)
from selenium.webdriver.common.by import By  # noqa: E402


def rows(driver):
    return driver.execute_script("""return [...document.querySelectorAll('tr.bji-job')]
        .map(r => [r.dataset.id, r.dataset.name, r.dataset.status])""")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "inspector.png"))
    parser.add_argument("--width", type=int, default=1180)
    args = parser.parse_args(argv)

    serve = harness.load_serve_module()
    httpd, thread, port = serve.start_server(ROOT, 0)
    base = f"http://127.0.0.1:{port}"
    driver = harness.start_browser(tempfile.mkdtemp(prefix="bj-screenshot-"))
    wait = harness.wait_for
    try:
        driver.set_window_size(args.width, 900)
        driver.get(base + "/www/index.html")
        wait(lambda: driver.execute_script("return window.demoReady === true"), timeout=30,
             message="the demo never became ready")
        wait(lambda: "built in a worker" in driver.find_element(By.ID, "index-status").text,
             timeout=30, message="the demo's index was never built")
        for button_id in ("enqueue-hello", "enqueue-flaky", "enqueue-fail", "enqueue-hello",
                          "enqueue-slow"):
            driver.find_element(By.ID, button_id).click()
        wait(lambda: [r for r in rows(driver) if r[1] == "always-fails" and r[2] == "failed"]
             and [r for r in rows(driver) if r[1] == "slow" and r[2] == "processing"],
             timeout=30, message="the demo's jobs did not reach failed and processing")
        driver.find_elements(By.CSS_SELECTOR, "button.rename")[0].click()  # a pending burst
        demo = driver.current_window_handle

        driver.switch_to.new_window("tab")
        driver.set_window_size(args.width, 900)
        driver.get(base + "/www/inspector.html?queue=planner")
        wait(lambda: driver.execute_script(
            "return document.querySelector('tr.bji-burst') !== null"), timeout=30,
            message="the standalone inspector never showed the pending burst")
        failed = [r for r in rows(driver) if r[1] == "always-fails"][0][0]
        driver.find_element(By.CSS_SELECTOR, f'tr[data-id="{failed}"] button').click()
        wait(lambda: driver.execute_script(
            "return document.querySelector('.bji-detail pre') !== null"), timeout=10)
        driver.execute_script("document.activeElement.blur()")
        width, height = driver.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight]")
        # The whole page, not only the window: a DevTools capture beyond the viewport.
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        driver.switch_to.window(demo)
        print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes, {width}x{height})")
    finally:
        driver.quit()
        httpd.shutdown()
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
