"""The binding end to end through the ProfitDLL simulator: login, subscribe,
replay a synthetic WDO session, drain, and compare what the consumer got with
the log; reconnection, halts, malformed events, a stalled consumer, history
backfill, an order's round trip, and credentials kept out of every log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from profitdll_support import (
    BOOK_TYPES,
    LOG_DAY,
    SIM_CREDENTIALS,
    TICKER,
    configure_sim,
    drain_replay,
    log_expectations,
    same_trades,
    sim_connection,
    tops_at_trades,
    trades_of,
)

from quantumtrader.adapters.profitdll.connection import FeedStatus, LoginRejectedError, ProfitConnection
from quantumtrader.adapters.profitdll.credentials import ProfitCredentials
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.adapters.profitdll.order_updates import OrderUpdateType, cl_ord_id
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.events import EventFlag, EventType, GapReason, Phase
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.book import PriceBook


@pytest.fixture(scope="module")
def synth_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("binding") / "wdo.qtlog"
    write_synthetic_log(path, days=1, seed=5, signal=0.0, trades_per_day=600, levels=10)
    return path


@pytest.fixture(scope="module")
def exp(synth_log: Path) -> dict:
    return log_expectations(synth_log)


@pytest.fixture
def conn_factory():
    """Connections made by a test are closed whatever happens."""
    made: list[ProfitConnection] = []

    def make(*args, **kw) -> ProfitConnection:
        c = sim_connection(*args, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.mark.parametrize("trades_v2", [True, False], ids=["trades-v2", "trades-v1"])
def test_callback_to_features(synth_log: Path, exp: dict, conn_factory, trades_v2: bool) -> None:
    """V2 trades carry a SYSTEMTIME read with TranslateTrade; V1 trades a date
    string the reader parses.  Both must give the log's trades."""
    conn = conn_factory(synth_log, trades_v2=trades_v2)
    assert conn.ready and conn.feed_status is FeedStatus.LIVE
    assert conn.state.login == 0 and conn.state.market_data == 4 and conn.state.market_login == 0
    got = drain_replay(conn)

    # every trade of the log, in order, with its number, price, agents, type and time
    same_trades(trades_of(got), exp["trades"])
    # the book rebuilt from the DLL's positional actions and full books has the
    # log's top of book before every trade, and the log's whole book at the end
    book = tops_at_trades(got, exp["tick_units"])
    assert book["tops"] == exp["tops"]
    assert book["final"] == exp["final"]
    assert book["book_counters"]["rejected"] == 0
    # the stream is in callback order: seq strictly increases
    assert np.all(np.diff(got["seq"].astype(np.int64)) > 0)
    c = conn.counters
    assert c["callback_thread"] != 0 and c["foreign_thread_calls"] == 0
    assert c["records_dropped"] == 0 and c["invalid"] == 0 and c["unknown_instrument"] == 0
    assert c["decoder"]["bad_dates"] == 0 and c["decoder"]["missing_ext"] == 0
    sim = conn.dll.sim_counters()
    assert c["calls"]["trade_v2" if trades_v2 else "trade"] == sim["trades_delivered"] == len(exp["trades"])
    assert c["calls"]["trade" if trades_v2 else "trade_v2"] == 0  # only one of them registered
    assert c["arrays_freed"] == sim["arrays_allocated"] == sim["arrays_freed"] and c["free_errors"] == 0
    # phases, tiny book and daily arrive too, all for the subscribed instrument
    for t in (EventType.PHASE, EventType.TINY_BOOK, EventType.DAILY):
        assert np.count_nonzero(got["type"] == t) > 0
    market = got[got["type"] != EventType.CONN_STATE]
    assert np.all(market["instrument"] == 1)


def test_reconnection_resubscribes_and_consumer_sees_the_gap(synth_log: Path, exp: dict,
                                                             conn_factory) -> None:
    conn = conn_factory(synth_log, delay_us=40)  # slow enough to drop in the middle
    dropped = []

    def drop_midway(recs: np.ndarray) -> None:
        if not dropped and conn.counters["calls"]["trade_v2"] > 100:
            conn.dll.sim_drop_market_data(20 * 60_000)  # 20 minutes of the session
            dropped.append(True)

    got = drain_replay(conn, on_batch=drop_midway)
    assert dropped
    sim = conn.dll.sim_counters()
    assert sim["drops"] == 1 and sim["trades_lost_in_drops"] > 0

    gap_at = np.flatnonzero(got["type"] == EventType.FEED_GAP)
    assert len(gap_at) == 1
    gap = got[gap_at[0]]
    assert gap["a"] == GapReason.DISCONNECT and gap["instrument"] == profitdll.ALL_INSTRUMENTS
    # the gap follows the state change; the reconnection then brings a fresh full book
    after = got[gap_at[0] - 1:]
    assert (after[0]["type"], after[0]["a"], after[0]["b"]) == (EventType.CONN_STATE, 2, 0)
    states = after[after["type"] == EventType.CONN_STATE]
    assert [(int(s["a"]), int(s["b"])) for s in states[:3]] == [(2, 0), (2, 1), (2, 4)]
    back = np.flatnonzero((after["type"] == EventType.CONN_STATE) & (after["b"] == 4))[0]
    assert EventType.SNAPSHOT_BEGIN in after[back:back + 4]["type"]

    assert conn.gaps and conn.gaps[0].reason is GapReason.DISCONNECT
    assert conn.reconnections == 1 and conn.feed_status is FeedStatus.LIVE
    # what was not lost is what the log has, and the book converges again
    assert len(trades_of(got)) == len(exp["trades"]) - sim["trades_lost_in_drops"]
    assert tops_at_trades(got, exp["tick_units"])["final"] == exp["final"]


