"""The model bundle on disk: a faithful round trip, atomic saves that never
replace an input, the refusals of loading (corrupt JSON, tampered or missing
files, unknown format, a schema the engine does not produce, an unpromoted
model when validation is required), the promotion mark, and prediction from
the engine's 77-wide rows (NaN rows -> NaN) through the compiled ensemble."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from quantumtrader.features.schema import QT65_NAMES, QT77_NAMES, FeatureSchema, SchemaMismatch, schema_for
from quantumtrader.models import compile as mc
from quantumtrader.models.bundle import (
    FORMAT_VERSION,
    BundleError,
    ModelBundle,
    load_forest,
    manifest_checksum,
    save_forest,
)
from quantumtrader.models.estimators import ModelConfig, fit_forest, fit_xgboost, soft_vote_weights

TINY = ModelConfig(rf_trees=4, rf_depth=4, rf_min_samples_leaf=5, xgb_trees=6, xgb_depth=3)


def rows77(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, 77))
    y = np.digitize(F[:, 17] + 0.5 * F[:, 70], [-0.5, 0.5])  # log_returns_1 and a book feature
    return F, y


def make_bundle(set_name: str = "qt77", **kwargs) -> ModelBundle:
    schema = schema_for(set_name)
    F, y = rows77(1500)
    X = F[:, [QT77_NAMES.index(n) for n in schema.names]]
    models = {"xgboost": fit_xgboost(X, y, None, TINY), "forest": fit_forest(X, y, None, TINY)}
    return ModelBundle(
        schema,
        models,
        soft_vote_weights({"xgboost": 0.7, "forest": 0.9}),
        session={"tz": "America/Sao_Paulo", "open": "09:00", "close": "18:00"},
        sampler={"kind": "cusum", "threshold": 2.0, "volatility_feature": "volatility_gk"},
        labels={"kind": "triple_barrier", "profit_take": 2.0, "stop": 1.0, "vertical_s": 300},
        training={"start": "2026-11-02", "end": "2026-11-27", "instruments": ["WDOFUT"], "rows": 1500},
        metrics={"oof_log_loss": {"xgboost": 0.7, "forest": 0.9}, "sharpe": np.float64(1.2)},
        model_config=TINY.as_dict(),
        **kwargs,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A saved qt77 bundle, compiled; tests copy it before changing anything."""
    path = tmp_path_factory.mktemp("bundles") / "m77"
    make_bundle().save(path, compile=True)
    return path


