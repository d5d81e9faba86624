"""Measure what each brython_jobs module costs to load in a real browser, cold and warm.

Drives tools/bench/modcost.html (+ modcost_page.py) in one engine:

* ``each``: the page imports the package's modules one by one in dependency order (each
  module's own dependencies first), so each figure is that module's compile plus
  top-level run; ``(stdlib)`` rows are Brython's modules the package needs.
* ``start``: what an ordinary page pays: ``from brython_jobs import JobQueue`` and
  ``await start()``, and the list of modules that loaded.

Each arm runs from static ``.py`` files and from the script-tag bundle(s) in
www/brython/ (built by tools/build.py). Cold = the first load in a fresh browser profile
(no HTTP cache, no Brython compile cache); warm = reloads of the same page (Brython keeps
the bundle's compiled modules in its IndexedDB cache "brython-cache"; static files are
compiled again on every load). Figures are medians in ms.

Usage: ``.venv/bin/python tools/modcost.py [--browser chromium] [--cold 3] [--warm 5]
[--json PATH]``. Asserts nothing: a measuring tool, not a test.
"""

import argparse
import ast
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
SRC = os.path.join(ROOT, "brython_jobs")
BRYTHON = os.path.join(ROOT, "www", "brython")
PAGE = "/tools/bench/modcost.html"
# Worker-only and CPython-only modules are not loaded by a page.
SKIP = ("__init__", "worker", "memory_store")

if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)
import browsers  # noqa: E402
import serve  # noqa: E402


def module_imports():
    """{module: (lines, [package modules it imports at its top level])}."""
    out = {}
    for name in sorted(os.listdir(SRC)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(SRC, name), encoding="utf-8") as f:
            text = f.read()
        deps = []
        for node in ast.parse(text).body:  # top level only: lazy imports are not paid
            if isinstance(node, ast.If):   # (sys.platform == "brython" blocks count)
                nodes = node.body
            else:
                nodes = [node]
            for n in nodes:
                if isinstance(n, ast.ImportFrom) and n.level:
                    deps.extend([n.module] if n.module else [a.name for a in n.names])
        out[name[:-3]] = (len(text.splitlines()), sorted(set(deps) - {"__init__"}))
    return out


def dependency_order(graph, skip=SKIP):
    """Modules with every dependency before its dependents (alphabetical otherwise)."""
    order, seen = [], set()

    def visit(name):
        if name in seen or name in skip or name not in graph:
            return
        seen.add(name)
        for dep in graph[name][1]:
            visit(dep)
        order.append(name)
    for name in sorted(graph):
        visit(name)
    return order