def test_halt_and_auction_are_not_feed_drops(synth_log: Path, conn_factory) -> None:
    conn = conn_factory(synth_log)
    conn.poll(0.2)
    for state in (Phase.FROZEN, Phase.AUCTION, Phase.OPEN):
        conn.dll.sim_inject_phase(state)
    got = []
    deadline = time.monotonic() + 5
    def phases() -> int:
        return sum(np.count_nonzero(g["type"] == EventType.PHASE) for g in got)

    while phases() < 3 and time.monotonic() < deadline:
        got.append(conn.poll(0.05))
    ev = np.concatenate(got)
    phases = ev[ev["type"] == EventType.PHASE]
    assert [int(p["code"]) for p in phases[-3:]] == [Phase.FROZEN, Phase.AUCTION, Phase.OPEN]
    assert not np.any(ev["type"] == EventType.FEED_GAP)
    assert conn.feed_status is FeedStatus.LIVE and not conn.gaps


def test_malformed_events_are_counted_and_dropped(synth_log: Path, exp: dict, conn_factory) -> None:
    conn = conn_factory(synth_log)
    got = [conn.poll(0.2)]
    for kind in (1, 2, 3):  # NaN price trade, negative-qty trade, book position past the end
        conn.dll.sim_inject_malformed(kind)
    deadline = time.monotonic() + 5
    while conn.dll.sim_counters()["malformed_injected"] < 3 and time.monotonic() < deadline:
        got.append(conn.poll(0.02))
    got.append(conn.poll(0.1))
    ev = np.concatenate(got)
    c = conn.counters
    assert c["invalid"] == 2 and conn.invalid_dropped == 2
    assert not np.any(ev["flags"] & EventFlag.INVALID)
    assert not np.any(ev["type"] == EventType.TRADE)  # both trades were bad: none reaches the consumer
    # a position past the side's end is well-formed for the callback: the book refuses it
    book = PriceBook(exp["tick_units"])
    book.apply(ev[np.isin(ev["type"], BOOK_TYPES)])
    assert book.counters["rejected_position"] == 1
    # the session goes on: the replay still delivers the whole log
    rest = drain_replay(conn)
    same_trades(trades_of(rest), exp["trades"])


def test_stalled_consumer_causes_counted_drops_not_a_crash(synth_log: Path, exp: dict, conn_factory) -> None:
    conn = conn_factory(synth_log, ring=1024)
    conn.poll(0.2)
    conn.dll.sim_start_replay()
    assert conn.dll.sim_wait_replay_done(30)  # nobody reads meanwhile
    got = [conn.poll(0.0)]
    conn.dll.sim_inject_phase(Phase.OPEN)  # one more callback: carries the pending gap report
    time.sleep(0.05)
    while len(got[-1]):
        got.append(conn.poll(0.05))
    ev = np.concatenate(got)
    c = conn.counters
    assert c["records_dropped"] > 0 and c["gaps_reported"] >= 1
    gaps = ev[ev["type"] == EventType.FEED_GAP]
    assert np.all(gaps["a"] == GapReason.RING_FULL)
    # every record the callbacks made either arrived or is counted as lost
    assert int(gaps["qty"].sum()) == c["records_dropped"]
    assert len(ev[ev["type"] != EventType.FEED_GAP]) + c["records_dropped"] >= c["records"]
    assert conn.feed_status is FeedStatus.LIVE  # a full ring is a gap, not a lost connection


def test_backfill_gives_history_first_then_live(synth_log: Path, exp: dict, conn_factory) -> None:
    conn = conn_factory(synth_log)
    conn.dll.sim_start_replay()
    assert conn.dll.sim_wait_replay_done(30)  # the session ran before we look ("mid-session start")
    sub = conn.subscriptions[1]
    progress: list[int] = []
    n = conn.backfill(sub, start_ns=0, end_ns=time.time_ns(), on_progress=progress.append)
    assert n == len(exp["trades"]) and progress[-1] == 100
    first = conn.poll(0.0)
    rest = [first]
    while len(rest[-1]):
        rest.append(conn.poll(0.05))
    ev = np.concatenate(rest)
    hist = trades_of(ev, history=True)
    same_trades(hist, exp["trades"])
    assert np.all(ev[: len(hist)]["flags"] & EventFlag.HISTORY)  # history comes first
    assert hist[-1]["flags"] & EventFlag.LAST  # TC_LAST_PACKET
    # the live trades were all covered by the history: dropped as duplicates
    assert conn.duplicates_dropped == len(exp["trades"])
    assert len(trades_of(ev, history=False)) == 0
    assert np.count_nonzero(ev["type"] == EventType.PRICE_BOOK) > 0  # the rest of the live stream


