"""A native model file -> a shared library of its trees, compiled with the host's C compiler.

treelite reads the model (XGBoost's JSON through its XGBoost frontend, a
scikit-learn forest through ``treelite.sklearn.import_model``), tl2cgen
generates C from it and builds the library (``export_lib``); the core opens
it with ``quantumtrader.qtcore.predict.CompiledModel``.

Versions: tl2cgen 1.0 takes a model only as a treelite checkpoint (it always
serialises and reloads it with the treelite 4.1 it embeds).  treelite 4.1
cannot read what XGBoost >= 3.1 writes (its JSON has a ``cats`` section), so
the frontend is a newer treelite 4.x and tl2cgen loads its checkpoint through
treelite's forward-compatible format (same major version; newer optional
fields, unused by plain numeric splits, are skipped).  The note tl2cgen logs
about it is kept out of the user's terminal; the parity test is the guard,
and both versions are part of the cache key.

A forest is compiled from float64-exact thresholds (``with_float64_thresholds``):
scikit-learn compares float32 casts of its inputs, the library the engine's
float64 values; XGBoost's library takes float32 entries and needs nothing.

The cache (``compiled/<platform-tag>/`` in a bundle): a library is named
``<model>-<platform-tag>-<key[:16]>.<so|dll|dylib>`` beside a
``<model>.build.json`` holding the full cache key and what went into it:
sha256 of the native file, platform (``sys.platform``, machine), treelite
and tl2cgen versions and the toolchain.  ``ensure_compiled`` reuses a
library only when that record matches this host exactly; otherwise (missing,
another platform, another library version or compiler, a changed model) it
builds a new one aside and renames it into place, and removes the stale one.
A bundle in a read-only folder is compiled into a per-user cache instead
(``user_cache_dir``).
Errors are one line (``CompileError``) naming the model file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

CACHE_FOLDER = "compiled"
# tl2cgen writes each unit's trees as one function, and gcc -O3 takes superlinear
# time in a function's size: 40 depth-10 trees compiled in 35 s as one unit,
# 16-20 s as 20-40 units (2 cores).  So a few trees per unit, at most 512 units.
TREES_PER_UNIT = 4
MAX_UNITS = 512
BUILD_SUFFIX = ".build.json"


class CompileError(ValueError):
    """A model could not be compiled (one line: which file and why)."""


def platform_tag() -> str:
    """This host's platform, e.g. ``linux-x86_64`` or ``win32-AMD64``."""
    return f"{sys.platform}-{platform.machine() or 'unknown'}"


def library_suffix(plat: str | None = None) -> str:
    """The shared-library extension of ``sys.platform`` value ``plat`` (default: this host)."""
    plat = plat or sys.platform
    if plat in ("win32", "cygwin"):
        return ".dll"
    if plat == "darwin":
        return ".dylib"
    return ".so"


def toolchain() -> str:
    """The C compiler tl2cgen will call: ``msvc`` on Windows unless CC is set,
    else ``CC`` from the environment, else the compiler Python was built
    with (sysconfig ``CC``), else ``gcc``."""
    env = os.environ.get("CC", "").strip()
    if env:
        return env
    if sys.platform == "win32":
        return "msvc"
    cc = (sysconfig.get_config_var("CC") or "").strip()
    return cc or "gcc"


def _compiler_present(tool: str) -> bool:
    if tool == "msvc":
        return True  # tl2cgen locates vcvarsall itself and says so if it cannot
    words = shlex.split(tool)
    return bool(words) and shutil.which(words[0]) is not None


def library_versions() -> dict[str, str]:
    """Versions of the compiling libraries (part of the cache key)."""
    import tl2cgen
    import treelite

    return {"treelite": treelite.__version__, "tl2cgen": tl2cgen.__version__}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 hex of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_record(native_sha256: str, tool: str | None = None) -> dict[str, Any]:
    """What a compiled library depends on, and its key (sha256 of the rest, canonical JSON)."""
    record: dict[str, Any] = {
        "native_sha256": native_sha256,
        "platform": sys.platform,
        "machine": platform.machine(),
        "versions": library_versions(),
        "toolchain": tool if tool is not None else toolchain(),
    }
    record["key"] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return record


def _treelite_model(kind: str, native: Path) -> Any:
    """The treelite model of a native file: ``xgboost`` (XGBoost JSON) or
    ``forest`` (a scikit-learn forest saved by the bundle)."""
    import treelite

    if kind == "xgboost":
        return treelite.frontend.load_xgboost_model(str(native))
    if kind == "forest":
        from quantumtrader.models.bundle import load_forest

        return treelite.sklearn.import_model(with_float64_thresholds(load_forest(native)))
    raise CompileError(f"cannot compile {native}: unknown model kind {kind!r} (xgboost or forest)")


