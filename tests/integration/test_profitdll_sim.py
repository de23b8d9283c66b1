"""The ProfitDLL simulator seen by a DLL client (ctypes): an event log written
with quantumtrader.data.synth / eventlog is replayed and what the callbacks bring
is compared with the log: trades in order (V1 and V2), the book rebuilt from
positional PriceBook actions and full-book arrays, phases, daily, tiny book,
history requests, state sequences, FreePointer, error codes, fault injection
(feed drop, malformed events, delays, stall), pacing, environment set-up."""

from __future__ import annotations

import ctypes as C
import datetime as dt
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sim_client as sc
from reference.book_reference import ReferenceBook

from quantumtrader.adapters.profitdll.simulator import library_path
from quantumtrader.calendar import EXCHANGE_TZ
from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter, read_event_log
from quantumtrader.data.events import EventFlag, EventType, TradeType, empty_events
from quantumtrader.data.synth import write_synthetic_log

SAO_PAULO = ZoneInfo(EXCHANGE_TZ)
EXPORTS = Path(__file__).resolve().parents[2] / "src" / "profitdll_sim" / "exports.txt"
# What Nelogica's C++ example resolves with GetProcAddress (Exemplo C++/main.cpp).
NELOGICA_EXAMPLE_NAMES = (
    "DLLInitializeLogin", "DLLInitializeMarketLogin", "SetServerAndPort", "GetServerClock", "DLLFinalize",
    "SubscribeTicker", "UnsubscribeTicker", "GetAgentNameByID", "GetAgentShortNameByID",
    "SubscribePriceBook", "SubscribeOfferBook", "SendBuyOrder", "SendSellOrder", "SendZeroPosition",
    "SendCancelAllOrders", "GetPosition", "SetAssetListCallback", "SendChangeOrder", "GetOrderProfitID",
    "SetAssetListInfoCallback", "SetAssetListInfoCallbackV2", "SetInvalidTickerCallback", "FreePointer",
    "SendStopSellOrder", "SetChangeStateTickerCallback", "GetHistoryTrades", "SetAdjustHistoryCallback",
    "SetAdjustHistoryCallbackV2", "SubscribeAdjustHistory", "UnsubscribeAdjustHistory",
    "SetTheoreticalPriceCallback", "GetLastDailyClose", "SendMarketBuyOrder", "SendMarketSellOrder",
    "GetAgentNameLength", "GetAgentName", "EnumerateAllPositionAssets",
    "SetBrokerAccountListChangedCallback", "SetBrokerSubAccountListChangedCallback",
)


@pytest.fixture(scope="module")
def lib() -> C.CDLL:
    return sc.load()


@pytest.fixture(scope="module")
def synth_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "wdo.qtlog"
    write_synthetic_log(path, days=2, seed=11, signal=0.0, trades_per_day=300, levels=10)
    return path


@pytest.fixture(scope="module")
def exp(synth_log: Path) -> dict:
    return log_expectations(synth_log)


@pytest.fixture
def session(lib: C.CDLL):
    """Finalizes whatever session a test leaves open."""
    yield
    lib.DLLFinalize()


def local_date(exch_ns: int) -> str:
    t = dt.datetime.fromtimestamp(exch_ns / 1e9, tz=dt.UTC).astimezone(SAO_PAULO)
    return t.strftime("%d/%m/%Y %H:%M:%S.") + f"{(exch_ns // 1_000_000) % 1000:03d}"


def log_expectations(path: Path) -> dict:
    """Trades of the log and its L2 book (worst-to-best, price units) at each trade and at the end."""
    with read_event_log(path) as log:
        ev = log.events.copy()
        unit = log.header.price_unit
    ref = ReferenceBook()
    trades, books = [], []
    for rec in ev:
        if rec["type"] == EventType.TRADE:
            trades.append(rec)
            books.append(tuple(list(zip(s.prices, s.qtys, strict=True)) for s in ref.sides))
        ref.apply_record(rec)
    final = tuple(list(zip(s.prices, s.qtys, strict=True)) for s in ref.sides)
    return dict(events=ev, trades=trades, books=books, final=final, unit=unit)


def client_levels(side: list[list[float]], unit: float) -> list[tuple[int, int]]:
    return [(round(p / unit), int(q)) for p, q, _ in side]


