"""Selenium fixtures for the browser tests. See harness.py for the page protocol.

Cost model: one static server and ONE Chromium for the whole session (starting Chromium
takes about a second, a Brython page a few hundred ms), and a fresh tab per page. Tests
never share state through storage because every test gets its own ``queue_name``.

After each test its console output is checked: a Python traceback or a SEVERE "...Error"
line in any tab fails the test, with the lines in the report. ``tabs.allow_errors(...)``
lets through lines a test provokes on purpose.
"""

import importlib.util
import os
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    # "from harness import ..." in the test modules, whatever pytest's import mode.
    sys.path.insert(0, HERE)

import harness  # noqa: E402


def _build():
    """Bring www/brython/ up to date (a no-op taking milliseconds when nothing changed), so
    that running pytest directly after editing the package still tests the new code."""
    path = os.path.join(harness.ROOT, "tools", "build.py")
    spec = importlib.util.spec_from_file_location("bj_tools_build", path)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    if build.main([]) != 0:
        pytest.exit("tools/build.py failed (see above)", returncode=1)


@pytest.fixture(scope="session")
def server():
    """Base URL of a static server for the repository root, on 127.0.0.1."""
    _build()
    serve = harness.load_serve_module()
    httpd, thread, port = serve.start_server(harness.ROOT, 0)
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """The session's one headless Chromium (a selenium WebDriver)."""
    for path in (harness.CHROMIUM, harness.CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.exit(f"{path} is missing: run tools/bootstrap.sh", returncode=1)
    driver = harness.start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def base_window(browser):
    """The blank window Chromium starts with; it stays open for the whole session, so
    closing a test's last tab never ends the browser."""
    return browser.current_window_handle


@pytest.fixture
def queue_name(request):
    """A queue name no other test uses: t_<test name>_<8 hex>."""
    return f"t_{harness.sanitize(request.node.name)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tabs(browser, server, base_window):
    """Factory of tabs for this test: ``tabs.open(path="/tests/pages/tab.html", **params)``."""
    factory = harness.Tabs(browser, server, base_window)
    factory.park()
    factory.drain_log()  # whatever earlier tests left in the log is not this test's fault
    yield factory
    # Errors of the test body were checked by pytest_runtest_call below; what remains
    # here comes from closing the tabs (pagehide handlers and the like).
    leftover = factory.collect_errors()
    factory.close_all()
    leftover += [harness.format_entry(e) for e in factory.drain_log()
                 if harness.is_fatal(e) and factory.reportable(e["message"])]
    if leftover:
        pytest.fail("errors in the page console while closing the tabs:\n"
                    + "\n".join(leftover), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a passing browser test whose pages logged errors; attach them to a failing one.

    Checked here, right after the test body, rather than in the fixture's teardown: a
    failure there would be reported as an error of the teardown, not of the test.
    """
    try:
        result = yield
    except BaseException:
        tabs = item.funcargs.get("tabs") if hasattr(item, "funcargs") else None
        if tabs is not None:
            try:
                errors = tabs.collect_errors()
            except Exception as exc:  # the browser may be what broke
                errors = [f"(could not collect the console: {exc!r})"]
            if errors:
                item.add_report_section("call", "page console errors", "\n".join(errors))
        raise
    tabs = item.funcargs.get("tabs") if hasattr(item, "funcargs") else None
    if tabs is not None:
        errors = tabs.collect_errors()
        if errors:
            pytest.fail("errors in the page console:\n" + "\n".join(errors), pytrace=False)
    return result
