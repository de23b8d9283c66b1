"""The job of ``quantumtrader validate``: a bundle re-evaluated on other data.

The bundle's own sampler, barriers and feature set make the samples of the
new data exactly as training made its own; the compiled ensemble (the code
the live loop runs) predicts them; the signal is traded with B3 costs and
the promotion gate of the original plan is applied (win rate > 55 %,
Sharpe > 1.5, maximum drawdown < 5 %, deflated-Sharpe probability > 0.95,
the latter for the number of configurations tried when the bundle was
trained).  The verdict is written into the manifest (``promoted``), so the
runners refuse an unvalidated model unless told ``--allow-unvalidated``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from quantumtrader.models.config import TrainConfig
from quantumtrader.models.dataset import InputRows, TrainingDataError
from quantumtrader.models.training import build_samples, gate_result, report_calibration, trading_evaluation


@dataclass
class ValidationResult:
    result: dict[str, Any]  # the report's shape (one "fold": the whole data)
    passed: bool
    failures: list[str]
    rows: list[InputRows]


def validate_bundle(bundle: Any, rows: list[InputRows]) -> ValidationResult:
    """Evaluate the loaded ``bundle`` (ModelBundle) on ``rows``."""
    from quantumtrader.models.metrics import calibration_curve, classification_metrics

    cfg = TrainConfig.from_dict(bundle.training["config"], f"{bundle.path}/manifest.json")
    trained_root = bundle.training.get("instrument_root")
    samples = build_samples(rows, cfg)
    if trained_root and samples.root != trained_root:
        raise TrainingDataError(f"the bundle was trained on {trained_root}, the data is {samples.root}")
    proba = bundle.predict_proba(samples.vector)
    predicted = np.flatnonzero(np.isfinite(proba).all(axis=1))
    if len(predicted) == 0:
        raise TrainingDataError("the compiled ensemble predicted no sample (every vector had NaN features)")
    n_trials = int(bundle.training.get("n_trials", 1))
    sr_variance = float(bundle.training.get("sr_variance", 0.0))
    overall = classification_metrics(samples.y[predicted], proba[predicted])
    trading = trading_evaluation(samples, proba, predicted, cfg, n_trials=n_trials, sr_variance=sr_variance)
    overall["trading"] = trading["report"]
    gate = gate_result(overall["trading"])
    result = {
        "folds": [{"fold": 1, "train": 0, "test": len(predicted), **{k: v for k, v in overall.items()
                                                                         if k != "trading"}}],
        "overall": overall,
        "equity": trading["equity"],
        "calibration": report_calibration(calibration_curve(samples.y[predicted], proba[predicted])),
        "gate": gate,
        "n_trials": n_trials,
        "samples": dict(samples.counts),
        "inputs": [r.describe() for r in rows],
    }
    return ValidationResult(result, gate["passed"], gate["failures"], rows)
