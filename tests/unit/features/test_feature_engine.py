"""The C feature engine (``quantumtrader.qtcore.features``) against spec
``qt-features/1``: the golden file, hand-computed values per feature group,
exactness over long sessions, metamorphic properties, the session and clock
rules, the drain loop (batches, every-N, decision hook, ring) and memory.

Parity with the slow reference on synthetic, edge-case and real data is in
``test_feature_parity.py``."""

from __future__ import annotations

import ctypes
import datetime as dt
import math
import os
import sys
import threading
from fractions import Fraction

import numpy as np
import pytest
from feature_streams import NS, StreamBuilder, edge_case_sessions, local_ns, trades_only
from reference.compare import compare_feature_rows, read_feature_csv
from reference.event_replay import replay_to_reference
from shared_data import GOLDEN, GOLDEN_FEATURES, GOLDEN_TRADES, require_shared, requires_shared

from quantumtrader.data.events import PRICE_NONE, TIME_NONE, EventFlag, EventType
from quantumtrader.data.synth import simulate_market
from quantumtrader.features import BOOK_NAMES, QT65_NAMES, QT77_NAMES
from quantumtrader.qtcore.features import (
    DRAIN_CLOSED,
    DRAIN_DONE,
    DRAIN_FULL,
    DRAIN_IDLE,
    DRAIN_STOPPED,
    N_FEATURES,
    FeatureBatch,
    FeatureEngine,
    seconds_of_day,
    tz_transitions,
)
from quantumtrader.qtcore.ring import Ring

COL = {name: j for j, name in enumerate(QT77_NAMES)}
needs_golden = requires_shared(GOLDEN_TRADES, GOLDEN_FEATURES)

GROUPS = {
    "volatility": QT65_NAMES[0:10],
    "returns": QT65_NAMES[10:20],
    "order_flow": QT65_NAMES[20:28],
    "volume": QT65_NAMES[28:36],
    "technical": QT65_NAMES[36:43],
    "microstructure": QT65_NAMES[43:59],
    "temporal": QT65_NAMES[59:65],
}


def wdo() -> FeatureEngine:
    return FeatureEngine(0.5, 0.5)


def cols(m: np.ndarray, *names: str) -> np.ndarray:
    return m[:, [COL[n] for n in names]]


# ------------------------------------------------------------------ golden


def import_golden(agents: tuple[str, ...] = ()) -> np.ndarray:
    from quantumtrader.data.importers.profit_csv import ProfitCsvImporter

    imp = ProfitCsvImporter(GOLDEN / "golden_trades.csv", agents=agents)
    events = np.concatenate(list(imp.events()))
    assert imp.stats.after_hours == 4
    return events


@pytest.fixture(scope="module")
def golden():
    require_shared(GOLDEN_TRADES, GOLDEN_FEATURES)
    events = import_golden()
    engine = wdo()
    ts, tn, m = engine.run(events)
    return dict(
        events=events,
        ts=ts,
        tn=tn,
        m=m,
        counters=engine.counters,
        expected=read_feature_csv(GOLDEN / "golden_trades.features.csv"),
    )


@needs_golden
def test_golden_qt65_from_the_profit_export(golden):
    """The Profit export imported as an event log, every record through the engine:
    all 65 features of all 1,099 rows within the README's tolerances."""
    exp = golden["expected"]
    assert exp.names == QT65_NAMES
    np.testing.assert_array_equal(golden["ts"], exp.ts)
    np.testing.assert_array_equal(golden["tn"], exp.trade_numbers)
    report = compare_feature_rows(exp.names, exp.rows, golden["m"][:, :65].tolist(), exp.trade_numbers)
    assert report.ok, report.summary()
    c = golden["counters"]
    assert (c["trades"], c["rows"], c["session_resets"], c["invalid"], c["ts_regressions"]) == (
        1099,
        1099,
        2,
        0,
        0,
    )


@needs_golden
@pytest.mark.parametrize("group", list(GROUPS))
def test_golden_per_feature_group(golden, group):
    exp = golden["expected"]
    names = GROUPS[group]
    idx = [COL[n] for n in names]
    want = [[row[i] for i in idx] for row in exp.rows]
    report = compare_feature_rows(names, want, golden["m"][:, idx].tolist(), exp.trade_numbers)
    assert report.ok, report.summary()


@needs_golden
def test_golden_without_book_data_book_features_follow_the_empty_book_rules(golden):
    m = golden["m"]
    assert np.isnan(cols(m, "spread", "spread_ticks", "microprice_dev", "ofi_10", "ofi_50", "ofi_100")).all()
    assert (
        cols(
            m,
            "book_imbalance_1",
            "book_imbalance_5",
            "book_imbalance_10",
            "depth_bid_5",
            "depth_ask_5",
            "book_update_rate",
        )
        == 0
    ).all()


