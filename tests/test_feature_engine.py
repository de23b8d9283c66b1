"""The C feature engine against the spec (features.md, `qt-features/1`): the
golden file, a slow reference on long synthetic sessions, exactness,
metamorphic properties, sessions/clock rules, book features, memory."""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import sys
import zoneinfo
from pathlib import Path

import numpy as np
import pytest
from feature_reference import BOOK12, QT65, QT77, Session, compare, features_at

from quantumtrader.events import PRICE_NONE, TIME_NONE, EventFlag, EventType, empty_events, price_to_float
from quantumtrader.qtcore.features import N_FEATURES, FeatureEngine, seconds_of_day, tz_transitions

TZ = zoneinfo.ZoneInfo("America/Sao_Paulo")
NS = 1_000_000_000
COL = {name: j for j, name in enumerate(QT77)}


def _spec_dir() -> Path | None:
    for cand in (os.environ.get("QT_SPEC_DIR"), Path(__file__).resolve().parents[1] / "spec",
                 "/work/shared/spec"):
        if cand and (Path(cand) / "golden" / "golden_trades.csv").exists():
            return Path(cand)
    return None


SPEC = _spec_dir()
needs_golden = pytest.mark.skipif(SPEC is None, reason="spec/golden not found (set QT_SPEC_DIR)")

TRADE_WORDS = {"cross": 1, "aggressorbuyer": 2, "aggressorseller": 3, "auction": 4, "surveillance": 5,
               "expit": 6, "optionexercise": 7, "overthecounter": 8, "derivativeterm": 9, "index": 10,
               "btc": 11, "onbehalf": 12, "rlp": 13}


def trade_code(word: str) -> int:
    return TRADE_WORDS.get(word.lower().replace(" ", "").replace("_", "").replace("-", ""), 32)


def local_ns(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    """Local America/Sao_Paulo wall clock -> UTC ns (ambiguous: earlier reading)."""
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=TZ, fold=0).timestamp()) * NS


def make_events(ts, price, qty, buy, sell, code, ref=None, flags=None) -> np.ndarray:
    ev = empty_events(len(ts))
    ev["type"] = EventType.TRADE
    ev["exch_ns"] = ts
    ev["price"] = price
    ev["qty"] = qty
    ev["a"] = buy
    ev["b"] = sell
    ev["code"] = code
    ev["ref"] = np.arange(len(ts)) if ref is None else ref
    if flags is not None:
        ev["flags"] = flags
    return ev


# ------------------------------------------------------------------ golden

def parse_golden(agent_order: str = "first_seen"):
    """golden_trades.csv -> (events, after-hours events).  Agent names map to
    ids through one dictionary shared by buyers and sellers."""
    rows = list(csv.reader(open(SPEC / "golden" / "golden_trades.csv", newline="")))
    rows.sort(key=lambda r: (int(r[1]), int(r[2]), int(r[3])))
    names = sorted({r[7] for r in rows} | {r[8] for r in rows})
    if agent_order == "first_seen":
        ids: dict = {}
        for r in rows:
            ids.setdefault(r[7], len(ids) + 1)
            ids.setdefault(r[8], len(ids) + 1)
    else:  # a different one-to-one mapping: large, scrambled ids
        rng = np.random.default_rng(7)
        ids = dict(zip(names, rng.choice(2**31 - 1, len(names), replace=False).tolist(), strict=True))
    cols = {k: [] for k in ("ts", "price", "qty", "buy", "sell", "code", "ref", "flags")}
    for r in rows:
        d, t = r[1], r[2].zfill(6)
        cols["ts"].append(local_ns(int(d[:4]), int(d[4:6]), int(d[6:]), int(t[:2]), int(t[2:4]), int(t[4:])))
        cols["price"].append(round(float(r[4]) / 0.5))
        cols["qty"].append(int(r[5]))
        cols["buy"].append(ids[r[7]])
        cols["sell"].append(ids[r[8]])
        cols["code"].append(trade_code(r[9]))
        cols["ref"].append(int(r[3]))
        cols["flags"].append(int(EventFlag.AFTER_HOURS) if r[10].strip().upper() == "S" else 0)
    ev = make_events(*(np.array(cols[k]) for k in ("ts", "price", "qty", "buy", "sell", "code", "ref", "flags")))
    return ev[ev["flags"] == 0], ev