def _updates_until(conn, local_id: int, done, timeout: float = 5.0) -> list:
    """Order updates of ``local_id`` until ``done(update)`` holds for one of them."""
    deadline = time.monotonic() + timeout
    seen: list = []
    while time.monotonic() < deadline:
        seen += [u for u in conn.order_updates() if u["local_id"] == local_id]
        if any(done(u) for u in seen):
            return seen
        time.sleep(0.01)
    statuses = [int(u["status"]) for u in seen]
    raise AssertionError(f"order {local_id}: no final update, saw statuses {statuses}")


def test_order_round_trip_through_the_binding(synth_log: Path, exp: dict, conn_factory) -> None:
    """SendOrder (Version 1) -> order callback -> GetOrderDetails -> order
    ring, through the simulator's matching engine: a resting limit order is
    accepted and canceled, an off-tick one is rejected."""
    conn = conn_factory(synth_log, routing=True)
    assert conn.state.routing == 5

    class Account:
        broker_id = 1
        account_id = "SIM0001"
        sub_account_id = ""

    pw = SIM_CREDENTIALS.routing_password
    # real-time replay: the engine's clock runs with the wall clock, so the order
    # reaches the exchange after the simulated latency while the day plays slowly
    conn.dll.sim_set_speed(1.0)
    conn.dll.sim_start_replay()
    low = min(float(t["price"]) for t in exp["trades"]) * exp["unit"]
    resting = low - 10 * 0.5  # ten ticks below every trade of the day: never fills
    local_id = conn.dll.send_order(Account, TICKER, "F", profitdll.SIDE_BUY, profitdll.ORDER_LIMIT,
                                   resting, -1.0, 2, pw)
    assert local_id > 0
    ups = _updates_until(conn, local_id, lambda u: u["status"] == 0)  # new: working at the exchange
    u = ups[-1]
    assert u["type"] == OrderUpdateType.ORDER and u["instrument"] == 1
    assert (u["side"], u["order_type"], u["quantity"], u["price"]) == (1, 2, 2, resting)
    assert u["leaves_qty"] == 2 and u["cum_qty"] == 0
    cl = cl_ord_id(u)
    assert cl  # permanent id known from the first update
    details = conn.dll.get_order_details(local_id)
    assert details["ticker"] == TICKER and details["status"] == 0 and details["side"] == 1

    conn.dll.cancel_order(Account, local_id, cl, pw)
    ups = _updates_until(conn, local_id, lambda u: u["status"] == 4)  # canceled
    assert ups[-1]["leaves_qty"] == 0 and ups[-1]["cum_qty"] == 0
    assert conn.dll.get_order_details(local_id)["status"] == 4

    off_tick = conn.dll.send_order(Account, TICKER, "F", profitdll.SIDE_SELL, profitdll.ORDER_LIMIT,
                                   resting + 0.25, -1.0, 1, pw)
    ups = _updates_until(conn, off_tick, lambda u: u["status"] == 8)  # rejected
    assert ups[-1]["side"] == 2
    assert not conn.order_state_unknown
    with pytest.raises(ValueError):
        conn.dll.send_order(Account, TICKER, "F", 0, profitdll.ORDER_LIMIT, 5500.0, -1.0, 1)


def test_credentials_never_logged(synth_log: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets = ("KEY-6f1e2d", "user-9a8b7c", "pw-5d4c3b", "route-2b1a0f")
    creds = ProfitCredentials(*secrets, source="test")
    caplog.set_level(logging.DEBUG)
    conn = ProfitConnection(simulator_path(), credentials=creds, routing=True,
                            utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    configure_sim(conn.dll, synth_log)
    try:
        conn.connect(10)
        conn.subscribe("WDO", date=LOG_DAY)
        drain_replay(conn)
        texts = [caplog.text, repr(conn), str(conn), repr(creds), str(creds), repr(conn.dll),
                 repr(conn.state)]
    finally:
        conn.close()
    # a refused login: the exception and the log say why, not with what
    conn2 = ProfitConnection(simulator_path(), credentials=creds, utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    configure_sim(conn2.dll, synth_log, login_result=2)
    with pytest.raises(LoginRejectedError) as err:
        conn2.connect(10)
    assert not conn2.dll.logged_in and conn2.feed_status is FeedStatus.DISCONNECTED  # nothing left open
    configure_sim(conn2.dll, synth_log)
    texts += [str(err.value), repr(err.value), caplog.text]
    assert "connected" in caplog.text  # the log did record the session
    for text in texts:
        for s in secrets:
            assert s not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(creds)
