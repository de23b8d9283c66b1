"""The seeded synthetic market: determinism, book consistency, calendar hours and the planted signal."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import sys

import numpy as np
import pytest

from quantumtrader.calendar import TradingCalendar
from quantumtrader.data.events import EVENT_DTYPE, PRICE_NONE, EventFlag, EventType, TradeType
from quantumtrader.data.synth import count_book_messages, simulate_market

LAST = int(EventFlag.LAST)
FIVE_MIN = 300 * 10**9


@pytest.fixture(scope="module")
def cal() -> TradingCalendar:
    return TradingCalendar.load()


def split_sessions(ev: np.ndarray) -> list[np.ndarray]:
    starts = [*np.flatnonzero(ev["type"] == EventType.SESSION).tolist(), len(ev)]
    return [ev[a:b] for a, b in itertools.pairwise(starts)]


class Replay:
    """An independent plain-Python L2 book applying the log record by record."""

    def __init__(self, day: np.ndarray) -> None:
        self.errors: list[str] = []
        self.trades: list[tuple[int, int, int, int]] = []  # exch_ns, price, qty, sign
        self.mid_t: list[int] = []
        self.mid_v: list[float] = []
        self.touch_imb: list[float] = []  # (qb - qa) / (qb + qa) after each message
        self.messages = 0
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        in_snapshot = False
        pending: tuple[int, int, int, int] | None = None  # side, price, qty before, trade qty
        for n, r in enumerate(day.tolist()):
            typ, flags, exch, price, qty, code, side = r[0], r[1], r[6], r[7], r[8], r[9], r[10]
            if typ == EventType.SESSION:
                bids.clear()
                asks.clear()
            elif typ == EventType.SNAPSHOT_BEGIN:
                in_snapshot = True
            elif typ == EventType.SNAPSHOT_END:
                in_snapshot = False
            elif typ == EventType.L2_LEVEL:
                book = bids if side == 0 else asks
                if pending is not None and (side, price) == pending[:2]:
                    if qty > pending[2] - pending[3]:
                        self.errors.append(f"record {n}: trade quantity not removed from the level")
                    pending = None
                if qty < 0:
                    self.errors.append(f"record {n}: negative quantity")
                if qty == 0:
                    if book.pop(price, None) is None:
                        self.errors.append(f"record {n}: deleted a missing level")
                else:
                    book[price] = qty
                if not in_snapshot:
                    if bids and asks and max(bids) >= min(asks):
                        self.errors.append(f"record {n}: book crossed or locked")
                    if flags & LAST:
                        self.messages += 1
                        if bids and asks:
                            bb, ba = max(bids), min(asks)
                            self.mid_t.append(exch)
                            self.mid_v.append((bb + ba) / 2)
                            self.touch_imb.append((bids[bb] - asks[ba]) / (bids[bb] + asks[ba]))
            elif typ == EventType.TRADE:
                if pending is not None:
                    self.errors.append(f"record {n}: previous trade never depleted its level")
                if not bids or not asks:
                    self.errors.append(f"record {n}: trade on an empty side")
                    continue
                bb, ba = max(bids), min(asks)
                if not bb <= price <= ba or price not in (bb, ba):
                    self.errors.append(f"record {n}: trade at {price} off the touch {bb}/{ba}")
                    continue
                if (code == TradeType.BUY_AGGRESSION and price != ba) or (
                    code == TradeType.SELL_AGGRESSION and price != bb
                ):
                    self.errors.append(f"record {n}: aggressor side does not match the touch hit")
                hit = 1 if price == ba else 0
                level = (asks if hit else bids)[price]
                if qty > level:
                    self.errors.append(f"record {n}: trade larger than the touch")
                pending = (hit, price, level, qty)
                sign = {TradeType.BUY_AGGRESSION: 1, TradeType.SELL_AGGRESSION: -1}.get(code, 0)
                self.trades.append((exch, price, qty, sign))
        if pending is not None:
            self.errors.append("last trade never depleted its level")


def ofi_and_forward_returns(day: np.ndarray, n_trades: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """At each 5-minute mark: signed volume of the last ``n_trades`` trades, and the mid change over
    the next 5 minutes (mid from the replayed book)."""
    rp = Replay(day)
    assert not rp.errors, rp.errors[:5]
    tr = np.array(rp.trades, dtype=np.int64)
    mt, mv = np.array(rp.mid_t), np.array(rp.mid_v)
    open_ns, close_ns = int(day["exch_ns"][0]), int(day["exch_ns"][-1])
    x, y = [], []
    for t in range(open_ns + FIVE_MIN, close_ns - FIVE_MIN, FIVE_MIN):
        i = int(np.searchsorted(tr[:, 0], t, side="left"))
        if i < n_trades:
            continue
        x.append(float((tr[i - n_trades:i, 2] * tr[i - n_trades:i, 3]).sum()))
        j0 = int(np.searchsorted(mt, t, side="right")) - 1
        j1 = int(np.searchsorted(mt, t + FIVE_MIN, side="right")) - 1
        y.append(mv[j1] - mv[j0])
    return np.array(x), np.array(y)


def t_stat(x: np.ndarray, y: np.ndarray) -> float:
    r = float(np.corrcoef(x, y)[0, 1])
    return r * math.sqrt(len(x) - 2) / math.sqrt(1 - r * r)


@pytest.fixture(scope="module")
def small():
    return simulate_market(2, seed=7, signal=0.5, start_date="2026-11-12", trades_per_day=6000)


def test_determinism(small):
    again = simulate_market(2, seed=7, signal=0.5, start_date="2026-11-12", trades_per_day=6000)
    assert again.events.tobytes() == small.events.tobytes()
    other = simulate_market(2, seed=8, signal=0.5, start_date="2026-11-12", trades_per_day=6000)
    assert other.events.tobytes() != small.events.tobytes()
    # A shorter run repeats the first days of a longer one.
    one = simulate_market(1, seed=7, signal=0.5, start_date="2026-11-12", trades_per_day=6000)
    assert one.events.tobytes() == small.events[: len(one.events)].tobytes()


def test_log_structure(small, cal):
    ev = small.events
    assert np.array_equal(ev["seq"], np.arange(1, len(ev) + 1, dtype=np.uint64))
    assert np.all(np.diff(ev["exch_ns"]) >= 0)
    assert np.all(np.diff(ev["recv_ns"]) >= 0)
    lat = ev["recv_ns"] - ev["exch_ns"]
    assert lat.min() > 0 and lat.max() < 50_000_000
    assert small.sessions == [dt.date(2026, 11, 12), dt.date(2026, 11, 13)]
    for day, d in zip(split_sessions(ev), small.sessions, strict=True):
        assert day["ref"][0] == d.year * 10000 + d.month * 100 + d.day
        assert day["type"][1] == EventType.SNAPSHOT_BEGIN and day["side"][1] == 2
        end = int(np.flatnonzero(day["type"] == EventType.SNAPSHOT_END)[0])
        assert day["flags"][end] & LAST
        snap = day[2:end]
        assert np.all(snap["type"] == EventType.L2_LEVEL) and day["a"][1] == len(snap)
        assert np.all(snap["flags"] == 0) and np.all(snap["qty"] > 0)
        for rec in (day[0], day[1], day[end]):
            assert rec["price"] == PRICE_NONE
    # Each exchange message ends with LAST: no open message at the end of a day.
    l2 = ev[ev["type"] == EventType.L2_LEVEL]
    assert l2["flags"][-1] & LAST
    assert set(np.unique(ev["type"]).tolist()) == {
        EventType.SESSION, EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END, EventType.L2_LEVEL,
        EventType.TRADE,
    }


def test_book_is_consistent_with_every_trade(small):
    for day in split_sessions(small.events):
        rp = Replay(day)
        assert rp.errors == []
        assert len(rp.trades) == np.count_nonzero(day["type"] == EventType.TRADE)


def test_book_events_per_trade(small):
    for day in split_sessions(small.events):
        trades = np.count_nonzero(day["type"] == EventType.TRADE)
        msgs = count_book_messages(day)
        assert msgs == Replay(day).messages
        assert msgs >= 5 * trades, (msgs, trades)


def test_one_book_event_per_price_book_action(small):
    """ProfitDLL delivers one PriceBook callback per action and the spec counts a book event per
    callback, so every level change outside the opening snapshot is its own message (LAST):
    the log then has exactly the book events the same market has live."""
    for day in split_sessions(small.events):
        end = int(np.flatnonzero(day["type"] == EventType.SNAPSHOT_END)[0])
        l2 = day[end + 1:][day[end + 1:]["type"] == EventType.L2_LEVEL]
        assert len(l2) and np.all(l2["flags"] & LAST)
        assert np.all(l2["exch_ns"] % 1_000_000 == 0)  # millisecond stamps, as the server clock's


def test_session_hours_follow_the_calendar(cal):
    # Starts on a holiday (Nov 20 2026): the first session is Monday Nov 23; Ash Wednesday opens at 13:00.
    m = simulate_market(2, seed=3, signal=0.0, start_date="2026-11-20", trades_per_day=2000)
    assert m.sessions == [dt.date(2026, 11, 23), dt.date(2026, 11, 24)]
    ash = simulate_market(1, seed=3, signal=0.0, start_date="2026-02-14", trades_per_day=2000)
    assert ash.sessions == [dt.date(2026, 2, 18)]
    for market in (m, ash):
        for day, d in zip(split_sessions(market.events), market.sessions, strict=True):
            o, c = cal.session_bounds_utc_ns(d, "WDOFUT")
            assert day["exch_ns"].min() == o and day["exch_ns"].max() < c
            trades = day[day["type"] == EventType.TRADE]
            assert trades["exch_ns"].min() >= o and trades["exch_ns"].max() < c
            # trades fill the session: activity in the first and the last 30 minutes
            assert trades["exch_ns"].max() > c - 1_800 * 10**9
            assert np.all(np.diff(trades["ref"]) == 1) and trades["ref"][0] == 1


def test_market_looks_like_wdo(small):
    ev = small.events
    tr = ev[ev["type"] == EventType.TRADE]
    points = tr["price"] * small.price_unit
    assert small.price_unit == small.tick_size == 0.5
    assert points.min() > 4500 and points.max() < 6500
    codes = np.bincount(tr["code"], minlength=5)
    assert codes[TradeType.BUY_AGGRESSION] > 0.3 * len(tr)
    assert codes[TradeType.SELL_AGGRESSION] > 0.3 * len(tr)
    assert codes[TradeType.AUCTION] >= 2  # one opening auction print or more per session
    auction = tr[tr["code"] == TradeType.AUCTION]
    assert set(auction["exch_ns"].tolist()) <= set(ev["exch_ns"][ev["type"] == EventType.SESSION].tolist())
    crosses = tr[tr["code"] == TradeType.CROSS]
    assert np.all(crosses["a"] == crosses["b"])
    n = len(small.agents)
    assert tr["a"].min() >= 0 and tr["a"].max() < n and tr["b"].max() < n
    share = np.bincount(np.concatenate([tr["a"], tr["b"]]), minlength=n) / (2 * len(tr))
    assert share.max() > 3.0 / n  # skewed brokers
    # bursts and quiet periods: trades per minute vary far more than a flat Poisson rate would
    per_min = np.bincount((tr["exch_ns"] - tr["exch_ns"].min()) // (60 * 10**9))
    assert per_min.std() > 3 * math.sqrt(per_min.mean())
    l2 = ev[(ev["type"] == EventType.L2_LEVEL) & (ev["qty"] > 0)]
    assert l2["b"].min() >= 1


def test_win_instrument(cal):
    m = simulate_market(1, seed=5, signal=0.0, instrument="WINFUT", trades_per_day=3000)
    assert m.price_unit == m.tick_size == 5.0
    (day,) = split_sessions(m.events)
    rp = Replay(day)
    assert rp.errors == []
    _, c = cal.session_bounds_utc_ns(m.sessions[0], "WIN")
    assert day["exch_ns"].max() < c
    assert 100_000 < day["price"][day["type"] == EventType.TRADE].mean() * 5.0 < 150_000


@pytest.fixture(scope="module")
def signal_days():
    out = {}
    for signal in (0.0, 1.0):
        m = simulate_market(5, seed=11, signal=signal, trades_per_day=12000)
        out[signal] = [ofi_and_forward_returns(day) for day in split_sessions(m.events)]
    return out


def test_planted_signal_is_learnable(signal_days):
    x = np.concatenate([d[0] for d in signal_days[1.0]])
    y = np.concatenate([d[1] for d in signal_days[1.0]])
    assert len(x) > 400
    assert t_stat(x, y) > 4.0


def test_no_signal_at_zero(signal_days):
    x = np.concatenate([d[0] for d in signal_days[0.0]])
    y = np.concatenate([d[1] for d in signal_days[0.0]])
    assert abs(t_stat(x, y)) < 2.5


def test_shuffling_imbalance_across_days_removes_the_signal(signal_days):
    days = signal_days[1.0]
    n = min(len(d[0]) for d in days)
    xs = [d[0][:n] for d in days]
    ys = [d[1][:n] for d in days]
    for shift in (1, 2):
        x = np.concatenate(xs)
        y = np.concatenate(ys[shift:] + ys[:shift])
        assert abs(t_stat(x, y)) < 2.5, shift


def step_predictors(day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every mid change: its direction, and what was observable before its timestamp (touch
    imbalance after the last earlier message, signed volume of the last 50 earlier trades).  A sweep
    trade and the step it causes share a timestamp, as in real feeds, so "before" is strictly earlier."""
    rp = Replay(day)
    assert not rp.errors
    mt, mv, imb = np.array(rp.mid_t), np.array(rp.mid_v), np.array(rp.touch_imb)
    tr = np.array(rp.trades, dtype=np.int64)
    signed = np.concatenate(([0], np.cumsum(tr[:, 2] * tr[:, 3])))
    change = np.flatnonzero(np.diff(mv) != 0) + 1
    direction = np.sign(mv[change] - mv[change - 1])
    prev_msg = np.searchsorted(mt, mt[change], side="left") - 1
    n_tr = np.searchsorted(tr[:, 0], mt[change], side="left")
    ok = (prev_msg >= 0) & (n_tr >= 50)
    ofi = signed[n_tr[ok]] - signed[n_tr[ok] - 50]
    return direction[ok], imb[prev_msg[ok]], ofi


