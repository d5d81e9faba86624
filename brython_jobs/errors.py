"""The package's own exceptions: one tree under ``JobsError`` (pure, no imports).

Page code can catch ``JobsError`` for anything brython_jobs itself raises. Bad input is
not part of this tree: it raises the built-in ``TypeError``/``ValueError`` (and unknown
ids ``KeyError``, waits ``TimeoutError``), as a Python developer expects.

    JobsError
      StaleWrite        a write about a job whose attempt is no longer the writer's
      Fenced            a write from a leader that another tab replaced
      StorageError      the store refused or failed an operation (``name``: the browser's
        StorageFull       error name, e.g. "QuotaExceededError"); StorageFull: no space
        StorageUnavailable  the store cannot be opened at all (blocked, private mode...)
      WorkerError       a web worker failed a job (workers.py)
        WorkerCrashed     the worker died or failed to load
        WorkerStopped     the worker was stopped (timeout, cancel, leadership lost)
"""


class JobsError(Exception):
    """Base class of every exception brython_jobs raises on its own account."""


class StaleWrite(JobsError):
    """The job is no longer what the writer believes (another attempt or leader owns it,
    it was cancelled, or it finished): the write is refused and nothing was written."""


class Fenced(JobsError):
    """This tab is no longer the leader: another tab took over. Nothing was written."""


class StorageError(JobsError):
    """The store reported an error. ``name`` is the browser's error name (for example
    ``"QuotaExceededError"``, ``"AbortError"``, ``"InvalidStateError"``) or None."""

    def __init__(self, message, name=None):
        JobsError.__init__(self, message)
        self.name = name


class StorageFull(StorageError):
    """A write did not fit in the origin's storage quota; nothing of it was written."""


class StorageUnavailable(StorageError):
    """The store cannot be opened (IndexedDB missing, blocked by the browser's settings or
    refused in a private window)."""


QUOTA_NAMES = ("QuotaExceededError",)


def storage_error(message, name=None):
    """The right ``StorageError`` subclass for a browser error name."""
    if name in QUOTA_NAMES:
        return StorageFull(message, name)
    return StorageError(message, name)


def is_transient(exc):
    """A storage error, or a DOMException the browser's IndexedDB threw through the
    adapter (Firefox throws InvalidStateError under storage pressure): a condition of
    the browser that a retry may outlive. Anything else is a bug in this code."""
    return isinstance(exc, StorageError) or type(exc).__name__ == "JavascriptError"


class WorkerError(JobsError):
    """A web worker could not run a job."""


class WorkerCrashed(WorkerError):
    """The worker died or failed to load; the attempt fails and is retried."""


class WorkerStopped(WorkerError):
    """The worker was stopped on purpose (timeout, cancel, or this tab stopped leading)."""
