"""Build the browser-side files in ``www/brython/`` (git-ignored) with ``brython-cli``.

1. ``brython.js`` and ``brython_stdlib.js``: ``brython-cli install`` into a temporary
   folder, then only those two files are copied (``install`` also drops a demo page, a
   README and the 2 MB ``unicode.txt``, and asks before overwriting, which a script with no
   terminal cannot answer).
2. Two script-tag bundles, each from ``brython-cli make_package brython_jobs`` over a
   temporary copy of the package holding only its modules:
   ``brython_jobs.brython.js``, the package without the in-page inspector, and
   ``brython_jobs_inspector.brython.js``, the inspector's modules (``inspector*.py``, about
   a quarter of the package), which only pages that show the inspector load, after the
   first. A page that never shows the inspector does not download or parse them.
3. When Node.js is installed (``node``), tools/precompile.js appends to each bundle the
   JavaScript that Brython's own compiler makes of its modules, for that brython.js only:
   a first visit then compiles nothing (in Chromium about 1 s less for the package) and a
   later one skips reading the compiled modules back from Brython's IndexedDB cache.
   Without Node the bundles hold only the sources and work the same, compiling on first
   use. ``--no-precompile`` (or ``BRYTHON_JOBS_PRECOMPILE=0`` in the environment) builds
   them so on purpose.

Every test run calls this, so both steps are skipped when their output is already up to
date: the runtime files when they are byte-identical to the installed brython package's,
the bundles when a hash of their sources (and of the Brython version and whether they are
precompiled) matches the one recorded at the last build. Files are written to a temporary
name and renamed into place, so a page being served at the same time never loads half a
file.

``make_package`` crashes on Python 3.11: its minifier reads ``tokenize.FSTRING_START``,
which only exists from 3.12. There the bundle is made in-process with placeholder values
for the missing constants: 3.11 tokenizes an f-string as one STRING token, so no token
ever has those types and the minifier's f-string branches simply never match.

Usage: ``python tools/build.py [--force] [--no-precompile]``. Exits non-zero on failure.
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
INSPECTOR_BUNDLE = os.path.join(OUT_DIR, PACKAGE + "_inspector.brython.js")
STAMP = BUNDLE + ".stamp"
PRECOMPILER = os.path.join(ROOT, "tools", "precompile.js")


def in_inspector_bundle(rel):
    """True for the package files that go to the inspector's bundle (``rel``: the path
    below the package folder)."""
    return os.path.basename(rel).startswith("inspector")


# (output, which package files it holds); the package's __init__.py is in the first only.
BUNDLES = (
    (BUNDLE, lambda rel: not in_inspector_bundle(rel)),
    (INSPECTOR_BUNDLE, in_inspector_bundle),
)
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


def sources_hash(precompiled):
    """Content hash of the bundles' inputs. Content rather than mtimes, because a checkout
    or an editor may touch files without changing them (and vice versa)."""
    digest = hashlib.sha256()
    digest.update(f"brython {brython_version()} precompiled {precompiled}\n".encode())
    paths = source_files()
    if precompiled:  # compiled code is only valid for the brython.js that made it
        paths += [PRECOMPILER, os.path.join(OUT_DIR, "brython.js")]
    for path in paths:
        digest.update(os.path.relpath(path, SRC_DIR).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
        digest.update(b"\0")
    return digest.hexdigest()


def make_package_in_process(src_dir, output_path):
    """make_package for Python 3.11: give tokenize the constants its minifier expects."""
    import tokenize
    for offset, name in enumerate(FSTRING_TOKENS):
        if not hasattr(tokenize, name):
            # Negative numbers are never real token types, so nothing matches them.
            setattr(tokenize, name, -1000 - offset)
    from brython import make_package
    make_package.make(PACKAGE, src_dir, None, output_path)


def make_package(src_dir, output_path):
    """``brython-cli make_package brython_jobs`` of ``src_dir`` into ``output_path``."""
    import tokenize
    if hasattr(tokenize, "FSTRING_START"):
        run_cli("make_package", PACKAGE, "--src-dir", src_dir, "-o", output_path)
    else:
        # stdout of make_package is a line per module: keep the build output short.
        import contextlib
        import io
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                make_package_in_process(src_dir, output_path)
        except Exception as exc:  # e.g. a SyntaxError in a source file
            raise BuildError(f"make_package failed: {exc!r}") from exc
    if not os.path.exists(output_path) or os.path.getsize(output_path) == 0:
        raise BuildError("make_package produced no bundle (no Python files found?)")


LOADER = "__BRYTHON__.loadBrythonPackage("


def drop_modules(bundle_path, names):
    """Remove modules from a make_package bundle (its one ``loadBrythonPackage({...})``
    call holds a JSON object: module name -> [ext, source, imports(, is_package)])."""
    import json
    with open(bundle_path, encoding="utf-8") as f:
        text = f.read().strip()
    if not (text.startswith(LOADER) and text.endswith(")")):
        raise BuildError(f"{bundle_path}: not the make_package bundle format")
    vfs = json.loads(text[len(LOADER):-1])
    for name in names:
        vfs.pop(name, None)
    with open(bundle_path, "w", encoding="utf-8") as f:
        f.write(LOADER + json.dumps(vfs) + ")\n")


def node():
    """The Node.js executable, or None."""
    return shutil.which("node") or shutil.which("nodejs")


def precompile(bundle_path):
    """Append the compiled modules to a bundle in place (tools/precompile.js)."""
    result = subprocess.run(
        [node(), PRECOMPILER, os.path.join(OUT_DIR, "brython.js"), bundle_path,
         bundle_path], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise BuildError(f"tools/precompile.js failed:\n{result.stdout}")


def build_one(output, wanted, tmp, precompiled):
    """One bundle of the files ``wanted(rel)`` accepts, written to ``output.part``."""
    copy = os.path.join(tmp, os.path.basename(output) + ".src", PACKAGE)
    with_init = False
    for path in source_files():
        rel = os.path.relpath(path, SRC_DIR)
        if wanted(rel) or rel == "__init__.py":
            # make_package prefixes module names with the package only when the folder
            # has an __init__.py: a bundle without the package's own takes it along and
            # drops it afterwards.
            with_init = with_init or (rel == "__init__.py" and wanted(rel))
            os.makedirs(os.path.dirname(os.path.join(copy, rel)), exist_ok=True)
            shutil.copyfile(path, os.path.join(copy, rel))
    part = output + ".part"
    if os.path.exists(part):
        os.remove(part)
    make_package(copy, part)
    if not with_init:
        drop_modules(part, [PACKAGE])
    if precompiled:
        precompile(part)
    return part


def build_bundle(force=False, precompiled=True):
    """Step 2 (and 3). Returns True when the bundles were rebuilt."""
    if not os.path.exists(os.path.join(SRC_DIR, "__init__.py")):
        raise BuildError(f"{SRC_DIR}/__init__.py not found")
    # BRYTHON_JOBS_PRECOMPILE=0 does what --no-precompile does, also for the build that
    # every browser test run starts (tests/browser/conftest.py).
    precompiled = bool(precompiled and node()
                       and os.environ.get("BRYTHON_JOBS_PRECOMPILE", "1") != "0")
    wanted = sources_hash(precompiled)
    if not force and all(os.path.exists(out) for out, _ in BUNDLES) \
            and os.path.exists(STAMP):
        with open(STAMP, encoding="utf-8") as f:
            if f.read().strip() == wanted:
                return False
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="brython-bundle-") as tmp:
        parts = [(build_one(out, which, tmp, precompiled), out) for out, which in BUNDLES]
    for part, out in parts:
        os.replace(part, out)
    with open(STAMP, "w", encoding="utf-8") as f:
        f.write(wanted + "\n")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--no-precompile", action="store_true",
                        help="bundles of sources only, even when Node.js is installed")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        installed = install_runtime(args.force)
        rebuilt = build_bundle(args.force, not args.no_precompile)
    except (BuildError, OSError) as exc:
        print(f"build: FAILED: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join("{} {:,} bytes".format(os.path.basename(out), os.path.getsize(out))
                      for out, _ in BUNDLES)
    with open(BUNDLE, encoding="utf-8") as f:
        compiled = "precompiled" if "tools/precompile.js" in f.read() else "sources only"
    print("build: Brython {} runtime {}; bundles in {} {} ({}; {}) in {:.2f} s".format(
        brython_version(), "installed" if installed else "up to date",
        os.path.relpath(OUT_DIR, ROOT), "rebuilt" if rebuilt else "up to date", sizes,
        compiled, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
