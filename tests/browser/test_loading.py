"""Both ways of loading the package in a page work (the second checks tools/build.py's
bundles): static .py files found through ``pythonpath``, and the make_package bundles."""

import json
import os

import pytest

from harness import ROOT, wait_for

SMOKE = "/tests/pages/smoke.html"
BUNDLE = os.path.join(ROOT, "www", "brython", "brython_jobs.brython.js")


def precompiled():
    """True when tools/build.py appended the compiled modules (it needs Node.js)."""
    with open(BUNDLE, encoding="utf-8") as f:
        return "tools/precompile.js" in f.read()


def test_import_from_static_files(tabs):
    tab = tabs.open(SMOKE, module="brython_jobs")
    info = tab.js("return JSON.parse(window.bjModule)")
    assert info["file"].endswith("/brython_jobs/__init__.py")
    assert any(url.split("?")[0].endswith("/brython_jobs/__init__.py")
               for url in info["requests"])


def test_import_from_bundle_makes_no_requests(tabs):
    tab = tabs.open(SMOKE, module="brython_jobs", bundle=True)
    info = tab.js("return JSON.parse(window.bjModule)")
    assert info["name"] == "brython_jobs"
    assert info["requests"] == []  # every module came from the bundle


def test_the_main_bundle_leaves_the_inspector_to_its_own_bundle(tabs):
    # Given a page with the main bundle only, and one with the inspector's bundle too
    main = tabs.open(SMOKE, module="brython_jobs", bundle=True)
    both = tabs.open(SMOKE, module="brython_jobs.inspector", bundle="inspector")
    # Then the main bundle holds no inspector module ...
    names = main.js("return Object.keys(__BRYTHON__.VFS)"
                    ".filter(name => name.startsWith('brython_jobs'))")
    assert "brython_jobs.jobqueue" in names and "brython_jobs.workers" in names
    assert [name for name in names if name.startswith("brython_jobs.inspector")] == []
    # ... and with both bundles the inspector imports with no request for a .py file
    assert both.js("return 'brython_jobs.inspector' in __BRYTHON__.imported")
    assert both.js("return performance.getEntriesByType('resource')"
                   ".filter(e => /[.]py([?]|$)/.test(e.name)).map(e => e.name)") == []


def test_a_first_visit_compiles_no_module_of_the_bundle(tabs):
    """Given Brython's cache of compiled modules off (as on a first visit), When a page
    imports the package from the bundle and starts nothing else, Then Brython compiled
    none of the package's modules: the bundle carried them compiled (tools/precompile.js)
    for this very brython.js."""
    if not precompiled():
        pytest.skip("the bundle was built without Node.js: sources only")
    tab = tabs.open(SMOKE, module="brython_jobs", bundle=True, compiled=True)
    compiled = tab.js("return window.bjCompiled")
    assert tab.js("return JSON.parse(window.bjModule)")["name"] == "brython_jobs"
    assert compiled, "the hook saw no compile at all (not even the page's own script)"
    # (Brython names a bundle's module "VFS.<module>.py"; the page's own script is not one)
    assert [name for name in compiled if name.startswith("VFS.brython_jobs")] == [], compiled


def test_importing_the_package_fixes_brythons_await_frames(tabs):
    """Given coroutines whose awaits settle in the same microtask checkpoint (as two
    IndexedDB events of one task do; tests/pages/await_frames.html),
    When they run on Brython as shipped, and again after ``import brython_jobs``,
    Then as shipped at least one resumes in another coroutine's frame (a local bound in
    ``try`` unreadable, a bare ``raise`` without its exception), and after the import
    every scenario reads its own values (brython_jobs/await_fix.py)."""
    tab = tabs.open_page("/tests/pages/await_frames.html")
    raw = wait_for(lambda: tab.js("return window.bjFrames || null"), timeout=30,
                   message="the await scenarios never finished")
    report = json.loads(raw)
    assert "error" not in report, report
    assert report["state"] == "installed", report  # the Brython this project ships
    broken = {k: v for k, v in report["before"].items() if v != "ok"}
    assert broken, f"Brython as shipped no longer shows the bug: {report['before']}"
    seen = " ".join(broken.values())
    assert "UnboundLocalError" in seen and "No active exception to reraise" in seen, broken
    assert report["after"] == {name: "ok" for name in report["before"]}, report["after"]