@needs_golden
def test_golden_agent_ids_do_not_matter(golden):
    """Another one-to-one broker mapping (a seeded dictionary in reverse order) gives the same rows."""
    lines = (GOLDEN / "golden_trades.csv").read_text(encoding="utf-8").splitlines()
    names = sorted({line.split(",")[k] for line in lines for k in (7, 8)}, reverse=True)
    events = import_golden(tuple([f"unused {i}" for i in range(1000)] + names))
    assert not np.array_equal(events["a"], golden["events"]["a"])
    _, _, m = wdo().run(events)
    np.testing.assert_array_equal(m, golden["m"])


@needs_golden
def test_golden_record_by_record_equals_the_drain(golden):
    engine = wdo()
    rows = [
        r
        for r in (engine.on_event(golden["events"][i : i + 1]) for i in range(len(golden["events"])))
        if r is not None
    ]
    np.testing.assert_array_equal(np.array(rows), golden["m"])


# ----------------------------------------------------- hand-computed values


def book_session(levels_bid: list[tuple[int, int]], levels_ask: list[tuple[int, int]], price: int = 10_700):
    """A snapshot then one trade."""
    b = StreamBuilder()
    t = local_ns(2026, 11, 13, 10)
    b.snapshot(t, levels_bid, levels_ask)
    b.trade(t, price)
    return b


def last_row(engine: FeatureEngine, b: StreamBuilder) -> np.ndarray:
    return engine.run(b.events())[2][-1]


@pytest.mark.parametrize("tick,unit", [(0.5, 0.5), (5.0, 5.0), (0.01, 0.0001)])
def test_calculate_spread_features(tick, unit):
    k = round(tick / unit)  # price units per tick
    bid, ask = 10_000 * k, 10_000 * k + 2 * k
    row = last_row(FeatureEngine(tick, unit), book_session([(bid, 5), (bid - k, 3)], [(ask, 4)]))
    pb, pa = Fraction(bid) * Fraction(unit), Fraction(ask) * Fraction(unit)
    micro = (pa * 5 + pb * 4) / 9
    want_dev = (micro - (pa + pb) / 2) / Fraction(tick)
    assert row[COL["spread"]] == pytest.approx(float(pa - pb), rel=1e-12)
    assert row[COL["spread_ticks"]] == pytest.approx(2.0, rel=1e-12)
    assert row[COL["microprice_dev"]] == pytest.approx(float(want_dev), rel=1e-12)
    # locked, crossed, one side empty: NaN; depth still counts what exists
    for bids, asks in (
        ([(bid, 5)], [(bid, 4)]),
        ([(bid, 5)], [(bid - k, 4)]),
        ([(bid, 5)], []),
        ([], [(ask, 4)]),
        ([], []),
    ):
        row = last_row(FeatureEngine(tick, unit), book_session(bids, asks))
        assert np.isnan(cols(row[None], "spread", "spread_ticks", "microprice_dev")).all()
        assert row[COL["depth_bid_5"]] == sum(q for _, q in bids)
        assert row[COL["depth_ask_5"]] == sum(q for _, q in asks)


