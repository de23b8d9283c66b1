"""The simulator's order side as a DLL client sees it (ctypes, the exported
functions only): small hand-written event logs whose book and trades make
every fill computable by hand, replayed with the DLL's thread held inside
chosen trade callbacks so the test acts at a known point of the market, as a
client acting on what it has just seen.  Orders: limit with a partial fill
from the queue, change, cancel, market, stop-limit, rejections (off tick,
outside the daily limits, during a halt), cancel-all, zero position; the
positions (GetPositionV2, day trade and consolidated) against the fills;
fees; the latency; Version 0 records; callbacks before SendOrder returns;
injected rejections; legacy order functions on the same engine."""

from __future__ import annotations

import ctypes as C
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sim_client as sc
from sim_client import BUY, CONSOLIDATED, DAY_TRADE, LIMIT, MARKET, SELL, STOP_LIMIT, Status

from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import EventFlag, EventType, TradeType, empty_events

T0 = 1_793_707_200_000_000_000  # 2026-11-03 09:00:00 -03:00
MS = 1_000_000
DAY_MS = 86_400_000
WDO_FEE = 1.10  # BRL per contract per fill, the simulator's B3 default for WDO
SELL_AG, BUY_AG = TradeType.SELL_AGGRESSION, TradeType.BUY_AGGRESSION


# ---- hand-written logs ------------------------------------------------------------

def session(t: int, ymd: int = 20261103) -> list[dict]:
    return [dict(t=t, type=EventType.SESSION, ref=ymd)]


def phase(t: int, code: int) -> list[dict]:
    return [dict(t=t, type=EventType.PHASE, code=code)]


def limits(t: int, high: int, low: int) -> list[dict]:
    return [dict(t=t, type=EventType.DAILY_LIMITS, price=high, ref=low)]