def float32_split_thresholds(threshold: np.ndarray) -> np.ndarray:
    """For each float64 threshold t, the t' with ``x <= t'`` exactly when
    ``float32(x) <= t``, for every float64 x (round to nearest, ties to even).

    scikit-learn's trees cast their input to float32 before comparing it to
    float64 thresholds; the compiled library compares the float64 entries the
    engine gives it.  With these thresholds both route every value alike.  If
    a is the largest float32 <= t, float32(x) <= t iff x rounds to a or below,
    i.e. x < m, or x == m when the tie goes to a (a's last mantissa bit even),
    m the midpoint of a and the next float32 (exact in float64)."""
    t = np.asarray(threshold, dtype=np.float64)
    out = t.copy()
    finite = np.isfinite(t) & (np.abs(t) <= np.finfo(np.float32).max)
    a = t[finite].astype(np.float32)
    a = np.where(a.astype(np.float64) > t[finite], np.nextafter(a, np.float32(-np.inf)), a)
    with np.errstate(over="ignore"):
        up = np.nextafter(a, np.float32(np.inf)).astype(np.float64)
    top = np.isinf(up)  # a is FLT_MAX: what rounds to infinity starts half an ulp above it
    up[top] = float(np.finfo(np.float32).max) + 2.0**104
    m = (a.astype(np.float64) + up) / 2.0
    even = (a.view(np.uint32) & 1) == 0
    out[finite] = np.where(even, m, np.nextafter(m, -np.inf))
    return out


def with_float64_thresholds(forest: Any) -> Any:
    """A copy of a scikit-learn forest whose split thresholds give, on float64
    inputs, the routes scikit-learn takes on their float32 casts (see
    ``float32_split_thresholds``): what the compiled library is made from."""
    import copy

    forest = copy.deepcopy(forest)
    for tree in forest.estimators_:
        nodes = tree.tree_
        split = nodes.children_left != -1
        nodes.threshold[split] = float32_split_thresholds(nodes.threshold[split])
    return forest


def _num_trees(model: Any) -> int:
    try:
        return int(model.num_tree)
    except (AttributeError, TypeError, ValueError):
        return 0


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    useful = [ln for ln in lines if "error" in ln.lower()] or lines
    return (useful[0] if useful else "unknown error")[:300]


@contextlib.contextmanager
def _native_output() -> Iterator[Callable[[], str]]:
    """Route what native code (treelite's log, the compiler) and Python write to
    stdout/stderr into a file for the block, so a compile leaves the user's
    terminal alone; yields a function returning the text so far (for errors)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]

        def text() -> str:
            sink.flush()
            sink.seek(0)
            return sink.read().decode("utf-8", "replace")

        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                yield text
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def compile_model(
    kind: str, native: str | os.PathLike[str], libpath: str | os.PathLike[str], *, label: str | None = None
) -> Path:
    """Compile the native model file ``native`` of ``kind`` (``xgboost`` or
    ``forest``) into the shared library ``libpath`` (written aside in its folder
    and renamed into place).  ``label`` names the model in errors (default: the
    path).  CompileError on any failure, one line."""
    import tl2cgen

    native, libpath = Path(native), Path(libpath)
    label = label or str(native)
    tool = toolchain()
    if not _compiler_present(tool):
        first = shlex.split(tool)[0] if shlex.split(tool) else tool
        raise CompileError(f"cannot compile {label}: {first} not found; install gcc or set CC")
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{libpath.stem}.partial-", dir=libpath.parent))
    try:
        with _native_output() as captured:
            try:
                model = _treelite_model(kind, native)
            except CompileError:
                raise
            except Exception as exc:  # treelite's errors carry a multi-line context
                why = _one_line(str(exc))
                raise CompileError(f"cannot compile {label}: not a readable {kind} model ({why})") from None
            trees = _num_trees(model)
            params: dict[str, Any] = {}
            units = min(MAX_UNITS, trees // TREES_PER_UNIT)
            if units >= 2:
                params["parallel_comp"] = units
            tmp_lib = tmp_dir / f"model{libpath.suffix}"
            try:
                tl2cgen.export_lib(
                    model,
                    toolchain=tool,
                    libpath=str(tmp_lib),
                    params=params,
                    nthread=min(os.cpu_count() or 1, 4),
                )
            except Exception as exc:
                why = _one_line(str(exc) + "\n" + captured())
                raise CompileError(f"cannot compile {label} with {tool}: {why}") from None
        os.replace(tmp_lib, libpath)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return libpath


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def compiled_dir(bundle_dir: str | os.PathLike[str]) -> Path:
    """This host's cache folder of a bundle: ``compiled/<platform-tag>``."""
    return Path(bundle_dir) / CACHE_FOLDER / platform_tag()


