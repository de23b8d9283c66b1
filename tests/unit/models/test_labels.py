"""Triple-barrier labels and average uniqueness: hand-computed cases, edges, and a loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantumtrader.models.labels import BarrierConfig, average_uniqueness, triple_barrier

S = 1_000_000_000  # ns per second
DAY = 20240102


def _cfg(**kw: float) -> BarrierConfig:
    # horizon == period: the width is sigma itself, which keeps hand arithmetic simple.
    base = {"profit_take": 1.0, "stop_loss": 1.0, "horizon_s": 60.0, "volatility_period_s": 60.0}
    base.update(kw)
    return BarrierConfig(**base)


def _loop_reference(ts, price, session, events, sigma, cfg):
    """Plain row-by-row walk of the contract, written separately from the module."""
    out = []
    for i, sg in zip(events, sigma, strict=True):
        if not (math.isfinite(sg) and sg > 0):
            out.append((0, -1, False))
            continue
        w = sg * math.sqrt(cfg.horizon_s / cfg.volatility_period_s)
        up = math.log(price[i]) + cfg.profit_take * w
        dn = math.log(price[i]) - cfg.stop_loss * w
        last, lab, ex = -1, 0, -1
        j = i + 1
        while j < len(ts) and session[j] == session[i] and ts[j] <= ts[i] + cfg.horizon_ns:
            lp = math.log(price[j])
            if lp >= up:
                lab, ex = 1, j
                break
            if lp <= dn:
                lab, ex = -1, j
                break
            last = j
            j += 1
        if ex == -1:
            ex = last
        out.append((lab, ex, ex != -1))
    return out


def test_barrier_config_rejects_non_positive_or_non_finite() -> None:
    for bad in (
        {"profit_take": 0.0},
        {"stop_loss": -1.0},
        {"horizon_s": math.inf},
        {"volatility_period_s": math.nan},
    ):
        with pytest.raises(ValueError, match="positive and finite"):
            BarrierConfig(**bad)
    with pytest.raises(ValueError, match="feature name"):
        BarrierConfig(volatility_feature="")
    with pytest.raises(ValueError, match="not a feature of the engine"):
        BarrierConfig(volatility_feature="volatility_7")
    assert BarrierConfig(horizon_s=300.0).width_scale == pytest.approx(math.sqrt(5.0))


def test_hand_computed_upper_lower_and_vertical_barrier() -> None:
    # sigma = ln(1.01): upper at p0 * 1.01, lower at p0 / 1.01.
    ts = np.array([0, 10, 20, 30, 40, 50, 70], dtype=np.int64) * S
    price = np.array([1000, 1005, 1011, 1000, 990, 1000, 2000], dtype=np.int64)
    session = np.full(7, DAY, dtype=np.int64)
    sigma = np.full(3, math.log(1.01))
    labels = triple_barrier(ts, price, session, np.array([0, 2, 3]), sigma, _cfg())
    # event 0: 1011 >= 1010 at row 2 -> buy; event 2 (1011): 1000 <= 1001.0 at row 3 -> sell;
    # event 3 (1000): rows 4 (990 <= 990.1 -> sell).
    assert labels.label.tolist() == [1, -1, -1]
    assert labels.exit_index.tolist() == [2, 3, 4]
    assert labels.exit_ns.tolist() == [20 * S, 30 * S, 40 * S]
    assert labels.log_return == pytest.approx([math.log(1011 / 1000), math.log(1000 / 1011), math.log(0.99)])
    assert labels.valid.all()

    # Wider barriers: nothing touches within 60 s; the vertical barrier is the last row with
    # ts <= t0 + 60 s (row 5 at 50 s; row 6 at 70 s is beyond the horizon).
    wide = triple_barrier(ts, price, session, np.array([0]), np.array([0.5]), _cfg())
    assert wide.label.tolist() == [0]
    assert wide.exit_index.tolist() == [5]
    assert wide.log_return == pytest.approx([0.0])


def test_asymmetric_multiples_and_horizon_scaling() -> None:
    ts = np.array([0, 1, 2], dtype=np.int64) * S
    price = np.array([1000, 1030, 1100], dtype=np.int64)
    session = np.full(3, DAY, dtype=np.int64)
    # horizon 240 s over a 60 s period doubles the width: w = 2 * 0.02 = 0.04 -> upper e^0.08 = 1083.3
    labels = triple_barrier(ts, price, session, [0], [0.02], _cfg(profit_take=2.0, horizon_s=240.0))
    assert labels.label.tolist() == [1]
    assert labels.exit_index.tolist() == [2]


def test_barrier_touch_is_inclusive() -> None:
    ts = np.array([0, 1], dtype=np.int64) * S
    price = np.array([1000, 1100], dtype=np.int64)
    labels = triple_barrier(ts, price, [DAY, DAY], [0], [math.log(1100) - math.log(1000)], _cfg())
    assert labels.label.tolist() == [1]


def test_session_cuts_the_horizon_and_last_row_is_invalid() -> None:
    ts = np.array([0, 10, 20, 30, 40], dtype=np.int64) * S
    price = np.array([1000, 1001, 1002, 5000, 5000], dtype=np.int64)
    session = np.array([DAY, DAY, DAY, DAY + 1, DAY + 1], dtype=np.int64)
    labels = triple_barrier(ts, price, session, [0, 2, 3, 4], [0.1, 0.1, 0.1, 0.1], _cfg())
    # event 0 must not see the next session's 5000: hold, exit at the session's last row 2.
    assert labels.label.tolist() == [0, 0, 0, 0]
    assert labels.exit_index.tolist() == [2, -1, 4, -1]
    assert labels.valid.tolist() == [True, False, True, False]
    assert labels.exit_ns.tolist() == [20 * S, -1, 40 * S, -1]
    assert np.isnan(labels.log_return[[1, 3]]).all()


def test_gap_longer_than_horizon_is_invalid() -> None:
    ts = np.array([0, 600], dtype=np.int64) * S
    labels = triple_barrier(ts, [1000, 1000], [DAY, DAY], [0], [0.1], _cfg())
    assert labels.valid.tolist() == [False]


def test_nan_or_non_positive_sigma_is_invalid() -> None:
    ts = np.arange(5, dtype=np.int64) * S
    price = np.full(5, 1000, dtype=np.int64)
    session = np.full(5, DAY, dtype=np.int64)
    labels = triple_barrier(ts, price, session, [0, 1, 2, 3], [np.nan, 0.0, -1.0, np.inf], _cfg())
    assert not labels.valid.any()
    assert labels.label.tolist() == [0, 0, 0, 0]
    assert labels.exit_index.tolist() == [-1] * 4


def test_empty_inputs() -> None:
    empty = np.zeros(0, dtype=np.int64)
    labels = triple_barrier(empty, empty, empty, empty, np.zeros(0), _cfg())
    assert len(labels) == 0 and labels.label.dtype == np.int8 and labels.exit_ns.dtype == np.int64
    ts = np.arange(3, dtype=np.int64) * S
    assert len(triple_barrier(ts, [1, 2, 3], [DAY] * 3, empty, np.zeros(0), _cfg())) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ts": [2, 1, 3]}, "ts must be non-decreasing"),
        ({"session": [DAY + 1, DAY, DAY]}, "session must be non-decreasing"),
        ({"price": [100, 0, 100]}, "price must be > 0"),
        ({"events": [1, 1]}, "strictly increasing"),
        ({"events": [3]}, "within"),
        ({"sigma": [0.1, 0.1]}, "one entry per event"),
        ({"price": [100, 100]}, "one entry per row"),
        ({"ts": [0.5, 1.0, 2.0]}, "ts must be integers"),
    ],
)
def test_contract_violations_are_one_line_errors(kwargs: dict, message: str) -> None:
    args = {"ts": [0, 1, 2], "price": [100, 100, 100], "session": [DAY] * 3, "events": [0], "sigma": [0.1]}
    args.update(kwargs)
    if "events" in kwargs and "sigma" not in kwargs:
        args["sigma"] = [0.1] * len(kwargs["events"])
    with pytest.raises(ValueError, match=message) as err:
        triple_barrier(cfg=_cfg(), **args)
    assert "\n" not in str(err.value)


def test_matches_row_by_row_walk_on_random_sessions() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    ts = np.cumsum(rng.exponential(2.0, n) * S).astype(np.int64)
    price = np.maximum(1, 5000 + np.cumsum(rng.integers(-3, 4, n))).astype(np.int64)
    session = (DAY + np.arange(n) // 1300).astype(np.int64)
    events = np.sort(rng.choice(n, 600, replace=False)).astype(np.int64)
    sigma = rng.uniform(0.0002, 0.002, events.size)
    sigma[::37] = np.nan
    cfg = _cfg(profit_take=1.5, stop_loss=0.7, horizon_s=120.0)
    labels = triple_barrier(ts, price, session, events, sigma, cfg)
    ref = _loop_reference(ts, price, session, events, sigma, cfg)
    assert labels.label.tolist() == [r[0] for r in ref]
    assert labels.exit_index.tolist() == [r[1] for r in ref]
    assert labels.valid.tolist() == [r[2] for r in ref]
    assert set(labels.label.tolist()) == {-1, 0, 1}  # the case exercises all three outcomes


def test_average_uniqueness_hand_computed() -> None:
    # rows 0..5; label A 0..2, B 1..3, C 5..5. c = [1, 2, 2, 1, 0, 1].
    u = average_uniqueness([0, 1, 5], [2, 3, 5], 6)
    assert u == pytest.approx([(1 + 0.5 + 0.5) / 3, (0.5 + 0.5 + 1) / 3, 1.0])


def test_average_uniqueness_identical_labels_share_equally() -> None:
    assert average_uniqueness([2, 2, 2, 2], [4, 4, 4, 4], 10) == pytest.approx([0.25] * 4)
    assert average_uniqueness([], [], 0).shape == (0,)


def test_average_uniqueness_rejects_bad_spans() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        average_uniqueness([3], [2], 5)
    with pytest.raises(ValueError, match="within"):
        average_uniqueness([0], [5], 5)
    with pytest.raises(ValueError, match="differ in length"):
        average_uniqueness([0, 1], [1], 5)