def replay(lib: C.CDLL, path: Path, **kw) -> sc.SimClient:
    sc.configure(lib, str(path), **{k: v for k, v in kw.items() if k in (
        "speed", "packet_levels", "schedule", "max_gap_ms", "login_result")})
    client = sc.SimClient(lib, on_trade=kw.get("on_trade"), routing=kw.get("routing", False))
    assert client.init_result == sc.NL_OK
    client.wait_state((3, 0))
    client.subscribe()
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(20_000) == sc.NL_OK
    return client


def test_exports_include_the_dll_names(lib: C.CDLL) -> None:
    names = EXPORTS.read_text().split()
    assert len(names) >= 100
    missing = [n for n in names if not hasattr(lib, n)]
    assert not missing
    assert set(NELOGICA_EXAMPLE_NAMES) <= set(names)
    assert library_path().name.startswith("libprofitdll_sim")


def test_replay_reproduces_the_log(lib: C.CDLL, synth_log: Path, exp: dict, session: None) -> None:
    unit = exp["unit"]
    client = replay(lib, synth_log, packet_levels=4)  # 10 levels a side: full books in 3 packets
    assert client.states == [(0, 0), (2, 1), (2, 2), (2, 4), (3, 0)]
    assert len(client.callback_threads) == 1 and threading.get_ident() not in client.callback_threads

    # every trade, in order, with the DLL's conventions
    want = exp["trades"]
    assert len(client.trades) == len(want) > 500
    for got, rec in zip(client.trades, want, strict=True):
        assert got.ticker == "WDOFUT"
        assert got.number == rec["ref"]
        assert got.price == rec["price"] * unit
        assert got.qty == rec["qty"]
        assert (got.buy, got.sell, got.type, got.edit) == (rec["a"], rec["b"], rec["code"], 0)
        assert got.date == local_date(int(rec["exch_ns"]))
        assert got.volume == pytest.approx(got.price * got.qty * 10.0)  # WDO: R$10 per point
    assert [t.TradeNumber for t, _ in client.trades_v2] == [t.number for t in client.trades]
    for (t2, flags), t1 in zip(client.trades_v2, client.trades, strict=True):
        assert (t2.Price, t2.Quantity, t2.BuyAgent, t2.SellAgent, t2.TradeType, flags) == (
            t1.price, t1.qty, t1.buy, t1.sell, t1.type, 0)
        day, clock = t1.date.split(" ")
        assert (t2.TradeDate.wDay, t2.TradeDate.wMonth, t2.TradeDate.wYear) == tuple(map(int, day.split("/")))
        assert t2.TradeDate.wMilliseconds == int(clock[-3:])

    # the book the client built equals the log's, at every trade and at the end
    assert not client.book.errors and not client.book_v2.errors
    for (bids, asks), (want_bids, want_asks) in zip(client.book_at_trade, exp["books"], strict=True):
        assert client_levels(bids, unit) == want_bids
        assert client_levels(asks, unit) == want_asks
    for book in (client.book, client.book_v2):
        assert tuple(client_levels(s, unit) for s in book.sides) == exp["final"]

    # phases synthesized from the sessions; daily and tiny book consistent with the trades
    assert [s for _, s in client.phases] == [13, 0, 6, 13, 0, 6]
    assert client.phases[0][0] == local_date(int(exp["events"][0]["exch_ns"]))
    day1 = [t for t in client.trades if t.date[:10] == client.trades[0].date[:10]]
    d1 = next(d for d in client.dailies if d[11] == len(day1))  # nNegocios: the first session's trades
    open_, high, low, close, volume, _adjust, max_limit, min_limit = d1[:8]
    assert (open_, close) == (day1[0].price, day1[-1].price)
    assert (high, low) == (max(t.price for t in day1), min(t.price for t in day1))
    assert volume == pytest.approx(sum(t.volume for t in day1)) and d1[10] == sum(t.qty for t in day1)
    assert min_limit < low and max_limit > high
    last_tiny = {side: (price, qty) for side, price, qty in client.tiny}
    final = exp["final"]
    assert last_tiny[0] == (final[0][-1][0] * unit, final[0][-1][1])
    assert last_tiny[1] == (final[1][-1][0] * unit, final[1][-1][1])

    c = client.counters()
    assert c.trades_delivered == len(want) and c.replay_done == 1
    assert c.arrays_allocated == c.arrays_freed > 0 and c.free_pointer_errors == 0
    assert c.full_book_packets >= 2 * (1 + 2 * 3)  # V1+V2: subscription, then 2 sessions of 3 packets
    assert c.records_invalid == 0 and c.forbidden_calls == 0
    client.finalize()
    assert lib.SubscribeTicker(sc.wstr("WDOFUT"), sc.wstr("F")) == sc.NL_NOT_INITIALIZED


