"""Hand-made edge cases of the reference implementation of ``qt-features/1``.

Expected values are computed here independently (``statistics``, explicit
formulas, hand counts), never by calling the reference's own helpers."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from reference.feature_reference import ReferenceFeatures

from quantumtrader.calendar import EXCHANGE_TZ
from quantumtrader.features import QT65_NAMES, QT77_NAMES

TZ = ZoneInfo(EXCHANGE_TZ)
FRI = date(2026, 11, 13)  # UTC-3, no DST
MON = date(2026, 11, 16)
BUY, SELL, AUCTION, CROSS = 2, 3, 4, 1
TICK = 0.5


def local_ns(day: date, hh: int, mm: int = 0, ss: int = 0, ms: int = 0) -> int:
    dt = datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=TZ)
    return int(dt.timestamp()) * 10**9 + ms * 10**6


def utc_ns(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 10**9


def engine(feature_set: str = "qt77") -> ReferenceFeatures:
    return ReferenceFeatures(TICK, time(9, 0), time(18, 0), feature_set=feature_set)


def trade(e: ReferenceFeatures, ts: int, price: float, qty: float = 1, buyer="A", seller="B", kind=BUY):
    row = e.on_trade(ts, price, qty, buyer, seller, kind)
    return None if row is None else dict(zip(e.names, row, strict=True))


def feed_prices(e: ReferenceFeatures, prices, start: int | None = None, step_s: float = 1.0, **kw):
    start = local_ns(FRI, 10) if start is None else start
    return [trade(e, start + int(i * step_s * 1e9), p, **kw) for i, p in enumerate(prices)]


def random_walk(n: int, seed: int = 7, start: float = 5350.0) -> list[float]:
    rng = random.Random(seed)
    prices = [start]
    for _ in range(n - 1):
        prices.append(prices[-1] + TICK * rng.choice((-2, -1, -1, 0, 0, 0, 1, 1, 2)))
    return prices


def returns_of(prices: list[float]) -> list[float]:
    return [prices[i] / prices[i - 1] - 1 for i in range(1, len(prices))]


def nan(x: float) -> bool:
    return math.isnan(x)


# ---------------------------------------------------------------- volatility


def test_calculate_volatility_features():
    prices = random_walk(260)
    rows = feed_prices(engine(), prices)
    r = returns_of(prices)
    for t in (10, 11, 150, 259):  # t = index of the trade (0-based); r[:t] are its returns
        row = rows[t]
        for n in (10, 20, 50, 100):
            if t < n:
                assert nan(row[f"volatility_{n}"])
            else:
                assert row[f"volatility_{n}"] == pytest.approx(statistics.stdev(r[t - n : t]), rel=1e-12)
        if t < 19:
            assert nan(row["bb_position"])
            continue
        window = prices[t - 19 : t + 1]
        m, s = statistics.fmean(window), statistics.pstdev(window)
        assert row["bb_position"] == pytest.approx((prices[t] - (m - 2 * s)) / (4 * s), rel=1e-12)
    row = rows[259]
    assert row["volatility_ratio_100"] == pytest.approx(
        statistics.stdev(r[259 - 100 : 259]) / statistics.stdev(r[259 - 200 : 259]), rel=1e-12
    )


def test_calculate_volatility_features_warm_up():
    """volatility_ratio_100 needs 200 returns, i.e. 201 trades; the other ratios M+1."""
    rows = feed_prices(engine("qt65"), random_walk(202))
    for n, m in ((10, 20), (20, 50), (50, 100), (100, 200)):
        assert nan(rows[m - 1][f"volatility_ratio_{n}"])  # trade number m
        assert not nan(rows[m][f"volatility_ratio_{n}"])  # trade number m+1
    assert nan(rows[199]["volatility_ratio_100"]) and not nan(rows[200]["volatility_ratio_100"])
    assert nan(rows[18]["bb_position"]) and not nan(rows[19]["bb_position"])


def test_calculate_volatility_features_flat_prices_are_exactly_zero():
    """A flat window gives std exactly 0, bb_position 0.5, ratios 0 (safe_div), even for a
    price whose float mean is not the price itself."""
    price = 0.11
    # the float mean of twenty 0.11 is not 0.11, however carefully summed, so a two-pass std
    # without an equality test would leave a residue here
    assert math.fsum([price] * 20) / 20 != price and sum([price] * 20) / 20 != price
    rows = feed_prices(engine("qt65"), [price] * 205, qty=price)  # fractional qty as in crypto data
    last = rows[-1]
    assert last["volume_zscore_20"] == 0.0 and last["volume_zscore_100"] == 0.0
    for n in (10, 20, 50, 100):
        assert last[f"volatility_{n}"] == 0.0
        assert last[f"volatility_ratio_{n}"] == 0.0
    assert last["bb_position"] == 0.5
    assert last["sharpe_5"] == 0.0 and last["sharpe_20"] == 0.0
    # one different price: std no longer 0
    moved = feed_prices(engine("qt65"), [price] * 30 + [price + TICK])[-1]
    assert moved["volatility_10"] > 0 and moved["bb_position"] != 0.5


def gk_expected(bars: list[tuple[float, float, float, float]]) -> float:
    terms = [
        0.5 * math.log(h / lo) ** 2 - (2 * math.log(2) - 1) * math.log(c / o) ** 2 for o, h, lo, c in bars
    ]
    return math.sqrt(max(0.0, sum(terms) / len(terms)))


def test_calculate_volatility_features_garman_klass():
    e = engine("qt65")
    rng = random.Random(3)
    bars = []
    minutes = [m for m in range(40) if m not in (7, 8, 9)]  # a 3-minute gap makes no bars
    rows_at_minute_start = {}
    for m in minutes:
        prices = [5350 + TICK * rng.randint(-6, 6) for _ in range(4)]
        for k, p in enumerate(prices):
            row = trade(e, local_ns(FRI, 10, m, 10 * k), p)
            if k == 0:
                rows_at_minute_start[m] = row
        bars.append((prices[0], max(prices), min(prices), prices[-1]))
        # a trade later in the same minute: its own minute's bar is not completed yet
        assert row["volatility_gk"] == rows_at_minute_start[m]["volatility_gk"] or nan(row["volatility_gk"])
    for i, m in enumerate(minutes):
        completed = bars[:i]
        got = rows_at_minute_start[m]["volatility_gk"]
        if len(completed) < 5:
            assert nan(got)
        else:
            assert got == pytest.approx(gk_expected(completed[-20:]), rel=1e-12)
    # a flat bar contributes 0; all flat bars give exactly 0
    e = engine("qt65")
    for m in range(7):
        trade(e, local_ns(FRI, 11, m), 5350.0)
    assert trade(e, local_ns(FRI, 11, 7), 5350.0)["volatility_gk"] == 0.0


# ---------------------------------------------------------------- returns


def test_calculate_returns_features():
    prices = random_walk(120, seed=11)
    rows = feed_prices(engine("qt65"), prices)
    for n in (1, 2, 5, 10, 20, 50, 100):
        assert nan(rows[n - 1][f"returns_{n}"])
        t = n
        assert rows[t][f"returns_{n}"] == prices[t] / prices[t - n] - 1
        assert rows[119][f"returns_{n}"] == prices[119] / prices[119 - n] - 1
    for n in (1, 5, 20):
        assert nan(rows[n - 1][f"log_returns_{n}"])
        assert rows[119][f"log_returns_{n}"] == math.log(prices[119] / prices[119 - n])
    assert nan(rows[0]["returns_1"])


# ---------------------------------------------------------------- order flow


def test_calculate_order_flow_features():
    e = engine("qt65")
    rng = random.Random(5)
    kinds = [rng.choice((BUY, SELL, CROSS, AUCTION, 13)) for _ in range(130)]
    qtys = [rng.randint(1, 9) for _ in range(130)]
    prices = random_walk(130, seed=2)
    buyers = [rng.choice("ABC") for _ in range(130)]
    sellers = [rng.choice("XYZ") for _ in range(130)]
    rows = [
        trade(e, local_ns(FRI, 10) + i * 10**9, prices[i], qtys[i], buyers[i], sellers[i], kinds[i])
        for i in range(130)
    ]
    signs = [1 if k == BUY else -1 if k == SELL else 0 for k in kinds]
    signed = [s * q for s, q in zip(signs, qtys, strict=True)]
    r = returns_of(prices)
    for t in (0, 9, 10, 19, 20, 99, 129):
        row = rows[t]
        for n in (10, 20, 50, 100):
            if t + 1 < n:
                assert nan(row[f"order_flow_imbalance_{n}"])
            else:
                window = range(t - n + 1, t + 1)
                expected = sum(signed[i] for i in window) / sum(qtys[i] for i in window)
                assert row[f"order_flow_imbalance_{n}"] == pytest.approx(expected, rel=1e-12)
        assert row["cumulative_signed_volume"] == sum(signed[: t + 1])
        assert row["signed_volume"] == signed[t]
        if t < 20:
            assert nan(row["volume_weighted_return"])  # 20 returns need 21 trades
        else:
            window = range(t - 19, t + 1)
            expected = sum(qtys[i] * r[i - 1] for i in window) / sum(qtys[i] for i in window)
            assert row["volume_weighted_return"] == pytest.approx(expected, rel=1e-12)
        if t < 99:
            assert nan(row["agent_turnover"])
        else:
            window = range(t - 99, t + 1)
            bc = [0 if i == 0 else int(buyers[i] != buyers[i - 1]) for i in window]
            sc = [0 if i == 0 else int(sellers[i] != sellers[i - 1]) for i in window]
            assert row["agent_turnover"] == pytest.approx((sum(bc) / 100 + sum(sc) / 100) / 2, rel=1e-12)
    assert not nan(rows[20]["volume_weighted_return"])


def test_calculate_order_flow_features_no_aggression_is_zero():
    """Only crosses and auctions: signed sums 0 over positive volume -> imbalance 0, not NaN."""
    rows = feed_prices(engine("qt65"), [5350.0] * 12, kind=CROSS, qty=3)
    assert rows[-1]["order_flow_imbalance_10"] == 0.0
    assert rows[-1]["cumulative_signed_volume"] == 0.0


# ---------------------------------------------------------------- volume


def test_calculate_volume_features():
    rng = random.Random(9)
    qtys = [rng.randint(1, 20) for _ in range(120)]
    e = engine("qt65")
    rows = [trade(e, local_ns(FRI, 10, 0, 0) + i * 10**9, 5350.0, q) for i, q in enumerate(qtys)]
    t = 119
    for n in (20, 50, 100):
        window = qtys[t - n + 1 : t + 1]
        assert rows[t][f"volume_ratio_{n}"] == pytest.approx(qtys[t] / statistics.fmean(window), rel=1e-12)
        assert rows[t][f"volume_zscore_{n}"] == pytest.approx(
            (qtys[t] - statistics.fmean(window)) / statistics.stdev(window), rel=1e-12
        )
        assert nan(rows[n - 2][f"volume_ratio_{n}"]) and not nan(rows[n - 1][f"volume_ratio_{n}"])
    # equal volumes: std exactly 0 -> z-score 0, ratio 1
    flat = feed_prices(engine("qt65"), [5350.0] * 25, qty=7)[-1]
    assert flat["volume_zscore_20"] == 0.0 and flat["volume_ratio_20"] == 1.0


def test_calculate_volume_features_trade_intensity_window():
    e = engine("qt65")
    s0 = local_ns(FRI, 10)
    # three trades in one second: each counts itself and the earlier ones, not later ones
    got = [trade(e, s0 + k * 10**8, 5350.0)["trade_intensity"] for k in range(3)]
    assert got == [1 / 60, 2 / 60, 3 / 60]
    # 59 seconds later the first second is still in the window, 60 seconds later it is not
    assert trade(e, s0 + 59 * 10**9 + 999 * 10**6, 5350.0)["trade_intensity"] == 4 / 60
    assert trade(e, s0 + 60 * 10**9, 5350.0)["trade_intensity"] == 2 / 60


def test_calculate_volume_features_second_and_millisecond_data_agree():
    rng = random.Random(4)
    s0 = local_ns(FRI, 10)
    offsets_ms = sorted(rng.randint(0, 400_000) for _ in range(400))
    prices = random_walk(400, seed=4)
    live, export = engine("qt65"), engine("qt65")
    for off, p in zip(offsets_ms, prices, strict=True):
        a = live.on_trade(s0 + off * 10**6, p, 1, "A", "B", BUY)
        b = export.on_trade(s0 + (off // 1000) * 10**9, p, 1, "A", "B", BUY)
        assert a == b or all((x == y) or (nan(x) and nan(y)) for x, y in zip(a, b, strict=True))


def test_calculate_volume_features_trade_intensity_ratio_warm_up():
    rows = feed_prices(engine("qt65"), [5350.0] * 201, step_s=0.25)
    assert nan(rows[198]["trade_intensity_ratio"])
    last = rows[199]
    intensities = [row["trade_intensity"] for row in rows[:200]]
    assert last["trade_intensity_ratio"] == pytest.approx(
        last["trade_intensity"] / statistics.fmean(intensities), rel=1e-12
    )


# ---------------------------------------------------------------- technical


def test_calculate_technical_features():
    prices = random_walk(60, seed=21)
    rows = feed_prices(engine("qt65"), prices)
    t = 59
    row = rows[t]
    ma = {n: statistics.fmean(prices[t - n + 1 : t + 1]) for n in (5, 20, 50)}
    assert row["ma_5_20_ratio"] == pytest.approx(ma[5] / ma[20], rel=1e-12)
    assert row["ma_20_50_ratio"] == pytest.approx(ma[20] / ma[50], rel=1e-12)
    lr = {n: math.log(prices[t] / prices[t - n]) for n in (5, 20, 50)}
    assert row["momentum_5_20"] == pytest.approx(lr[5] - 0.25 * lr[20], rel=1e-12, abs=1e-15)
    assert row["momentum_20_50"] == pytest.approx(lr[20] - 0.4 * lr[50], rel=1e-12, abs=1e-15)
    r = returns_of(prices)
    for n in (5, 20):
        w = r[t - n : t]
        sd = statistics.stdev(w)
        assert row[f"sharpe_{n}"] == pytest.approx(statistics.fmean(w) / sd if sd else 0.0, rel=1e-12)
    # warm-up: momentum_20_50 needs 51 trades, ma_20_50 50, sharpe_5 6
    assert nan(rows[49]["momentum_20_50"]) and not nan(rows[50]["momentum_20_50"])
    assert nan(rows[48]["ma_20_50_ratio"]) and not nan(rows[49]["ma_20_50_ratio"])
    assert nan(rows[4]["sharpe_5"]) and not nan(rows[5]["sharpe_5"])


def test_calculate_technical_features_time_normalized():
    e = engine("qt65")
    cases = [((8, 55, 0), 0.0), ((9, 0, 0), 0.0), ((13, 30, 0), 0.5), ((18, 0, 0), 1.0), ((18, 25, 0), 1.0)]
    for (hh, mm, ss), expected in cases:
        assert trade(e, local_ns(FRI, hh, mm, ss), 5350.0)["time_normalized"] == expected
    # fractions of a second are dropped
    e = engine("qt65")
    assert trade(e, local_ns(FRI, 9, 0, 1, 999), 5350.0)["time_normalized"] == 1 / (9 * 3600)


# ---------------------------------------------------------------- microstructure


def ranking_stream(buyers: list[str], qtys: list[int]):
    e = engine("qt65")
    s0 = local_ns(FRI, 10)
    return [
        trade(e, s0 + i * 10**9, 5350.0, q, b, "S") for i, (b, q) in enumerate(zip(buyers, qtys, strict=True))
    ]


def test_calculate_microstructure_features():
    # 500 trades: A buys 200 lots, B 150, C 100, D 40, E 8, F 2 (1 lot each trade)
    buyers = ["A"] * 200 + ["B"] * 150 + ["C"] * 100 + ["D"] * 40 + ["E"] * 8 + ["F"] * 2
    rows = ranking_stream(buyers, [1] * 500)
    assert all(nan(rows[i]["top_buyer_0_active"]) for i in range(499))
    assert nan(rows[498]["top_buyers_count"])
    last = rows[499]  # buyer F, ranked 5th: no flag
    assert [last[f"top_buyer_{k}_active"] for k in range(5)] == [0.0] * 5
    # W_20 holds D (10), E (8), F (2): of the top 5 (A B C D E) D and E are there
    assert last["top_buyers_count"] == 2.0
    # one seller only: seller rank 0 is always the trade's seller, and the count is 1
    assert last["top_seller_0_active"] == 1.0 and last["top_seller_1_active"] == 0.0
    assert last["top_sellers_count"] == 1.0
    # next trade: A buys again; the window drops the first A (still 200 with this one)
    nxt_engine = engine("qt65")
    for i, b in enumerate([*buyers, "A"]):
        row = trade(nxt_engine, local_ns(FRI, 10) + i * 10**9, 5350.0, 1, b, "S")
    assert row["top_buyer_0_active"] == 1.0 and row["buyer_changed"] == 1.0


def test_calculate_microstructure_features_ties_break_by_recency():
    # A and B both buy 250 lots; B bought last, so B ranks 0 and A ranks 1
    buyers = ["A", "B"] * 250
    rows = ranking_stream(buyers, [1] * 500)
    assert rows[-1]["top_buyer_0_active"] == 1.0  # the trade's buyer B is the most recent
    rows = ranking_stream([*buyers[1:], "A"], [1] * 500)  # now A bought last
    assert rows[-1]["top_buyer_0_active"] == 1.0
    # the ranking does not depend on how agents are named
    a = ranking_stream(["A", "B", "C"] * 166 + ["A", "B"], [1, 2, 3] * 166 + [3, 1])
    b = ranking_stream(["Z", "Y", "X"] * 166 + ["Z", "Y"], [1, 2, 3] * 166 + [3, 1])
    assert a[-1] == b[-1]


def test_calculate_microstructure_features_fewer_than_five_agents():
    rows = ranking_stream(["A", "B"] * 250, [3, 1] * 250)
    last = rows[-1]  # buyer B, ranked 1 of 2
    assert [last[f"top_buyer_{k}_active"] for k in range(5)] == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert last["top_buyers_count"] == 2.0


def test_calculate_microstructure_features_changes_and_aggressors():
    e = engine("qt65")
    s0 = local_ns(FRI, 10)
    first = trade(e, s0, 5350.0, 1, "A", "B", SELL)
    assert first["buyer_changed"] == 0.0 and first["seller_changed"] == 0.0
    assert first["is_seller_aggressor"] == 1.0 and first["is_buyer_aggressor"] == 0.0
    second = trade(e, s0, 5350.0, 1, "A", "C", AUCTION)
    assert second["buyer_changed"] == 0.0 and second["seller_changed"] == 1.0
    assert second["is_seller_aggressor"] == 0.0 and second["is_buyer_aggressor"] == 0.0


# ---------------------------------------------------------------- temporal


def test_calculate_temporal_features():
    e = engine("qt65")

    def at(hh, mm, ss=0):
        return trade(e, local_ns(FRI, hh, mm, ss), 5350.0)

    row = at(9, 0)
    assert (row["hour"], row["minute"], row["day_of_week"]) == (9.0, 0.0, 4.0)
    flags = ("is_opening_30min", "is_lunch_hour", "is_closing_30min")
    expected = {
        (9, 0, 0): (1, 0, 0),
        (9, 29, 59): (1, 0, 0),
        (9, 30, 0): (0, 0, 0),
        (11, 59, 59): (0, 0, 0),
        (12, 0, 0): (0, 1, 0),
        (12, 59, 59): (0, 1, 0),
        (13, 0, 0): (0, 0, 0),
        (17, 29, 59): (0, 0, 0),
        (17, 30, 0): (0, 0, 1),
        (17, 59, 59): (0, 0, 1),
        (18, 0, 0): (0, 0, 0),
    }
    for hms, want in expected.items():
        row = at(*hms)
        assert tuple(int(row[f]) for f in flags) == want, hms
    late = trade(engine("qt65"), local_ns(FRI, 17, 45, 59, 999), 5350.0)
    assert (late["hour"], late["minute"]) == (17.0, 45.0)


def test_calculate_temporal_features_use_the_tz_database():
    e = engine("qt65")
    # 2018-01-15 was in Brazilian summer time (UTC-2): 12:00 UTC is 10:00 local, a Monday
    row = trade(e, utc_ns(2018, 1, 15, 12, 0, 0), 3.3)
    assert (row["hour"], row["day_of_week"]) == (10.0, 0.0)
    # 2026-11-13, no DST any more (UTC-3): 12:00 UTC is 09:00 local, a Friday
    row = trade(e, utc_ns(2026, 11, 13, 12, 0, 0), 5350.0)
    assert (row["hour"], row["day_of_week"], row["is_opening_30min"]) == (9.0, 4.0, 1.0)


# ---------------------------------------------------------------- sessions and the clock


def test_session_resets_at_a_new_local_date():
    e = engine()
    e.on_book(local_ns(FRI, 17), [(5349.5, 5)], [(5350.0, 5)])
    feed_prices(e, random_walk(600), start=local_ns(FRI, 17, 0, 1), step_s=0.1)
    # 21:30 local is after midnight UTC: still the same local date, no reset
    row = trade(e, local_ns(FRI, 21, 30), 5351.0)
    assert not nan(row["returns_1"]) and not nan(row["spread"])
    row = trade(e, local_ns(MON, 9), 5360.0, 2, kind=SELL)
    assert e.sessions_started == 2 and e.session.trade_count == 1
    assert nan(row["returns_1"]) and nan(row["top_buyer_0_active"]) and nan(row["volatility_10"])
    assert row["cumulative_signed_volume"] == -2.0 and row["buyer_changed"] == 0.0
    assert row["trade_intensity"] == 1 / 60
    assert nan(row["spread"]) and row["depth_bid_5"] == 0.0 and row["book_update_rate"] == 0.0


def test_session_reset_at_local_midnight_not_utc_midnight():
    e = engine("qt65")
    trade(e, local_ns(FRI, 23, 59, 59), 5350.0)
    row = trade(e, local_ns(date(2026, 11, 14), 0, 0, 0), 5351.0)  # 03:00 UTC
    assert nan(row["returns_1"]) and e.sessions_started == 2


def test_a_book_event_of_a_new_date_starts_the_session():
    e = engine()
    feed_prices(e, [5350.0] * 5)
    assert e.on_book(local_ns(MON, 8, 59), [(5359.5, 1)], [(5360.0, 1)])
    assert e.sessions_started == 2 and e.session.trade_count == 0
    row = trade(e, local_ns(MON, 9), 5360.0)
    assert nan(row["returns_1"]) and row["spread"] == 0.5 and row["book_update_rate"] == 0.0


def test_timestamps_going_backwards_are_taken_as_the_latest_and_counted():
    e = engine("qt65")
    s0 = local_ns(FRI, 10, 30)
    trade(e, s0 + 10 * 10**9, 5350.0)
    row = trade(e, s0, 5350.5)  # 10 s earlier: taken as s0 + 10 s
    assert e.timestamps_clamped == 1
    assert row["trade_intensity"] == 2 / 60 and row["minute"] == 30.0
    # equal timestamps are not a regression
    trade(e, s0 + 10 * 10**9, 5351.0)
    assert e.timestamps_clamped == 1
    # a regression across local midnight does not go back to the previous session
    trade(e, local_ns(date(2026, 11, 14), 0, 0, 5), 5350.0)
    row = trade(e, local_ns(FRI, 23, 59, 59), 5350.0)
    assert e.timestamps_clamped == 2 and e.sessions_started == 2 and row["returns_1"] == 0.0


def test_edited_trades_are_counted_and_change_nothing():
    plain, edited = engine(), engine()
    prices = random_walk(40, seed=8)
    for i, p in enumerate(prices):
        ts = local_ns(FRI, 10) + i * 10**9
        a = plain.on_trade(ts, p, 1, "A", "B", BUY)
        b = edited.on_trade(ts, p, 1, "A", "B", BUY)
        if i % 7 == 3:  # a correction of this trade arrives
            assert edited.on_trade(ts + 1, p + 1, 5, "C", "D", SELL, is_edit=True) is None
        assert a == b or all(x == y or (nan(x) and nan(y)) for x, y in zip(a, b, strict=True))
    assert edited.edits_seen == len([i for i in range(40) if i % 7 == 3])
    assert edited.session.trade_count == 40


def test_bad_input_is_a_clear_error():
    e = engine()
    with pytest.raises(ValueError, match="price"):
        e.on_trade(local_ns(FRI, 10), math.nan, 1, "A", "B", BUY)
    with pytest.raises(ValueError, match="qty"):
        e.on_trade(local_ns(FRI, 10), 5350.0, 0, "A", "B", BUY)
    with pytest.raises(ValueError, match="bid"):
        e.on_book(local_ns(FRI, 10), [(5350.0, -1)], [])
    with pytest.raises(ValueError, match="level change"):
        e.on_book_levels(local_ns(FRI, 10), [(2, 5350.0, 1)])
    with pytest.raises(ValueError, match="close"):
        ReferenceFeatures(TICK, time(18), time(9))
    assert e.session.trade_count == 0


# ---------------------------------------------------------------- book


def test_calculate_spread_features():
    e = engine()
    s0 = local_ns(FRI, 10)
    e.on_book(s0, [(5349.5, 10), (5349.0, 4)], [(5350.0, 5), (5351.0, 7)])
    row = trade(e, s0, 5350.0)
    assert row["spread"] == 0.5 and row["spread_ticks"] == 1.0
    micro = (5350.0 * 10 + 5349.5 * 5) / 15
    assert row["microprice_dev"] == pytest.approx((micro - (5350.0 + 5349.5) / 2) / TICK, rel=1e-12)
    for bids, asks in (
        ([(5350.0, 1)], [(5350.0, 1)]),  # locked
        ([(5351.0, 1)], [(5350.0, 1)]),  # crossed
        ([(5349.5, 1)], []),  # empty ask side
        ([], []),  # empty book
    ):
        s0 += 10**9
        e.on_book(s0, bids, asks)
        row = trade(e, s0, 5350.0)
        assert nan(row["spread"]) and nan(row["spread_ticks"]) and nan(row["microprice_dev"]), (bids, asks)
        assert not any(nan(row[f"book_imbalance_{n}"]) for n in (1, 5, 10))
    # no book event yet in the session: spreads NaN, imbalances and depths 0
    row = trade(engine(), s0, 5350.0)
    assert nan(row["spread"]) and row["book_imbalance_1"] == 0.0 and row["depth_ask_5"] == 0.0


def test_calculate_imbalance_features():
    e = engine()
    s0 = local_ns(FRI, 10)
    bids = [(5349.5 - TICK * i, q) for i, q in enumerate([4, 6, 1])]  # only 3 levels
    asks = [(5350.0 + TICK * i, i + 1) for i in range(12)]  # 1, 2, ..., 12
    e.on_book(s0, list(reversed(bids)), asks)  # order of the levels given does not matter
    row = trade(e, s0, 5350.0)
    assert row["book_imbalance_1"] == (4 - 1) / (4 + 1)
    assert row["book_imbalance_5"] == (11 - 15) / (11 + 15)
    assert row["book_imbalance_10"] == (11 - 55) / (11 + 55)
    assert row["depth_bid_5"] == 11.0 and row["depth_ask_5"] == 15.0
    e.on_book(s0, [], asks)  # bid side empty: sums 0, imbalance -1
    row = trade(e, s0, 5350.0)
    assert row["book_imbalance_1"] == -1.0 and row["depth_bid_5"] == 0.0
    e.on_book(s0, [], [])
    row = trade(e, s0, 5350.0)
    assert [row[f"book_imbalance_{n}"] for n in (1, 5, 10)] == [0.0, 0.0, 0.0]


def cks(prev, new):
    (pbb, pqb, pba, pqa), (bb, qb, ba, qa) = prev, new
    return (
        (qb if bb >= pbb else 0)
        - (pqb if bb <= pbb else 0)
        - (qa if ba <= pba else 0)
        + (pqa if ba >= pba else 0)
    )


def test_calculate_book_features():
    """CKS OFI over the events that changed the top and found and left the book valid."""
    e = engine()
    rng = random.Random(12)
    s0 = local_ns(FRI, 10)
    tops = []
    bb, ba = 5349.5, 5350.0
    terms = []
    for i in range(130):
        prev = tops[-1] if tops else None
        move = rng.choice(("bid_up", "bid_down", "ask_up", "ask_down", "qty", "qty"))
        if move == "bid_up" and bb + TICK < ba:
            bb += TICK
        elif move == "bid_down":
            bb -= TICK
        elif move == "ask_up":
            ba += TICK
        elif move == "ask_down" and ba - TICK > bb:
            ba -= TICK
        top = (bb, float(rng.randint(1, 30)), ba, float(rng.randint(1, 30)))
        e.on_book(
            s0 + i * 10**8, [(top[0], top[1]), (top[0] - 5, 100)], [(top[2], top[3]), (top[2] + 5, 100)]
        )
        if prev is not None and top != prev:
            terms.append(cks(prev, top))
        tops.append(top)
        row = trade(e, s0 + i * 10**8, 5350.0)
        for n in (10, 50, 100):
            if len(terms) < n:
                assert nan(row[f"ofi_{n}"])
            else:
                assert row[f"ofi_{n}"] == sum(terms[-n:])
    assert len(terms) >= 100


def test_calculate_book_features_ofi_skips_invalid_and_unchanged_tops():
    e = engine()
    s0 = local_ns(FRI, 10)
    book = ([(5349.5, 10), (5349.0, 3)], [(5350.0, 10)])
    e.on_book(s0, *book)  # found an empty book: no term
    e.on_book(s0, [(5349.5, 10), (5349.0, 9)], [(5350.0, 10)])  # deeper level only: top unchanged, no term
    e.on_book(s0, [(5350.0, 10)], [(5350.0, 10)])  # leaves it locked: no term
    e.on_book(s0, [(5349.5, 12)], [(5350.0, 10)])  # found it locked: no term
    assert len(e.session.ofi_terms) == 0 and e.session.book_event_count == 4
    e.on_book(s0, [(5349.5, 15)], [(5350.0, 10)])  # bid qty 12 -> 15: term +3
    e.on_book(s0, [(5349.5, 15)], [(5350.5, 4)])  # ask up: e = + prev qa 10
    assert list(e.session.ofi_terms) == [3.0, 10.0]


def test_calculate_book_features_update_rate_and_events():
    e = engine()
    s0 = local_ns(FRI, 10)
    bids, asks = [(5349.5, 1)], [(5350.0, 1)]
    e.on_book(s0 - 10 * 10**9, bids, asks)  # 10 s before the trade's second: outside
    bids = [(5349.5, 2)]
    e.on_book(s0 - 9 * 10**9 - 5 * 10**8, bids, asks)  # sec = sec(t) - 10: outside
    bids = [(5349.5, 3)]
    e.on_book(s0 - 9 * 10**9, bids, asks)  # sec = sec(t) - 9: inside
    assert not e.on_book(s0 - 5 * 10**9, bids, asks)  # changes no level: not an event
    bids = [(5349.5, 4)]
    e.on_book(s0 + 7 * 10**8, bids, asks)  # same second as the trade: inside
    row = trade(e, s0 + 9 * 10**8, 5350.0)
    assert row["book_update_rate"] == 2 / 10
    assert e.session.book_event_count == 4
    # per-level messages: one event with several changes; qty 0 deletes
    assert e.on_book_levels(s0 + 10**9, [(0, 5349.0, 5), (1, 5350.0, 0), (1, 5350.5, 2)])
    row = trade(e, s0 + 10**9, 5350.0)
    assert row["spread"] == 1.0 and row["depth_bid_5"] == 9.0
    assert row["book_update_rate"] == 2 / 10  # the event at sec(t) - 10 has left the window
    assert not e.on_book_levels(s0 + 10**9, [(1, 5351.0, 0)])  # deletes a level that is not there


def test_qt65_and_qt77_agree_on_the_first_65():
    a, b = engine("qt65"), engine("qt77")
    assert a.names == QT65_NAMES and b.names == QT77_NAMES
    prices = random_walk(80, seed=1)
    for i, p in enumerate(prices):
        ts = local_ns(FRI, 10) + i * 10**9
        b.on_book(ts, [(p - TICK, i + 1)], [(p, 2)])
        x = a.on_trade(ts, p, 1, "A", "B", BUY)
        y = b.on_trade(ts, p, 1, "A", "B", BUY)
        assert len(x) == 65 and len(y) == 77
        assert all(u == v or (nan(u) and nan(v)) for u, v in zip(x, y[:65], strict=True))


# ---------------------------------------------------------------- buffers


def test_feature_buffer_management():
    """A long session: no buffer grows past what its window needs."""
    e = engine()
    rng = random.Random(30)
    ts = local_ns(FRI, 9)
    prices = random_walk(4000, seed=30)
    peak: dict[str, int] = {}
    trades_per_minute: dict[int, int] = {}
    for i, p in enumerate(prices):
        ts += rng.randint(0, 12_000) * 10**6  # about 9 hours in all
        if i % 2:
            level = rng.randint(1, 15)
            e.on_book_levels(
                ts, [(0, p - TICK * level, rng.randint(0, 9)), (1, p + TICK * level, rng.randint(0, 9))]
            )
        trade(e, ts, p, rng.randint(1, 5), rng.choice("ABCDEFG"), rng.choice("HIJKLMN"), BUY)
        trades_per_minute[ts // 60 // 10**9] = trades_per_minute.get(ts // 60 // 10**9, 0) + 1
        for name, size in e.buffer_sizes().items():
            peak[name] = max(peak.get(name, 0), size)
    assert e.session.trade_count == 4000
    assert peak["trades"] == 500
    assert peak["completed_bars"] == 20
    assert peak["ofi_terms"] <= 100
    assert peak["trade_seconds"] <= 2 * max(trades_per_minute.values())
    assert peak["book_event_seconds"] <= 20  # ~1 event per 12 s on average, never many in 10 s
    # a burst: the window holds the burst, then lets it go
    for _ in range(300):
        trade(e, ts, 5350.0)
    assert e.buffer_sizes()["trade_seconds"] >= 300
    trade(e, ts + 60 * 10**9, 5350.0)
    assert e.buffer_sizes()["trade_seconds"] == 1
    # book events with no trades in between stay bounded by their 10 s window
    for k in range(200):
        e.on_book(ts + 60 * 10**9 + k * 10**9, [(5349.5, k + 1)], [(5350.0, 1)])
    assert e.buffer_sizes()["book_event_seconds"] <= 10
    # a new session empties everything
    trade(e, local_ns(MON, 9), 5350.0)
    sizes = e.buffer_sizes()
    assert sizes == {
        "trades": 1,
        "trade_seconds": 1,
        "completed_bars": 0,
        "bids": 0,
        "asks": 0,
        "book_event_seconds": 0,
        "ofi_terms": 0,
    }


def test_feature_buffer_management_warm_up_counts_trades_not_time():
    """A window of N values needs N trades of the session, however far apart in time."""
    e = engine("qt65")
    start = datetime(2026, 11, 13, 9, 0, tzinfo=TZ)
    rows = []
    for i in range(21):
        ts = int((start + timedelta(minutes=20 * i)).timestamp()) * 10**9
        rows.append(trade(e, ts, 5350.0 + TICK * (i % 3)))
    assert nan(rows[19]["volume_weighted_return"]) and not nan(rows[20]["volume_weighted_return"])
