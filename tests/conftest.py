"""Shared by every test folder.

Unit tests (tests/unit) run under CPython only and never start a browser: the browser
fixtures live in tests/browser/conftest.py, which pytest only loads for tests below it.
Every test under tests/browser gets the ``browser`` marker, so ``pytest -m "not browser"``
runs the quick CPython tests alone.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")

# The repository root on sys.path: "import brython_jobs" then works in CPython tests
# without an install (the editable install in .venv does the same; this covers a bare
# interpreter too).
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# pytest (import mode "prepend") put this file's folder, tests/, on sys.path to import it.
# With tests/ there, the folder tests/browser/ becomes importable as a namespace package
# named "browser", and CPython code that checks "am I under Brython?" with
# "import browser" would wrongly think it is. Nothing needs tests/ on the path: undo it.
HERE = os.path.dirname(os.path.abspath(__file__))
while HERE in sys.path:
    sys.path.remove(HERE)


# The engines tests/browser runs in (tools/browsers.py starts them). The option lives here
# because pytest reads options only from the conftest files it loads at start-up.
ENGINES = ("chromium", "firefox", "webkit")


def pytest_addoption(parser):
    parser.addoption(
        "--browser", action="append", choices=ENGINES, default=None,
        help="engine for the browser tests (repeat for several; default: all three, or "
             "the comma list in $BROWSERS)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: runs in a real browser, once per engine (tests/browser); slow")
    # Selenium's own WebKitGTK driver class still uses a deprecated Selenium call.
    config.addinivalue_line(
        "filterwarnings", "ignore:setting remote_server_addr:DeprecationWarning")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).startswith(BROWSER_DIR + os.sep):
            item.add_marker(pytest.mark.browser)