def test_calculate_imbalance_features():
    bids = [(10_700 - i, 1 + i) for i in range(12)]  # 12 levels: quantities 1..12
    asks = [(10_701 + i, 10 * (1 + i)) for i in range(3)]  # 3 levels: 10, 20, 30
    row = last_row(wdo(), book_session(bids, asks))
    for depth, qb, qa in ((1, 1, 10), (5, 15, 60), (10, 55, 60)):
        assert row[COL[f"book_imbalance_{depth}"]] == pytest.approx((qb - qa) / (qb + qa), rel=1e-15)
    assert (row[COL["depth_bid_5"]], row[COL["depth_ask_5"]]) == (15, 60)
    # one side empty: +-1; both empty: 0 (safe_div), never NaN
    assert last_row(wdo(), book_session(bids, []))[COL["book_imbalance_10"]] == 1.0
    assert last_row(wdo(), book_session([], asks))[COL["book_imbalance_1"]] == -1.0
    assert last_row(wdo(), book_session([], []))[COL["book_imbalance_5"]] == 0.0

    # Cont-Kukanov-Stoikov order-flow imbalance, term by term
    b = StreamBuilder()
    t = local_ns(2026, 11, 13, 10)
    b.snapshot(t, [(100, 10)], [(102, 10)])
    terms = []
    b.levels(t, [(0, 100, 13)])  # bid queue grows: +3
    terms.append(3)
    b.levels(t, [(0, 101, 4)])  # a better bid: +4
    terms.append(4)
    b.levels(t, [(1, 102, 6)])  # ask queue shrinks: -(6) + 10 = +4
    terms.append(4)
    b.levels(t, [(1, 101, 0), (0, 99, 7)])  # a deeper level only: top unchanged, no term
    b.levels(t, [(1, 101, 5)])  # ask at the bid: locked, no term
    b.levels(t, [(1, 101, 0)])  # valid again but found invalid: no term
    b.levels(t, [(0, 101, 0)])  # best bid leaves: -4 (bid falls to 100, qb 13 -> [bb<=] - qb_prev 4)
    terms.append(-4)
    for k in range(8):  # ask refills: each -(qa_new) + qa_old
        b.levels(t, [(1, 102, 7 + k)])
        terms.append(-(7 + k) + (6 + k))
    b.trade(t, 101)
    engine = wdo()
    m = engine.run(b.events())[2]
    assert len(terms) == 12
    assert m[-1, COL["ofi_10"]] == sum(terms[-10:])
    assert np.isnan(m[-1, COL["ofi_50"]]) and np.isnan(m[-1, COL["ofi_100"]])
    assert engine.counters["book_events"] == 1 + 15


def two_pass_std(x: np.ndarray) -> float:
    return 0.0 if np.all(x == x[0]) else float(np.std(x, ddof=1))