def test_history_trades(lib: C.CDLL, synth_log: Path, exp: dict, session: None) -> None:
    client = replay(lib, synth_log)
    trades = exp["trades"]
    t0, t1 = int(trades[100]["exch_ns"]), int(trades[-50]["exch_ns"])
    start = dt.datetime.fromtimestamp(t0 // 1_000_000_000, tz=dt.UTC).astimezone(SAO_PAULO)
    end = dt.datetime.fromtimestamp(t1 // 1_000_000_000, tz=dt.UTC).astimezone(SAO_PAULO)
    fmt = "%d/%m/%Y %H:%M:%S"
    assert lib.GetHistoryTrades(sc.wstr("WDOFUT"), sc.wstr("F"), sc.wstr(start.strftime(fmt)),
                                sc.wstr(end.strftime(fmt))) == sc.NL_OK
    client.wait(lambda: client.progress and client.progress[-1] == 100, what="history progress 100")
    lo, hi = (t0 // 1_000_000_000) * 1_000_000_000, (t1 // 1_000_000_000) * 1_000_000_000
    want = [int(t["ref"]) for t in trades if lo <= t["exch_ns"] <= hi]
    assert [t.number for t in client.history] == want and len(want) > 300
    assert client.progress == sorted(client.progress) and client.progress[0] == 0
    assert client.history_v2_flags[-1] == sc.TC_LAST_PACKET
    assert all(f == 0 for f in client.history_v2_flags[:-1])
    # a date-only end covers the whole day; malformed dates are refused
    day = start.strftime("%d/%m/%Y")
    assert lib.GetHistoryTrades(sc.wstr("WDOFUT"), sc.wstr("F"), sc.wstr(day), sc.wstr(day)) == sc.NL_OK
    assert lib.GetHistoryTrades(sc.wstr("WDOFUT"), sc.wstr("F"), sc.wstr("31/02/2026"),
                                sc.wstr(day)) == sc.NL_INVALID_ARGS
    assert lib.GetHistoryTrades(sc.wstr("WDOFUT"), sc.wstr("F"), sc.wstr(day + " 25:00:00"),
                                sc.wstr(day)) == sc.NL_INVALID_ARGS


def test_error_codes(lib: C.CDLL, synth_log: Path, session: None) -> None:
    w = sc.wstr
    assert lib.SubscribeTicker(w("WDOFUT"), w("F")) == sc.NL_NOT_INITIALIZED
    assert lib.DLLFinalize() == sc.NL_NOT_INITIALIZED
    assert lib.SimStartReplay() == sc.NL_NOT_INITIALIZED
    assert lib.SimSetSpeed(-1.0) == sc.NL_INVALID_ARGS
    assert lib.SimSetSpeed(math.nan) == sc.NL_INVALID_ARGS
    assert lib.SimSetPhaseSchedule(b"25:00=4") == sc.NL_INVALID_ARGS
    assert lib.SimInjectMalformed(99) == sc.NL_INVALID_ARGS
    sc.configure(lib, str(synth_log))
    assert lib.DLLInitializeMarketLogin(None, w("u"), w("p"), None, None, None, None, None, None, None,
                                        None) == sc.NL_INVALID_ARGS
    assert lib.DLLInitializeMarketLogin(w("k"), w(""), w("p"), None, None, None, None, None, None, None,
                                        None) == sc.NL_NO_USER
    assert lib.DLLInitializeMarketLogin(w("k"), w("u"), w(""), None, None, None, None, None, None, None,
                                        None) == sc.NL_NO_PASSWORD

    calls_inside: list[int] = []

    def inside(client: sc.SimClient, number: int) -> None:
        if number == 5 and not calls_inside:  # a request from inside a callback is refused, not executed
            calls_inside.append(lib.SubscribeTicker(w("WINFUT"), w("F")))
            calls_inside.append(lib.DLLFinalize())

    client = sc.SimClient(lib, on_trade=inside)
    assert lib.DLLInitializeMarketLogin(w("k"), w("u"), w("p"), None, None, None, None, None, None, None,
                                        None) == sc.NL_DUPLICATE_RESOURCE
    client.wait_state((3, 0))
    assert lib.SubscribeTicker(None, w("F")) == sc.NL_INVALID_ARGS
    assert lib.SubscribeTicker(w("WDOFUT"), None) == sc.NL_INVALID_ARGS
    assert lib.SubscribePriceBook(w(""), w("F")) == sc.NL_INVALID_ARGS
    assert lib.SubscribeTicker(w("PETR4"), w("B")) == sc.NL_OK  # unknown here: InvalidTicker callback
    client.wait(lambda: client.invalid == ["PETR4"], what="invalid ticker callback")
    client.subscribe()
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(20_000) == sc.NL_OK
    assert calls_inside == [sc.NL_INTERNAL_ERROR, sc.NL_INTERNAL_ERROR]
    assert client.counters().forbidden_calls == 2
    dummy = C.c_int(0)
    assert lib.FreePointer(C.byref(dummy), 4) == sc.NL_INVALID_ARGS
    stale = (C.c_uint32 * 32)()
    assert lib.TranslateTrade(stale, C.byref(sc.TConnectorTrade())) == sc.NL_INVALID_ARGS
    assert lib.SendOrder(C.byref((C.c_uint8 * 112)())) == sc.NL_MARKET_ONLY
    assert lib.GetSerieHistory(w("WDOFUT"), w("F"), w("01/01/2026"), w("02/01/2026"), 0, 0) == \
        sc.NL_SERIE_NO_HISTORY
    name = lib.GetAgentNameByID(0)
    assert sc.read_wstr(name) == "XP" and lib.GetAgentNameByID(1000) is None
    assert lib.GetAgentNameLength(0, 0) == 3
    client.finalize()
    assert lib.GetAgentNameByID(0) is None


def test_failed_login(lib: C.CDLL, synth_log: Path, session: None) -> None:
    sc.configure(lib, str(synth_log), login_result=2)  # invalid password
    client = sc.SimClient(lib)
    client.wait_state((0, 2))
    time.sleep(0.05)
    assert client.states == [(0, 2)]
    assert lib.SubscribeTicker(sc.wstr("WDOFUT"), sc.wstr("F")) == sc.NL_NO_LOGIN
    client.finalize()


def test_market_data_drop(lib: C.CDLL, synth_log: Path, exp: dict, session: None) -> None:
    trades = exp["trades"]
    k = 120

    def drop_at(client: sc.SimClient, number: int) -> None:
        if number == trades[k]["ref"] and not client.counters().drops:
            assert client.lib.SimDropMarketData(3_600_000) == sc.NL_OK  # an hour of replay time

    client = replay(lib, synth_log, on_trade=drop_at)
    t_drop = int(trades[k]["exch_ns"])
    lost = [i for i in range(k + 1, len(trades)) if trades[i]["exch_ns"] < t_drop + 3_600_000_000_000]
    assert len(lost) >= 3  # trade numbers restart each session: compare by position in the log
    got = [(t.number, t.date) for t in client.trades]
    want = [(int(t["ref"]), local_date(int(t["exch_ns"]))) for i, t in enumerate(trades) if i not in lost]
    assert got == want
    assert client.states[5:] == [(2, 0), (2, 1), (2, 4)]
    c = client.counters()
    assert c.drops == 1 and c.trades_lost_in_drops == len(lost) and c.records_lost_in_drops > len(lost)
    # the reconnection's full book brings the client back to the log's book
    assert not client.book.errors
    assert tuple(client_levels(s, exp["unit"]) for s in client.book.sides) == exp["final"]
    assert c.arrays_allocated == c.arrays_freed


def test_malformed_events(lib: C.CDLL, synth_log: Path, exp: dict, session: None) -> None:
    injected: list[int] = []

    def inject(client: sc.SimClient, number: int) -> None:
        if number == 50 and not injected:
            injected.append(number)
            for kind in (1, 2, 3):
                assert client.lib.SimInjectMalformed(kind) == sc.NL_OK

    client = replay(lib, synth_log, on_trade=inject)
    bad_price = [t for t in client.trades if math.isnan(t.price)]
    bad_qty = [t for t in client.trades if t.qty < 0]
    assert len(bad_price) == 1 and len(bad_qty) == 1 and bad_qty[0].qty == -5
    assert len(client.book.errors) == 1 and client.book.errors[0].startswith("action 1 at")
    assert client.counters().malformed_injected == 3
    good = [t.number for t in client.trades if not math.isnan(t.price) and t.qty > 0]
    assert good == [int(t["ref"]) for t in exp["trades"]]  # nothing real lost
    assert tuple(client_levels(s, exp["unit"]) for s in client.book.sides) == exp["final"]


def test_phase_schedule(lib: C.CDLL, synth_log: Path, session: None) -> None:
    client = replay(lib, synth_log, schedule="10:00=4, 10:05=0, 14:00=2, 14:10=0")
    states = [s for _, s in client.phases]
    assert states == [13, 0, 4, 0, 2, 0, 6] * 2
    # each at the first record at or after its time (the synthetic market has one every few seconds)
    for (date, _), at in zip(client.phases[2:6], ("10:00", "10:05", "14:00", "14:10"), strict=True):
        t = dt.datetime.strptime(date, "%d/%m/%Y %H:%M:%S.%f")
        due = t.replace(hour=int(at[:2]), minute=int(at[3:]), second=0, microsecond=0)
        assert due <= t < due + dt.timedelta(minutes=5)


def small_log(path: Path, gaps_ms: list[int]) -> None:
    """A few trades at the given receive-time gaps (first at 09:00 local)."""
    n = len(gaps_ms) + 1
    ev = empty_events(n + 1)
    t0 = 1_793_707_200_000_000_000
    ev[0]["type"], ev[0]["exch_ns"], ev[0]["recv_ns"], ev[0]["ref"] = EventType.SESSION, t0, t0, 20261103
    t = t0
    for i in range(n):
        if i:
            t += gaps_ms[i - 1] * 1_000_000
        r = ev[i + 1]
        r["type"], r["exch_ns"], r["recv_ns"] = EventType.TRADE, t, t
        r["price"], r["qty"], r["ref"], r["code"] = 11000 + i, 1, i + 1, TradeType.BUY_AGGRESSION
    ev["seq"] = np.arange(1, n + 2)
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5, agents=["XP"])) as w:
        w.append(ev)


def timed_replay(lib: C.CDLL, path: Path, speed: float, max_gap_ms: int = 2000,
                 delay_us: int = 0) -> tuple[float, sc.SimClient]:
    sc.configure(lib, str(path), speed=speed, max_gap_ms=max_gap_ms, delay_us=delay_us)
    client = sc.SimClient(lib)
    client.wait_state((3, 0))
    client.subscribe(book=False)
    start = time.monotonic()
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(20_000) == sc.NL_OK
    return time.monotonic() - start, client


def test_pacing_speed_and_gaps(lib: C.CDLL, tmp_path: Path, session: None) -> None:
    path = tmp_path / "paced.qtlog"
    small_log(path, [40, 40, 40, 40, 3_600_000, 40])  # 160 ms, an hour's gap, 40 ms
    fast, client = timed_replay(lib, path, 0.0)
    assert len(client.trades) == 7 and fast < 0.15
    client.finalize()
    real, client = timed_replay(lib, path, 1.0, max_gap_ms=100)  # the hour is cut to 100 ms
    assert 0.28 <= real < 1.5
    client.finalize()
    quick, client = timed_replay(lib, path, 4.0, max_gap_ms=100)
    assert 0.13 <= quick < real


def test_callback_delay_and_stall(lib: C.CDLL, tmp_path: Path, session: None) -> None:
    path = tmp_path / "plain.qtlog"
    small_log(path, [1] * 40)
    elapsed, client = timed_replay(lib, path, 0.0, delay_us=5000)
    assert len(client.trades) == 41 and elapsed >= 41 * 0.005 * 0.9
    client.finalize()

    arrivals: list[float] = []

    def stall(client: sc.SimClient, number: int) -> None:
        arrivals.append(time.monotonic())
        if number == 3:
            assert client.lib.SimStallCallbacks(150) == sc.NL_OK

    sc.configure(lib, str(path))
    client = sc.SimClient(lib, on_trade=stall)
    client.wait_state((3, 0))
    client.subscribe(book=False)
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(20_000) == sc.NL_OK
    gaps = np.diff(arrivals)
    assert gaps[2] >= 0.14 and np.delete(gaps, 2).max() < 0.1


def test_unmodified_client_configured_by_environment(synth_log: Path, tmp_path: Path) -> None:
    """A client that only knows the DLL's functions: the QT_SIM_* variables set the replay up."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(sc.__file__).parent)!r})
        import sim_client as sc
        lib = sc.load()
        client = sc.SimClient(lib, v2=False)
        assert client.init_result == 0, client.init_result
        client.wait_state((3, 0))
        assert lib.SubscribeTicker(sc.wstr("WDOZ26"), sc.wstr("F")) == 0   # starts the replay
        assert lib.SimWaitReplayDone(20000) == 0
        print(len(client.trades), client.trades[0].ticker, client.states)
        client.finalize()
    """)
    env = dict(os.environ, QT_SIM_LOG=str(synth_log), QT_SIM_SPEED="0", QT_SIM_TICKER="WDOZ26:F",
               QT_SIM_PHASES="")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    n, ticker, *_ = out.stdout.split(" ", 2)
    with read_event_log(synth_log) as log:
        want = int(np.count_nonzero(log.events["type"] == EventType.TRADE))
    assert int(n) == want and ticker == "WDOZ26"
    bad = dict(env, QT_SIM_SPEED="fast")
    out = subprocess.run([sys.executable, "-c", script], env=bad, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and str(sc.NL_INVALID_ARGS) in out.stderr  # the login itself is refused


def test_history_flagged_trades_are_not_replayed_live(lib: C.CDLL, tmp_path: Path, session: None) -> None:
    path = tmp_path / "hist.qtlog"
    small_log(path, [5, 5, 5])
    with read_event_log(path) as log:
        ev = log.events.copy()
    ev["flags"][2] |= EventFlag.HISTORY
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5)) as w:
        w.append(ev)
    _, client = timed_replay(lib, path, 0.0)
    assert [t.number for t in client.trades] == [1, 3, 4]
    assert client.counters().records_skipped == 1