def copy_bundle(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        if p.is_file():
            (dst / p.name).write_bytes(p.read_bytes())
    return dst


def write_signed(folder: Path, m: dict) -> None:
    """A manifest edited by someone who also recomputed its checksum."""
    m = {k: v for k, v in m.items() if k != "manifest_sha256"}
    m["manifest_sha256"] = manifest_checksum(m)
    (folder / "manifest.json").write_text(json.dumps(m))


def edit_manifest(folder: Path, **changes) -> None:
    m = json.loads((folder / "manifest.json").read_text())
    m.update(changes)
    write_signed(folder, m)


def test_round_trip_keeps_everything(saved):
    original = make_bundle()
    b = ModelBundle.load(saved)
    assert b.schema == schema_for("qt77") and b.path == saved
    assert list(b.models) == ["xgboost", "forest"]
    assert b.weights == pytest.approx(original.weights) and sum(b.weights.values()) == pytest.approx(1.0)
    assert b.sampler == original.sampler and b.labels == original.labels and b.session == original.session
    assert b.training["instruments"] == ["WDOFUT"] and b.metrics["sharpe"] == 1.2
    assert b.model_config == TINY.as_dict() and b.gate is None and b.promoted is False
    F, _ = rows77(300, seed=9)
    np.testing.assert_array_equal(b.native_proba(F), original.native_proba(F))
    m = json.loads((saved / "manifest.json").read_text())
    assert m["format_version"] == FORMAT_VERSION and m["classes"] == ["sell", "hold", "buy"]
    assert m["labels"] == [-1, 0, 1] and m["features"]["schema_hash"] == schema_for("qt77").hash
    assert m["features"]["names"] == list(QT77_NAMES)
    assert set(m["files"]) == {"xgboost.json", "forest.skops"}
    for e in m["models"]:
        assert e["sha256"] == m["files"][e["file"]] == mc.file_sha256(saved / e["file"])
    assert {"xgboost", "scikit-learn", "treelite", "tl2cgen", "skops", "numpy"} <= set(m["versions"])
    assert json.loads((saved / "xgboost.json").read_text())["learner"]  # XGBoost's own JSON
    assert (saved / "compiled" / mc.platform_tag()).is_dir()  # save(compile=True)


def test_save_is_atomic_and_never_replaces_an_input(tmp_path, saved):
    b = make_bundle()
    target = tmp_path / "m"
    b.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no partial folder left
    with pytest.raises(BundleError, match="already exists: choose another folder or replace it explicitly"):
        make_bundle().save(target)
    make_bundle().save(target, replace=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    loaded = ModelBundle.load(target)
    with pytest.raises(BundleError, match="is the bundle being saved \\(its input\\)"):
        loaded.save(target, replace=True)
    loaded.save(tmp_path / "copy")  # a loaded bundle saves elsewhere
    assert ModelBundle.load(tmp_path / "copy").files == loaded.files
    with pytest.raises(BundleError, match="does not exist"):
        b.save(tmp_path / "no" / "such" / "m")
    (tmp_path / "data").mkdir()  # the user's folder, not a bundle
    (tmp_path / "data" / "keep.csv").write_text("1,2\n")
    with pytest.raises(BundleError, match="exists and is not a model bundle: refusing to replace it"):
        b.save(tmp_path / "data", replace=True)
    assert (tmp_path / "data" / "keep.csv").read_text() == "1,2\n"
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match="is not a bundle folder"):
        b.save(tmp_path / "file", replace=True)


def test_bundle_refuses_models_it_cannot_run():
    F, y = rows77(600)
    two = y != 1
    forest2 = fit_forest(F[two], y[two], None, TINY, require_all_classes=False)
    with pytest.raises(BundleError, match="forest was trained on classes sell, buy: need sell, hold and buy"):
        ModelBundle(schema_for("qt77"), {"forest": forest2}, {"forest": 1.0})
    booster = fit_xgboost(F[:, :65], y, None, TINY)
    with pytest.raises(BundleError, match="XGBoost model takes 65 features, the schema has 77"):
        ModelBundle(schema_for("qt77"), {"xgboost": booster}, {"xgboost": 1.0})
    with pytest.raises(BundleError, match="ensemble weights"):
        ModelBundle(schema_for("qt65"), {"xgboost": booster}, {"forest": 1.0})
    with pytest.raises(BundleError, match="finite and > 0"):
        ModelBundle(schema_for("qt65"), {"xgboost": booster}, {"xgboost": 0.0})
    with pytest.raises(BundleError, match="unknown model 'svm'"):
        ModelBundle(schema_for("qt65"), {"svm": booster}, {"svm": 1.0})
    with pytest.raises(BundleError, match="at least one model"):
        ModelBundle(schema_for("qt65"), {}, {})


def test_corrupt_manifest_is_refused(tmp_path, saved):
    folder = copy_bundle(saved, tmp_path / "b")
    text = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(text[: len(text) // 2])  # truncated
    pattern = r"manifest.json is not valid JSON \(.* at line \d+ column \d+\)$"
    with pytest.raises(BundleError, match=pattern) as info:
        ModelBundle.load(folder)
    assert "\n" not in str(info.value)
    (folder / "manifest.json").write_text("[1, 2]")
    with pytest.raises(BundleError, match="is not a QuantumTrader model manifest"):
        ModelBundle.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(BundleError, match=r"missing file manifest\.json"):
        ModelBundle.load(folder)
    with pytest.raises(BundleError, match=r"no model bundle at .*: no such folder"):
        ModelBundle.load(tmp_path / "nowhere")


def test_unknown_format_version_and_missing_fields_are_refused(tmp_path, saved):
    folder = copy_bundle(saved, tmp_path / "b")
    edit_manifest(folder, format_version=99)
    with pytest.raises(BundleError, match="unknown format version 99 \\(this version reads 1\\)"):
        ModelBundle.load(folder)
    m = json.loads((saved / "manifest.json").read_text())
    del m["sampler"]
    write_signed(folder, m)
    with pytest.raises(BundleError, match="missing field 'sampler'"):
        ModelBundle.load(folder)
    m = json.loads((saved / "manifest.json").read_text())
    m["features"]["schema_hash"] = "0" * 64
    write_signed(folder, m)
    with pytest.raises(BundleError, match="schema_hash does not match its feature names"):
        ModelBundle.load(folder)


def test_an_edited_manifest_is_refused(tmp_path, saved):
    folder = copy_bundle(saved, tmp_path / "b")
    text = (folder / "manifest.json").read_text()
    weight = json.loads(text)["models"][0]["weight"]
    (folder / "manifest.json").write_text(text.replace(f'"weight": {weight}', '"weight": 0.99', 1))
    with pytest.raises(BundleError, match=r"^tampered or corrupt: b/manifest\.json checksum differs$"):
        ModelBundle.load(folder)
    m = json.loads(text)
    m["promoted"] = True  # promoting by hand, without the gate
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match=r"manifest\.json checksum differs"):
        ModelBundle.load(folder, allow_unvalidated=False)
    del m["manifest_sha256"]  # and without a checksum at all
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(BundleError, match=r"manifest\.json checksum differs"):
        ModelBundle.load(folder)


@pytest.mark.parametrize("file", ["xgboost.json", "forest.skops"])
def test_tampered_or_truncated_model_file_is_refused(tmp_path, saved, file):
    folder = copy_bundle(saved, tmp_path / "b")
    data = (folder / file).read_bytes()
    (folder / file).write_bytes(data[: len(data) - 10])
    with pytest.raises(BundleError, match=rf"^tampered or corrupt: b/{file} checksum differs$"):
        ModelBundle.load(folder)
    (folder / file).unlink()
    with pytest.raises(BundleError, match=rf"missing file {file}$"):
        ModelBundle.load(folder)


def test_reading_a_forest_runs_no_module_of_the_current_folder(tmp_path):
    """skops, importing, asks every loaded module for scipy's ufunc names;
    Cython's Shadow module imports whatever it is asked for.  A file named like
    a ufunc beside the user's data must not run (a fresh interpreter, since
    skops may already be imported here)."""
    (tmp_path / "exp1.py").write_text("open(__file__ + '.ran', 'w').close()\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import scipy.sparse;"
        "from quantumtrader.models.bundle import load_forest, save_forest;"
        "from sklearn.ensemble import RandomForestClassifier;"
        "import numpy as np;"
        "save_forest(RandomForestClassifier(2).fit(np.eye(3), [0, 1, 2]), sys.argv[1] + '/f.skops');"
        "load_forest(sys.argv[1] + '/f.skops')"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "exp1.py.ran").exists()


def test_a_forest_file_of_another_estimator_is_refused(tmp_path):
    F, y = rows77(200)
    save_forest(LogisticRegression(max_iter=50).fit(F, y), tmp_path / "forest.skops")  # type: ignore[arg-type]
    with pytest.raises(BundleError, match="holds a LogisticRegression, not a RandomForestClassifier"):
        load_forest(tmp_path / "forest.skops")
    (tmp_path / "junk.skops").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(BundleError, match="is not a readable forest"):
        load_forest(tmp_path / "junk.skops")


def test_schema_the_engine_does_not_produce_names_the_features(saved):
    with pytest.raises(SchemaMismatch) as info:
        ModelBundle.load(saved, engine_schema=schema_for("qt65"))
    message = str(info.value)
    assert "\n" not in message and "does not produce this model's features" in message
    assert "missing features: spread, spread_ticks, microprice_dev" in message
    assert "book_update_rate" in message
    swapped = list(QT77_NAMES)
    i, j = swapped.index("hour"), swapped.index("minute")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    with pytest.raises(SchemaMismatch, match=r"reordered features: (minute, hour|hour, minute)$"):
        ModelBundle.load(saved, engine_schema=FeatureSchema("custom", swapped))
    with pytest.raises(SchemaMismatch, match="spec version"):
        ModelBundle.load(saved, engine_schema=FeatureSchema("qt77", QT77_NAMES, "qt-features/2"))


def test_a_qt65_bundle_runs_on_either_engine(tmp_path):
    make_bundle("qt65").save(tmp_path / "m65")
    for engine in (None, schema_for("qt65"), schema_for("qt77")):
        b = ModelBundle.load(tmp_path / "m65", engine_schema=engine)
        assert b.schema.names == QT65_NAMES
        np.testing.assert_array_equal(b.feature_index, np.arange(65))
    F, _ = rows77(400, seed=2)
    F[:, 65:] = np.nan  # no book: a qt65 model does not look at it
    p = b.predict_proba(F)
    assert not np.isnan(p).any()
    np.testing.assert_allclose(p, b.native_proba(F), atol=1e-5)


def test_unpromoted_bundle_is_refused_only_when_validation_is_required(tmp_path, saved):
    folder = copy_bundle(saved, tmp_path / "b")
    ModelBundle.load(folder)  # allow_unvalidated=True by default
    with pytest.raises(BundleError, match="not promoted by the gate; refusing an unvalidated model"):
        ModelBundle.load(folder, allow_unvalidated=False)
    b = ModelBundle.load(folder)
    b.mark_promoted(False, {"passed": False, "failed": ["sharpe", "max_drawdown"], "sharpe": 0.4})
    with pytest.raises(BundleError, match="the gate refused it \\(sharpe, max_drawdown\\)"):
        ModelBundle.load(folder, allow_unvalidated=False)
    b.mark_promoted(True, {"passed": True, "failed": [], "sharpe": 1.9})
    again = ModelBundle.load(folder, allow_unvalidated=False)
    assert again.promoted is True and again.gate == {"passed": True, "failed": [], "sharpe": 1.9}
    assert again.files == b.files  # the native files are untouched
    assert sorted(p.name for p in folder.iterdir()) == ["forest.skops", "manifest.json", "xgboost.json"]


def test_mark_promoted_needs_the_same_bundle_on_disk(tmp_path, saved):
    with pytest.raises(BundleError, match="has not been saved"):
        make_bundle().mark_promoted(True, {})
    folder = copy_bundle(saved, tmp_path / "b")
    b = ModelBundle.load(folder)
    make_bundle().save(folder, replace=True)  # another bundle replaced it meanwhile
    with pytest.raises(BundleError, match="changed since it was loaded"):
        b.mark_promoted(True, {})


def test_predict_proba_compiled_equals_native_and_nan_rows_are_not_predicted(tmp_path, saved):
    b = ModelBundle.load(copy_bundle(saved, tmp_path / "b"))
    F, _ = rows77(500, seed=4)
    F[7, 3] = np.nan
    F[11, 76] = np.nan
    p = b.predict_proba(F)
    q = b.native_proba(F)
    assert p.shape == (500, 3) and p.dtype == np.float64
    nan_rows = np.isnan(p).any(axis=1)
    np.testing.assert_array_equal(np.flatnonzero(nan_rows), [7, 11])
    np.testing.assert_array_equal(np.isnan(q), np.isnan(p))
    np.testing.assert_allclose(p[~nan_rows], q[~nan_rows], atol=1e-5, rtol=0)
    np.testing.assert_allclose(p[~nan_rows].sum(axis=1), 1.0, atol=1e-6)
    one = b.predict_proba(F[0])  # a single row
    np.testing.assert_allclose(one, p[:1])
    with pytest.raises(ValueError, match="engine's rows \\(n, 77\\)"):
        b.predict_proba(F[:, :65])
    with pytest.raises(BundleError, match="has not been saved"):
        make_bundle().predict_proba(F)


def test_a_compiled_library_for_another_platform_is_rebuilt_on_load(tmp_path, saved):
    folder = copy_bundle(saved, tmp_path / "b")
    (folder / "compiled").mkdir()
    cache = folder / "compiled" / mc.platform_tag()
    cache.mkdir()
    for p in (saved / "compiled" / mc.platform_tag()).iterdir():
        (cache / p.name).write_bytes(p.read_bytes())
    for build in cache.glob("*.build.json"):
        record = json.loads(build.read_text())
        record.update(platform="win32", machine="AMD64", toolchain="msvc", key="e" * 64)
        build.write_text(json.dumps(record))
        (cache / record["library"]).write_bytes(b"MZ\x90\x00 a Windows DLL")
    b = ModelBundle.load(folder)
    F, _ = rows77(200, seed=5)
    np.testing.assert_allclose(b.predict_proba(F), b.native_proba(F), atol=1e-5)
    for build in cache.glob("*.build.json"):
        assert json.loads(build.read_text())["platform"] != "win32"
