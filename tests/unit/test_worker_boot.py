"""worker_boot.py, the pure part of the worker pool: what a worker loads, its import
path and options, its bootstrap code, and how worker-side errors read (CPython)."""

import json

from brython_jobs import errors
from brython_jobs.worker_boot import (BOOTSTRAP, bootstrap, file_name, is_webkit,
                                      remote_error, worker_options, worker_pythonpath,
                                      worker_scripts)

ORIGIN = "http://127.0.0.1:8000"
BR = ORIGIN + "/www/brython/"


def join(entry, base):
    """A stand-in for ``new URL(entry, base).href`` good enough for these paths."""
    return base + entry + ("/" if not entry.endswith("/") else "")


def test_worker_loads_the_core_once_then_libraries_and_bundles_in_page_order():
    # Given a page that loaded Brython, its library, two bundles and an unrelated script
    page = [BR + "brython.js", "/tests/pages/console_hook.js", BR + "brython_stdlib.js",
            BR + "brython_jobs.brython.js?v=2", BR + "brython_jobs_inspector.brython.js",
            BR + "brython.min.js"]
    # When the pool picks what a worker loads, with one extra script
    got = worker_scripts(page, BR, ["/extra.js"])
    # Then the first core comes first, then libraries and bundles in order, then extras
    assert got == [BR + "brython.js", BR + "brython_stdlib.js",
                   BR + "brython_jobs.brython.js?v=2",
                   BR + "brython_jobs_inspector.brython.js", "/extra.js"]


def test_a_page_without_brython_tags_gets_brythons_own_files():
    # Given a page whose Brython came from no script tag (nothing recognisable)
    got = worker_scripts(["/app.js"], BR)
    # Then the worker loads brython.js and the standard library from brython_path
    assert got == [BR + "brython.js", BR + "brython_stdlib.js"]


def test_file_name_ignores_query_and_fragment():
    assert file_name(BR + "brython.js?123#x") == "brython.js"


def test_pythonpath_is_made_absolute_with_the_script_and_page_folders_after_it():
    # Given the page's pythonpath entries: ".", a root path, a relative one, a full URL
    page_dir = ORIGIN + "/tests/pages/"
    script_dir = ORIGIN + "/www/"
    path = worker_pythonpath([".", "/", "lib", "https://cdn.example/py/"], ORIGIN,
                             page_dir, script_dir, join)
    # Then each is absolute, and the worker script's folder is added (the page's is
    # already there as ".")
    assert path == [page_dir, ORIGIN + "/", page_dir + "lib/", "https://cdn.example/py/",
                    script_dir]
    # And with no pythonpath at all, the script's folder then the page's
    assert worker_pythonpath(None, ORIGIN, page_dir, script_dir, join) == [
        script_dir, page_dir]


def test_webkit_workers_run_without_brythons_compile_cache():
    safari = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Safari/605.1.15")
    chrome = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0 Safari/537.36")
    assert is_webkit(safari) and not is_webkit(chrome)
    assert not is_webkit("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko Firefox/140.0")
    # Given the page's options, Then a WebKit worker gets indexeddb off, others keep them
    page = {"cache": True, "debug": 1}
    assert worker_options(page, ["/"], True) == {"cache": True, "debug": 1,
                                                 "pythonpath": ["/"], "indexeddb": False}
    assert worker_options(page, ["/"], False) == {"cache": True, "debug": 1,
                                                  "pythonpath": ["/"]}
    assert page == {"cache": True, "debug": 1}  # the page's dict is left alone


def test_bootstrap_fills_every_placeholder_with_json():
    # Given values with quotes, backticks and newlines (a worker source may hold any)
    values = {"PATH": BR, "SCRIPTS": [BR + "brython.js"], "PROTOCOL": 1, "DOMAIN": ORIGIN,
              "OPTIONS": {"pythonpath": ["/"]}, "SOURCE": 'print("a`b")\nx = 1\n',
              "URL": ORIGIN + "/w.py"}
    code = bootstrap(values, json.dumps)
    # Then no placeholder is left and each value appears JSON-encoded
    assert "@" not in code
    assert json.dumps(values["SOURCE"]) in code
    assert "importScripts.apply(self, " + json.dumps(values["SCRIPTS"]) + ")" in code
    assert BOOTSTRAP.startswith(code.split(json.dumps(BR))[0])  # the template's text kept


def test_remote_errors_are_jobs_errors_named_after_the_worker_side_type():
    # When a worker reports a ValueError, a bad type name, and a WorkerError
    exc = remote_error("ValueError", "bad input", ["w.py:3"])
    odd = remote_error("not a name!", 42)
    plain = remote_error("WorkerError", "x")
    # Then each is a WorkerError of the package's own tree (caught by JobsError),
    # named after the remote type, with its text and frames
    assert isinstance(exc, errors.WorkerError) and isinstance(exc, errors.JobsError)
    assert type(exc).__name__ == "ValueError" and str(exc) == "bad input"
    assert exc.remote_where == ["w.py:3"] and exc.remote_type == "ValueError"
    assert type(remote_error("ValueError", "again")) is type(exc)  # one class per name
    assert type(odd) is errors.WorkerError and str(odd) == "42"
    assert type(plain) is errors.WorkerError
