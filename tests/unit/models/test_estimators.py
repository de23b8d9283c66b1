"""Estimators of the ensemble: configuration checks, deterministic fits, the
three probability columns (also for a fold that misses a class), refusal of
empty and one-class training sets, and the soft-vote weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xgboost as xgb

from quantumtrader.models.classes import CLASSES, LABELS, class_to_label, label_to_class
from quantumtrader.models.estimators import (
    ModelConfig,
    fit_forest,
    fit_xgboost,
    native_proba,
    soft_vote_weights,
)

TINY = ModelConfig(rf_trees=5, rf_depth=4, rf_min_samples_leaf=5, xgb_trees=8, xgb_depth=3)


def planted(n: int = 1500, k: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Classes that depend on the first two features (a learnable signal)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0.5, 2, np.where(X[:, 0] + 0.3 * X[:, 1] < -0.5, 0, 1))
    return X, y


def test_classes_convention():
    assert CLASSES == ("sell", "hold", "buy") and LABELS == (-1, 0, 1)
    np.testing.assert_array_equal(label_to_class([-1, 0, 1, 1]), [0, 1, 2, 2])
    np.testing.assert_array_equal(class_to_label([0, 1, 2]), [-1, 0, 1])
    with pytest.raises(ValueError, match="labels must be -1, 0 or 1"):
        label_to_class([2])
    with pytest.raises(ValueError, match="classes must be 0, 1 or 2"):
        class_to_label([-1])


def test_config_defaults_and_validation():
    cfg = ModelConfig()
    assert (cfg.rf_trees, cfg.rf_depth, cfg.rf_min_samples_leaf) == (100, 8, 20)
    assert (cfg.xgb_trees, cfg.xgb_depth, cfg.xgb_learning_rate, cfg.xgb_subsample) == (200, 4, 0.1, 0.8)
    assert (cfg.seed, cfg.n_jobs) == (0, 1)
    assert cfg.as_dict()["xgb_trees"] == 200
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.rf_trees = 3  # type: ignore[misc]
    bad = [
        {"rf_trees": 0},
        {"xgb_depth": -1},
        {"n_jobs": 0},
        {"seed": -2},
        {"rf_trees": 2.5},
        {"rf_trees": True},
        {"xgb_learning_rate": 0.0},
        {"xgb_learning_rate": float("nan")},
        {"xgb_subsample": 1.5},
        {"xgb_subsample": "0.5"},
    ]
    for kwargs in bad:
        with pytest.raises(ValueError, match=f"model config {next(iter(kwargs))}"):
            ModelConfig(**kwargs)


def test_model_predictions_are_probabilities_that_learn_the_signal():
    X, y = planted()
    for model in (fit_forest(X, y, None, TINY), fit_xgboost(X, y, None, TINY)):
        p = native_proba(model, X)
        assert p.shape == (len(X), 3) and p.dtype == np.float64
        assert np.all(p >= 0) and np.all(p <= 1)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
        accuracy = (p.argmax(axis=1) == y).mean()
        prior = np.bincount(y).max() / len(y)
        assert accuracy > prior + 0.15, (type(model).__name__, accuracy, prior)


def test_fits_are_deterministic_for_a_seed():
    X, y = planted(800)
    w = np.linspace(0.2, 1.0, len(y))
    for fit in (fit_forest, fit_xgboost):
        a = native_proba(fit(X, y, w, TINY), X)
        b = native_proba(fit(X, y, w, TINY), X)
        np.testing.assert_array_equal(a, b)
        c = native_proba(fit(X, y, w, dataclasses.replace(TINY, seed=7)), X)
        assert not np.array_equal(a, c), fit.__name__


def test_sample_weights_matter():
    X, y = planted(800)
    w = np.where(y == 2, 5.0, 0.2)
    for fit in (fit_forest, fit_xgboost):
        plain = native_proba(fit(X, y, None, TINY), X)
        weighted = native_proba(fit(X, y, w, TINY), X)
        assert weighted[:, 2].mean() > plain[:, 2].mean() + 0.05, fit.__name__


def test_xgboost_is_multiclass_softprob_on_float32_inputs():
    X, y = planted(600)
    booster = fit_xgboost(X, y, None, TINY)
    assert isinstance(booster, xgb.Booster) and booster.num_features() == X.shape[1]
    # XGBoost compares float32 values: a float64 input and its float32 cast predict alike
    np.testing.assert_array_equal(native_proba(booster, X), native_proba(booster, X.astype(np.float32)))


def test_a_fold_without_a_class_still_gives_three_columns():
    X, y = planted()
    keep = y != 1  # no hold in this fold
    forest = fit_forest(X[keep], y[keep], None, TINY, require_all_classes=False)
    p = native_proba(forest, X)
    assert p.shape == (len(X), 3)
    assert np.all(p[:, 1] == 0.0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    booster = fit_xgboost(X[keep], y[keep], None, TINY, require_all_classes=False)
    q = native_proba(booster, X)
    assert q.shape == (len(X), 3) and q[:, 1].max() < 0.5
    one = fit_forest(X[y == 2], y[y == 2], None, TINY, require_all_classes=False)
    np.testing.assert_array_equal(native_proba(one, X[:5]), np.tile([0.0, 0.0, 1.0], (5, 1)))


@pytest.mark.parametrize("fit", [fit_forest, fit_xgboost])
def test_one_class_and_empty_training_sets_are_refused(fit):
    X, y = planted()
    only_buy = y == 2
    with pytest.raises(ValueError, match=r"^training set has only classes buy: need sell, hold and buy$"):
        fit(X[only_buy], y[only_buy], None, TINY)
    two = y != 0
    with pytest.raises(ValueError, match=r"^training set has only classes hold, buy: need sell, hold and b"):
        fit(X[two], y[two], None, TINY)
    # a class present only with weight 0 is not trained on
    w = np.where(y == 0, 0.0, 1.0)
    with pytest.raises(ValueError, match="only classes hold, buy"):
        fit(X, y, w, TINY)
    with pytest.raises(ValueError, match=r"^training set is empty: no rows to train on$"):
        fit(X[:0], y[:0], None, TINY)
    with pytest.raises(ValueError, match=r"^training set is empty"):
        fit(X[:0], y[:0], None, TINY, require_all_classes=False)


@pytest.mark.parametrize("fit", [fit_forest, fit_xgboost])
def test_bad_training_inputs_are_one_line_errors(fit):
    X, y = planted(300)
    Xn = X.copy()
    Xn[3, 2] = np.nan
    cases = [
        ((Xn, y, None), "NaN or infinity"),
        ((X, y[:-1], None), "training labels"),
        ((X, y + 1, None), "0 \\(sell\\), 1 \\(hold\\) or 2 \\(buy\\)"),
        ((X, y, -np.ones(len(y))), "sample weights must be"),
        ((X, y, np.zeros(len(y))), "sample weights must be"),
        ((X, y, np.ones(3)), "sample weights"),
        ((X[:, 0], y, None), "must be a matrix"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            fit(*args, TINY)
        assert "\n" not in str(info.value)


def test_native_proba_checks_its_input():
    X, y = planted(300)
    forest, booster = fit_forest(X, y, None, TINY), fit_xgboost(X, y, None, TINY)
    for model in (forest, booster):
        assert native_proba(model, X[:0]).shape == (0, 3)
        with pytest.raises(ValueError, match="features"):
            native_proba(model, X[:, :3])
    with pytest.raises(TypeError, match="not a model of the ensemble"):
        native_proba(object(), X)  # type: ignore[arg-type]


def test_soft_vote_weights_are_inverse_log_loss():
    w = soft_vote_weights({"xgboost": 0.5, "forest": 1.0})
    assert list(w) == ["xgboost", "forest"]
    assert w["xgboost"] == pytest.approx(2 / 3) and w["forest"] == pytest.approx(1 / 3)
    assert soft_vote_weights({"a": 0.9, "b": 0.9}) == {"a": 0.5, "b": 0.5}
    assert soft_vote_weights({"only": 1.1}) == {"only": 1.0}
    for bad in ({}, {"a": 0.0}, {"a": -1.0}, {"a": float("nan")}, {"a": float("inf")}, {"a": "0.5"}):
        with pytest.raises(ValueError):
            soft_vote_weights(bad)  # type: ignore[arg-type]