def test_calculate_volatility_features():
    rng = np.random.default_rng(8)
    n = 400
    price = 10_700 + np.cumsum(rng.choice([-2, -1, 0, 1, 2], n))
    price[300:] = price[299]  # flat tail: every return window ends all zeros
    ts = local_ns(2026, 11, 13, 10) + np.cumsum(rng.integers(1, 3000, n)) * 1_000_000
    m = wdo().run(trades_only(ts, price, rng.integers(1, 9, n), 1, 2, 2))[2]
    p = price * 0.5
    r = np.r_[np.nan, p[1:] / p[:-1] - 1]
    for t in (101, 157, 250, 299):
        for n_ in (10, 20, 50, 100):
            want = two_pass_std(r[t - n_ + 1 : t + 1])
            assert m[t, COL[f"volatility_{n_}"]] == pytest.approx(want, rel=1e-9)
        for n_, m_ in ((10, 20), (20, 50), (50, 100)):
            den = two_pass_std(r[t - m_ + 1 : t + 1])
            assert m[t, COL[f"volatility_ratio_{n_}"]] == pytest.approx(
                two_pass_std(r[t - n_ + 1 : t + 1]) / den, rel=1e-6
            )
        w = p[t - 19 : t + 1]
        s = float(np.std(w))
        assert m[t, COL["bb_position"]] == pytest.approx(
            (p[t] - (w.mean() - 2 * s)) / (4 * s), rel=1e-6, abs=1e-9
        )
    # warm-up: N returns need N + 1 trades; volatility_ratio_100 needs 201
    assert np.isnan(m[:10, COL["volatility_10"]]).all() and not np.isnan(m[10, COL["volatility_10"]])
    assert np.isnan(m[:200, COL["volatility_ratio_100"]]).all() and not np.isnan(
        m[200, COL["volatility_ratio_100"]]
    )
    # exact zero for a constant window, however volatile before it
    assert (m[300 + 100 :, COL["volatility_100"]] == 0).all() and (m[320:, COL["bb_position"]] == 0.5).all()
    # Garman-Klass over completed local-minute bars
    minute = (ts // NS) // 60
    t = n - 1
    done = sorted(set(minute[: t + 1]) - {minute[t]})[-20:]
    terms = []
    for mm in done:
        bar = p[: t + 1][minute[: t + 1] == mm]
        terms.append(
            0.5 * math.log(bar.max() / bar.min()) ** 2
            - (2 * math.log(2) - 1) * math.log(bar[-1] / bar[0]) ** 2
        )
    assert len(done) >= 5
    assert m[t, COL["volatility_gk"]] == pytest.approx(math.sqrt(max(0.0, float(np.mean(terms)))), rel=1e-9)


def test_calculate_order_flow_features():
    rng = np.random.default_rng(4)
    n = 300
    price = 10_700 + np.cumsum(rng.choice([-1, 0, 1], n))
    qty = rng.integers(1, 30, n)
    code = rng.choice([1, 2, 3, 4], n, p=[0.1, 0.4, 0.4, 0.1])
    buyer, seller = rng.integers(0, 4, n), rng.integers(0, 4, n)
    ts = local_ns(2026, 11, 13, 10) + np.arange(n) * 300_000_000
    m = wdo().run(trades_only(ts, price, qty, buyer, seller, code))[2]
    s = np.where(code == 2, 1, np.where(code == 3, -1, 0))
    p = price * 0.5
    r = np.r_[0.0, p[1:] / p[:-1] - 1]
    for t in (99, 150, 299):
        for n_ in (10, 20, 50, 100):
            sl = slice(t - n_ + 1, t + 1)
            assert m[t, COL[f"order_flow_imbalance_{n_}"]] == pytest.approx(
                (s[sl] * qty[sl]).sum() / qty[sl].sum(), rel=1e-12
            )
        sl = slice(t - 19, t + 1)
        assert m[t, COL["volume_weighted_return"]] == pytest.approx(
            math.fsum(qty[sl] * r[sl]) / qty[sl].sum(), rel=1e-9
        )
        changed_b = np.r_[0, buyer[1:] != buyer[:-1]]
        changed_s = np.r_[0, seller[1:] != seller[:-1]]
        sl = slice(t - 99, t + 1)
        assert m[t, COL["agent_turnover"]] == pytest.approx(
            (changed_b[sl].mean() + changed_s[sl].mean()) / 2, rel=1e-12
        )
    np.testing.assert_array_equal(m[:, COL["cumulative_signed_volume"]], np.cumsum(s * qty))
    np.testing.assert_array_equal(m[:, COL["signed_volume"]], s * qty)
    np.testing.assert_array_equal(m[:, COL["is_buyer_aggressor"]], code == 2)
    assert (
        np.isnan(m[:19, COL["order_flow_imbalance_20"]]).all()
        and np.isnan(m[:20, COL["volume_weighted_return"]]).all()
    )
    assert not np.isnan(m[20, COL["volume_weighted_return"]])


def test_feature_buffer_management():
    """Batches of any size lose no row and repeat none; every-N keeps the engine's
    N-th vectors; the engine's memory is fixed at creation however many agents pass."""
    events = edge_case_sessions()
    _, tn_all, m_all = wdo().run(events)
    for capacity, every in ((1, 1), (7, 1), (64, 3), (5000, 10)):
        engine, batch, pos, parts = wdo(), FeatureBatch(capacity, every), 0, []
        while True:
            done, status = engine.drain(events, batch, pos)
            pos += done
            assert batch.rows <= capacity
            parts.append(batch.take())
            assert batch.rows == 0
            if status == DRAIN_DONE:
                break
            assert status == DRAIN_FULL and batch.full is False
        tn = np.concatenate([p[1] for p in parts])
        m = np.concatenate([p[2] for p in parts])
        np.testing.assert_array_equal(tn, tn_all[::every])
        np.testing.assert_array_equal(m, m_all[::every])
    # every = 0 keeps nothing, the engine still computes every row
    engine = wdo()
    assert engine.drain(events, FeatureBatch(10, 0)) == (len(events), DRAIN_DONE)
    assert engine.counters["rows"] == len(m_all)
    # 40,000 trades, each with a new buyer id over the int32 range: agent slots recycle
    n = 40_000
    rng = np.random.default_rng(3)
    buyer = rng.choice(np.arange(-(2**31), 2**31 - 1, 9973, dtype=np.int64), n, replace=False).astype(
        np.int32
    )
    ev = trades_only(
        local_ns(2026, 11, 13, 10) + np.arange(n) * (NS // 8),
        10_700 + rng.integers(-3, 4, n),
        rng.integers(1, 9, n),
        buyer,
        rng.integers(0, 40, n),
        rng.choice([2, 3], n),
    )
    engine = wdo()
    size = engine.memory_bytes
    m = engine.run(ev)[2]
    assert engine.memory_bytes == size
    for t in (39_990, 39_999):  # both rankings against a brute-force one
        for role, agents in (("buyer", ev["a"]), ("seller", ev["b"])):
            ranking = brute_ranking(agents[t - 499 : t + 1], ev["qty"][t - 499 : t + 1])
            for k in range(5):
                assert m[t, COL[f"top_{role}_{k}_active"]] == (ranking[k] == agents[t]), (role, k)
            recent = set(agents[t - 19 : t + 1].tolist())
            assert m[t, COL[f"top_{role}s_count"]] == len(set(ranking[:5]) & recent)


def brute_ranking(agents: np.ndarray, qty: np.ndarray) -> list[int]:
    vol: dict[int, int] = {}
    latest: dict[int, int] = {}
    for i, (a, q) in enumerate(zip(agents.tolist(), qty.tolist(), strict=True)):
        vol[a] = vol.get(a, 0) + q
        latest[a] = i
    return sorted(vol, key=lambda a: (-vol[a], -latest[a]))


BOOK_REFERENCE_ABSOLUTE = {"bb_position": 1e-9, "microprice_dev": 1e-9}


def test_group_book_features_against_the_reference():
    """The 12 book features on the edge-case sessions (one-sided, locked, crossed and
    empty books, messages of several levels, a no-op message, a session change)."""
    events = edge_case_sessions()
    m = wdo().run(events)[2]
    rows, _ = replay_to_reference(events, tick_size=0.5, price_unit=0.5)
    idx = [COL[n] for n in BOOK_NAMES]
    report = compare_feature_rows(
        BOOK_NAMES,
        [[r[i] for i in idx] for r in rows.rows],
        m[:, idx].tolist(),
        absolute=BOOK_REFERENCE_ABSOLUTE,
    )
    assert report.ok, report.summary()


# ---------------------------------------------------------------- exactness


def test_long_session_does_not_drift():
    """One million trades in one session: sampled rows deep into it agree with a
    straightforward two-pass computation from the raw window (no rolling residue),
    and flat stretches give exact zeros."""
    n = 1_000_000
    rng = np.random.default_rng(1)
    steps = rng.choice([-1, 0, 1], n, p=[0.25, 0.5, 0.25])
    qty = np.minimum(1 + rng.geometric(0.2, n), 400)
    steps[700_000:700_300] = 0
    qty[700_000:700_300] = 5
    price = 10_700 + np.cumsum(steps)
    ts = local_ns(2026, 11, 13, 9) + np.arange(n) * 30_000_000  # 30 ms apart: 8h20 on one date
    code = rng.choice([2, 3], n)
    m = wdo().run(trades_only(ts, price, qty, 1, 2, code))[2]
    p = price * 0.5
    r = np.r_[np.nan, p[1:] / p[:-1] - 1]
    s = np.where(code == 2, 1, -1)
    for t in [*rng.integers(200, n, 40), n - 1]:
        t = int(t)
        for n_ in (10, 100):
            assert m[t, COL[f"volatility_{n_}"]] == pytest.approx(
                two_pass_std(r[t - n_ + 1 : t + 1]), rel=1e-9
            )
        q = qty[t - 99 : t + 1]
        sd = two_pass_std(q.astype(float))
        assert m[t, COL["volume_zscore_100"]] == pytest.approx(
            (qty[t] - q.mean()) / sd if sd else 0.0, rel=1e-9
        )
        assert m[t, COL["order_flow_imbalance_100"]] == pytest.approx(
            (s[t - 99 : t + 1] * q).sum() / q.sum(), rel=1e-12
        )
        assert m[t, COL["ma_20_50_ratio"]] == pytest.approx(
            p[t - 19 : t + 1].mean() / p[t - 49 : t + 1].mean(), rel=1e-12
        )
    flat = slice(700_000 + 201, 700_300)
    for name in (
        "volatility_10",
        "volatility_100",
        "sharpe_20",
        "volume_zscore_100",
        "volume_weighted_return",
    ):
        assert (m[flat, COL[name]] == 0.0).all(), name
    assert (m[flat, COL["bb_position"]] == 0.5).all()
    assert m[n - 1, COL["cumulative_signed_volume"]] == (s * qty).sum()


# -------------------------------------------------------------- metamorphic


@pytest.fixture(scope="module")
def market():
    mk = simulate_market(1, seed=4, signal=0.5, trades_per_day=2500)
    return mk.events, wdo().run(mk.events)[2]


@pytest.mark.parametrize("k", [2, 3, 10])
def test_scaling_all_prices_leaves_ratios_and_returns_unchanged(market, k):
    """Trade and book prices and the tick times k: only the spread (a price) scales."""
    events, m = market
    scaled = events.copy()
    has_price = scaled["price"] != PRICE_NONE
    scaled["price"][has_price] *= k
    m2 = FeatureEngine(0.5 * k, 0.5).run(scaled)[2]
    spread = COL["spread"]
    others = [j for j in range(N_FEATURES) if j != spread]
    exact = k in (2,)  # a power of two scales every double exactly
    if exact:
        np.testing.assert_array_equal(m2[:, others], m[:, others])
    else:
        np.testing.assert_allclose(m2[:, others], m[:, others], rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(m2[:, spread], k * m[:, spread], rtol=1e-12, equal_nan=True)


def test_swapping_buy_and_sell_negates_the_signed_features(market):
    """Aggressor codes 2<->3, buyer<->seller, and the book mirrored (bids become asks at
    mirrored prices): signed features change sign, buyer/seller features trade places,
    everything else stays."""
    events, m = market
    mirror = events.copy()
    trade = events["type"] == EventType.TRADE
    book = np.isin(events["type"], [EventType.L2_LEVEL, EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END])
    code = events["code"]
    mirror["code"] = np.where(trade & (code == 2), 3, np.where(trade & (code == 3), 2, code))
    mirror["a"] = np.where(trade, events["b"], events["a"])
    mirror["b"] = np.where(trade, events["a"], events["b"])
    lvl = book & (events["price"] != PRICE_NONE)
    mirror["price"][lvl] = 100_000 - events["price"][lvl]
    one_side = book & (events["side"] < 2)
    mirror["side"][one_side] = 1 - events["side"][one_side]
    m2 = wdo().run(mirror)[2]
    negated = [f"order_flow_imbalance_{n}" for n in (10, 20, 50, 100)] + [
        "cumulative_signed_volume",
        "signed_volume",
        "microprice_dev",
        "book_imbalance_1",
        "book_imbalance_5",
        "book_imbalance_10",
        "ofi_10",
        "ofi_50",
        "ofi_100",
    ]
    pairs = [(f"top_buyer_{k}_active", f"top_seller_{k}_active") for k in range(5)] + [
        ("top_buyers_count", "top_sellers_count"),
        ("buyer_changed", "seller_changed"),
        ("is_buyer_aggressor", "is_seller_aggressor"),
        ("depth_bid_5", "depth_ask_5"),
    ]
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    for name in QT77_NAMES:
        j = COL[name]
        if name in negated:
            np.testing.assert_array_equal(m2[:, j], -m[:, j] + 0.0, err_msg=name)
            assert np.nanmax(np.abs(m[:, j])) > 0, name  # not vacuous
        elif name in partner:
            np.testing.assert_array_equal(m2[:, j], m[:, COL[partner[name]]], err_msg=name)
        else:
            np.testing.assert_array_equal(m2[:, j], m[:, j], err_msg=name)


def test_subsecond_times_do_not_change_features():
    """Whole-second windows: ms timestamps and the same records truncated to the
    second (a second-resolution export) give the same values."""
    events = edge_case_sessions()
    truncated = events.copy()
    truncated["exch_ns"] = events["exch_ns"] // NS * NS
    np.testing.assert_array_equal(wdo().run(truncated)[2], wdo().run(events)[2])


# ------------------------------------------------------- sessions and clock


def test_local_midnight_not_utc_midnight_splits_sessions():
    # 22:30 local on the 13th is 01:30 UTC on the 14th: still the same session
    ts = [local_ns(2026, 11, 13, 20), local_ns(2026, 11, 13, 22, 30), local_ns(2026, 11, 14, 0, 0, 1)]
    engine = wdo()
    m = engine.run(trades_only(ts, [10_700] * 3, 1, 1, 2, 2))[2]
    assert engine.counters["session_resets"] == 2
    assert m[1, COL["returns_1"]] == 0.0 and math.isnan(m[2, COL["returns_1"]])
    assert m[2, COL["hour"]] == 0 and m[2, COL["day_of_week"]] == 5  # Saturday


def test_daylight_saving_time_from_the_tz_database():
    # 2018-11-05: Brazil on DST (UTC-2); 2018-03-05: standard time (UTC-3)
    t_dst = int(dt.datetime(2018, 11, 5, 12, 0, tzinfo=dt.UTC).timestamp()) * NS
    t_std = int(dt.datetime(2018, 3, 5, 12, 0, tzinfo=dt.UTC).timestamp()) * NS
    m = wdo().run(trades_only([t_std, t_dst], [10_700] * 2, 1, 1, 2, 2))[2]
    assert m[0, COL["hour"]] == 9 and m[1, COL["hour"]] == 10
    assert m[1, COL["day_of_week"]] == 0  # Monday
    tr = tz_transitions()
    assert tr[0][1] == -3 * 3600
    assert (int(dt.datetime(2018, 11, 4, 3, tzinfo=dt.UTC).timestamp()) * NS, -7200) in tr
    assert tr[-1] == (int(dt.datetime(2019, 2, 17, 2, tzinfo=dt.UTC).timestamp()) * NS, -10800)


def test_session_hours_per_date_and_defaults():
    ts = [local_ns(2026, 11, 13, 9, 15), local_ns(2026, 11, 16, 9, 15), local_ns(2026, 11, 16, 17, 45)]
    engine = FeatureEngine(0.5, 0.5, sessions={20261116: ("10:00", "17:00")})
    out = [engine.on_trade(t, 10_700, 1, 1, 2, 2) for t in ts]
    assert out[0][COL["is_opening_30min"]] == 1 and out[0][COL["time_normalized"]] == 900 / 32400
    assert out[1][COL["is_opening_30min"]] == 0 and out[1][COL["time_normalized"]] == 0.0
    assert out[2][COL["time_normalized"]] == 1.0 and out[2][COL["is_closing_30min"]] == 0
    other = FeatureEngine(
        0.5,
        0.5,
        sessions={dt.date(2026, 11, 16): (dt.time(10), 17 * 3600)},
        default_open="08:55",
        default_close="18:30:00",
    )
    assert other.on_trade(ts[0], 10_700, 1, 1, 2, 2)[COL["is_opening_30min"]] == 1
    assert other.on_trade(ts[1], 10_700, 1, 1, 2, 2)[COL["time_normalized"]] == 0.0
    assert seconds_of_day("09:30") == 34200


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(tick_size=0.0, price_unit=0.5),
        dict(tick_size=0.5, price_unit=-1.0),
        dict(tick_size=0.5, price_unit=0.5, qty_scale=-1.0),
        dict(tick_size=0.5, price_unit=0.5, default_open="18:00", default_close="09:00"),
        dict(tick_size=0.5, price_unit=0.5, sessions={20261116: ("10:00", "10:00")}),
        dict(tick_size=0.5, price_unit=0.5, sessions={20261399: ("10:00", "17:00")}),
        dict(tick_size=0.5, price_unit=0.5, default_open="9h"),
        dict(tick_size=0.5, price_unit=0.5, tz_transitions=[(10, 0), (5, 3600)]),
        dict(tick_size=0.5, price_unit=0.5, book_capacity=1 << 23),
    ],
)
def test_bad_configuration_is_refused(kwargs):
    with pytest.raises(ValueError):
        FeatureEngine(**kwargs)


def test_timestamp_regressions_take_the_latest_time():
    t0 = local_ns(2026, 11, 13, 10)
    engine = wdo()
    ts, _, m = engine.run(trades_only([t0, t0 + 5 * NS, t0 + NS, t0 + 7 * NS], [10_700] * 4, 1, 1, 2, 2))
    assert engine.counters["ts_regressions"] == 1
    np.testing.assert_array_equal(ts, [t0, t0 + 5 * NS, t0 + 5 * NS, t0 + 7 * NS])
    m2 = wdo().run(trades_only([t0, t0 + 5 * NS, t0 + 5 * NS, t0 + 7 * NS], [10_700] * 4, 1, 1, 2, 2))[2]
    np.testing.assert_array_equal(m, m2)


def test_edits_invalid_and_missing_times_are_counted_not_emitted():
    events = edge_case_sessions()
    clean = events[~((events["type"] == EventType.TRADE) & (events["flags"] != 0))]
    m = wdo().run(clean)[2]
    at = np.flatnonzero(clean["type"] == EventType.TRADE)[[100, 200, 300, 400]]
    extra = clean[at].copy()
    extra["flags"] = [EventFlag.EDIT, EventFlag.INVALID, 0, 0]
    extra["price"][2] = PRICE_NONE
    extra["qty"][3] = 0
    mixed = np.insert(clean, at + 1, extra)
    engine = wdo()
    np.testing.assert_array_equal(engine.run(mixed)[2], m)
    c = engine.counters
    assert (c["edits"], c["invalid"], c["rows"]) == (1, 3, len(m))
    # a trade without exchange time takes the latest time; before any time it is dropped
    engine = wdo()
    t0 = local_ns(2026, 11, 13, 10)
    assert engine.on_trade(TIME_NONE, 10_700, 1, 1, 2, 2) is None
    engine.on_trade(t0, 10_700, 1, 1, 2, 2)
    row = engine.on_trade(TIME_NONE, 10_701, 1, 1, 2, 2)
    assert row is not None and row[COL["trade_intensity"]] == 2 / 60
    assert engine.counters["ts_missing"] == 1 and engine.counters["invalid"] == 1


def test_session_markers_do_not_reset_sessions_local_dates_do():
    b = StreamBuilder()
    t = local_ns(2026, 11, 13, 10)
    b.marker(t, 20261113)
    b.trade(t, 10_700)
    b.marker(t, 20261114)  # a marker of another date: the records' dates rule, it is skipped
    b.trade(t + NS, 10_701)
    engine = wdo()
    m = engine.run(b.events())[2]
    assert engine.counters["session_resets"] == 1 and engine.counters["skipped_records"] == 2
    assert m[1, COL["returns_1"]] == pytest.approx(10_701 / 10_700 - 1)
    with pytest.raises(TypeError):
        engine.run(np.zeros(3, dtype=np.int64))


def test_reset_returns_to_a_fresh_engine():
    events = edge_case_sessions()
    engine = wdo()
    m = engine.run(events)[2]
    engine.reset()
    assert engine.counters["trades"] == 0 and engine.book_quote()[0] == PRICE_NONE
    np.testing.assert_array_equal(engine.run(events)[2], m)


# ------------------------------------------------------------ the drain loop


class _Hook(ctypes.Structure):
    FN = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_double), ctypes.c_void_p, ctypes.c_int64
    )
    _fields_ = [("fn", FN), ("user", ctypes.c_void_p)]