def test_mid_steps_are_unpredictable_at_signal_zero():
    # Tick-level check of the martingale claim over thousands of steps: neither the queue imbalance
    # at the touch nor the recent order flow tells the next step's direction.
    m = simulate_market(2, seed=21, signal=0.0, trades_per_day=8000)
    parts = [step_predictors(day) for day in split_sessions(m.events)]
    d = np.concatenate([p[0] for p in parts])
    assert len(d) > 8000
    assert abs(t_stat(np.concatenate([p[1] for p in parts]), d)) < 3.0
    assert abs(t_stat(np.concatenate([p[2] for p in parts]), d)) < 3.0
    m1 = simulate_market(2, seed=21, signal=1.0, trades_per_day=8000)
    parts = [step_predictors(day) for day in split_sessions(m1.events)]
    assert t_stat(np.concatenate([p[2] for p in parts]), np.concatenate([p[0] for p in parts])) > 5.0


def test_bad_input():
    with pytest.raises(ValueError, match="days"):
        simulate_market(0, seed=1, signal=0.0)
    with pytest.raises(ValueError, match="seed"):
        simulate_market(1, seed=-1, signal=0.0)
    with pytest.raises(ValueError, match="signal"):
        simulate_market(1, seed=1, signal=float("nan"))
    with pytest.raises(ValueError, match="ticker"):
        simulate_market(1, seed=1, signal=0.0, instrument="PETR4")
    with pytest.raises(ValueError, match="unknown instrument"):
        simulate_market(1, seed=1, signal=0.0, instrument="DOLFUT")
    with pytest.raises(ValueError, match="not a date"):
        simulate_market(1, seed=1, signal=0.0, start_date="2026-02-30")
    with pytest.raises(ValueError, match="trades_per_day"):
        simulate_market(1, seed=1, signal=0.0, trades_per_day=10)


