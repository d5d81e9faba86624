"""Python packaging: the installed package can be added to a Brython app folder with
``brython-cli add_package``, as any Brython package."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def brython_cli():
    path = os.path.join(os.path.dirname(sys.executable), "brython-cli")
    return path if os.path.exists(path) else shutil.which("brython-cli")


@pytest.mark.skipif(brython_cli() is None, reason="brython (and its brython-cli) not installed")
def test_add_package_copies_the_package_into_a_brython_app(tmp_path):
    """Given brython_jobs installed in this environment (tools/bootstrap.sh installs it),
    When `brython-cli add_package brython_jobs` runs in an app folder,
    Then the app's Lib/site-packages/brython_jobs holds the package's modules."""
    run = subprocess.run([brython_cli(), "add_package", "brython_jobs"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    copied = tmp_path / "Lib" / "site-packages" / "brython_jobs"
    for module in ("__init__.py", "jobqueue.py", "engine.py", "idb.py", "worker.py"):
        assert (copied / module).is_file(), module