def load_golden_expected():
    rows = list(csv.reader(open(SPEC / "golden" / "golden_trades.features.csv", newline="")))
    header = rows[0]
    assert header[2:] == QT65, "golden header is not qt65 in spec order"
    ts = np.array([int(r[0]) for r in rows[1:]], dtype=np.int64)
    tn = np.array([int(r[1]) for r in rows[1:]], dtype=np.int64)
    m = np.array([[float(x) if x != "" else math.nan for x in r[2:]] for r in rows[1:]])
    return ts, tn, m


@pytest.fixture(scope="module")
def golden():
    if SPEC is None:
        pytest.skip("spec/golden not found")
    ev, ev_with_aft = parse_golden()
    fe = FeatureEngine(0.5, 0.5)
    ts, tn, m = fe.run(ev)
    return dict(ev=ev, ev_aft=ev_with_aft, ts=ts, tn=tn, m=m, counters=fe.counters,
                expected=load_golden_expected())


@needs_golden
@pytest.mark.parametrize("name", QT65)
def test_golden_feature(golden, name):
    """Each qt65 feature against the golden file, README tolerances."""
    j = QT65.index(name)
    bad = compare(golden["m"][:, j : j + 1], golden["expected"][2][:, j : j + 1], [name], rel=1e-9,
                  rel_std=1e-6)
    assert not bad, "\n".join(bad)


@needs_golden
def test_golden_rows_ts_and_counters(golden):
    ts, tn, _ = golden["expected"]
    assert golden["m"].shape == (1099, N_FEATURES)
    np.testing.assert_array_equal(golden["ts"], ts)
    np.testing.assert_array_equal(golden["tn"], tn)
    c = golden["counters"]
    assert (c["trades"], c["rows"], c["session_resets"], c["ts_regressions"], c["invalid"]) == (1099, 1099, 2, 0, 0)


@needs_golden
def test_golden_without_book_data_book_features_follow_empty_rules(golden):
    b = golden["m"][:, 65:]
    assert np.isnan(b[:, [COL[c] - 65 for c in ("spread", "spread_ticks", "microprice_dev")]]).all()
    for c in ("book_imbalance_1", "book_imbalance_5", "book_imbalance_10", "depth_bid_5", "depth_ask_5",
              "book_update_rate"):
        assert (b[:, COL[c] - 65] == 0).all(), c
    assert np.isnan(b[:, [COL[c] - 65 for c in ("ofi_10", "ofi_50", "ofi_100")]]).all()


@needs_golden
def test_golden_agent_ids_do_not_matter(golden):
    ev, _ = parse_golden(agent_order="scrambled")
    _, _, m = FeatureEngine(0.5, 0.5).run(ev)
    np.testing.assert_array_equal(m, golden["m"])


@needs_golden
def test_golden_after_hours_records_are_dropped_and_counted(golden):
    fe = FeatureEngine(0.5, 0.5)
    _, tn, m = fe.run(golden["ev_aft"])
    np.testing.assert_array_equal(m, golden["m"])
    np.testing.assert_array_equal(tn, golden["tn"])
    assert fe.counters["after_hours"] == 4 and fe.counters["trades"] == 1103


@needs_golden
def test_golden_on_trade_one_by_one_equals_run(golden):
    fe = FeatureEngine(0.5, 0.5)
    rows = []
    for e in golden["ev"]:
        rows.append(fe.on_trade(int(e["exch_ns"]), int(e["price"]), int(e["qty"]), int(e["a"]), int(e["b"]),
                                int(e["code"]), int(e["ref"])))
    np.testing.assert_array_equal(np.array(rows), golden["m"])


@needs_golden
def test_golden_matches_the_slow_reference(golden):
    """The test's own reference agrees with the golden file too (so the
    synthetic checks below use a reference known to read the spec alike)."""
    ev = golden["ev"]
    day = ev["exch_ns"] < local_ns(2026, 11, 14)
    want = golden["expected"][2]
    for mask, rows in ((day, range(0, 1044, 7)), (~day, range(55))):
        sub = ev[mask]
        S = Session(sub["exch_ns"], sub["price"] * 0.5, sub["qty"], sub["a"], sub["b"], sub["code"])
        got = np.array([features_at(S, i) for i in rows])
        offset = 0 if mask is day else 1044
        bad = compare(got, want[[offset + i for i in rows]], QT65, rel=1e-9, rel_std=1e-6)
        assert not bad, "\n".join(bad)


