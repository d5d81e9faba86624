"""Both ways of loading the package in a page work (the second checks tools/build.py's
bundle): static .py files found through ``pythonpath``, and the make_package bundle."""

SMOKE = "/tests/pages/smoke.html"


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