_CAPSULE_NAME = b"qt_fe_hook"


def hook_capsule(fn) -> tuple[object, object]:
    """A C decision hook made from a Python function with ctypes (what a compiled
    predictor module would hand over): ``(capsule, keepalive)``."""
    callback = _Hook.FN(fn)
    hook = _Hook(callback, None)
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(ctypes.addressof(hook), _CAPSULE_NAME, None), (callback, hook)


def test_decision_hook_sees_every_vector_and_can_stop_the_loop():
    events = edge_case_sessions()
    _, tn_all, m_all = wdo().run(events)
    seen: list[tuple[int, float, int]] = []

    def decide(user, features, trade, ts):
        seen.append((ts, features[COL["returns_1"]], features[COL["hour"]]))
        return 1 if len(seen) == 300 else 0

    capsule, keep = hook_capsule(decide)
    engine = wdo()
    batch = FeatureBatch(2000, every=0, hook=capsule)  # keeps no rows: the hook sees them all
    done, status = engine.drain(events, batch)
    assert status == DRAIN_STOPPED and len(seen) == 300 and batch.rows == 0
    assert events["type"][done - 1] == EventType.TRADE and events["ref"][done - 1] == tn_all[299]
    done2, status = engine.drain(events, batch, done)
    assert (done + done2, status) == (len(events), DRAIN_DONE) and len(seen) == len(m_all)
    np.testing.assert_array_equal([s[1] for s in seen], m_all[:, COL["returns_1"]])
    with pytest.raises(TypeError):
        FeatureBatch(1, hook=object())
    del keep