@pytest.fixture
def eventlog(monkeypatch):
    """The real ``quantumtrader.data.eventlog`` when present; until it is merged, a TEMPORARY stand-in
    with the agreed API that stores the arrays, so the writer path and the CLI are exercised."""
    try:
        import quantumtrader.data.eventlog as real
    except ImportError:
        real = None
    if real is not None:
        return real
    import types
    from dataclasses import dataclass

    shim = types.ModuleType("quantumtrader.data.eventlog")

    @dataclass
    class EventLogHeader:
        instrument: str
        price_unit: float
        tick_size: float
        qty_scale: float
        calendar_version: str
        source: str
        agents: list

    class EventLogWriter:
        def __init__(self, path, header):
            assert isinstance(header, EventLogHeader)
            self.path, self.header, self.parts, self.last_seq = path, header, [], 0

        def __enter__(self):
            return self

        def append(self, events):
            assert events.dtype == EVENT_DTYPE and len(events)
            assert events["seq"][0] > self.last_seq and np.all(np.diff(events["seq"].astype(np.int64)) > 0)
            self.last_seq = int(events["seq"][-1])
            self.parts.append(events.copy())

        def __exit__(self, *exc):
            with open(self.path, "wb") as fh:
                np.save(fh, np.concatenate(self.parts), allow_pickle=False)
            shim.headers[str(self.path)] = self.header

    def read_event_log(path):
        with open(path, "rb") as fh:
            events = np.load(fh, allow_pickle=False)
        return types.SimpleNamespace(events=events, header=shim.headers[str(path)])

    shim.headers = {}
    shim.EventLogHeader, shim.EventLogWriter = EventLogHeader, EventLogWriter
    shim.read_event_log = read_event_log
    monkeypatch.setitem(sys.modules, "quantumtrader.data.eventlog", shim)
    return shim