def test_late_price_book_subscription_gets_the_current_book(lib: C.CDLL, synth_log: Path, exp: dict,
                                                            session: None) -> None:
    """Subscribing mid-replay: a full book of the moment, then actions; the end equals the log."""
    stalled = threading.Event()

    def hold(client: sc.SimClient, number: int) -> None:
        if number == 100 and not stalled.is_set():
            assert client.lib.SimStallCallbacks(300) == sc.NL_OK  # room for the main thread to subscribe
            stalled.set()

    sc.configure(lib, str(synth_log))
    client = sc.SimClient(lib, on_trade=hold)
    client.wait_state((3, 0))
    client.subscribe(book=False)
    assert lib.SimStartReplay() == sc.NL_OK
    assert stalled.wait(10)
    assert lib.SubscribePriceBook(sc.wstr("WDOFUT"), sc.wstr("F")) == sc.NL_OK
    assert lib.SimWaitReplayDone(20_000) == sc.NL_OK
    first_with_book = next(i for i, (bids, _) in enumerate(client.book_at_trade) if bids)
    assert first_with_book == 100  # trade 101 (index 100) is the first after the subscription
    unit = exp["unit"]
    for (bids, asks), want in zip(client.book_at_trade[100:], exp["books"][100:], strict=True):
        assert (client_levels(bids, unit), client_levels(asks, unit)) == want
    assert not client.book.errors
    assert tuple(client_levels(s, exp["unit"]) for s in client.book.sides) == exp["final"]


