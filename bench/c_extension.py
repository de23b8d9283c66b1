"""The benchmark-only C of bench/c as a Python module (``qt_bench``).

It is not in the core or the wheel: :func:`load` builds it from this source
tree (``meson setup -Dbench=true`` in ``build/bench-<python>``, then only
that target; ninja rebuilds it when a source changes) and imports it.  The
feature-engine benchmark hands it a FeatureEngine of the installed package,
so that package must be this tree's editable install: two builds of
different sources would disagree on the engine's layout."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
from types import ModuleType

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / f"bench-{sys.implementation.cache_tag}"


class BenchBuildError(RuntimeError):
    pass


def _meson(*args: str) -> None:
    env = dict(os.environ)
    # the venv's cython and ninja even when it is not activated
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [sys.executable, "-m", "mesonbuild.mesonmain", *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise BenchBuildError(f"building bench/c failed: {' '.join(cmd[3:])} (output above)")


def load() -> ModuleType:
    if "qt_bench" in sys.modules:
        return sys.modules["qt_bench"]
    import quantumtrader

    pkg = pathlib.Path(quantumtrader.__file__).resolve()
    if ROOT not in pkg.parents:
        raise BenchBuildError(f"bench/run.py measures the tree it lives in ({ROOT}), but quantumtrader is "
                              f"imported from {pkg.parent}: pip install --no-build-isolation -e {ROOT}")
    venv_path = str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    if importlib.util.find_spec("mesonbuild") is None or shutil.which("cython", path=venv_path) is None:
        raise BenchBuildError("bench/run.py builds its C extension with meson and cython: "
                              "pip install meson ninja cython")
    if not (BUILD / "build.ninja").exists():
        shutil.rmtree(BUILD, ignore_errors=True)
        _meson("setup", str(BUILD), str(ROOT), "-Dbench=true", "-Dbuildtype=release")
    # only this module and the core under it, not the whole project
    target = "bench/c/qt_bench" + sysconfig.get_config_var("EXT_SUFFIX")
    _meson("compile", "-C", str(BUILD), "--ninja-args", target)
    sys.path.insert(0, str(BUILD / "bench" / "c"))
    return importlib.import_module("qt_bench")
