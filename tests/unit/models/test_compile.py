"""Compiling native models (treelite + tl2cgen + the host's compiler) and the
per-platform cache of a bundle: reuse when nothing changed, rebuild when the
library was built for another platform, library version or model, refusal of
a tampered model, one-line errors (compiler missing, unreadable model), and
nothing half-written left behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from quantumtrader.models import compile as mc
from quantumtrader.models.bundle import save_forest
from quantumtrader.models.estimators import ModelConfig, fit_forest, fit_xgboost, native_proba
from quantumtrader.qtcore.predict import CompiledModel, ModelLoadError

TINY = ModelConfig(rf_trees=4, rf_depth=4, rf_min_samples_leaf=5, xgb_trees=6, xgb_depth=3)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 7))
    y = np.digitize(X[:, 0] - 0.5 * X[:, 3], [-0.6, 0.6])
    return X, y


@pytest.fixture(scope="module")
def natives(tmp_path_factory, data):
    """A folder with xgboost.json and forest.skops, and the fitted models."""
    X, y = data
    folder = tmp_path_factory.mktemp("natives")
    booster, forest = fit_xgboost(X, y, None, TINY), fit_forest(X, y, None, TINY)
    booster.save_model(str(folder / "xgboost.json"))
    save_forest(forest, folder / "forest.skops")
    return folder, booster, forest


def entry(folder: Path, name: str) -> dict:
    file = {"xgboost": "xgboost.json", "forest": "forest.skops"}[name]
    return {"name": name, "kind": name, "file": file, "sha256": mc.file_sha256(folder / file)}


def bundle_copy(tmp_path: Path, natives) -> Path:
    folder = tmp_path / "b"
    folder.mkdir()
    for file in ("xgboost.json", "forest.skops"):
        (folder / file).write_bytes((natives[0] / file).read_bytes())
    return folder


def test_platform_tag_suffix_and_toolchain(monkeypatch):
    assert mc.platform_tag().startswith(sys.platform + "-")
    assert mc.library_suffix("win32") == ".dll" and mc.library_suffix("darwin") == ".dylib"
    assert mc.library_suffix("linux") == ".so"
    monkeypatch.setenv("CC", "clang-17")
    assert mc.toolchain() == "clang-17"
    monkeypatch.delenv("CC")
    monkeypatch.setattr(mc.sys, "platform", "win32")
    assert mc.toolchain() == "msvc"
    monkeypatch.setattr(mc.sys, "platform", "linux")
    monkeypatch.setattr(mc.sysconfig, "get_config_var", lambda name: None)
    assert mc.toolchain() == "gcc"


def test_cache_key_covers_model_platform_versions_and_toolchain(monkeypatch):
    base = mc.cache_record("ab" * 32, "gcc")
    assert base["versions"] == mc.library_versions() and set(base["versions"]) == {"treelite", "tl2cgen"}
    assert mc.cache_record("ab" * 32, "gcc")["key"] == base["key"]
    assert mc.cache_record("cd" * 32, "gcc")["key"] != base["key"]
    assert mc.cache_record("ab" * 32, "clang")["key"] != base["key"]
    monkeypatch.setattr(mc.platform, "machine", lambda: "AMD64")
    assert mc.cache_record("ab" * 32, "gcc")["key"] != base["key"]


@pytest.mark.parametrize("name", ["xgboost", "forest"])
def test_compiled_model_matches_the_native_one(tmp_path, natives, data, name):
    folder, booster, forest = natives
    X, _ = data
    lib = mc.compile_model(name, folder / entry(folder, name)["file"], tmp_path / f"m{mc.library_suffix()}")
    assert lib.is_file() and [p.name for p in tmp_path.iterdir()] == [lib.name]  # nothing left aside
    model = CompiledModel(lib)
    assert (model.num_feature, model.num_class) == (7, 3)
    assert model.threshold_type == ("float32" if name == "xgboost" else "float64")
    native = native_proba(booster if name == "xgboost" else forest, X)
    np.testing.assert_allclose(model.predict_proba(X), native, atol=1e-5, rtol=0)


def test_forest_thresholds_route_float64_values_as_sklearn_routes_their_float32_casts():
    rng = np.random.default_rng(1)
    v = rng.normal(size=5000).astype(np.float32)
    t = np.concatenate(
        [
            (v[:-1].astype(np.float64) + v[1:]) / 2,  # scikit-learn's thresholds: float32 midpoints
            rng.normal(size=2000) * 10.0 ** rng.integers(-30, 30, 2000),
            [0.0, 1e-45, -3.5, float(np.finfo(np.float32).max)],
        ]
    )
    tp = mc.float32_split_thresholds(t)
    near = [tp, t, np.nextafter(tp, np.inf), np.nextafter(tp, -np.inf), np.nextafter(t, np.inf)]
    x = np.concatenate(near)
    ts, tps = np.tile(t, len(near)), np.tile(tp, len(near))
    with np.errstate(over="ignore"):
        sklearn_route = x.astype(np.float32).astype(np.float64) <= ts
    np.testing.assert_array_equal(x <= tps, sklearn_route)
    assert mc.float32_split_thresholds(np.array([np.inf]))[0] == np.inf  # no finite x is above it


def test_compiled_forest_equals_sklearn_at_its_split_values(tmp_path, natives):
    """Inputs sitting exactly on and around every split threshold (where
    float32 rounding decides the branch) route as in scikit-learn."""
    folder, _, forest = natives
    lib = mc.compile_model("forest", folder / "forest.skops", tmp_path / f"f{mc.library_suffix()}")
    rng = np.random.default_rng(8)
    rows = []
    for tree in forest.estimators_:
        nodes = tree.tree_
        for f, t in zip(nodes.feature, nodes.threshold, strict=True):
            if f < 0:
                continue
            for x in (t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf), np.float64(np.float32(t))):
                row = rng.normal(size=7)
                row[f] = x
                rows.append(row)
    X = np.array(rows)
    np.testing.assert_allclose(CompiledModel(lib).predict_proba(X), native_proba(forest, X), atol=1e-12)


def test_large_models_compile_in_parallel_units(tmp_path, natives, data, monkeypatch):
    monkeypatch.setattr(mc, "PARALLEL_COMP_TREES", 2)  # the tiny booster counts as large
    folder, booster, _ = natives
    lib = mc.compile_model("xgboost", folder / "xgboost.json", tmp_path / f"p{mc.library_suffix()}")
    compiled = CompiledModel(lib).predict_proba(data[0])
    np.testing.assert_allclose(compiled, native_proba(booster, data[0]), atol=1e-5)


def test_missing_compiler_is_one_line(tmp_path, natives, monkeypatch):
    monkeypatch.setenv("CC", "qt-no-such-cc")
    with pytest.raises(mc.CompileError) as info:
        mc.compile_model("xgboost", natives[0] / "xgboost.json", tmp_path / "x.so", label="models/N/x.json")
    expected = "cannot compile models/N/x.json: qt-no-such-cc not found; install gcc or set CC"
    assert str(info.value) == expected
    assert list(tmp_path.iterdir()) == []


def test_unreadable_model_is_one_line(tmp_path):
    bad = tmp_path / "xgboost.json"
    bad.write_text('{"learner": {"gradient_booster": ', encoding="utf-8")
    with pytest.raises(mc.CompileError, match=r"^cannot compile .*xgboost.json: not a readable") as info:
        mc.compile_model("xgboost", bad, tmp_path / "x.so")
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xgboost.json"]
    with pytest.raises(mc.CompileError, match="unknown model kind 'svm'"):
        mc.compile_model("svm", bad, tmp_path / "x.so")


def test_ensure_compiled_builds_once_then_reuses(tmp_path, natives, data):
    folder = bundle_copy(tmp_path, natives)
    e = entry(folder, "xgboost")
    lib = mc.ensure_compiled(folder, e)
    tag = mc.platform_tag()
    assert lib.parent == folder / "compiled" / tag and tag in lib.name and lib.suffix == mc.library_suffix()
    record = json.loads((lib.parent / "xgboost.build.json").read_text())
    assert record["key"] == mc.cache_record(e["sha256"])["key"] and record["library"] == lib.name
    stamp = lib.stat().st_mtime_ns
    assert mc.ensure_compiled(folder, e) == lib and lib.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in lib.parent.iterdir()) == sorted([lib.name, "xgboost.build.json"])


def test_a_library_built_for_another_platform_is_rebuilt_not_loaded(tmp_path, natives, data):
    """The cache names this platform, but its record says win32/AMD64 (a folder
    copied from Windows): the library there is never opened; a new one is built."""
    folder = bundle_copy(tmp_path, natives)
    e = entry(folder, "forest")
    lib = mc.ensure_compiled(folder, e)
    build = lib.parent / "forest.build.json"
    foreign = json.loads(build.read_text())
    foreign.update(platform="win32", machine="AMD64", toolchain="msvc", key="f" * 64)
    build.write_text(json.dumps(foreign))
    lib.write_bytes(b"MZ\x90\x00 not an ELF library")  # would crash dlopen if it were trusted
    rebuilt = mc.ensure_compiled(folder, e)
    model = CompiledModel(rebuilt)
    np.testing.assert_allclose(model.predict_proba(data[0]), native_proba(natives[2], data[0]), atol=1e-5)
    assert json.loads(build.read_text())["platform"] == sys.platform
    # a cache folder of another platform is simply not this host's
    other = folder / "compiled" / "win32-AMD64"
    other.mkdir()
    (other / "forest.build.json").write_text(json.dumps(foreign))
    assert mc.ensure_compiled(folder, e) == rebuilt


def test_another_library_version_rebuilds_and_drops_the_stale_library(tmp_path, natives, monkeypatch):
    folder = bundle_copy(tmp_path, natives)
    e = entry(folder, "xgboost")
    old = mc.ensure_compiled(folder, e)
    monkeypatch.setattr(mc, "library_versions", lambda: {"treelite": "4.99.0", "tl2cgen": "1.0.0"})
    new = mc.ensure_compiled(folder, e)
    assert new != old and new.is_file() and not old.exists()
    assert json.loads((new.parent / "xgboost.build.json").read_text())["versions"]["treelite"] == "4.99.0"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_read_only_bundle_is_compiled_into_the_user_cache(tmp_path, natives, data, monkeypatch):
    import os

    if os.geteuid() == 0:  # root writes anywhere: make the folder look read-only to the check
        monkeypatch.setattr(mc, "_writable", lambda folder: not str(folder).startswith(str(tmp_path / "b")))
    monkeypatch.setenv("QT_MODEL_CACHE", str(tmp_path / "cache"))
    folder = bundle_copy(tmp_path, natives)
    folder.chmod(0o555)
    try:
        e = entry(folder, "xgboost")
        lib = mc.ensure_compiled(folder, e)
        key = mc.cache_record(e["sha256"])["key"]
        assert lib.parent == tmp_path / "cache" / mc.platform_tag() / key
        assert not (folder / "compiled").exists()
        assert mc.ensure_compiled(folder, e) == lib  # reused
        compiled = CompiledModel(lib).predict_proba(data[0])
        np.testing.assert_allclose(compiled, native_proba(natives[1], data[0]), atol=1e-5)
    finally:
        folder.chmod(0o755)


def test_user_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QT_MODEL_CACHE", str(tmp_path / "c"))
    assert mc.user_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("QT_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    if sys.platform != "win32":
        assert mc.user_cache_dir() == tmp_path / "x" / "quantumtrader" / "compiled"


def test_a_garbage_library_is_refused_by_the_core(tmp_path):
    fake = tmp_path / f"fake{mc.library_suffix()}"
    fake.write_bytes(b"\x7fELF garbage")
    with pytest.raises(ModelLoadError):
        CompiledModel(fake)


def test_a_tampered_model_is_not_compiled(tmp_path, natives):
    folder = bundle_copy(tmp_path, natives)
    e = entry(folder, "xgboost")
    text = (folder / "xgboost.json").read_text()
    (folder / "xgboost.json").write_text(text.replace('"num_class":"3"', '"num_class":"3" '))
    with pytest.raises(mc.CompileError, match=r"^tampered or corrupt: b/xgboost.json checksum differs$"):
        mc.ensure_compiled(folder, e)
    (folder / "xgboost.json").unlink()
    with pytest.raises(mc.CompileError, match=r"^cannot compile b/xgboost\.json"):
        mc.ensure_compiled(folder, e)
    assert not (folder / "compiled").exists()