# --------------------------------------------------------------- synthetic

def synthetic(n: int, seed: int, day=(2026, 11, 13), start=(9, 0, 0), mean_gap_ms: float = 15.0,
              n_agents: int = 80, flat_every: int = 20_000) -> np.ndarray:
    """A random-walk session of n trades from `start` local time: one-tick
    steps, flat runs (price and quantity constant for 250 trades), 3-minute
    gaps, a pool of agents with skewed activity and large ids."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-1, 0, 1], size=n, p=[0.2, 0.6, 0.2])
    qty = np.minimum(1 + rng.geometric(0.25, size=n), 500)
    for k in range(flat_every // 2, n - 300, flat_every):
        steps[k : k + 250] = 0
        qty[k : k + 250] = 5
    price = 10_700 + np.cumsum(steps)
    gaps = rng.exponential(mean_gap_ms * 1e6, size=n).astype(np.int64)
    gaps[rng.choice(n, size=max(1, n // 200_000), replace=False)] += 180 * NS
    ts = local_ns(*day, *start) + np.cumsum(gaps)
    ids = rng.choice(20_000, size=n_agents, replace=False)
    w = 1.0 / np.arange(1, n_agents + 1)
    w /= w.sum()
    buy = ids[rng.choice(n_agents, size=n, p=w)]
    sell = ids[rng.choice(n_agents, size=n, p=w)]
    code = rng.choice([2, 3, 1, 4, 13], size=n, p=[0.45, 0.45, 0.05, 0.03, 0.02])
    return make_events(ts, price, qty, buy, sell, code)


def session_of(ev: np.ndarray) -> Session:
    return Session(ev["exch_ns"], ev["price"] * 0.5, ev["qty"], ev["a"], ev["b"], ev["code"])


@pytest.fixture(scope="module")
def long_session():
    n = 2_000_000
    ev = synthetic(n, seed=1, mean_gap_ms=14.0)
    assert local_ns(2026, 11, 14) > ev["exch_ns"][-1], "the session must stay on one local date"
    fe = FeatureEngine(0.5, 0.5)
    ts, tn, m = fe.run(ev)
    return ev, m, fe.counters


def test_long_session_matches_two_pass_reference(long_session):
    """No drift: sampled rows up to 2M trades into one session agree with a
    from-scratch two-pass computation, to 1e-9 relative for every feature."""
    ev, m, counters = long_session
    assert m.shape == (len(ev), N_FEATURES)
    assert counters["session_resets"] == 1 and counters["recomputations"] == 0
    S = session_of(ev)
    rng = np.random.default_rng(5)
    rows = sorted(set(range(0, 600, 3)) | set(rng.choice(len(ev), 300, replace=False).tolist())
                  | {len(ev) - 1} | set(range(10_000, 10_300, 10)))
    got = m[rows, :65]
    want = np.array([features_at(S, i) for i in rows])
    bad = compare(got, want, QT65)
    assert not bad, "\n".join(bad)


def test_long_session_flat_runs_give_exact_zero_std(long_session):
    ev, m, _ = long_session
    # a flat run starts at 10_000 (250 trades, price and quantity constant): after 201
    # of them every return window is all zeros, however volatile the session before it
    rows = slice(10_000 + 201, 10_000 + 250)
    for name in ("volatility_10", "volatility_20", "volatility_50", "volatility_100", "volume_weighted_return",
                 "sharpe_5", "sharpe_20", "returns_100", "log_returns_20", "momentum_20_50",
                 "volume_zscore_20", "volume_zscore_50", "volume_zscore_100"):
        assert (m[rows, COL[name]] == 0.0).all(), name
    assert (m[rows, COL["bb_position"]] == 0.5).all()
    assert (m[rows, COL["volatility_ratio_10"]] == 0.0).all()  # safe_div(0, 0)
    assert (m[rows, COL["ma_5_20_ratio"]] == 1.0).all() and (m[rows, COL["volume_ratio_20"]] == 1.0).all()


def test_constant_prices_from_the_start():
    n = 600
    ev = make_events(local_ns(2026, 11, 13, 10) + np.arange(n) * NS, np.full(n, 10_701), np.full(n, 3),
                     np.full(n, 7), np.full(n, 9), np.full(n, 2))
    _, _, m = FeatureEngine(0.5, 0.5).run(ev)
    assert (m[20:, COL["bb_position"]] == 0.5).all()
    assert (m[100:, COL["volatility_100"]] == 0.0).all() and (m[200:, COL["volatility_ratio_100"]] == 0.0).all()
    assert (m[6:, COL["sharpe_5"]] == 0.0).all() and (m[100:, COL["volume_zscore_100"]] == 0.0).all()
    # NaN exactly until the window is full
    assert np.isnan(m[:100, COL["volatility_100"]]).all() and not np.isnan(m[100, COL["volatility_100"]])
    assert np.isnan(m[:499, COL["top_buyer_0_active"]]).all()
    assert m[499, COL["top_buyer_0_active"]] == 1.0 and m[499, COL["top_buyers_count"]] == 1.0


def test_rank_ties_break_by_recency_and_agents_leave_the_window():
    """Two buyers alternate with equal volume: the one who bought last ranks
    first; then a third buyer takes over and the first two leave W_500."""
    n = 1200
    buy = np.where(np.arange(n) % 2 == 0, 11, 22)
    buy[700:] = 33
    ev = make_events(local_ns(2026, 11, 13, 10) + np.arange(n) * NS, np.full(n, 10_700), np.full(n, 1), buy,
                     np.full(n, 5), np.full(n, 3))
    _, _, m = FeatureEngine(0.5, 0.5).run(ev)
    assert (m[499:700, COL["top_buyer_0_active"]] == 1).all()
    assert (m[499:700, COL["top_buyer_1_active"]] == 0).all()
    # row 865: W_500 = 366..865 holds 167 buys of 11 (latest 698), 167 of 22 (latest 699) and
    # 166 of 33: 22 ranks first on recency, 33 third; one trade later 33 leads with 167
    assert m[865, COL["top_buyer_2_active"]] == 1 and m[866, COL["top_buyer_0_active"]] == 1
    assert m[700, COL["top_buyers_count"]] == 3 and (m[719:, COL["top_buyers_count"]] == 1).all()
    S = session_of(ev)
    rows = [499, 500, 700, 719, 864, 865, 866, 1198, 1199]
    bad = compare(m[rows, :65], np.array([features_at(S, i) for i in rows]), QT65)
    assert not bad, "\n".join(bad)


def test_many_distinct_agent_ids_recycle_slots():
    """Every trade a new buyer (ids over the whole int32 range): slots are
    recycled as agents leave W_500; rankings still match the reference."""
    n = 30_000
    rng = np.random.default_rng(3)
    buy = rng.choice(np.arange(-(2**31), 2**31 - 1, 9973, dtype=np.int64), n, replace=False).astype(np.int32)
    buy[:5] = [-(2**31), 2**31 - 1, 0, -1, 1]
    sell = rng.integers(0, 40, n)
    ev = make_events(local_ns(2026, 11, 13, 10) + np.arange(n) * (NS // 4), 10_700 + rng.integers(-3, 4, n),
                     rng.integers(1, 9, n), buy, sell, rng.choice([2, 3], n))
    fe = FeatureEngine(0.5, 0.5)
    _, _, m = fe.run(ev)
    S = session_of(ev)
    rows = [*range(495, 520), *range(29_950, 30_000)]
    bad = compare(m[rows, :65], np.array([features_at(S, i) for i in rows]), QT65)
    assert not bad, "\n".join(bad)


# -------------------------------------------------------------- metamorphic

@pytest.fixture(scope="module")
def small_session():
    ev = synthetic(6_000, seed=11, mean_gap_ms=900.0, n_agents=25, flat_every=3_000)
    _, _, m = FeatureEngine(0.5, 0.5).run(ev)
    return ev, m


def test_scaling_prices_leaves_returns_and_ratios_unchanged(small_session):
    ev, m = small_session
    for k in (2, 3, 8):
        ev2 = ev.copy()
        ev2["price"] *= k
        _, _, m2 = FeatureEngine(0.5, 0.5).run(ev2)
        np.testing.assert_allclose(m2[:, :65], m[:, :65], rtol=1e-12, atol=0, equal_nan=True)
        if k in (2, 8):  # power-of-two scaling is exact in binary floating point
            np.testing.assert_array_equal(m2[:, :65], m[:, :65])


def test_swapping_sides_negates_signed_features_and_swaps_groups(small_session):
    ev, m = small_session
    ev2 = ev.copy()
    ev2["code"] = np.where(ev["code"] == 2, 3, np.where(ev["code"] == 3, 2, ev["code"]))
    ev2["a"], ev2["b"] = ev["b"], ev["a"]
    _, _, m2 = FeatureEngine(0.5, 0.5).run(ev2)
    negated = [f"order_flow_imbalance_{n}" for n in (10, 20, 50, 100)] + ["cumulative_signed_volume",
                                                                          "signed_volume"]
    pairs = [(f"top_buyer_{k}_active", f"top_seller_{k}_active") for k in range(5)] + [
        ("top_buyers_count", "top_sellers_count"), ("buyer_changed", "seller_changed"),
        ("is_buyer_aggressor", "is_seller_aggressor")]
    swapped = {x for p in pairs for x in p}
    for name in QT65:
        j = COL[name]
        if name in negated:
            np.testing.assert_array_equal(m2[:, j], -m[:, j] + 0.0, err_msg=name)
        elif name in swapped:
            other = next(b if a == name else a for a, b in pairs if name in (a, b))
            np.testing.assert_array_equal(m2[:, j], m[:, COL[other]], err_msg=name)
        else:
            np.testing.assert_array_equal(m2[:, j], m[:, j], err_msg=name)
    assert np.nanmax(np.abs(m[:, COL["order_flow_imbalance_10"]])) > 0  # the check is not vacuous


def test_subsecond_times_do_not_change_features(small_session):
    """Whole-second windows: ms timestamps and the same trades truncated to
    the second (a second-resolution export) give the same values."""
    ev, m = small_session
    ev2 = ev.copy()
    ev2["exch_ns"] = ev["exch_ns"] // NS * NS
    _, _, m2 = FeatureEngine(0.5, 0.5).run(ev2)
    np.testing.assert_array_equal(m2, m)


def test_shifting_by_a_week_changes_nothing(small_session):
    ev, m = small_session
    ev2 = ev.copy()
    ev2["exch_ns"] += 7 * 86400 * NS
    _, _, m2 = FeatureEngine(0.5, 0.5).run(ev2)
    np.testing.assert_array_equal(m2, m)


# ------------------------------------------------------- sessions and clock

def _trades_at(ts_list, price=10_700) -> np.ndarray:
    n = len(ts_list)
    return make_events(np.array(ts_list, dtype=np.int64), np.full(n, price), np.ones(n, dtype=np.int32),
                       np.full(n, 1), np.full(n, 2), np.full(n, 2))


def test_new_local_date_resets_all_state():
    a = synthetic(700, seed=2, day=(2026, 11, 12), start=(17, 40, 0), mean_gap_ms=500.0)
    b = synthetic(700, seed=3, day=(2026, 11, 13), start=(9, 0, 0), mean_gap_ms=500.0)
    fe = FeatureEngine(0.5, 0.5)
    _, _, m = fe.run(np.concatenate([a, b]))
    _, _, mb = FeatureEngine(0.5, 0.5).run(b)
    np.testing.assert_array_equal(m[700:], mb)
    assert fe.counters["session_resets"] == 2


def test_local_midnight_not_utc_midnight_splits_sessions():
    # 22:30 local on the 13th is 01:30 UTC on the 14th: still the same session
    ts = [local_ns(2026, 11, 13, 20), local_ns(2026, 11, 13, 22, 30), local_ns(2026, 11, 14, 0, 0, 1)]
    fe = FeatureEngine(0.5, 0.5)
    _, _, m = fe.run(_trades_at(ts))
    assert fe.counters["session_resets"] == 2
    assert m[1, COL["returns_1"]] == 0.0 and math.isnan(m[2, COL["returns_1"]])
    assert m[2, COL["hour"]] == 0 and m[2, COL["day_of_week"]] == 5  # Saturday


def test_daylight_saving_time_from_the_tz_database():
    # 2018-11-05: Brazil on DST (UTC-2); 2018-03-05: standard time (UTC-3)
    t_dst = int(dt.datetime(2018, 11, 5, 12, 0, tzinfo=dt.UTC).timestamp()) * NS
    t_std = int(dt.datetime(2018, 3, 5, 12, 0, tzinfo=dt.UTC).timestamp()) * NS
    _, _, m = FeatureEngine(0.5, 0.5).run(_trades_at([t_std, t_dst]))
    assert m[0, COL["hour"]] == 9 and m[1, COL["hour"]] == 10
    assert m[1, COL["day_of_week"]] == 0  # Monday


def test_tz_transitions_table():
    tr = tz_transitions()
    assert tr[0][1] == -3 * 3600
    # DST 2018-11-04 00:00 local (03:00 UTC) -> UTC-2; ended 2019-02-17 00:00 local DST (02:00 UTC)
    assert (int(dt.datetime(2018, 11, 4, 3, tzinfo=dt.UTC).timestamp()) * NS, -7200) in tr
    assert tr[-1] == (int(dt.datetime(2019, 2, 17, 2, tzinfo=dt.UTC).timestamp()) * NS, -10800)


def test_session_hours_table_and_defaults():
    ts = [local_ns(2026, 11, 13, 9, 15), local_ns(2026, 11, 16, 9, 15), local_ns(2026, 11, 16, 17, 45)]
    fe = FeatureEngine(0.5, 0.5, sessions={20261116: ("10:00", "17:00")})
    out = [fe.on_trade(t, 10_700, 1, 1, 2, 2) for t in ts]
    assert out[0][COL["is_opening_30min"]] == 1 and out[0][COL["time_normalized"]] == 900 / 32400
    assert out[1][COL["is_opening_30min"]] == 0 and out[1][COL["time_normalized"]] == 0.0
    assert out[2][COL["time_normalized"]] == 1.0 and out[2][COL["is_closing_30min"]] == 0
    fe2 = FeatureEngine(0.5, 0.5, sessions={dt.date(2026, 11, 16): (dt.time(10), 17 * 3600)},
                        default_open="08:55", default_close="18:30:00")
    assert fe2.on_trade(ts[0], 10_700, 1, 1, 2, 2)[COL["is_opening_30min"]] == 1
    assert fe2.on_trade(ts[1], 10_700, 1, 1, 2, 2)[COL["time_normalized"]] == 0.0
    assert seconds_of_day("09:30") == 34200


@pytest.mark.parametrize("kwargs", [
    dict(tick_size=0.0, price_unit=0.5), dict(tick_size=0.5, price_unit=-1.0),
    dict(tick_size=0.5, price_unit=0.5, default_open="18:00", default_close="09:00"),
    dict(tick_size=0.5, price_unit=0.5, sessions={20261116: ("10:00", "10:00")}),
    dict(tick_size=0.5, price_unit=0.5, sessions={20261399: ("10:00", "17:00")}),
    dict(tick_size=0.5, price_unit=0.5, default_open="9h"),
    dict(tick_size=0.5, price_unit=0.5, tz_transitions=[(10, 0), (5, 3600)]),
])
def test_bad_configuration_is_refused(kwargs):
    with pytest.raises(ValueError):
        FeatureEngine(**kwargs)


def test_timestamp_regressions_take_the_latest_time():
    t0 = local_ns(2026, 11, 13, 10)
    ts = [t0, t0 + 5 * NS, t0 + 1 * NS, t0 + 7 * NS]
    fe = FeatureEngine(0.5, 0.5)
    ts_out, _, m = fe.run(_trades_at(ts))
    assert fe.counters["ts_regressions"] == 1
    np.testing.assert_array_equal(ts_out, [t0, t0 + 5 * NS, t0 + 5 * NS, t0 + 7 * NS])
    _, _, m2 = FeatureEngine(0.5, 0.5).run(_trades_at([t0, t0 + 5 * NS, t0 + 5 * NS, t0 + 7 * NS]))
    np.testing.assert_array_equal(m, m2)


def test_edits_invalid_and_missing_times_are_counted_not_emitted(small_session):
    ev, m = small_session
    extra = ev[[100, 200, 300, 400, 500]].copy()
    extra["flags"] = [EventFlag.EDIT, EventFlag.INVALID, 0, 0, 0]
    extra["price"][2] = PRICE_NONE
    extra["qty"][3] = -1
    extra["price"][4] = 0
    mixed = np.insert(ev, [101, 201, 301, 401, 501], extra)
    fe = FeatureEngine(0.5, 0.5)
    _, tn, m2 = fe.run(mixed)
    np.testing.assert_array_equal(m2, m)
    c = fe.counters
    assert (c["edits"], c["invalid"], c["trades"], c["rows"]) == (1, 4, len(ev) + 5, len(ev))
    # a trade without exchange time takes the latest time
    fe = FeatureEngine(0.5, 0.5)
    t0 = local_ns(2026, 11, 13, 10)
    assert fe.on_trade(TIME_NONE, 10_700, 1, 1, 2, 2) is None  # no clock at all yet: dropped
    fe.on_trade(t0, 10_700, 1, 1, 2, 2)
    row = fe.on_trade(TIME_NONE, 10_701, 1, 1, 2, 2)
    assert row is not None and row[COL["trade_intensity"]] == 2 / 60
    assert fe.counters["ts_missing"] == 1 and fe.counters["invalid"] == 1


def test_session_marker_records_and_skipped_types():
    a = _trades_at([local_ns(2026, 11, 13, 10), local_ns(2026, 11, 13, 10, 0, 1)])
    marker = empty_events(2)
    marker["type"] = [EventType.SESSION, EventType.PRICE_BOOK]
    marker["ref"] = [20261113, 0]
    fe = FeatureEngine(0.5, 0.5)
    _, _, m = fe.run(np.concatenate([marker, a]))
    assert fe.counters["session_resets"] == 1 and fe.counters["skipped_records"] == 1
    assert m[1, COL["returns_1"]] == 0.0
    fe.on_session(20261114)
    assert fe.counters["session_resets"] == 2
    with pytest.raises(TypeError):
        fe.run(np.zeros(3, dtype=np.int64))


def test_reset_returns_to_a_fresh_engine(small_session):
    ev, m = small_session
    fe = FeatureEngine(0.5, 0.5)
    fe.run(ev[:1000])
    fe.reset()
    assert fe.counters["trades"] == 0
    _, _, m2 = fe.run(ev)
    np.testing.assert_array_equal(m2, m)


# -------------------------------------------------------------------- book

NONE = int(PRICE_NONE)


def reference_book(events: list, tick: float, unit: float) -> list:
    """Book features at each trade of a mixed list of ('book', ts, top) and
    ('trade', ts) items, straight from the spec (one session)."""
    top = dict(bb=NONE, ba=NONE, qb=0, qa=0, bd=(0, 0, 0), ad=(0, 0, 0))
    terms, book_secs, rows = [], [], []

    def valid(t):
        return t["bb"] != NONE and t["ba"] != NONE and t["bb"] < t["ba"]

    for kind, ts, *rest in events:
        if kind == "book":
            new = rest[0]
            book_secs.append(ts // NS)
            changed = any(new[k] != top[k] for k in ("bb", "qb", "ba", "qa"))
            if changed and valid(new) and valid(top):
                o = top
                terms.append((new["qb"] if new["bb"] >= o["bb"] else 0) - (o["qb"] if new["bb"] <= o["bb"] else 0)
                             - (new["qa"] if new["ba"] <= o["ba"] else 0) + (o["qa"] if new["ba"] >= o["ba"] else 0))
            top = new
            continue
        sec = ts // NS
        f = {}
        if valid(top):
            pb, pa = price_to_float(top["bb"], unit), price_to_float(top["ba"], unit)
            # ba - bb of the prices the venue sent (decimals): their exact unit difference
            spread = float(price_to_float(top["ba"] - top["bb"], unit))
            f["spread"] = spread
            f["spread_ticks"] = spread / tick
            f["microprice_dev"] = ((pa * top["qb"] + pb * top["qa"]) / (top["qb"] + top["qa"]) - (pa + pb) / 2) / tick
        else:
            f["spread"] = f["spread_ticks"] = f["microprice_dev"] = math.nan
        for k, L in enumerate((1, 5, 10)):
            qb = top["bd"][k] if top["bb"] != NONE else 0
            qa = top["ad"][k] if top["ba"] != NONE else 0
            f[f"book_imbalance_{L}"] = (qb - qa) / (qb + qa) if qb + qa else 0.0
        f["depth_bid_5"] = float(top["bd"][1] if top["bb"] != NONE else 0)
        f["depth_ask_5"] = float(top["ad"][1] if top["ba"] != NONE else 0)
        for N in (10, 50, 100):
            f[f"ofi_{N}"] = float(sum(terms[-N:])) if len(terms) >= N else math.nan
        f["book_update_rate"] = sum(1 for s in book_secs if s >= sec - 9) / 10
        rows.append([f[c] for c in BOOK12])
    return rows


def random_book_stream(n: int, seed: int):
    rng = np.random.default_rng(seed)
    t = local_ns(2026, 11, 13, 10)
    bb, ba = 10_700, 10_701
    items = []
    for _ in range(n):
        t += int(rng.exponential(0.4 * NS))
        u = rng.random()
        if u < 0.3:
            items.append(("trade", t))
            continue
        if u < 0.75:
            d = int(rng.integers(-1, 2))
            bb, ba = bb + d, max(ba + d, bb + 1)
        elif u < 0.8:
            ba = bb  # locked
        elif u < 0.83:
            ba = bb - 1  # crossed
        else:
            ba = max(ba, bb + int(rng.integers(1, 3)))
        qb, qa = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        u = rng.random()  # now and then one side empty
        top = dict(bb=NONE if u < 0.015 else bb, ba=NONE if 0.015 <= u < 0.03 else ba, qb=qb, qa=qa)
        if rng.random() < 0.1 and items and items[-1][0] == "book":  # a deeper level changed: same top
            top = dict(items[-1][2])
        top["bd"] = (top["qb"], top["qb"] + int(rng.integers(0, 50)), top["qb"] + int(rng.integers(50, 200)))
        top["ad"] = (top["qa"], top["qa"] + int(rng.integers(0, 50)), top["qa"] + int(rng.integers(50, 200)))
        items.append(("book", t, top))
    return items


def run_book_stream(fe: FeatureEngine, items: list) -> np.ndarray:
    rows = []
    for k, (kind, ts, *rest) in enumerate(items):
        if kind == "book":
            top = rest[0]
            fe.on_book_event(ts, top["bb"], top["ba"], top["qb"], top["qa"], top["bd"], top["ad"])
        else:
            rows.append(fe.on_trade(ts, 10_700 + k % 3, 1, 1, 2, 2))
    return np.array(rows)


@pytest.mark.parametrize("tick,unit", [(0.5, 0.5), (5.0, 5.0), (0.01, 0.01)])
def test_book_features_match_the_spec(tick, unit):
    items = random_book_stream(4000, seed=int(tick * 100))
    fe = FeatureEngine(tick, unit)
    got = run_book_stream(fe, items)[:, 65:]
    want = np.array(reference_book(items, tick, unit))
    bad = compare(got, want, BOOK12, rel=1e-12)
    assert not bad, "\n".join(bad)
    assert fe.counters["book_events"] == sum(1 for it in items if it[0] == "book")
    assert (~np.isnan(got[:, BOOK12.index("ofi_100")])).sum() > 100
    assert np.isnan(got[:, 0]).sum() > 10  # locked/crossed/empty books seen


def test_book_state_resets_with_the_session():
    fe = FeatureEngine(0.5, 0.5)
    t = local_ns(2026, 11, 13, 17)
    for k in range(120):
        fe.on_book_event(t + k * NS, 10_700 + k % 2, 10_702, 5 + k, 7, (5 + k, 9, 9), (7, 9, 9))
    row = fe.on_trade(t + 121 * NS, 10_700, 1, 1, 2, 2)
    assert not math.isnan(row[COL["ofi_100"]]) and row[COL["book_update_rate"]] == 0.8  # seconds 112..119
    row = fe.on_trade(local_ns(2026, 11, 14, 9), 10_700, 1, 1, 2, 2)
    assert math.isnan(row[COL["spread"]]) and math.isnan(row[COL["ofi_10"]])
    assert row[COL["depth_bid_5"]] == 0 and row[COL["book_update_rate"]] == 0


# ------------------------------------------------------------------ memory

def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_memory_is_flat():
    ev = synthetic(200_000, seed=9, mean_gap_ms=20.0)
    fe = FeatureEngine(0.5, 0.5)
    size = fe.memory_bytes
    fe.run_timed(ev)
    before = _rss_bytes()
    for _ in range(8):
        fe.run_timed(ev)  # one session long: the clock regresses at each repeat, state keeps going
    assert _rss_bytes() - before < 1 << 20
    assert fe.memory_bytes == size and fe.counters["rows"] == 9 * len(ev)
