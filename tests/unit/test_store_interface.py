"""The Store interface is declared in code (store.py), and the package's error tree is
one: the names the modules export are the classes of errors.py."""

import ast
import inspect
import os

import pytest

import brython_jobs
from brython_jobs import errors
from brython_jobs.memory_store import MemoryStore
from brython_jobs.store import Store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERFACE = ["open", "close", "atomic", "walk_pending", "overview", "get", "query",
             "counts", "pending_heads", "expiring", "next_expiry", "purge", "meta_get",
             "meta_prefix", "page", "find", "queue_counts", "finished_histogram",
             "latest_by_key", "keyed_pending"]


@pytest.mark.parametrize("name", INTERFACE)
async def test_every_interface_method_is_declared_with_a_docstring(name):
    """Given the Store base class, Then each interface method is a method of it with a
    docstring, and calling it on the base class raises NotImplementedError."""
    method = getattr(Store, name, None)
    assert method is not None, f"Store.{name} is not declared"
    assert (method.__doc__ or "").strip(), f"Store.{name} has no docstring"
    params = list(inspect.signature(method).parameters)[1:]
    with pytest.raises(NotImplementedError):
        out = method(Store(), *([None] * len(params)))
        if inspect.iscoroutine(out):
            await out


def test_memory_store_implements_every_method():
    """Given MemoryStore, Then it subclasses Store and overrides every method."""
    assert issubclass(MemoryStore, Store)
    for name in INTERFACE:
        assert getattr(MemoryStore, name) is not getattr(Store, name), name


def test_indexeddb_store_implements_every_method():
    """Given idb_store.py (browser-only, so read as source), Then IndexedDBStore
    subclasses Store and defines every interface method."""
    path = os.path.join(ROOT, "brython_jobs", "idb_store.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "IndexedDBStore"]
    assert [b.id for b in cls.bases] == ["Store"]
    defined = {n.name for n in cls.body
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert set(INTERFACE) <= defined, set(INTERFACE) - defined


def test_the_old_names_are_the_classes_of_the_error_tree():
    """Given the modules that used to define their own exceptions,
    Then StaleWrite and Fenced are errors.py's classes, all under JobsError."""
    from brython_jobs import engine, transitions
    assert transitions.StaleWrite is errors.StaleWrite
    assert engine.Fenced is errors.Fenced
    for cls in (errors.StaleWrite, errors.Fenced, errors.StorageError, errors.StorageFull,
                errors.StorageUnavailable, errors.WorkerError, errors.WorkerCrashed,
                errors.WorkerStopped):
        assert issubclass(cls, errors.JobsError)


def test_idb_raises_the_error_tree():
    """Given idb.py (browser-only, so read as source), Then its StorageError is
    errors.StorageError and it builds errors with the browser's error name."""
    path = os.path.join(ROOT, "brython_jobs", "idb.py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source)
    own = [n.name for n in tree.body if isinstance(n, ast.ClassDef)
           and n.name.endswith("Error")]
    assert own == [], f"idb.py defines its own {own}"
    assert "storage_error(" in source and "StorageUnavailable(" in source


@pytest.mark.parametrize("name", ["JobsError", "StaleWrite", "Fenced", "StorageError",
                                  "StorageFull", "StorageUnavailable", "WorkerError",
                                  "WorkerCrashed", "WorkerStopped"])
def test_the_package_exports_the_error_tree(name):
    """Given ``import brython_jobs`` under CPython, Then every error class is exported."""
    assert getattr(brython_jobs, name) is getattr(errors, name)


def test_a_quota_error_is_storage_full_with_its_name():
    """Given the browser's QuotaExceededError, Then storage_error gives StorageFull with
    ``.name``; another name gives a plain StorageError."""
    full = errors.storage_error("no room", "QuotaExceededError")
    assert isinstance(full, errors.StorageFull) and full.name == "QuotaExceededError"
    other = errors.storage_error("aborted", "AbortError")
    assert type(other) is errors.StorageError and other.name == "AbortError"