def bundles():
    """The script-tag bundles tools/build.py made, main bundle first."""
    names = sorted(n for n in os.listdir(BRYTHON) if n.startswith("brython_jobs")
                   and n.endswith(".brython.js"))
    names.sort(key=lambda n: n != "brython_jobs.brython.js")
    return ["/www/brython/" + n for n in names]


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def load(driver, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fatal, result = driver.execute_script(
            "return [window.modcostFatal || null, window.modcost || null];")
        if fatal:
            raise RuntimeError(f"page failed: {fatal}")
        if result:
            return json.loads(result)
        time.sleep(0.05)
    raise TimeoutError("the measurement page did not finish")


def run_arm(engine, base, query, cold, warm):
    """[(phase, result dict)] of ``cold`` fresh browsers with ``warm`` reloads each."""
    results = []
    for rep in range(cold):
        work = tempfile.mkdtemp(prefix="modcost-")
        session = browsers.start(engine, work, script_timeout=120, page_load_timeout=120)
        try:
            driver = session.driver
            driver.get(base + "/tests/pages/blank.html")
            time.sleep(0.5)  # let the fresh browser settle
            driver.get(base + PAGE + query + f"&queue=mc{rep}")
            results.append(("cold", load(driver)))
            for _ in range(warm):
                driver.refresh()
                results.append(("warm", load(driver)))
        finally:
            session.quit()
            shutil.rmtree(work, ignore_errors=True)
    return results


def summarize(results):
    """{phase: {row name: median ms}} plus the totals."""
    out = {}
    for phase in ("cold", "warm"):
        rows = {}
        for ph, res in results:
            if ph != phase:
                continue
            for name, ms in res["rows"]:
                rows.setdefault(name, []).append(ms)
            for key in ("import_ms", "start_ms", "nav_to_start_ms", "script_ms"):
                rows.setdefault("=" + key, []).append(res.get(key))
        out[phase] = {k: median(v) for k, v in rows.items()}
    return out


def fmt(value):
    return "-" if value is None else f"{value:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--browser", default="chromium", choices=browsers.ENGINES)
    parser.add_argument("--cold", type=int, default=3, help="fresh browsers per arm")
    parser.add_argument("--warm", type=int, default=5, help="reloads per fresh browser")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results")
    args = parser.parse_args(argv)
    graph = module_imports()
    order = dependency_order(graph)
    mods = ",".join(order)
    bundle = ",".join(bundles())
    server, thread, port = serve.start_server(ROOT, port=0)
    base = f"http://127.0.0.1:{port}"
    raw = {}
    try:
        arms = (("static each", f"?mode=each&mods={mods}"),
                ("bundle each", f"?mode=each&mods={mods}&bundle={bundle}"),
                ("static start", "?mode=start"),
                ("bundle start", f"?mode=start&bundle={bundle}"))
        for label, query in arms:
            print(f"[modcost] {args.browser}: {label}", file=sys.stderr, flush=True)
            raw[label] = run_arm(args.browser, base, query, args.cold, args.warm)
    finally:
        server.shutdown()
        server.server_close()
    each = {k: summarize(raw[k]) for k in ("static each", "bundle each")}
    start = {k: summarize(raw[k]) for k in ("static start", "bundle start")}
    print(f"\nper-module load cost, {args.browser}, ms (median of {args.cold} cold, "
          f"{args.cold * args.warm} warm); bundle(s): {bundle}")
    print(f"{'module':28} {'lines':>5} {'static cold':>11} {'static warm':>11} "
          f"{'bundle cold':>11} {'bundle warm':>11}")
    names = [n for n, _ in raw["static each"][0][1]["rows"]]
    totals = [0.0, 0.0, 0.0, 0.0]
    for name in names:
        lines = graph.get(name, (None,))[0]
        cells = [each["static each"]["cold"].get(name), each["static each"]["warm"].get(name),
                 each["bundle each"]["cold"].get(name), each["bundle each"]["warm"].get(name)]
        totals = [t + (c or 0) for t, c in zip(totals, cells)]
        print(f"{name:28} {lines if lines else '':>5} "
              + " ".join(f"{fmt(c):>11}" for c in cells))
    print(f"{'(sum of rows)':28} {'':>5} " + " ".join(f"{fmt(t):>11}" for t in totals))
    for key, label in (("=import_ms", "then: from brython_jobs import JobQueue"),
                       ("=start_ms", "then: await start()")):
        cells = [each["static each"]["cold"].get(key), each["static each"]["warm"].get(key),
                 each["bundle each"]["cold"].get(key), each["bundle each"]["warm"].get(key)]
        print(f"{label:34} " + " ".join(f"{fmt(c):>11}" for c in cells))
    print(f"\nan ordinary page (from brython_jobs import JobQueue; await start()), ms")
    print(f"{'arm':14} {'phase':5} {'script ran':>10} {'import':>8} {'start()':>8} "
          f"{'nav->start':>10}")
    for arm in ("static start", "bundle start"):
        for phase in ("cold", "warm"):
            s = start[arm][phase]
            print(f"{arm:14} {phase:5} {fmt(s.get('=script_ms')):>10} "
                  f"{fmt(s.get('=import_ms')):>8} {fmt(s.get('=start_ms')):>8} "
                  f"{fmt(s.get('=nav_to_start_ms')):>10}")
    print("modules loaded by start(): " + ", ".join(raw["bundle start"][0][1]["loaded"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"browser": args.browser, "order": order, "raw": raw}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
