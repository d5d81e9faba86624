"""brython_jobs: a durable background job queue that runs inside the browser.

In the browser (Brython): ``from brython_jobs import JobQueue``. Under CPython only the
pure core is importable (``brython_jobs.engine``, ``brython_jobs.memory_store``, ...),
which is what the package's unit tests and ``brython-cli add_package`` need.
"""

from .records import Job, STATUSES, ERROR_CODES  # noqa: F401
from .errors import (  # noqa: F401
    JobsError, StaleWrite, Fenced, StorageError, StorageFull, StorageUnavailable,
    WorkerError, WorkerCrashed, WorkerStopped,
)

import sys

if sys.platform == "brython":  # only in the browser; CPython gets the pure core
    import browser
    # First, before any coroutine of the package runs: Brython 3.15 can resume an await
    # in another coroutine's frame (await_fix.py says how, and what breaks).
    from . import await_fix
    await_fix.install()
    # A worker script imports brython_jobs.worker only: loading the page's facade there
    # would double the worker's start-up time for nothing.
    if not browser.is_webworker:
        from .jobqueue import JobQueue  # noqa: F401

__version__ = "0.1.0"
