"""tools/serve.py's HTTP cache policy: the tests' default and the benchmark's ``cache``."""

import importlib.util
import os
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _serve_module():
    spec = importlib.util.spec_from_file_location(
        "bj_tools_serve_test", os.path.join(ROOT, "tools", "serve.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def site(tmp_path):
    (tmp_path / "page.py").write_text("x = 1\n", encoding="utf-8")
    runtime = tmp_path / "www" / "brython"
    runtime.mkdir(parents=True)
    (runtime / "brython.js").write_text("// runtime\n", encoding="utf-8")
    return str(tmp_path)


def _headers(site, cache, path):
    serve = _serve_module()
    server, thread, port = serve.start_server(site, 0, cache=cache)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as reply:
            return reply.status, reply.headers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_by_default_only_the_runtime_may_be_kept(site):
    """Given the default server, When a module and the runtime are fetched,
    Then the module is no-store (edits show on reload) and the runtime no-cache."""
    status, headers = _headers(site, False, "/page.py")
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "text/x-python; charset=utf-8"
    assert _headers(site, False, "/www/brython/brython.js")[1]["Cache-Control"] == "no-cache"


def test_with_cache_every_file_may_be_kept_and_revalidated(site):
    """Given a server started with cache=True, When a module is fetched,
    Then it is no-cache, so a reload revalidates it instead of downloading it again."""
    status, headers = _headers(site, True, "/page.py")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Last-Modified"]  # what the browser's revalidation asks about