def test_event_log_round_trip(tmp_path, eventlog):
    from quantumtrader.data.synth import generate_market, write_synthetic_log

    hdr, events = generate_market(2, seed=4, signal=1.0, trades_per_day=2000)
    assert (hdr.instrument, hdr.price_unit, hdr.tick_size, hdr.qty_scale) == ("WDOFUT", 0.5, 0.5, 1.0)
    assert hdr.calendar_version == TradingCalendar.load().version and "seed=4" in hdr.source
    trades = events[events["type"] == EventType.TRADE]
    assert len(hdr.agents) > max(int(trades["a"].max()), int(trades["b"].max()))
    path = tmp_path / "synth.qtlog"
    summary = write_synthetic_log(path, 2, seed=4, signal=1.0, trades_per_day=2000)
    log = eventlog.read_event_log(path)
    fields = [f for f in events.dtype.names if f != "crc"]
    assert np.array_equal(log.events[fields], events[fields])
    assert log.header.source == hdr.source
    assert summary.trades == np.count_nonzero(events["type"] == EventType.TRADE)
    assert summary.days == 2 and summary.file_bytes > 0
    assert summary.book_events_per_trade >= 5


def test_cli_synth(tmp_path, capsys, eventlog):
    from quantumtrader.cli import main

    out = tmp_path / "cli.qtlog"
    assert main(["synth", "--days", "1", "--seed", "2", "--signal", "0.5", "--out", str(out),
                 "--trades-per-day", "1500"]) == 0
    assert out.stat().st_size > 0
    text = capsys.readouterr().out
    assert "trades" in text and "book events / trade" in text
    assert main(["synth", "--days", "0", "--seed", "2", "--signal", "0", "--out", str(out)]) == 2
    assert "days" in capsys.readouterr().err
