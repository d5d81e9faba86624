"""Build the browser-side files in ``www/brython/`` (git-ignored) with ``brython-cli``.

1. ``brython.js`` and ``brython_stdlib.js``: ``brython-cli install`` into a temporary
   folder, then only those two files are copied (``install`` also drops a demo page, a
   README and the 2 MB ``unicode.txt``, and asks before overwriting, which a script with no
   terminal cannot answer).
2. ``brython_jobs.brython.js``: the script-tag bundle from
   ``brython-cli make_package brython_jobs --src-dir brython_jobs -o ...``.

Every test run calls this, so both steps are skipped when their output is already up to
date: the runtime files when they are byte-identical to the installed brython package's,
the bundle when a hash of its sources (and of the Brython version) matches the one recorded
at the last build. Files are written to a temporary name and renamed into place, so a page
being served at the same time never loads half a file.

``make_package`` crashes on Python 3.11: its minifier reads ``tokenize.FSTRING_START``,
which only exists from 3.12. There the bundle is made in-process with placeholder values
for the missing constants: 3.11 tokenizes an f-string as one STRING token, so no token
ever has those types and the minifier's f-string branches simply never match.

Usage: ``python tools/build.py [--force]``. Exits non-zero on failure.
"""

import argparse
import filecmp
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "brython_jobs"
SRC_DIR = os.path.join(ROOT, PACKAGE)
OUT_DIR = os.path.join(ROOT, "www", "brython")
BUNDLE = os.path.join(OUT_DIR, PACKAGE + ".brython.js")
STAMP = BUNDLE + ".stamp"
RUNTIME_FILES = ("brython.js", "brython_stdlib.js")

# The same interpreter that runs this script (the project's .venv) provides brython-cli.
CLI = [sys.executable, "-m", "brython"]

# make_package reads these token types; they are new in Python 3.12.
FSTRING_TOKENS = ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")


class BuildError(Exception):
    pass


def brython_data_dir():
    """The folder inside the installed brython package that holds brython.js & co."""
    spec = importlib.util.find_spec("brython")
    if spec is None or not spec.origin:
        raise BuildError("the brython package is not installed in " + sys.executable
                         + " (run tools/bootstrap.sh)")
    return os.path.join(os.path.dirname(spec.origin), "data")


def brython_version():
    import brython
    return getattr(brython, "__version__", "unknown")


def run_cli(*args, cwd=None):
    result = subprocess.run(CLI + list(args), cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise BuildError("brython-cli {} failed:\n{}".format(" ".join(args), result.stdout))
    return result.stdout


def install_runtime(force=False):
    """Step 1. Returns True when the files were (re)installed."""
    data_dir = brython_data_dir()
    up_to_date = all(
        os.path.exists(os.path.join(OUT_DIR, name))
        and filecmp.cmp(os.path.join(data_dir, name), os.path.join(OUT_DIR, name),
                        shallow=False)
        for name in RUNTIME_FILES)
    if up_to_date and not force:
        return False
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brython-install-") as tmp:
        run_cli("install", "--install-dir", tmp, "--no-demo")
        for name in RUNTIME_FILES:
            src = os.path.join(tmp, name)
            if not os.path.exists(src):
                raise BuildError(f"brython-cli install did not produce {name}")
            part = os.path.join(OUT_DIR, name + ".part")
            shutil.copyfile(src, part)
            os.replace(part, os.path.join(OUT_DIR, name))
    return True


def source_files():
    """The files make_package puts in the bundle: every .py and .js below the package."""
    found = []
    for dirpath, dirnames, filenames in os.walk(SRC_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".py", ".js")):
                found.append(os.path.join(dirpath, name))
    return found


def sources_hash():
    """Content hash of the bundle's inputs. Content rather than mtimes, because a checkout
    or an editor may touch files without changing them (and vice versa)."""
    digest = hashlib.sha256()
    digest.update(f"brython {brython_version()}\n".encode())
    for path in source_files():
        digest.update(os.path.relpath(path, SRC_DIR).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
        digest.update(b"\0")
    return digest.hexdigest()


def make_package_in_process(output_path):
    """make_package for Python 3.11: give tokenize the constants its minifier expects."""
    import tokenize
    for offset, name in enumerate(FSTRING_TOKENS):
        if not hasattr(tokenize, name):
            # Negative numbers are never real token types, so nothing matches them.
            setattr(tokenize, name, -1000 - offset)
    from brython import make_package
    make_package.make(PACKAGE, SRC_DIR, None, output_path)


def build_bundle(force=False):
    """Step 2. Returns True when the bundle was rebuilt."""
    if not os.path.exists(os.path.join(SRC_DIR, "__init__.py")):
        raise BuildError(f"{SRC_DIR}/__init__.py not found")
    wanted = sources_hash()
    if not force and os.path.exists(BUNDLE) and os.path.exists(STAMP):
        with open(STAMP, encoding="utf-8") as f:
            if f.read().strip() == wanted:
                return False
    os.makedirs(OUT_DIR, exist_ok=True)
    part = BUNDLE + ".part"
    if os.path.exists(part):
        os.remove(part)
    import tokenize
    if hasattr(tokenize, "FSTRING_START"):
        run_cli("make_package", PACKAGE, "--src-dir", SRC_DIR, "-o", part)
    else:
        # stdout of make_package is a line per module: keep the build output short.
        import contextlib
        import io
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                make_package_in_process(part)
        except Exception as exc:  # e.g. a SyntaxError in a source file
            raise BuildError(f"make_package failed: {exc!r}") from exc
    if not os.path.exists(part) or os.path.getsize(part) == 0:
        raise BuildError("make_package produced no bundle (no Python files found?)")
    os.replace(part, BUNDLE)
    with open(STAMP, "w", encoding="utf-8") as f:
        f.write(wanted + "\n")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        installed = install_runtime(args.force)
        rebuilt = build_bundle(args.force)
    except (BuildError, OSError) as exc:
        print(f"build: FAILED: {exc}", file=sys.stderr)
        return 1
    rel = os.path.relpath(BUNDLE, ROOT)
    print("build: Brython {} runtime {}; {} {} ({:,} bytes) in {:.2f} s".format(
        brython_version(), "installed" if installed else "up to date", rel,
        "rebuilt" if rebuilt else "up to date", os.path.getsize(BUNDLE),
        time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
