"""Compiled models against their own libraries, on the C engine's feature rows.

A synthetic session with a planted signal (``simulate_market``) runs through
the feature engine; a small RF + XGBoost bundle is trained on its rows
(labels: the sign of the next 30 trades' log return, beyond half its
standard deviation)
and saved; then, for every model of the bundle and for the ensemble, the
compiled library (tl2cgen, opened by the core) must give the probabilities
XGBoost and scikit-learn give, within 1e-5, on every predicted row (> 2,000).
XGBoost compares float32 values: its compiled library is fed float32-cast
entries, exactly as XGBoost casts them.  Rows with NaN (warm-up) are not
predicted on either path.

Named after the original plan: ``test_model_predictions`` (real probabilities
in (0, 1) summing to 1, varying with the input), ``test_ensemble_voting`` (the
weighted soft vote of the members) and ``test_prediction_confidence``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantumtrader.data.synth import simulate_market
from quantumtrader.features.schema import QT65_NAMES, QT77_NAMES, schema_for
from quantumtrader.models.bundle import ModelBundle
from quantumtrader.models.estimators import (
    ModelConfig,
    fit_forest,
    fit_xgboost,
    native_proba,
    soft_vote_weights,
)
from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine
from quantumtrader.qtcore.predict import CompiledModel, Sampler

SMALL = ModelConfig(rf_trees=12, rf_depth=6, rf_min_samples_leaf=10, xgb_trees=15, xgb_depth=4)
HORIZON = 30
LOG_RETURN = QT77_NAMES.index("log_returns_1")


@pytest.fixture(scope="module")
def market():
    return simulate_market(1, seed=11, signal=0.5, trades_per_day=5000)


@pytest.fixture(scope="module")
def engine_rows(market) -> tuple[np.ndarray, np.ndarray]:
    """The engine's rows (n, 77) of one synthetic session and their class labels."""
    rows = FeatureEngine(market.tick_size, market.price_unit).run(market.events)[2]
    r = np.nan_to_num(rows[:, LOG_RETURN])
    log_price = np.concatenate([[0.0], np.cumsum(r)])  # after row i: log_price[i + 1]
    n = len(r)
    forward = log_price[np.minimum(np.arange(n) + 1 + HORIZON, n)] - log_price[1 : n + 1]
    width = 0.5 * np.std(forward)
    y = np.where(forward > width, 2, np.where(forward < -width, 0, 1))
    return rows, y


def train_bundle(set_name: str, rows: np.ndarray, y: np.ndarray, folder: Path) -> ModelBundle:
    schema = schema_for(set_name)
    X = rows[:, [QT77_NAMES.index(n) for n in schema.names]]
    keep = ~np.isnan(X).any(axis=1)
    w = np.linspace(0.5, 1.5, int(keep.sum()))
    models = {
        "xgboost": fit_xgboost(X[keep], y[keep], w, SMALL),
        "forest": fit_forest(X[keep], y[keep], w, SMALL),
    }
    bundle = ModelBundle(schema, models, soft_vote_weights({"xgboost": 0.95, "forest": 1.02}))
    bundle.save(folder)
    return ModelBundle.load(folder)


@pytest.fixture(scope="module")
def bundles(engine_rows, tmp_path_factory) -> dict[str, ModelBundle]:
    rows, y = engine_rows
    root = tmp_path_factory.mktemp("parity")
    return {s: train_bundle(s, rows, y, root / s) for s in ("qt77", "qt65")}


def predicted(bundle: ModelBundle, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = rows[:, bundle.feature_index]
    ok = ~np.isnan(x).any(axis=1)
    return x[ok], ok


@pytest.mark.parametrize("set_name", ["qt77", "qt65"])
def test_every_compiled_model_equals_its_native_library(bundles, engine_rows, set_name):
    bundle = bundles[set_name]
    rows, _ = engine_rows
    x, ok = predicted(bundle, rows)
    assert len(x) >= 2000, len(x)
    paths = bundle.compiled_paths()
    assert set(paths) == {"xgboost", "forest"}
    for name, model in bundle.models.items():
        compiled = CompiledModel(paths[name])
        assert compiled.num_feature == len(bundle.schema) and compiled.num_class == 3
        if name == "xgboost":
            assert compiled.threshold_type == "float32"  # fed float32 entries, like XGBoost itself
        got = compiled.predict_proba(x)
        want = native_proba(model, x)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0, err_msg=f"{set_name} {name}")
    p, q = bundle.predict_proba(rows), bundle.native_proba(rows)
    np.testing.assert_array_equal(np.isnan(p).any(axis=1), ~ok)  # warm-up rows: not predicted
    np.testing.assert_array_equal(np.isnan(q), np.isnan(p))
    np.testing.assert_allclose(p[ok], q[ok], atol=1e-5, rtol=0)


