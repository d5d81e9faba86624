"""Selenium fixtures for the browser tests. See harness.py for the page protocol.

Every browser test runs once per engine: ``--browser chromium|firefox|webkit`` (repeat
it for several; default: all three, or the comma list in the environment variable
``BROWSERS``). Tests that use no browser (tests/unit) run once whatever the engines.

Cost model: one static server for the session and ONE browser per engine, shared by all
of that engine's tests (``engine`` is a session-scoped parameter, so pytest runs every
test of one engine before starting the next browser; starting one takes 1-2 s, a Brython
page a few hundred ms), and a fresh tab or window per page. Tests never share state
through storage because every test gets its own ``queue_name``.

After each test its console output is checked: a Python traceback or a SEVERE "...Error"
line in any tab fails the test, with the lines in the report. ``tabs.allow_errors(...)``
lets through lines a test provokes on purpose.
"""

import importlib.util
import os
import re
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


def selected_engines(config):
    chosen = config.getoption("--browser")
    if not chosen:
        env = os.environ.get("BROWSERS", "").strip()
        chosen = [e.strip() for e in env.split(",") if e.strip()] if env \
            else list(harness.ENGINES)
    unknown = [e for e in chosen if e not in harness.ENGINES]
    if unknown:
        raise pytest.UsageError(f"unknown engine(s) {unknown} in --browser/BROWSERS; "
                                f"choose from {', '.join(harness.ENGINES)}")
    return list(dict.fromkeys(chosen))


def pytest_generate_tests(metafunc):
    # Every test that needs a browser (through tabs/browser/engine) runs once per engine.
    if "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", selected_engines(metafunc.config),
                             indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    # The fault tests (test_faults*.py, test_soak.py) drive a Chromium of their own (CDP:
    # crashes, quotas, freezing) whatever the engine list: they are Chromium tests. In a
    # run without Chromium (tools/test.sh runs one process per engine) they would only
    # repeat the Chromium process's run, on the same two cores: skip them, saying why.
    if "chromium" in selected_engines(config):
        return
    skip = pytest.mark.skip(reason="a Chromium test (a Chromium of its own, for CDP "
                                   "faults): it runs with --browser chromium")
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    for item in items:
        if str(item.path).startswith(here) and "engine" not in item.fixturenames:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def engine(request):
    """The name of the engine this test runs in (chromium, firefox or webkit)."""
    return request.param


@pytest.fixture(scope="session")
def browser(engine, tmp_path_factory):
    """The session's one browser of ``engine`` (a ``browsers.Session``; its Selenium
    WebDriver is ``browser.driver``)."""
    problems = harness.browsers.missing(engine)
    if problems:
        pytest.exit(f"{engine}: {', '.join(problems)} missing: run tools/bootstrap.sh",
                    returncode=1)
    session = harness.start_browser(engine, tmp_path_factory.mktemp(f"{engine}-browser"))
    yield session
    session.quit()


@pytest.fixture(scope="session")
def base_window(browser, server):
    """The window the browser starts with; it stays open for the whole session, so
    closing a test's last tab never ends the browser. It shows a blank page of the test
    server (no Brython): the harness reads the origin's localStorage there."""
    browser.driver.get(server + "/tests/pages/blank.html")
    return browser.driver.current_window_handle


@pytest.fixture
def queue_name(request):
    """A queue name no other test uses: t_<test name>_<8 hex>."""
    return f"t_{harness.sanitize(request.node.name)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tabs(browser, server, base_window):
    """Factory of tabs for this test: ``tabs.open(path="/tests/pages/tab.html", **params)``."""
    factory = harness.Tabs(browser, server, base_window)
    factory.park()
    # whatever earlier tests left in the log is not this test's fault
    factory.drain_log()
    factory.harvest_hidden()
    factory.messages, factory.errors = [], []
    yield factory
    # Errors of the test body were checked by pytest_runtest_call below; what remains
    # here comes from closing the tabs (pagehide handlers and the like).
    harness.close_and_check(factory)


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


def pytest_terminal_summary(terminalreporter):
    """One line per engine at the end: how its browser tests ended."""
    outcomes = {}  # nodeid -> outcome; a failed setup/teardown beats the call's pass
    rank = {"passed": 0, "xfailed": 1, "skipped": 1, "xpassed": 2, "failed": 3, "error": 3}
    for key in rank:
        for report in terminalreporter.stats.get(key, []):
            nodeid = getattr(report, "nodeid", "")
            if rank[key] >= rank.get(outcomes.get(nodeid), -1):
                outcomes[nodeid] = key
    per_engine = {}
    for nodeid, outcome in outcomes.items():
        match = re.search(r"\[(?:[^\]]*-)?(" + "|".join(harness.ENGINES) + r")(?:-[^\]]*)?\]$",
                          nodeid)
        if match:
            tally = per_engine.setdefault(match.group(1), {})
            tally[outcome] = tally.get(outcome, 0) + 1
    if per_engine:
        terminalreporter.section("browser tests per engine")
        for name in harness.ENGINES:
            if name in per_engine:
                tally = per_engine[name]
                terminalreporter.line(f"{name}: " + ", ".join(
                    f"{tally[k]} {k}" for k in rank if k in tally))
