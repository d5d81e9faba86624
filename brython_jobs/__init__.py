"""brython_jobs: a durable background job queue that runs inside the browser.

In the browser (Brython): ``from brython_jobs import JobQueue``. Under CPython only the
pure core is importable (``brython_jobs.engine``, ``brython_jobs.memory_store``, ...),
which is what the package's unit tests and ``brython-cli add_package`` need.
"""

from .records import Job, STATUSES, ERROR_CODES  # noqa: F401
from .transitions import StaleWrite  # noqa: F401

import sys

if sys.platform == "brython":  # only in the browser; CPython gets the pure core
    from .jobqueue import JobQueue  # noqa: F401
    from .memory_store import MemoryStore  # noqa: F401

__version__ = "0.1.0"