def test_model_predictions(bundles, engine_rows):
    """Real probabilities: in (0, 1), summing to 1, and they follow the input."""
    bundle = bundles["qt77"]
    rows, _ = engine_rows
    _, ok = predicted(bundle, rows)
    p = bundle.predict_proba(rows)[ok]
    assert np.all(p > 0) and np.all(p < 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert p.std(axis=0).min() > 0.01, p.std(axis=0)
    assert len(np.unique(p.round(6), axis=0)) > len(p) // 10
    assert len(np.unique(p.argmax(axis=1))) >= 2  # not one class for every row
    # the same row always gives the same answer; a changed row a different one
    again = bundle.predict_proba(rows[ok][:50])
    np.testing.assert_array_equal(again, p[:50])
    moved = rows[ok][:50].copy()
    moved[:, bundle.feature_index] = moved[::-1][:, bundle.feature_index]
    assert not np.allclose(bundle.predict_proba(moved), again)


def test_ensemble_voting(bundles, engine_rows):
    """The ensemble is the weighted mean of its members' compiled probabilities."""
    bundle = bundles["qt77"]
    rows, _ = engine_rows
    x, ok = predicted(bundle, rows)
    paths = bundle.compiled_paths()
    members = {name: CompiledModel(paths[name]).predict_proba(x) for name in bundle.models}
    w = bundle.weights
    assert sum(w.values()) == pytest.approx(1.0) and w["xgboost"] > w["forest"]  # lower log loss, more say
    vote = sum(w[name] * members[name] for name in members)
    p = bundle.predict_proba(rows)[ok]
    np.testing.assert_allclose(p, vote, atol=1e-12)
    low = np.minimum(members["xgboost"], members["forest"]) - 1e-12
    high = np.maximum(members["xgboost"], members["forest"]) + 1e-12
    assert np.all((p >= low) & (p <= high))
    assert not np.allclose(p, members["xgboost"]) and not np.allclose(p, members["forest"])
    ens = bundle.ensemble()
    assert ens.weights == pytest.approx(tuple(w[n] for n in bundle.models))
    np.testing.assert_array_equal(ens.feature_index, bundle.feature_index)


def test_prediction_confidence(bundles, engine_rows):
    """Confidence (the highest probability) lies in [1/3, 1), varies, and the
    model is more often right where it is more confident (in sample)."""
    bundle = bundles["qt77"]
    rows, y = engine_rows
    _, ok = predicted(bundle, rows)
    p = bundle.predict_proba(rows)[ok]
    confidence = p.max(axis=1)
    assert np.all(confidence >= 1 / 3 - 1e-12) and np.all(confidence < 1)
    assert confidence.std() > 0.01
    right = p.argmax(axis=1) == y[ok]
    order = np.argsort(confidence)
    third = len(order) // 3
    assert right[order[-third:]].mean() > right[order[:third]].mean()


def test_qt65_bundle_ignores_the_book(bundles, engine_rows):
    bundle = bundles["qt65"]
    rows, _ = engine_rows
    assert bundle.schema.names == QT65_NAMES
    no_book = rows.copy()
    no_book[:, 65:] = np.nan  # a Profit CSV export: no book features
    np.testing.assert_array_equal(bundle.predict_proba(no_book), bundle.predict_proba(rows))


def test_the_drain_loop_predicts_what_the_native_models_predict(bundles, market):
    """The bundle's ensemble as the C drain loop's decision hook (sampler
    ``every``): at every stop its last prediction is the native soft vote of
    the row the engine just produced, and every row without NaN was predicted."""
    bundle = bundles["qt77"]
    ensemble = bundle.ensemble(Sampler("every"))
    hook = ensemble.drain_hook()
    engine = FeatureEngine(market.tick_size, market.price_unit)
    events = market.events
    batch = FeatureBatch(int(np.count_nonzero(events["type"] == 1)), 1, hook=hook)
    compared = 0
    for start, stop in zip(range(0, len(events), 2999), range(2999, len(events) + 2999, 2999), strict=True):
        engine.drain(events[start:stop], batch)
        n = batch.rows
        last = batch.matrix[n - 1 : n]
        if n == 0 or np.isnan(last[:, bundle.feature_index]).any():
            continue
        decision = ensemble.last_decision(hook)
        assert decision["trade_number"] == batch.trade_number[n - 1]
        want = bundle.native_proba(last)[0]
        np.testing.assert_allclose(decision["output"], want, atol=1e-5, rtol=0)
        assert decision["action"] == int(np.argmax(decision["output"])) - 1
        compared += 1
    assert compared >= 5
    rows = batch.matrix[: batch.rows]
    counters = ensemble.hook_counters(hook)
    usable = int((~np.isnan(rows[:, bundle.feature_index]).any(axis=1)).sum())
    assert counters["rows"] == batch.rows and counters["predicted"] == usable
