"""IndexedDB through JS interop, awaitable the way the ``idb`` JS library makes it.

Brython 3.15's own ``browser.indexed_db`` is broken (``IndexedDB()`` raises TypeError, it
has no index API and an invalid default transaction mode), so this module wraps
``indexedDB`` itself; it is the only module that touches the IndexedDB API.

- ``request(req)``: one request -> one awaitable of its result (None for a miss).
- ``results(reqs)``: the requests of one transaction -> one awaitable of their results.
- ``done(tx)``: one transaction -> one awaitable that resolves on commit and raises on
  error or abort. Writers await it before reporting success.
- ``Cursor``: ``await cursor.next()`` steps an index or store cursor.

A transaction stays alive only while its own requests are awaited: never await a timer,
a sleep or an unrelated promise in the middle of one.

Errors are the package's own (errors.py): ``StorageError`` with the browser's error name
as ``.name`` (``StorageFull`` for ``QuotaExceededError``), and ``StorageUnavailable`` when
the database cannot be opened at all.
"""

from .errors import StorageError, StorageUnavailable, storage_error  # noqa: F401
from .jsenv import NULL, scope, is_nullish

# open() failing with these means IndexedDB cannot be used here at all (an opaque
# origin, storage blocked by the browser's settings, a private window).
UNAVAILABLE_NAMES = ("SecurityError", "InvalidStateError", "UnknownError")


def _error_name(target):
    err = getattr(target, "error", None)
    if is_nullish(err):
        return None
    name = getattr(err, "name", None)
    return None if is_nullish(name) else str(name)


def _error(target, what):
    """The StorageError for a failed request or transaction, named as the browser
    named it."""
    err = getattr(target, "error", None)
    if is_nullish(err):
        return storage_error(what)
    return storage_error(f"{what}: {err.name}: {err.message}", _error_name(target))


def thrown_name(exc):
    """The DOMException name of a JS error raised synchronously into Python, when its
    text names it (Brython does not always keep the name: then None)."""
    text = str(exc)
    for name in UNAVAILABLE_NAMES + ("QuotaExceededError", "NotFoundError", "DataError",
                                     "TransactionInactiveError", "DataCloneError"):
        if name in text:
            return name
    return None


def request(req):
    """An awaitable of ``req``'s result; JS null/undefined come back as None."""
    def executor(resolve, reject):
        def ok(ev):
            value = req.result
            # Never hand JS undefined to resolve(): Brython throws and the promise hangs.
            resolve(None if is_nullish(value) else value)

        def bad(ev):
            reject(_error(req, "request failed"))
        req.onsuccess = ok
        req.onerror = bad
    return scope.Promise.new(executor)


def results(reqs):
    """An awaitable of the results of ``reqs``, requests of one transaction issued in
    this order: one JS array (null for a miss), in that order. IndexedDB runs the
    requests of a transaction in the order they were made, so one handler collects them
    all: one await and one conversion for a transaction's reads instead of one each."""
    n = len(reqs)
    values = scope.Array.new()

    def executor(resolve, reject):
        def ok(ev):
            value = ev.target.result
            values.push(NULL if is_nullish(value) else value)  # never undefined
            if values.length == n:
                resolve(values)

        def bad(ev):
            reject(_error(ev.target, "request failed"))
        if n == 0:
            resolve(values)
            return
        for req in reqs:
            req.onsuccess = ok
            req.onerror = bad
    return scope.Promise.new(executor)


def watch(tx):
    """Attach ``tx``'s completion handlers now, as it is created, and return ``tx``.

    Why: a transaction whose last request has settled commits on its own, and its
    ``complete`` event is not repeated for handlers attached later. Attached only after
    an ``await`` (as ``done`` used to be), they can miss it: in Firefox the continuation
    after a request sometimes runs after the commit, so a transaction that wrote nothing
    (a purge with nothing to delete) left its caller waiting forever, and with it the
    leader's dispatch loop. The promise is marked handled (``catch``) so that an abort
    nobody awaits (``atomic`` aborting on a Python error) is no unhandled rejection;
    awaiting it through ``done`` still raises."""
    def executor(resolve, reject):
        tx.oncomplete = lambda ev: resolve(True)
        tx.onerror = lambda ev: reject(_error(tx, "transaction failed"))
        tx.onabort = lambda ev: reject(_error(tx, "transaction aborted"))
    promise = scope.Promise.new(executor)
    promise.catch(lambda err: None)
    tx.bjDone = promise
    return tx


