"""The walk-forward is honest: it finds a planted signal, refuses a market
without one, and a deliberately leaky split shows what the purge prevents.

Data: ``quantumtrader synth`` markets (seeded).  With ``--signal 1`` the
order-flow imbalance of the last minute moves the next minutes' mid price;
with ``--signal 0`` the mid is a martingale independent of every feature, so
nothing may look learnable.  All with the defaults a user gets
(:class:`quantumtrader.models.config.TrainConfig`).  All 20 seeds of the
signal-0 gate run in ``tools/gate_honesty.py``; here a few."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.models.config import TrainConfig
from quantumtrader.models.dataset import extract_rows
from quantumtrader.models.training import build_samples, evaluate_oof

DAYS = 12
TRADES_PER_DAY = 6000


def _rows(tmp: Path, seed: int, signal: float, days: int = DAYS) -> list:
    log = tmp / f"synth-{seed}-{signal:g}.qtlog"
    write_synthetic_log(log, days=days, seed=seed, signal=signal, trades_per_day=TRADES_PER_DAY)
    return [extract_rows(str(log))]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> list:
    return _rows(tmp_path_factory.mktemp("planted"), seed=3, signal=1.0)


@pytest.fixture(scope="module")
def martingale(tmp_path_factory: pytest.TempPathFactory) -> list:
    return _rows(tmp_path_factory.mktemp("martingale"), seed=4, signal=0.0)


def test_walk_forward_finds_a_planted_signal(planted: list) -> None:
    cfg = TrainConfig()
    result = evaluate_oof(build_samples(planted, cfg), cfg)
    overall = result["overall"]
    trading = overall["trading"]
    # out of fold, the ensemble beats the class prior clearly, and its signal earns after B3 costs
    assert overall["accuracy"] > overall["prior"] + 0.03, overall
    assert overall["log_loss"] < overall["prior_log_loss"], overall
    assert trading["trades"] >= 100, trading
    assert trading["net_pnl_brl"] > 0, trading
    assert trading["win_rate"] > 0.5, trading


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_gate_refuses_a_market_without_signal(tmp_path: Path, martingale: list, seed: int) -> None:
    rows = martingale if seed == 4 else _rows(tmp_path, seed=seed, signal=0.0)
    cfg = TrainConfig()
    result = evaluate_oof(build_samples(rows, cfg), cfg)
    assert result["gate"]["passed"] is False, result["overall"]["trading"]
    assert result["gate"]["failures"], result["gate"]


def test_a_leaky_split_shows_the_leak_the_purge_prevents(martingale: list) -> None:
    """Shuffled k-fold on the same samples: neighbours share most of their label
    interval, so a test sample's label is known from its training neighbours.
    It scores well above the prior on a market with nothing to learn; the purged
    walk-forward does not."""
    from sklearn.model_selection import KFold

    from quantumtrader.models.estimators import fit_xgboost, native_proba
    from quantumtrader.models.metrics import classification_metrics

    cfg = TrainConfig()
    samples = build_samples(martingale, cfg)
    honest = evaluate_oof(samples, cfg)["overall"]
    leaky = np.full((len(samples), 3), np.nan)
    for train, test in KFold(n_splits=cfg.cv.n_splits, shuffle=True, random_state=0).split(samples.X):
        model = fit_xgboost(samples.X[train], samples.y[train], samples.weight[train], cfg.model,
                            require_all_classes=False)
        leaky[test] = native_proba(model, samples.X[test])
    shuffled = classification_metrics(samples.y, leaky)
    honest_edge = honest["accuracy"] - honest["prior"]
    leaky_edge = shuffled["accuracy"] - shuffled["prior"]
    assert leaky_edge > honest_edge + 0.05, (shuffled["accuracy"], honest["accuracy"], honest["prior"])
    assert shuffled["log_loss"] < honest["log_loss"]