def user_cache_dir() -> Path:
    """Where libraries of bundles in read-only folders go: ``QT_MODEL_CACHE``
    if set, else ``%LOCALAPPDATA%/quantumtrader/compiled`` on Windows, else
    ``$XDG_CACHE_HOME`` (default ``~/.cache``) ``/quantumtrader/compiled``."""
    env = os.environ.get("QT_MODEL_CACHE", "").strip()
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "quantumtrader" / "compiled"
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "quantumtrader" / "compiled"


def _writable(folder: Path) -> bool:
    """``folder`` can be written, or created in a writable existing parent."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _cached(folder: Path, name: str, record: dict[str, Any]) -> tuple[Path, dict[str, Any] | None, bool]:
    """(library path, the folder's build record of ``name``, whether that library is valid)."""
    lib = folder / f"{name}-{platform_tag()}-{record['key'][:16]}{library_suffix()}"
    old = _read_record(folder / f"{name}{BUILD_SUFFIX}")
    valid = old is not None and old.get("key") == record["key"] and old.get("library") == lib.name
    return lib, old, valid and lib.is_file()


def find_compiled(bundle_dir: str | os.PathLike[str], entry: dict[str, Any]) -> Path | None:
    """The valid compiled library of ``entry`` if one is built already
    (bundle folder or user cache), else None; never compiles."""
    bundle_dir = Path(bundle_dir)
    try:
        digest = file_sha256(bundle_dir / entry["file"])
    except OSError:
        return None
    if digest != entry["sha256"]:
        return None
    record = cache_record(digest)
    for folder in (compiled_dir(bundle_dir), user_cache_dir() / platform_tag() / record["key"]):
        lib, _old, valid = _cached(folder, entry["name"], record)
        if valid:
            return lib
    return None


def ensure_compiled(bundle_dir: str | os.PathLike[str], entry: dict[str, Any]) -> Path:
    """The compiled library of the bundle model ``entry`` (manifest keys
    ``name``, ``kind``, ``file``, ``sha256``), built when missing or built for
    another platform, library version, toolchain or model.  The native file
    must still match the manifest's sha256 (else CompileError: tampered).
    The library lives in the bundle's ``compiled/<platform-tag>/``; a bundle
    in a folder that cannot be written (an installed package) has its
    libraries in ``user_cache_dir()/<platform-tag>/<key>/`` instead."""
    bundle_dir = Path(bundle_dir)
    name, kind, file = entry["name"], entry["kind"], entry["file"]
    native = bundle_dir / file
    label = f"{bundle_dir.name}/{file}"
    try:
        digest = file_sha256(native)
    except OSError as exc:
        raise CompileError(f"cannot compile {label}: {exc.strerror or exc}") from None
    if digest != entry["sha256"]:
        raise CompileError(f"tampered or corrupt: {label} checksum differs")
    record = cache_record(digest)
    folder = compiled_dir(bundle_dir)
    lib, old, valid = _cached(folder, name, record)
    if valid:
        return lib
    if not _writable(folder):
        folder = user_cache_dir() / platform_tag() / record["key"]
        lib, old, valid = _cached(folder, name, record)
        if valid:
            return lib
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompileError(f"cannot compile {label}: cannot create {folder}: {exc.strerror or exc}") from None
    compile_model(kind, native, lib, label=label)
    build = folder / f"{name}{BUILD_SUFFIX}"
    fd, tmp = tempfile.mkstemp(prefix=f".{build.name}.partial-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({**record, "library": lib.name}, f, indent=1, sort_keys=True)
    os.replace(tmp, build)
    if old is not None and isinstance(old.get("library"), str) and old["library"] != lib.name:
        with contextlib.suppress(OSError):
            (folder / Path(old["library"]).name).unlink()
    return lib


def main(argv: list[str] | None = None) -> int:
    """``python -m quantumtrader.models.compile BUNDLE``: compile a bundle's
    models for this host (what a trading process runs in a child process, so
    that it never imports the training libraries itself)."""
    from quantumtrader.models.bundle import BundleError, ModelBundle

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m quantumtrader.models.compile BUNDLE_DIR", file=sys.stderr)
        return 2
    try:
        ModelBundle.load(args[0]).compiled_paths()
    except (BundleError, CompileError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