def test_drain_ring_waits_and_reports_idle_and_closed():
    events = edge_case_sessions()
    _, _, m_all = wdo().run(events)
    ring = Ring(4096)
    engine = wdo()
    batch = FeatureBatch(len(m_all), latencies=len(m_all))
    assert engine.drain_ring(ring, batch, timeout_s=0.0) == (0, DRAIN_IDLE)
    raw = events.view(np.uint8)
    half = 700 * 64
    assert ring.push_bytes(raw[:half], batch=700) == 700
    assert engine.drain_ring(ring, batch, timeout_s=0.01) == (700, DRAIN_IDLE)

    def late_producer():
        assert ring.push_bytes(raw[half:], batch=len(events) - 700) == len(events) - 700
        ring.close()

    timer = threading.Timer(0.05, late_producer)
    timer.start()
    done, status = engine.drain_ring(ring, batch)  # waits (without the GIL) for the rest
    timer.join()
    if status != DRAIN_CLOSED:
        more, status = engine.drain_ring(ring, batch)
        done += more
    assert (700 + done, status) == (len(events), DRAIN_CLOSED)
    np.testing.assert_array_equal(batch.matrix[: batch.rows], m_all)
    lat = batch.latency_ns[: batch.latencies_recorded]
    assert batch.latencies_recorded == len(m_all) and (lat > 0).all() and np.median(lat) < 1_000_000
    assert engine.drain_ring(ring, batch) == (0, DRAIN_CLOSED)
    with pytest.raises(ValueError):
        engine.drain_ring(Ring(16, slot_size=128), batch)


# ------------------------------------------------------------------ memory


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_stays_flat_over_sessions(market):
    events, _ = market
    engine = wdo()
    size = engine.memory_bytes
    batch = FeatureBatch(1000, every=0)
    engine.drain(events, batch)
    before = _rss_bytes()
    for _ in range(10):  # the clock regresses at each repeat: one ever longer session
        assert engine.drain(events, batch) == (len(events), DRAIN_DONE)
    assert _rss_bytes() - before < 1 << 20
    assert engine.memory_bytes == size