def test_offer_book_records_pass_through(lib: C.CDLL, tmp_path: Path, session: None) -> None:
    path = tmp_path / "offers.qtlog"
    t0 = 1_793_707_200_000_000_000
    ev = empty_events(4)
    ev["type"] = EventType.OFFER_BOOK
    ev["exch_ns"] = ev["recv_ns"] = t0 + np.arange(4) * 1_000_000
    ev["seq"] = np.arange(1, 5)
    ev["code"] = [0, 0, 1, 2]  # add, add, edit (qty delta), delete
    ev["a"] = [0, 1, 0, 1]
    ev["side"] = [0, 0, 0, 0]
    ev["price"] = [11000, 10999, 0, 0]
    ev["qty"] = [5, 7, -2, 0]
    ev["b"] = [3, 0, 3, 0]  # agent
    ev["ref"] = [101, 102, 101, 102]  # offer id
    ev["aux"] = [31, 31, 2 | 8, 8]  # has-bits: all / qty+offer id / offer id
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5)) as w:
        w.append(ev)
    sc.configure(lib, str(path))
    client = sc.SimClient(lib)
    client.wait_state((3, 0))
    assert lib.SubscribeOfferBook(sc.wstr("WDOFUT"), sc.wstr("F")) == sc.NL_OK
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK
    assert [(o[0], o[1], o[3], o[4], o[5], o[6], o[7]) for o in client.offers] == [
        (0, 0, 5, 3, 101, 5500.0, (1, 1, 1, 1, 1)),
        (0, 1, 7, 0, 102, 5499.5, (1, 1, 1, 1, 1)),
        (1, 0, -2, 3, 101, 0.0, (0, 1, 0, 1, 0)),
        (2, 1, 0, 0, 102, 0.0, (0, 0, 0, 1, 0)),
    ]
    assert client.offers[0][8] == "03/11/2026 09:00:00.000"


