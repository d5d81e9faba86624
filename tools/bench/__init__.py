"""The benchmark suite: brython_jobs against plain-JavaScript baselines, in one browser run.

Run it as ``python tools/bench.py [--quick] [--browser ENGINE ...] [--only ...] [--json
PATH]`` (tools/bench.py is the entry script; cli.py says what the options do).

The Python side (CPython, drives the browser through Selenium):

* ``cli``: options, one run per engine (server, bundle, browser, the groups), exit status
* ``core``: sizes (full and ``--quick``), statistics, logging, the tools it reuses
  (tools/serve.py, tools/build.py, tools/browsers.py)
* ``session``: the bundle (from tools/build.py), the server (tools/serve.py) and ``Browser``,
  the bench's view of one browser started by tools/browsers.py
* one module per group of figures: ``throughput``, ``latency``, ``failover``, ``pick``,
  ``idle``, ``triggers``, ``workers``, ``pagecost``, ``evidence`` (where the time goes)
* ``report``: the goals and their verdicts, the tables, the JSON

The browser side (served as it is): jobs.html + jobs_page.py (a tab running a JobQueue),
baseline.html + baseline.js (the plain-JS baselines and floors), common.js (shared by every
page), the page-cost pages (bare.html, start_static.html, start_bundle.html and their
scripts) and worker.html + bench_worker.py. inspector_bench.py is a script of its own.
"""