def done(tx):
    """An awaitable that resolves when ``tx`` commits, raises if it errors or aborts.
    ``tx`` must have been passed to ``watch`` when it was created."""
    return tx.bjDone


def key_range(lower=None, upper=None, lower_open=False, upper_open=False):
    """An IDBKeyRange from Python values (lists become array keys)."""
    kr = scope.IDBKeyRange
    if lower is None:
        return kr.upperBound(upper, upper_open)
    if upper is None:
        return kr.lowerBound(lower, lower_open)
    return kr.bound(lower, upper, lower_open, upper_open)


def only(value):
    return scope.IDBKeyRange.only(value)


class Cursor:
    """Steps a cursor request: ``await next()`` gives the cursor, or None at the end.
    ``advance(key=None)`` moves on (to ``key`` when given, as ``continue(key)``)."""

    def __init__(self, req):
        self.req = req

    async def next(self):
        cur = await request(self.req)
        return None if is_nullish(cur) else cur

    def advance(self, key=None):
        cont = getattr(self.req.result, "continue")
        if key is None:
            cont()
        else:
            cont(key)


async def open_db(name, version, upgrade, on_versionchange=None, on_blocked=None):
    """Open (and create or upgrade) database ``name`` at ``version``.

    ``upgrade(db, old_version, tx)`` runs inside the versionchange transaction.
    ``on_versionchange()`` is called when another tab wants a newer version: the
    connection is closed first so that upgrade is not blocked by this tab.
    ``on_blocked()`` is called when this open waits for older connections to close.
    Raises ``StorageUnavailable`` (naming the cause) when there is no IndexedDB or the
    browser refuses to open it.
    """
    factory = getattr(scope, "indexedDB", None)
    if is_nullish(factory):
        raise StorageUnavailable(f"cannot open {name}: this browser context has no "
                                 "IndexedDB", None)

    def executor(resolve, reject):
        try:
            req = factory.open(name, version)
        except Exception as exc:  # thrown at once, e.g. SecurityError in an opaque origin
            # open() throws only TypeError (a bad version: ours is an int) or
            # SecurityError; Brython keeps just the message of the DOMException
            # (measured in Chromium: "access to the Indexed Database API is denied in
            # this context"), so an unnamed throw is the SecurityError.
            ename = thrown_name(exc) or "SecurityError"
            text = str(exc) if ename in str(exc) else f"{ename}: {exc}"
            reject(StorageUnavailable(f"cannot open {name}: {text}", ename))
            return

        def upgrading(ev):
            try:
                upgrade(req.result, ev.oldVersion, req.transaction)
            except Exception as exc:
                req.transaction.abort()
                reject(storage_error(f"upgrade of {name} failed: {exc}"))

        def opened(ev):
            db = req.result

            def version_change(ev2):
                db.close()
                if on_versionchange is not None:
                    on_versionchange()
            db.onversionchange = version_change
            resolve(db)

        def blocked(ev):
            if on_blocked is not None:
                on_blocked()

        def failed(ev):
            err = _error(req, f"cannot open {name}")
            if err.name in UNAVAILABLE_NAMES:
                err = StorageUnavailable(str(err), err.name)
            reject(err)
        req.onupgradeneeded = upgrading
        req.onsuccess = opened
        req.onerror = failed
        req.onblocked = blocked
    return await scope.Promise.new(executor)


def delete_db(name):
    """An awaitable that deletes database ``name``."""
    return request(scope.indexedDB.deleteDatabase(name))

