"""Training and out-of-fold evaluation of one configuration.

Steps, all on the feature engine's own rows (:mod:`quantumtrader.models.dataset`):

1. decision points: the C sampler over each input's rows in order;
2. labels: triple barrier on the trade prices of the same session after the
   decision point (:mod:`quantumtrader.models.labels`), sample weights from
   label overlap (average uniqueness);
3. rows with NaN in the model's features or no valid label are dropped
   (the spec: never trained on, never predicted);
4. purged walk-forward cross-validation with an embargo
   (:mod:`quantumtrader.models.cv`): a Random Forest and an XGBoost model per
   fold, out-of-fold probabilities of each, soft-vote weights from their
   out-of-fold log loss, the ensemble's out-of-fold probabilities;
5. the report: log loss and accuracy against the class prior per fold and
   overall, per-class precision and recall, calibration, and the trading
   evaluation of the out-of-fold signal with B3 costs, its deflated Sharpe
   for the number of configurations tried, and the promotion gate;
6. (``train`` only) both models fitted on every sample: the bundle's models.

Nothing of a test fold reaches its models: the weights and the signal
threshold come from the configuration, not from the test folds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantumtrader.calendar.b3 import root_of
from quantumtrader.features.schema import FeatureSchema, schema_for
from quantumtrader.models.classes import CLASSES, label_to_class
from quantumtrader.models.config import TrainConfig
from quantumtrader.models.dataset import InputRows, TrainingDataError, check_book_for
from quantumtrader.models.labels import average_uniqueness, triple_barrier

MODEL_NAMES = ("forest", "xgboost")


@dataclass
class Samples:
    """The decision points of every input that have a label and finite features, in time order."""

    X: np.ndarray  # float64 (m, k): the model's features
    vector: np.ndarray  # float64 (m, 77): the engine's whole vector (what the compiled ensemble takes)
    y: np.ndarray  # int64 class index (m,)
    weight: np.ndarray  # average uniqueness (m,)
    start_ns: np.ndarray
    exit_ns: np.ndarray
    entry_price: np.ndarray  # int64 price units
    exit_price: np.ndarray
    session: np.ndarray
    root: str
    price_unit: float
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)


def instrument_root(rows: list[InputRows]) -> str:
    """The one instrument root of the inputs (a model is trained per instrument)."""
    roots = sorted({root_of(r.instrument) for r in rows})
    if len(roots) != 1:
        raise TrainingDataError(
            f"the inputs hold {', '.join(roots)}: train one model per instrument (its costs, tick and "
            "volatility differ)"
        )
    units = {r.price_unit for r in rows}
    if len(units) != 1:
        raise TrainingDataError(
            f"the inputs have different price units ({sorted(units)}): one instrument please")
    return roots[0]


def build_samples(rows: list[InputRows], cfg: TrainConfig) -> Samples:
    """Decision points, labels and weights of every input (step 1-3)."""
    if not rows:
        raise TrainingDataError("no input data")
    schema = schema_for(cfg.feature_set)
    check_book_for(rows, schema)
    root = instrument_root(rows)
    vol = schema_for("qt77").names.index(cfg.barriers.volatility_feature)
    parts: list[dict[str, np.ndarray]] = []
    counts = {"rows": 0, "decision_points": 0, "no_label": 0, "nan_features": 0}
    for r in rows:
        events = cfg.sampler.decision_points(r.features, r.ts)
        counts["rows"] += len(r)
        counts["decision_points"] += len(events)
        lab = triple_barrier(r.ts, r.price, r.session, events, r.features[events, vol], cfg.barriers)
        X = r.features[events, : len(schema)]
        finite = np.isfinite(X).all(axis=1)
        counts["no_label"] += int((~lab.valid).sum())
        counts["nan_features"] += int((lab.valid & ~finite).sum())
        keep = lab.valid & finite
        ev = events[keep]
        parts.append({
            "X": X[keep],
            "vector": r.features[ev],
            "y": label_to_class(lab.label[keep]),
            "weight": average_uniqueness(ev, lab.exit_index[keep], len(r)),
            "start_ns": r.ts[ev],
            "exit_ns": lab.exit_ns[keep],
            "entry_price": r.price[ev],
            "exit_price": r.price[lab.exit_index[keep]],
            "session": r.session[ev],
        })
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(merged["start_ns"], kind="stable")
    merged = {k: v[order] for k, v in merged.items()}
    if len(merged["y"]) == 0:
        raise TrainingDataError(
            f"no training samples: {counts['decision_points']:,} decision points in {counts['rows']:,} rows, "
            f"{counts['no_label']:,} without a label, {counts['nan_features']:,} with NaN features "
            "(too little data for the feature windows, or the sampler never fired)"
        )
    counts["samples"] = len(merged["y"])
    return Samples(root=root, price_unit=rows[0].price_unit, counts=counts, **merged)


def report_calibration(curve: dict[str, Any]) -> dict[str, Any]:
    """metrics.calibration_curve -> the report's ``calibration`` shape (per class:
    mean predicted probability, observed frequency and count per bin)."""
    return {
        name: {"predicted": c["mean_predicted"], "observed": c["observed"], "count": c["count"]}
        for name, c in curve["per_class"].items()
    }


def require_all_classes(samples: Samples) -> None:
    """The final models must know sell, hold and buy: refuse a set without one."""
    counts = np.bincount(samples.y, minlength=len(CLASSES))
    missing = [name for name, n in zip(CLASSES, counts, strict=True) if n == 0]
    if missing:
        have = ", ".join(f"{n:,} {name}" for name, n in zip(CLASSES, counts, strict=True))
        raise TrainingDataError(
            f"the training set has no {' and no '.join(missing)} samples ({have}): a model needs all three "
            "classes (more data, or other barriers)"
        )


def _ensemble(probas: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(weights[name] * probas[name] for name in MODEL_NAMES)


def evaluate_oof(samples: Samples, cfg: TrainConfig, *, n_trials: int = 1, sr_variance: float = 0.0,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Purged walk-forward out-of-fold evaluation of ``cfg`` (step 4-5): the
    report's dict (shape in :mod:`quantumtrader.models.report`) plus the
    sweep's criteria ``oof_log_loss`` and ``oof_sharpe_per_trade`` and the
    ensemble's ``weights``."""
    from quantumtrader.models.cv import PurgedWalkForward
    from quantumtrader.models.estimators import fit_forest, fit_xgboost, native_proba, soft_vote_weights
    from quantumtrader.models.metrics import calibration_curve, classification_metrics

    cv = PurgedWalkForward(n_splits=cfg.cv.n_splits, embargo_s=cfg.cv.embargo_s)
    splits = list(cv.split(samples.start_ns, samples.exit_ns))
    oof = {name: np.full((len(samples), 3), np.nan) for name in MODEL_NAMES}
    folds: list[dict[str, Any]] = []
    for k, (train, test) in enumerate(splits):
        if progress:
            progress(k, len(splits))
        X, y, w = samples.X[train], samples.y[train], samples.weight[train]
        forest = fit_forest(X, y, w, cfg.model, require_all_classes=False)  # a fold may miss a class
        oof["forest"][test] = native_proba(forest, samples.X[test])
        oof["xgboost"][test] = native_proba(fit_xgboost(X, y, w, cfg.model, require_all_classes=False),
                                            samples.X[test])
        folds.append({"fold": k + 1, "train": len(train), "test": len(test), "test_index": test})
    if progress:
        progress(len(splits), len(splits))
    tested = np.unique(np.concatenate([f["test_index"] for f in folds]))
    model_ll = {
        name: classification_metrics(samples.y[tested], oof[name][tested])["log_loss"] for name in MODEL_NAMES
    }
    weights = soft_vote_weights(model_ll)
    ens = _ensemble(oof, weights)
    for f in folds:
        te = f.pop("test_index")
        f.update(classification_metrics(samples.y[te], ens[te]))
    overall = classification_metrics(samples.y[tested], ens[tested])
    overall["models_log_loss"] = model_ll
    trading = trading_evaluation(samples, ens, tested, cfg, n_trials=n_trials, sr_variance=sr_variance)
    overall["trading"] = trading["report"]
    result: dict[str, Any] = {
        "folds": folds,
        "overall": overall,
        "equity": trading["equity"],
        "calibration": report_calibration(calibration_curve(samples.y[tested], ens[tested])),
        "n_trials": int(n_trials),
        "weights": weights,
        "samples": dict(samples.counts),
        "oof_log_loss": float(overall["log_loss"]),
        "oof_sharpe_per_trade": trading["report"].get("sharpe_per_trade"),
    }
    result["gate"] = gate_result(overall["trading"])
    return result


