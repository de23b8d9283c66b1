"""Classification metrics of out-of-fold probabilities, and calibration data for the report.

Classes follow the models' convention: index 0 = sell (label -1), 1 = hold (label 0),
2 = buy (label +1); probabilities are float64 (n, 3) in that order. Every result is a
plain JSON-safe dict: numbers are Python floats/ints, and a value that is undefined
(a precision for a class never predicted, an empty calibration bin) is ``None``.

Sample weights, when given, weight every sum (log loss, accuracy, class frequencies,
precision, recall, calibration); ``count`` is always the number of samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from quantumtrader.models.classes import CLASSES

__all__ = ["CLASS_NAMES", "EPS", "calibration_curve", "classification_metrics"]

# Must equal quantumtrader.models.classes.CLASSES (the integrator's module, ISSUE9.md order).
CLASS_NAMES: tuple[str, ...] = CLASSES  # the one order (models/classes.py)
EPS = 1e-15  # probabilities are clipped to [EPS, 1 - EPS] before the logarithm


def _inputs(
    y_class: npt.ArrayLike, proba: npt.ArrayLike, sample_weight: npt.ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_class)
    p = np.asarray(proba, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y_class must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("no samples to score")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_class must be class indices 0/1/2, got dtype {y.dtype}")
    if y.min() < 0 or y.max() > 2:
        raise ValueError(
            f"y_class must be class indices 0 (sell), 1 (hold), 2 (buy), got {y.min()}..{y.max()}"
        )
    if p.shape != (y.size, 3):
        raise ValueError(f"proba must be shaped ({y.size}, 3) (sell, hold, buy), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"proba has {int((~np.isfinite(p)).any(axis=1).sum())} rows with NaN or inf")
    if sample_weight is None:
        w = np.ones(y.size, dtype=np.float64)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != (y.size,):
            raise ValueError(f"sample_weight must be shaped ({y.size},), got {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("sample_weight must be finite, >= 0 and not all zero")
    return y.astype(np.int64), p, w


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def classification_metrics(
    y_class: npt.ArrayLike, proba: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
) -> dict[str, Any]:
    """Score probabilities ``proba`` (n, 3) against true classes ``y_class`` (n,) in {0, 1, 2}.

    Returns a dict with:

    - ``log_loss``: weighted mean of -ln p[y], p clipped to [1e-15, 1 - 1e-15] (not renormalised);
    - ``accuracy``: weighted share of samples whose argmax class equals y (ties -> lowest index);
    - ``prior``: weighted share of the most frequent class in y (the accuracy of always
      predicting it), and ``prior_log_loss``: the log loss of predicting the class frequencies
      of y for every sample (-sum f_c ln f_c, f clipped like p), the baseline a model must beat;
    - ``precision`` / ``recall``: {"sell", "hold", "buy"} -> float or None when undefined
      (class never predicted / never present);
    - ``support``: {"sell", "hold", "buy"} -> number of samples of that true class;
    - ``count``: number of samples.

    Raises ValueError (one line) on empty input, classes outside 0..2, a wrong proba shape,
    NaN/inf probabilities or bad weights."""
    y, p, w = _inputs(y_class, proba, sample_weight)
    total = float(w.sum())
    p_true = np.clip(p[np.arange(y.size), y], EPS, 1.0 - EPS)
    log_loss = float(-(w * np.log(p_true)).sum() / total)
    predicted = np.argmax(p, axis=1)
    accuracy = float(w[predicted == y].sum() / total)
    freq = np.bincount(y, weights=w, minlength=3) / total
    freq_clipped = np.clip(freq, EPS, 1.0 - EPS)
    prior_log_loss = float(-(freq * np.log(freq_clipped)).sum())
    precision: dict[str, float | None] = {}
    recall: dict[str, float | None] = {}
    support: dict[str, int] = {}
    for c, name in enumerate(CLASS_NAMES):
        hit = float(w[(predicted == c) & (y == c)].sum())
        precision[name] = _ratio(hit, float(w[predicted == c].sum()))
        recall[name] = _ratio(hit, float(w[y == c].sum()))
        support[name] = int((y == c).sum())
    return {
        "log_loss": log_loss,
        "accuracy": accuracy,
        "prior": float(freq.max()),
        "prior_log_loss": prior_log_loss,
        "precision": precision,
        "recall": recall,
        "support": support,
        "count": int(y.size),
    }


def _binned(
    confidence: np.ndarray, correct: np.ndarray, w: np.ndarray, edges: np.ndarray
) -> dict[str, list[float | None] | list[int] | float | None]:
    n_bins = edges.size - 1
    # bin b holds edges[b] <= x < edges[b+1]; the last bin also holds x == 1
    idx = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins - 1)
    weight = np.bincount(idx, weights=w, minlength=n_bins)
    mean_pred = np.bincount(idx, weights=w * confidence, minlength=n_bins)
    observed = np.bincount(idx, weights=w * correct, minlength=n_bins)
    count = np.bincount(idx, minlength=n_bins)
    total = float(w.sum())
    gap = np.abs(mean_pred - observed)  # weighted |mean predicted - observed| per bin, summed below
    return {
        "mean_predicted": [_ratio(mean_pred[b], weight[b]) for b in range(n_bins)],
        "observed": [_ratio(observed[b], weight[b]) for b in range(n_bins)],
        "count": [int(c) for c in count],
        "expected_calibration_error": _ratio(float(gap.sum()), total),
    }


def calibration_curve(
    y_class: npt.ArrayLike,
    proba: npt.ArrayLike,
    n_bins: int = 10,
    sample_weight: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """Reliability-diagram data on ``n_bins`` equal-width bins of [0, 1].

    - ``per_class[name]``: one-vs-rest for each class: the probability given to that class
      is binned; ``observed`` is the share of the bin's samples whose true class is it;
    - ``predicted_class``: the probability of the argmax class (the confidence) is binned;
      ``observed`` is the share of the bin's samples where that class was right.

    Each has ``mean_predicted``, ``observed`` (None for an empty bin), ``count`` per bin and
    ``expected_calibration_error`` (weighted mean |mean_predicted - observed| over bins).
    ``bin_edges`` lists the n_bins + 1 edges. A perfectly calibrated model lies on the diagonal."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    y, p, w = _inputs(y_class, proba, sample_weight)
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    per_class = {
        name: _binned(np.clip(p[:, c], 0.0, 1.0), (y == c).astype(np.float64), w, edges)
        for c, name in enumerate(CLASS_NAMES)
    }
    predicted = np.argmax(p, axis=1)
    confidence = np.clip(p[np.arange(y.size), predicted], 0.0, 1.0)
    return {
        "bin_edges": [float(e) for e in edges],
        "per_class": per_class,
        "predicted_class": _binned(confidence, (predicted == y).astype(np.float64), w, edges),
        "count": int(y.size),
    }