def snapshot(t: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> list[dict]:
    rows = [dict(t=t, type=EventType.SNAPSHOT_BEGIN, side=2)]
    rows += [dict(t=t, type=EventType.L2_LEVEL, side=0, price=p, qty=q, b=1) for p, q in bids]
    rows += [dict(t=t, type=EventType.L2_LEVEL, side=1, price=p, qty=q, b=1) for p, q in asks]
    return [*rows, dict(t=t, type=EventType.SNAPSHOT_END, side=2, flags=EventFlag.LAST)]


def level(t: int, side: int, price: int, qty: int) -> list[dict]:
    return [dict(t=t, type=EventType.L2_LEVEL, side=side, price=price, qty=qty, b=1 if qty else 0,
                 flags=EventFlag.LAST)]


def trade(t: int, number: int, price: int, qty: int, code: int) -> list[dict]:
    return [dict(t=t, type=EventType.TRADE, price=price, qty=qty, code=code, ref=number)]


def write_log(path: Path, rows: list[dict], unit: float = 0.5, tick: float = 0.5) -> Path:
    ev = empty_events(len(rows))
    for i, row in enumerate(rows):
        r = ev[i]
        r["exch_ns"] = r["recv_ns"] = T0 + row["t"] * MS
        for k in ("type", "price", "qty", "code", "side", "ref", "b", "flags"):
            if k in row:
                r[k] = row[k]
    ev["seq"] = np.arange(1, len(rows) + 1)
    with EventLogWriter(path, EventLogHeader("WDOFUT", unit, tick, agents=["XP"])) as w:
        w.append(ev)
    return path


class Pauses:
    """Holds the DLL's thread inside the callbacks of chosen trades (by trade
    number): the market stands still while the test acts, as a client acting
    on the trade it has just been told of.  The engine has already seen that
    trade; the order callbacks of what the test does fire after release."""

    def __init__(self, numbers: list[int]) -> None:
        self.arrived = {n: threading.Event() for n in numbers}
        self.released = {n: threading.Event() for n in numbers}

    def __call__(self, client: sc.SimClient, number: int) -> None:
        if number in self.arrived:
            self.arrived[number].set()
            self.released[number].wait(30)

    def at(self, number: int) -> None:
        assert self.arrived[number].wait(10), f"the replay never reached trade {number}"

    def go(self, number: int) -> None:
        self.released[number].set()

    def release_all(self) -> None:
        for e in self.released.values():
            e.set()


@pytest.fixture(scope="module")
def lib() -> C.CDLL:
    return sc.load()


@pytest.fixture
def pauses(lib: C.CDLL):
    """Pauses of one test; whatever happens, nothing stays held and the session ends."""
    made: list[Pauses] = []

    def make(numbers: list[int]) -> Pauses:
        made.append(Pauses(numbers))
        return made[-1]

    yield make
    for p in made:
        p.release_all()
    lib.DLLFinalize()


def start(lib: C.CDLL, log: Path, hold: Pauses | None = None, *, start_replay: bool = True,
          **config: object) -> tuple[sc.SimClient, sc.OrderDesk]:
    """Routing login on `log`, subscribed, order callback set; the replay started unless told not to."""
    sc.configure(lib, str(log), **config)
    client = sc.SimClient(lib, routing=True, on_trade=hold)
    assert client.init_result == sc.NL_OK
    client.wait_state((1, 5))  # broker connected: orders are accepted from now
    desk = sc.OrderDesk(client)
    client.subscribe()
    if start_replay:
        assert lib.SimStartReplay() == sc.NL_OK
    return client, desk


def ms_of(t: tuple[int, ...]) -> int:
    """Milliseconds since midnight of a (y, m, d, H, M, S, ms) tuple."""
    return ((t[3] * 60 + t[4]) * 60 + t[5]) * 1000 + t[6]


# ---- the main round trip -------------------------------------------------------------

# WDO, unit = tick = 0.5 point: 10999 units = 5499.5
ROUND_TRIP = (
    session(0) + phase(0, 0) + limits(0, 12000, 10000)
    + snapshot(0, bids=[(10999, 10), (10998, 20), (10997, 30)], asks=[(11001, 10), (11002, 20), (11003, 30)])
    + trade(10, 1, 11001, 1, BUY_AG) + level(11, 1, 11001, 9)
    + trade(20, 2, 10999, 12, SELL_AG) + level(21, 0, 10999, 0)
    + trade(30, 3, 10998, 25, SELL_AG) + level(31, 0, 10998, 0)
    + trade(40, 4, 10996, 3, SELL_AG)
    + phase(50, 2)  # frozen
    + trade(60, 5, 10997, 1, SELL_AG)
    + phase(70, 0)
    + trade(80, 6, 10997, 1, SELL_AG)
    + trade(90, 7, 10997, 1, SELL_AG)
)


def test_order_round_trip(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    hold = pauses([1, 2, 3, 4, 5, 6])
    client, desk = start(lib, write_log(tmp_path / "rt.qtlog", ROUND_TRIP), hold, latency_us=0)

    # -- trade 1: the book is 5499.5 x10 / 5500.5 x10 (5501.0 x20 behind)
    hold.at(1)
    a = desk.limit(BUY, 5499.5, 5)  # joins the bid behind the 10 shown
    e = desk.market(BUY, 15)  # takes 10 @ 5500.5 and 5 @ 5501.0
    off_tick = desk.limit(BUY, 5499.3, 1)
    too_high = desk.limit(BUY, 6500.0, 1)  # daily limits 5000.0 - 6000.0
    f = desk.send(STOP_LIMIT, SELL, 5497.5, 2, stop=5498.0)
    h = desk.legacy("SendSellOrder", 5600.0, 2)  # legacy entry, same engine
    assert min(a, e, off_tick, too_high, f, h) > 0 and len({a, e, off_tick, too_high, f, h}) == 6
    d = desk.details(a)
    assert (d.status, d.side, d.type, d.traded, d.leaves, d.price) == (Status.NEW, BUY, LIMIT, 0, 5, 5499.5)
    d = desk.details(e)
    assert (d.status, d.type, d.traded, d.price) == (Status.FILLED, MARKET, 15, -1.0)
    assert d.average_price == pytest.approx((10 * 5500.5 + 5 * 5501.0) / 15)
    assert desk.fees(e) == pytest.approx(15 * WDO_FEE)
    d = desk.details(off_tick)
    assert (d.status, d.text) == (Status.REJECTED, "price not a multiple of the tick")
    d = desk.details(too_high)
    assert (d.status, d.text) == (Status.REJECTED, "price outside the day's limits")
    d = desk.details(f)
    assert (d.status, d.type, d.price, d.stop_price) == (Status.NEW, STOP_LIMIT, 5497.5, 5498.0)
    assert desk.details(h).status == Status.NEW and desk.details(h).side == SELL
    hold.go(1)

    # -- trade 2: 12 sold at 5499.5 eat the 10 ahead of us and 2 of ours
    hold.at(2)
    d = desk.details(a)
    assert (d.status, d.traded, d.leaves, d.average_price) == (Status.PARTIALLY_FILLED, 2, 3, 5499.5)
    assert desk.change(a, 5499.0, 6) == sc.NL_OK  # new price: back of the 5499.0 queue (20 ahead)
    d = desk.details(a)
    assert (d.status, d.quantity, d.traded, d.leaves, d.price) == (Status.REPLACED, 6, 2, 4, 5499.0)
    h_cl = desk.of(h)[0].cl_ord_id  # the ClOrdID came with h's callbacks, fired after trade 1
    assert h_cl.startswith("SIM") and h_cl.endswith(f"-{h}")
    assert desk.details(0, h_cl).local_id == h
    assert desk.legacy_cancel(h_cl) == sc.NL_OK
    assert desk.details(h).status == Status.CANCELED
    hold.go(2)

    # -- trade 3: 25 sold at 5499.0: 20 ahead, 4 fill us
    hold.at(3)
    d = desk.details(a)
    assert (d.status, d.traded, d.leaves) == (Status.FILLED, 6, 0)
    assert d.average_price == pytest.approx((2 * 5499.5 + 4 * 5499.0) / 6)
    rc, p = desk.position(CONSOLIDATED)
    assert rc == sc.NL_OK
    assert (p.OpenQuantity, p.OpenSide, p.DailyBuyQuantity, p.DailyQuantity) == (21, BUY, 21, 21)
    assert p.OpenAveragePrice == pytest.approx((10 * 5500.5 + 5 * 5501.0 + 2 * 5499.5 + 4 * 5499.0) / 21)
    assert desk.details(f).status == Status.NEW  # last 5499.0: the stop (5498.0) not reached
    hold.go(3)

    # -- trade 4 at 5498.0 triggers the stop: a sell limit 5497.5 that takes 2 from the 5498.5 bid
    hold.at(4)
    d = desk.details(f)
    assert (d.status, d.traded, d.average_price) == (Status.FILLED, 2, 5498.5)
    hold.go(4)

    # -- trade 5, during a halt: new orders are rejected
    hold.at(5)
    halted = [desk.limit(BUY, 5498.0, 1), desk.market(SELL, 1)]
    for i in halted:
        d = desk.details(i)
        assert (d.status, d.text) == (Status.REJECTED, "instrument halted")
    hold.go(5)

    # -- trade 6, open again: cancel-all, then zero the position (19 long) at market
    hold.at(6)
    g = [desk.limit(BUY, 5490.0, 1), desk.limit(BUY, 5491.0, 1)]
    assert [desk.details(i).status for i in g] == [Status.NEW, Status.NEW]
    assert desk.cancel_all() == sc.NL_OK
    assert [desk.details(i).status for i in g] == [Status.CANCELED, Status.CANCELED]
    z = desk.zero(CONSOLIDATED)
    assert z > 0
    d = desk.details(z)
    assert (d.status, d.side, d.type, d.traded, d.average_price) == (Status.FILLED, SELL, MARKET, 19, 5498.5)
    assert desk.zero(CONSOLIDATED) == sc.NL_NO_POSITION
    hold.go(6)
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK

    # -- positions equal the fills
    fills = {i: desk.details(i) for i in (a, e, f, z)}
    bought = [(r.traded, r.average_price) for r in fills.values() if r.side == BUY]
    sold = [(r.traded, r.average_price) for r in fills.values() if r.side == SELL]
    buy_qty, sell_qty = sum(q for q, _ in bought), sum(q for q, _ in sold)
    buy_avg = sum(q * px for q, px in bought) / buy_qty
    sell_avg = sum(q * px for q, px in sold) / sell_qty
    for kind in (DAY_TRADE, CONSOLIDATED):
        rc, p = desk.position(kind)
        assert rc == sc.NL_OK
        assert (p.OpenQuantity, p.OpenSide, p.DailyBuyQuantity, p.DailySellQuantity, p.DailyQuantity) == \
            (0, 0, buy_qty, sell_qty, 0) == (0, 0, 21, 21, 0)
        assert p.DailyAverageBuyPrice == pytest.approx(buy_avg)
        assert p.DailyAverageSellPrice == pytest.approx(sell_avg)
        assert p.EventID == desk.details(z).event_id  # the last fill's event
    rc, st = desk.stats()
    assert rc == sc.NL_OK and st.net_qty == 0 and st.fills == 6
    assert st.realized_pnl == pytest.approx((sell_avg - buy_avg) * 21 * 10.0)  # BRL 10 a point
    assert st.fees == pytest.approx(42 * WDO_FEE)
    assert sum(desk.fees(i) for i in (a, e, f, z)) == pytest.approx(st.fees)

    # -- the journal: every order's callbacks, ids, event ids, final statuses
    client.wait(lambda: len({r.local_id for r in desk.reports}) == 11, what="callbacks of every order")
    desk.wait_for(z, Status.FILLED)
    assert not desk.errors
    for i in (a, e, off_tick, too_high, f, h, *halted, *g, z):
        mine = desk.of(i)
        events = [r.event_id for r in mine]  # the callback reads the order as it is by then
        assert events == sorted(events) and events[0] >= 1
        assert mine[-1].status == desk.details(i).status
        assert {r.cl_ord_id for r in mine} == {mine[0].cl_ord_id} and mine[0].cl_ord_id.endswith(f"-{i}")
        assert all(r.known for r in mine)  # no early callbacks asked for
    everyone = (a, e, off_tick, too_high, f, h, *halted, *g, z)
    assert len({desk.of(i)[0].cl_ord_id for i in everyone}) == len(everyone)
    assert len({desk.details(i).event_id for i in everyone}) == len(everyone)  # one counter for all
    assert [r.status for r in desk.of(off_tick)] == [Status.REJECTED]

    # -- requests on finished or unknown orders
    n = len(desk.of(e))
    assert desk.change(e, 5500.0, 20) == sc.NL_OK  # taken, answered by an order change
    client.wait(lambda: len(desk.of(e)) == n + 1, what="the change's answer")
    r = desk.of(e)[-1]
    assert (r.status, r.text, r.traded) == (Status.FILLED, "order no longer working", 15)
    assert desk.cancel(999) == sc.NL_NOT_FOUND
    assert desk.cancel(0, "SIMNOPE-1") == sc.NL_NOT_FOUND
    # after the replay the market is closed: decided at once
    late = desk.limit(BUY, 5499.0, 1)
    assert desk.details(late).status == Status.REJECTED and desk.details(late).text == "instrument closed"
    assert client.counters().order_notifications >= len(desk.reports)
    # the account's orders, in the order sent, as the journal has them
    listed = desk.enumerate()
    assert [o[0] for o in listed] == sorted([*everyone, late])
    for local_id, cl, status, side, traded, text in listed:
        d = desk.details(local_id)
        assert (status, side, traded, text) == (d.status, d.side, d.traded, d.text)
        assert cl.endswith(f"-{local_id}")
        assert local_id == late or cl == desk.of(local_id)[0].cl_ord_id


# ---- latency ----------------------------------------------------------------------

LATENCY = (
    session(0) + phase(0, 0) + snapshot(0, bids=[(10999, 10)], asks=[(11001, 10)])
    + trade(10, 1, 11000, 1, BUY_AG)
    + trade(20, 2, 11001, 10, BUY_AG) + level(20, 1, 11001, 0) + level(20, 1, 11002, 5)
    + trade(40, 3, 11002, 1, BUY_AG)
    + trade(70, 4, 11002, 1, BUY_AG)
    + trade(100, 5, 11001, 2, SELL_AG)
)


def test_latency_is_market_time(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    """Sent at 10 ms with 50 ms latency, a buy at the 5500.5 offer arrives at 60 ms, after others
    took that offer (20 ms): it rests, and fills from a later trade at its price."""
    hold = pauses([1, 3, 4, 5])
    _, desk = start(lib, write_log(tmp_path / "lat.qtlog", LATENCY), hold, latency_us=50_000)
    hold.at(1)
    i = desk.limit(BUY, 5500.5, 1)
    sent = desk.details(i)
    assert sent.status == Status.PENDING_NEW and ms_of(sent.date) == 9 * 3_600_000 + 10
    hold.go(1)
    hold.at(3)  # 40 ms: still travelling
    assert desk.details(i).status == Status.PENDING_NEW
    hold.go(3)
    hold.at(4)  # 70 ms: arrived at 60 ms, the offer gone: resting
    d = desk.details(i)
    assert (d.status, d.traded) == (Status.NEW, 0) and ms_of(d.last_update) - ms_of(d.date) == 50
    hold.go(4)
    hold.at(5)  # 100 ms: 2 sold at 5500.5, nobody ahead of us there
    d = desk.details(i)
    assert (d.status, d.traded, d.average_price) == (Status.FILLED, 1, 5500.5)
    assert ms_of(d.last_update) - ms_of(d.date) == 90
    hold.go(5)
    assert lib.SimSetOrderLatencyUs(-1) == sc.NL_INVALID_ARGS
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK
    desk.wait_for(i, Status.FILLED)
    assert desk.of(i)[0].status == Status.PENDING_NEW


def test_paced_replay_acknowledges_after_the_latency_not_at_the_next_record(lib: C.CDLL, tmp_path: Path,
                                                                            pauses) -> None:
    """At speed 1 the market clock runs between records: an order sent right after the first trade
    is acknowledged 30 ms later, long before the next record (800 ms)."""
    rows = (session(0) + phase(0, 0) + snapshot(0, bids=[(10999, 10)], asks=[(11001, 10)])
            + trade(0, 1, 11000, 1, BUY_AG) + trade(800, 2, 11000, 1, BUY_AG))
    hold = pauses([1])
    client, desk = start(lib, write_log(tmp_path / "paced.qtlog", rows), hold, latency_us=30_000, speed=1.0)
    hold.at(1)
    sent_at = time.monotonic()
    i = desk.limit(BUY, 5499.0, 1)
    hold.go(1)
    ack = desk.wait_for(i, Status.NEW, timeout=2.0)
    waited = time.monotonic() - sent_at
    assert 0.02 <= waited < 0.5, waited
    assert ms_of(ack.last_update) - ms_of(ack.date) == 30
    assert len(client.trades) == 1  # the second trade had not come yet
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK


# ---- early callbacks -----------------------------------------------------------------

def test_order_callback_before_send_order_returns(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    """SimSetEarlyOrderCallback(1): SendOrder returns after its callback has fired, so the client
    meets a local id it has not been given yet; it journals it and binds it on return."""
    log = write_log(tmp_path / "early.qtlog", LATENCY)
    client, desk = start(lib, log, None, start_replay=False, early=1.0)
    i = desk.limit(BUY, 5499.0, 2)
    assert i > 0
    first = desk.of(i)  # already there when SendOrder returned
    assert first and first[0].known is False and first[0].status == Status.PENDING_NEW
    assert first[0].cl_ord_id.endswith(f"-{i}")
    c = client.counters()
    assert (c.early_order_callbacks, c.early_callback_timeouts) == (1, 0)
    # the client copes: the journal entry made before the id was known names the same order
    assert desk.details(0, first[0].cl_ord_id).local_id == i
    # half of the requests, by the seeded draw
    assert lib.SimSetEarlyOrderCallback(0.5) == sc.NL_OK
    ids = [desk.limit(BUY, 5490.0, 1) for _ in range(40)]
    early = client.counters().early_order_callbacks - 1
    assert 5 < early < 35 and min(ids) > i
    assert lib.SimSetEarlyOrderCallback(1.5) == sc.NL_INVALID_ARGS
    assert lib.SimSetEarlyOrderCallback(0.0) == sc.NL_OK
    assert lib.SimStartReplay() == sc.NL_OK
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK
    desk.wait_for(i, Status.EXPIRED)  # the market closed with the order resting
    assert not desk.errors


# ---- fault injection -------------------------------------------------------------------

def test_injected_rejections(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    assert lib.SimRejectOrders(-1, 0.0, None) == sc.NL_INVALID_ARGS
    assert lib.SimRejectOrders(0, 1.5, None) == sc.NL_INVALID_ARGS
    assert lib.SimRejectOrders(0, 0.0, b"x" * 64) == sc.NL_INVALID_ARGS
    log = write_log(tmp_path / "rej.qtlog", LATENCY)
    sc.configure(lib, str(log), latency_us=0)
    assert lib.SimRejectOrders(2, 0.0, b"limite de risco") == sc.NL_OK  # for the next login
    client = sc.SimClient(lib, routing=True)
    client.wait_state((1, 5))
    desk = sc.OrderDesk(client)
    ids = [desk.limit(BUY, 5499.0, 1) for _ in range(3)]
    got = [(desk.details(i).status, desk.details(i).text) for i in ids]
    assert got == [(Status.REJECTED, "limite de risco")] * 2 + [(Status.NEW, "")]
    assert lib.SimRejectOrders(0, 1.0, None) == sc.NL_OK  # live: every order from now
    d = desk.details(desk.market(SELL, 1))
    assert (d.status, d.side, d.type) == (Status.REJECTED, SELL, MARKET)
    assert d.text == "rejected by the simulator (fault injection)"
    assert lib.SimRejectOrders(0, 0.3, None) == sc.NL_OK
    statuses = [desk.details(desk.limit(BUY, 5490.0, 1)).status for _ in range(60)]
    rejected = statuses.count(Status.REJECTED)
    assert 5 < rejected < 40 and rejected + statuses.count(Status.NEW) == 60
    assert lib.SimRejectOrders(0, 0.0, None) == sc.NL_OK
    assert desk.details(desk.limit(BUY, 5490.0, 1)).status == Status.NEW
    client.wait(lambda: len(desk.reports) >= 66, what="callbacks")
    assert not desk.errors


# ---- Version 0 ------------------------------------------------------------------------

def test_version_0_record_is_read_with_version_0_enums(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    """Version 0 numbers buy 0 / sell 1 and limit 0 / stop 1 / market 2.  A client that fills Version 1
    numbers but leaves Version at 0 gets the opposite side (and a market order): the reported side differs
    from the intended one, which is how a client's check catches the slip."""
    _, desk = start(lib, write_log(tmp_path / "v0.qtlog", LATENCY), None, start_replay=False)
    i = desk.send(sc.V0_LIMIT, sc.V0_BUY, 5450.0, 1, version=0)
    d = desk.details(i)
    assert (d.side, d.type, d.price) == (BUY, LIMIT, 5450.0)  # reported in Version 1 numbering
    i = desk.send(sc.V0_STOP, sc.V0_SELL, 5440.0, 1, stop=5445.0, version=0)
    assert (desk.details(i).side, desk.details(i).type) == (SELL, STOP_LIMIT)
    intended_side, intended_type = BUY, LIMIT
    slip = desk.send(intended_type, intended_side, 5450.0, 1, version=0)  # Version 1 numbers in a V0 record
    d = desk.details(slip)
    assert (d.side, d.type) == (SELL, MARKET)
    assert d.side != intended_side  # caught
    assert desk.send(LIMIT, 0, 5450.0, 1) == sc.NL_INVALID_ARGS  # side 0 does not exist in Version 1
    assert desk.send(LIMIT, BUY, 5450.0, 1, version=2) == sc.NL_VERSION_NOT_SUPPORTED


# ---- day trade and consolidated ----------------------------------------------------------

TWO_DAYS = (
    session(0) + phase(0, 0) + snapshot(0, bids=[(10999, 10)], asks=[(11001, 10)])
    + trade(10, 1, 11000, 1, BUY_AG) + trade(20, 2, 11000, 1, BUY_AG)
    + session(DAY_MS, 20261104) + phase(DAY_MS, 0) + snapshot(DAY_MS, bids=[(10999, 10)], asks=[(11001, 10)])
    + trade(DAY_MS + 10, 3, 11000, 1, BUY_AG) + trade(DAY_MS + 20, 4, 11000, 1, BUY_AG)
)


def test_day_trade_and_consolidated_positions(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    """Day 1 buys 3 and leaves them open (and a resting order that expires with the session);
    day 2: consolidated carries the 3, day trade starts flat; a sale of 1 is a day-trade short;
    zeroing the day trade buys it back, leaving the carried 3."""
    hold = pauses([1, 3])
    _, desk = start(lib, write_log(tmp_path / "days.qtlog", TWO_DAYS), hold, latency_us=0)
    hold.at(1)
    b = desk.market(BUY, 3)
    resting = desk.limit(BUY, 5400.0, 1)
    for kind in (DAY_TRADE, CONSOLIDATED):
        rc, p = desk.position(kind)
        assert rc == sc.NL_OK and (p.OpenQuantity, p.OpenSide, p.OpenAveragePrice) == (3, BUY, 5500.5)
    hold.go(1)
    hold.at(3)
    assert desk.details(resting).status == Status.EXPIRED
    assert desk.details(b).status == Status.FILLED
    rc, p = desk.position(CONSOLIDATED)
    assert rc == sc.NL_OK
    assert (p.OpenQuantity, p.OpenSide, p.DailyBuyQuantity, p.DailyQuantity) == (3, BUY, 0, 0)
    assert desk.position(DAY_TRADE)[0] == sc.NL_NO_POSITION
    s = desk.market(SELL, 1)
    rc, p = desk.position(DAY_TRADE)
    assert rc == sc.NL_OK
    assert (p.OpenQuantity, p.OpenSide, p.OpenAveragePrice, p.DailySellQuantity, p.DailyQuantity) == \
        (1, SELL, 5499.5, 1, -1)
    rc, p = desk.position(CONSOLIDATED)
    assert (p.OpenQuantity, p.OpenSide, p.OpenAveragePrice) == (2, BUY, 5500.5)
    z = desk.zero(DAY_TRADE)
    assert (desk.details(z).side, desk.details(z).traded) == (BUY, 1)
    rc, p = desk.position(DAY_TRADE)
    assert (p.OpenQuantity, p.OpenSide, p.DailyBuyQuantity, p.DailySellQuantity) == (0, 0, 1, 1)
    rc, p = desk.position(CONSOLIDATED)
    assert (p.OpenQuantity, p.OpenSide) == (3, BUY)
    assert desk.zero(DAY_TRADE) == sc.NL_NO_POSITION
    assert desk.details(s).status == Status.FILLED
    hold.go(3)
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK


# ---- legacy functions, same engine --------------------------------------------------------

def test_legacy_order_functions_share_the_engine(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    hold = pauses([1, 2])
    _, desk = start(lib, write_log(tmp_path / "legacy.qtlog", ROUND_TRIP), hold, latency_us=0)
    hold.at(1)
    m = desk.legacy("SendMarketBuyOrder", 4)
    d = desk.details(m)
    assert (d.status, d.side, d.type, d.traded, d.average_price) == (Status.FILLED, BUY, MARKET, 4, 5500.5)
    s = desk.legacy("SendStopSellOrder", 5497.5, 5498.0, 2)
    d = desk.details(s)
    assert (d.type, d.side, d.status) == (STOP_LIMIT, SELL, Status.NEW)
    b = desk.legacy("SendBuyOrder", 5499.5, 3)  # behind the 10 shown at 5499.5
    v2 = desk.limit(BUY, 5490.0, 1)
    assert v2 == b + 1  # one numbering for legacy and V2 orders
    hold.go(1)
    hold.at(2)  # 12 sold at 5499.5: 2 of b
    assert (desk.details(b).status, desk.details(b).traded) == (Status.PARTIALLY_FILLED, 2)
    cl = desk.of(b)[0].cl_ord_id  # ClOrdIDs come with the callbacks (fired after trade 1)
    assert desk.legacy_change(cl, 5498.5, 5) == sc.NL_OK
    d = desk.details(b)
    assert (d.status, d.price, d.quantity, d.leaves) == (Status.REPLACED, 5498.5, 5, 3)
    rc, p = desk.position(CONSOLIDATED)
    assert rc == sc.NL_OK and (p.OpenQuantity, p.OpenSide) == (6, BUY)
    z = desk.legacy_zero()  # cancels the working orders, then sells 6
    d = desk.details(z)
    assert (d.status, d.side, d.traded, d.average_price) == (Status.FILLED, SELL, 6, 5499.5)
    assert [desk.details(i).status for i in (s, b, v2)] == \
        [Status.CANCELED, Status.PARTIALLY_FILLED_CANCELED, Status.CANCELED]
    rc, p = desk.position(CONSOLIDATED)
    assert (p.OpenQuantity, p.DailyBuyQuantity, p.DailySellQuantity) == (0, 6, 6)
    hold.go(2)
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK


# ---- synthesized phases and daily limits ----------------------------------------------

def test_synthesized_phases_and_limits_bind_orders(lib: C.CDLL, tmp_path: Path, pauses) -> None:
    """A log with neither phases nor daily records: the replay synthesizes pre-opening, open at the first
    trade and limits of +-10% around it; the engine rejects by them as by recorded ones."""
    rows = (session(0) + snapshot(0, bids=[(10999, 10)], asks=[(11001, 10)])
            + trade(10, 1, 11000, 1, BUY_AG) + trade(20, 2, 11000, 1, BUY_AG))
    hold = pauses([1])
    assert lib.SimSetDailyLimitPercent(10.0) == sc.NL_OK
    client, desk = start(lib, write_log(tmp_path / "synth.qtlog", rows), hold, start_replay=False)
    early_market = desk.market(BUY, 1)  # arrives (5 ms) in the pre-opening
    early_limit = desk.limit(BUY, 5499.5, 1)
    assert lib.SimStartReplay() == sc.NL_OK
    hold.at(1)
    d = desk.details(early_market)
    assert (d.status, d.text) == (Status.REJECTED, "market order during an auction")
    assert desk.details(early_limit).status == Status.NEW  # limit orders wait for the open
    assert [s for _, s in client.phases] == [13, 0]
    # first trade 5500.0: limits 4950.0 .. 6050.0
    at_max, above, below = desk.limit(BUY, 6050.0, 1), desk.limit(BUY, 6050.5, 1), desk.limit(SELL, 4949.5, 1)
    hold.go(1)
    assert lib.SimWaitReplayDone(10_000) == sc.NL_OK
    for i in (above, below):
        desk.wait_for(i, Status.REJECTED)
        assert desk.details(i).text == "price outside the day's limits"
    d = desk.details(at_max)  # at the limit: taken, and marketable
    assert (d.status, d.average_price) == (Status.FILLED, 5500.5)