def trading_evaluation(samples: Samples, proba: np.ndarray, index: np.ndarray, cfg: TrainConfig, *,
                       n_trials: int, sr_variance: float) -> dict[str, Any]:
    """The out-of-fold (or out-of-sample) signal traded with B3 costs, one
    contract, one position at a time; its deflated Sharpe probability."""
    from quantumtrader.models.evaluation import costs_for, evaluate_trades, signal_from_proba

    side = signal_from_proba(proba[index], cfg.evaluation.min_confidence)
    report = evaluate_trades(
        samples.start_ns[index], samples.entry_price[index], samples.exit_ns[index],
        samples.exit_price[index], side, samples.session[index], costs_for(samples.root),
        samples.price_unit, capital_brl=cfg.evaluation.capital_brl,
    )
    out = report.to_dict(curves=False)
    dsr = report.deflated_sharpe_probability(n_trials, sr_variance)
    out["deflated_sharpe_probability"] = float(dsr) if np.isfinite(dsr) else None
    out["n_trials"] = int(n_trials)
    equity = {"t_ns": [int(t) for t in report.equity_t_ns],
              "equity_brl": [float(v) for v in report.equity_brl]}
    return {"report": out, "equity": equity}


def gate_result(trading: dict[str, Any]) -> dict[str, Any]:
    from quantumtrader.models.gate import check_gate

    g = check_gate(trading)
    return {"passed": bool(g.passed), "failures": list(g.failures)}


@dataclass
class TrainedModels:
    forest: Any
    xgboost: Any
    weights: dict[str, float]
    result: dict[str, Any]
    samples: Samples
    schema: FeatureSchema


def train(rows: list[InputRows], cfg: TrainConfig, *, n_trials: int = 1, sr_variance: float = 0.0,
          progress: Callable[[str, int, int], None] | None = None) -> TrainedModels:
    """Evaluate ``cfg`` out of fold, then fit both models on every sample."""
    from quantumtrader.models.estimators import fit_forest, fit_xgboost

    samples = build_samples(rows, cfg)
    require_all_classes(samples)
    result = evaluate_oof(samples, cfg, n_trials=n_trials, sr_variance=sr_variance,
                          progress=(lambda d, t: progress("cross-validation", d, t)) if progress else None)
    if progress:
        progress("final models", 0, 2)
    forest = fit_forest(samples.X, samples.y, samples.weight, cfg.model)
    if progress:
        progress("final models", 1, 2)
    booster = fit_xgboost(samples.X, samples.y, samples.weight, cfg.model)
    if progress:
        progress("final models", 2, 2)
    return TrainedModels(forest, booster, result["weights"], result, samples, schema_for(cfg.feature_set))
