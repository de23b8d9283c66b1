"""The two estimators of the ensemble and their soft vote.

Contract:
- ``X`` is a float64 matrix (n, k) without NaN (rows with NaN in the model's
  features are dropped before training, the spec's rule); ``y_class`` holds
  class indices 0 sell, 1 hold, 2 buy (``classes``); ``weight`` the sample
  weights (non-negative, finite, not all zero; None = all 1).
- ``fit_forest`` returns a scikit-learn RandomForestClassifier, ``fit_xgboost``
  an ``xgboost.Booster`` (``multi:softprob``, 3 classes, ``hist``).  Both are
  deterministic for a given ``ModelConfig.seed`` and ``n_jobs``.
- ``require_all_classes`` (default True, the final model of a bundle): a
  training set without sell, hold and buy is refused with a one-line
  ValueError.  Cross-validation folds may miss a class (pass False):
  ``native_proba`` still returns the three columns, 0 for a class the forest
  never saw (XGBoost always has three outputs).
- XGBoost works in float32: it casts its inputs, at training and prediction,
  so ``native_proba`` of a Booster equals the compiled model fed the same
  float32-cast entries (the parity test's reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier

from quantumtrader.models.classes import CLASSES

N_CLASSES = len(CLASSES)


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and learning parameters of both estimators (validated on creation)."""

    rf_trees: int = 100
    rf_depth: int = 8
    rf_min_samples_leaf: int = 20
    xgb_trees: int = 200
    xgb_depth: int = 4
    xgb_learning_rate: float = 0.1
    xgb_subsample: float = 0.8
    seed: int = 0
    n_jobs: int = 1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    raise ValueError(f"model config {f.name} must be an integer, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ValueError(f"model config {f.name} must be a number, got {value!r}")
        positive = ("rf_trees", "rf_depth", "rf_min_samples_leaf", "xgb_trees", "xgb_depth", "n_jobs")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"model config {name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"model config seed must be >= 0, got {self.seed}")
        if not (math.isfinite(self.xgb_learning_rate) and 0 < self.xgb_learning_rate <= 1):
            raise ValueError(
                f"model config xgb_learning_rate must be in (0, 1], got {self.xgb_learning_rate}"
            )
        if not (math.isfinite(self.xgb_subsample) and 0 < self.xgb_subsample <= 1):
            raise ValueError(f"model config xgb_subsample must be in (0, 1], got {self.xgb_subsample}")

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for the manifest."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _training_set(
    X: npt.ArrayLike, y_class: npt.ArrayLike, weight: npt.ArrayLike | None, require_all_classes: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (X float64 C-contiguous, y int64, w float64); one-line ValueError otherwise."""
    x = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y_class)
    if x.ndim != 2:
        raise ValueError(f"training features must be a matrix (rows, features), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("training set is empty: no rows to train on")
    if x.shape[1] == 0:
        raise ValueError("training set has no features")
    if y.shape != (x.shape[0],):
        raise ValueError(f"training labels: {y.shape} for {x.shape[0]} rows")
    if not np.isfinite(x).all():
        raise ValueError("training features contain NaN or infinity: drop those rows first")
    if not np.isin(y, (0, 1, 2)).all():
        raise ValueError("training classes must be 0 (sell), 1 (hold) or 2 (buy)")
    y = y.astype(np.int64)
    if weight is None:
        w = np.ones(x.shape[0])
    else:
        w = np.asarray(weight, dtype=np.float64)
        if w.shape != (x.shape[0],):
            raise ValueError(f"sample weights: {w.shape} for {x.shape[0]} rows")
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError("sample weights must be finite, >= 0 and not all zero")
    if require_all_classes:
        present = sorted(set(np.unique(y[w > 0]).tolist()))
        if present != [0, 1, 2]:
            names = ", ".join(CLASSES[c] for c in present)
            raise ValueError(f"training set has only classes {names}: need sell, hold and buy")
    return x, y, w


def fit_forest(
    X: npt.ArrayLike,
    y_class: npt.ArrayLike,
    weight: npt.ArrayLike | None,
    cfg: ModelConfig,
    *,
    require_all_classes: bool = True,
) -> RandomForestClassifier:
    """A Random Forest on (X, y_class) with sample weights (see module contract)."""
    x, y, w = _training_set(X, y_class, weight, require_all_classes)
    model = RandomForestClassifier(
        n_estimators=cfg.rf_trees,
        max_depth=cfg.rf_depth,
        min_samples_leaf=cfg.rf_min_samples_leaf,
        random_state=cfg.seed,
        n_jobs=cfg.n_jobs,
    )
    return model.fit(x, y, sample_weight=w)


def xgboost_params(cfg: ModelConfig) -> dict[str, Any]:
    """The Booster parameters ``fit_xgboost`` trains with."""
    return {
        "objective": "multi:softprob",
        "num_class": N_CLASSES,
        "tree_method": "hist",
        "max_depth": cfg.xgb_depth,
        "eta": cfg.xgb_learning_rate,
        "subsample": cfg.xgb_subsample,
        "seed": cfg.seed,
        "nthread": cfg.n_jobs,
        "eval_metric": "mlogloss",
        "verbosity": 0,
    }


def fit_xgboost(
    X: npt.ArrayLike,
    y_class: npt.ArrayLike,
    weight: npt.ArrayLike | None,
    cfg: ModelConfig,
    *,
    require_all_classes: bool = True,
) -> xgb.Booster:
    """An XGBoost Booster (multi:softprob, 3 classes, hist) on (X, y_class)
    with sample weights (see module contract)."""
    x, y, w = _training_set(X, y_class, weight, require_all_classes)
    dtrain = xgb.DMatrix(x, label=y, weight=w, nthread=cfg.n_jobs)
    return xgb.train(xgboost_params(cfg), dtrain, num_boost_round=cfg.xgb_trees)


def native_proba(model: RandomForestClassifier | xgb.Booster, X: npt.ArrayLike) -> np.ndarray:
    """Class probabilities (n, 3) float64 from the model's own library (the
    research path and the parity reference).  A forest trained without some
    class gets 0 in that column.  ``X`` must be finite (rows with NaN are not
    predicted: the caller leaves them out)."""
    x = np.ascontiguousarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be a matrix (rows, features), got shape {x.shape}")
    out = np.zeros((x.shape[0], N_CLASSES))
    if x.shape[0] == 0:
        return out
    if isinstance(model, xgb.Booster):
        if model.num_features() != x.shape[1]:
            raise ValueError(f"XGBoost model takes {model.num_features()} features, got {x.shape[1]}")
        p = model.inplace_predict(x.astype(np.float32), predict_type="value")
        p = np.asarray(p, dtype=np.float64).reshape(x.shape[0], -1)
        if p.shape[1] != N_CLASSES:
            raise ValueError(f"XGBoost model has {p.shape[1]} outputs, expected 3 (sell, hold, buy)")
        out[:] = p
        return out
    if isinstance(model, RandomForestClassifier):
        if model.n_features_in_ != x.shape[1]:
            raise ValueError(f"forest takes {model.n_features_in_} features, got {x.shape[1]}")
        cols = np.asarray(model.classes_, dtype=np.int64)
        out[:, cols] = model.predict_proba(x)
        return out
    raise TypeError(f"not a model of the ensemble: {type(model).__name__}")


def soft_vote_weights(oof_log_loss: dict[str, float]) -> dict[str, float]:
    """Soft-vote weights from each model's out-of-fold log loss: w_m proportional
    to 1 / logloss_m, normalised to sum 1, in the order given.

    Why: log loss is a proper scoring rule of the probabilities themselves
    (what the vote averages), measured out of fold, so it rewards calibrated
    models and not lucky argmaxes; the inverse keeps every model in the vote
    (equal losses give equal weights, a model twice as bad counts half), where
    picking the best alone throws away the variance reduction of averaging, and
    weights like exp(-loss) would hinge on an arbitrary temperature.  Losses
    must be finite and > 0 (a loss of 0 is a perfect, leaking fit)."""
    if not oof_log_loss:
        raise ValueError("soft vote needs at least one model's out-of-fold log loss")
    for name, loss in oof_log_loss.items():
        if isinstance(loss, bool) or not isinstance(loss, (int, float, np.floating)):
            raise ValueError(f"out-of-fold log loss of {name} is not a number: {loss!r}")
        if not (math.isfinite(loss) and loss > 0):
            raise ValueError(f"out-of-fold log loss of {name} must be finite and > 0, got {loss}")
    inverse = {name: 1.0 / float(loss) for name, loss in oof_log_loss.items()}
    total = sum(inverse.values())
    return {name: v / total for name, v in inverse.items()}