def test_recorded_daily_phase_and_tiny_book_pass_through(lib: C.CDLL, tmp_path: Path, session: None) -> None:
    """A log that recorded NewDaily (DAILY + RANGE + LIMITS), phases and tiny book: replayed as recorded,
    nothing synthesized on top."""
    path = tmp_path / "recorded.qtlog"
    t0 = 1_793_707_200_000_000_000
    rows = [  # type, code, price, ref, qty, side, a, b
        (EventType.PHASE, 13, 0, 0, 0, 0, 0, 0),
        (EventType.PHASE, 0, 0, 0, 0, 0, 0, 0),
        (EventType.TRADE, TradeType.BUY_AGGRESSION, 11002, 1, 3, 0, 0, 0),
        (EventType.TINY_BOOK, 0, 11001, 0, 40, 0, 0, 0),
        (EventType.TINY_BOOK, 0, 11003, 0, 25, 1, 0, 0),
        (EventType.DAILY, 0, 11002, 10990, 3000, 0, 120, 55000),  # close, open, contracts, trades, open int.
        (EventType.DAILY_RANGE, 0, 11010, 10980, 0, 0, 0, 0),  # high, low
        (EventType.DAILY_LIMITS, 0, 12000, 10000, 0, 0, 0, 0),  # max, min
        (EventType.PHASE, 4, 0, 0, 0, 0, 0, 0),
    ]
    ev = empty_events(len(rows))
    for i, (type_, code, price, ref, qty, side, a, b) in enumerate(rows):
        r = ev[i]
        r["type"], r["code"], r["price"], r["ref"], r["qty"], r["side"], r["a"], r["b"] = (
            type_, code, price, ref, qty, side, a, b)
        r["exch_ns"] = r["recv_ns"] = t0 + i * 1_000_000
    ev["seq"] = np.arange(1, len(rows) + 1)
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5)) as w:
        w.append(ev)
    sc.configure(lib, str(path))
    client = sc.SimClient(lib)
    client.wait_state((3, 0))
    client.subscribe(book=False)
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK
    assert [s for _, s in client.phases] == [13, 0, 4]
    assert client.tiny == [(0, 5500.5, 40), (1, 5501.5, 25)]
    assert len(client.dailies) == 1
    d = client.dailies[0]
    assert d[:4] == (5495.0, 5505.0, 5490.0, 5501.0)  # open, high, low, close
    assert (d[6], d[7]) == (6000.0, 5000.0)  # max / min limits
    assert (d[10], d[11], d[12]) == (3000, 120, 55000)  # contracts, trades, open contracts
    assert [t.number for t in client.trades] == [1]
