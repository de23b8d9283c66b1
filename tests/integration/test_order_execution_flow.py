"""The execution engine against the ProfitDLL simulator through the real
binding (ProfitDLL -> order callback -> order ring -> engine), on small
hand-written WDO logs replayed in real time so the engine acts between
trades, as it does live:

- an entry filled in two parts gets a bracket that grows with it; the take
  profit fills in two parts, the stop loss shrinks and is cancelled (OCO);
  fills, positions and statuses agree with the venue; a restart rebuilds
  the same orders from the journal and reconciles without difference;
- a crash (the process gone between the venue's fill and our seeing it, and
  an intent journaled but never sent): the restart adopts the fill, marks
  the intent never sent, agrees with the venue's position, then protects
  the position with a bracket and flattens it;
- a cancel slower than the trade that fills the order: a fill, and the
  cancel's late answer changes nothing;
- a venue that rejects every order: REJECTED orders and no position;
- an overflowed order ring: state unknown, orders refused;
- a trading process killed with SIGKILL at a random moment leaves a journal
  that opens, whose orders agree with their fills, and whose restart
  reports every difference with a venue that lost the session.
Sim* settings the binding has no method for (order latency, early
callbacks, injected rejections) go through the same loaded library."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import sim_client as sc
from profitdll_support import LOG_DAY, SIM_CREDENTIALS, TICKER, configure_sim, sim_connection

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.execution import ProfitDLLVenue
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import EventFlag, EventType, TradeType, empty_events
from quantumtrader.execution.config import BracketConfig
from quantumtrader.execution.engine import ExecutionEngine
from quantumtrader.execution.journal import Journal
from quantumtrader.execution.orders import Order, OrderPurpose, OrderRequest, OrderStatus, OrderType, Side
from quantumtrader.instruments import InstrumentSpec
from quantumtrader.qtcore.profitdll import ProfitDLL

T0 = 1_793_707_200_000_000_000  # 2026-11-03 09:00:00 -03:00
MS = 1_000_000
SPEC = InstrumentSpec(TICKER, "WDO", Decimal("0.5"), 1, Decimal(10), instrument_id=1)
ACCOUNT = (1, "SIM0001", "")
S = OrderStatus


def wdo_log(path: Path, trades: list[tuple[int, int, int, int]], until_ms: int = 30_000,
            depth: int = 10) -> Path:
    """A WDO day (price unit = tick = 0.5 point): open, limits 5000-6000,
    book 5499.5 x10 / 5500.5 x10, the given (ms, price, qty, trade type)
    trades, and a far level edited every second until ``until_ms`` so the
    replay (paced, pauses capped at 2 s) keeps the market open meanwhile."""
    rows = [dict(t=0, type=EventType.SESSION, ref=20261103), dict(t=0, type=EventType.PHASE, code=0),
            dict(t=0, type=EventType.DAILY_LIMITS, price=12000, ref=10000),
            dict(t=0, type=EventType.SNAPSHOT_BEGIN, side=2)]
    book = ((0, 10999, depth), (0, 10998, 20), (1, 11001, depth), (1, 11002, 20))
    rows += [dict(t=0, type=EventType.L2_LEVEL, side=s, price=p, qty=q, b=1) for s, p, q in book]
    rows.append(dict(t=0, type=EventType.SNAPSHOT_END, side=2, flags=EventFlag.LAST))
    beats = [dict(t=ms, type=EventType.L2_LEVEL, side=1, price=11030, qty=1 + ms // 1000 % 2, b=1,
                  flags=EventFlag.LAST) for ms in range(1000, until_ms, 1000)]
    deals = [dict(t=ms, type=EventType.TRADE, price=p, qty=q, code=c, ref=i + 1)
             for i, (ms, p, q, c) in enumerate(trades)]
    rows += sorted(beats + deals, key=lambda r: r["t"])  # stable: a beat before a trade of the same ms
    ev = empty_events(len(rows))
    for i, row in enumerate(rows):
        ev[i]["exch_ns"] = ev[i]["recv_ns"] = T0 + row["t"] * MS
        for k in ("type", "price", "qty", "code", "side", "ref", "b", "flags"):
            if k in row:
                ev[i][k] = row[k]
    ev["seq"] = np.arange(1, len(rows) + 1)
    with EventLogWriter(path, EventLogHeader("WDOFUT", 0.5, 0.5, agents=["XP"])) as w:
        w.append(ev)
    return path


SELL_AG, BUY_AG = TradeType.SELL_AGGRESSION, TradeType.BUY_AGGRESSION


class Session:
    """A routing session on a log, replayed in real time, and a pump that
    feeds the engine every order update while watching the market."""

    def __init__(self, log: Path, *, order_capacity: int = 1 << 14, early: float = 1.0,
                 state_file: Path | None = None) -> None:
        lib = sc.load()
        assert lib.SimSetOrderLatencyUs(5000) == 0 and lib.SimSetEarlyOrderCallback(early) == 0
        assert lib.SimRejectOrders(0, 0.0, None) == 0 and lib.SimSetOrderFees(-1.0) == 0
        self.lib = lib
        self.state_file = state_file
        if order_capacity == 1 << 14 and state_file is None:
            self.conn = sim_connection(log, routing=True)
        else:
            self.conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, routing=True,
                                         order_capacity=order_capacity,
                                         utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
            configure_sim(self.conn.dll, log)
            if state_file is not None:
                self.conn.dll.sim_set_state_file(str(state_file))
            self.conn.connect(10.0)
            self.conn.subscribe("WDO", date=LOG_DAY)
        self.venue = ProfitDLLVenue(self.conn.dll, ACCOUNT, SIM_CREDENTIALS.routing_password)
        self.trades_seen = 0
        self.phase_seen = False

    def start(self) -> None:
        self.conn.dll.sim_set_speed(1.0)
        self.conn.dll.sim_start_replay()
        self.pump(None, lambda: self.phase_seen, "the session to open")

    def pump(self, engine: ExecutionEngine | None, done: Callable[[], bool], what: str,
             timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            recs = self.conn.poll(0.01)
            self.trades_seen += int(np.count_nonzero(recs["type"] == EventType.TRADE))
            self.phase_seen |= bool(np.any(recs["type"] == EventType.PHASE))
            ups = self.conn.order_updates()
            if engine is not None:
                engine.on_order_updates(ups)
            if done():
                return
            assert time.monotonic() < deadline, f"timed out waiting for {what}"

    def close(self) -> None:  # the Sim* settings are process-wide: back to their defaults
        self.lib.SimRejectOrders(0, 0.0, None)
        self.lib.SimSetEarlyOrderCallback(0.0)
        self.lib.SimSetOrderLatencyUs(5000)
        self.conn.close()
        if self.state_file is not None:  # the setting is process-wide: later logins must not use it
            self.conn.dll.sim_set_state_file(None)


@pytest.fixture
def session_factory():
    made: list[Session] = []

    def make(log: Path, **kw) -> Session:
        made.append(Session(log, **kw))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_bracket_follows_partial_fills_oco_and_restart(tmp_path: Path, session_factory) -> None:
    log = wdo_log(tmp_path / "day.qtlog", [
        (2000, 11000, 2, SELL_AG),   # fills 2 of our 3 bought at 5500.0
        (4500, 11000, 1, SELL_AG),   # the last one
        (7000, 11010, 2, BUY_AG),    # take profit (5505.0) fills 2 of 3
        (9500, 11011, 1, BUY_AG),    # through the take profit: the last one at 5505.0
    ])  # 2.5 s between trades: the engine's reactions must land in between, on a busy machine too
    s = session_factory(log)
    journal = Journal(tmp_path / "journal.sqlite", session="2026-11-03")
    fills = []
    eng = ExecutionEngine(s.venue, journal, {TICKER: SPEC}, on_fill=fills.append,
                          brackets=BracketConfig(stop_loss_ticks=8, take_profit_ticks=10))
    s.start()
    entry = eng.submit(OrderRequest(TICKER, Side.BUY, 3, OrderType.LIMIT, OrderPurpose.ENTRY, 11000))
    assert entry is not None and entry.local_id > 0
    s.pump(eng, lambda: entry.status is S.NEW, "the entry's acknowledgement")
    assert entry.cl_ord_id and journal.orders()[0].cl_ord_id == entry.cl_ord_id

    s.pump(eng, lambda: entry.cum_qty == 2, "the first partial fill")
    legs = {o.purpose: o for o in eng.orders.values() if o.request.parent_id == entry.internal_id}
    tp, sl = legs[OrderPurpose.TAKE_PROFIT], legs[OrderPurpose.STOP_LOSS]
    assert (tp.side, tp.quantity, tp.price) == (Side.SELL, 2, 11010)
    assert (sl.side, sl.quantity, sl.stop_price, sl.price) == (Side.SELL, 2, 10992, 10988)
    s.pump(eng, lambda: tp.status is S.NEW and sl.status is S.NEW, "the legs' acknowledgements")
    assert s.trades_seen == 1  # the engine acted before the market moved on

    s.pump(eng, lambda: entry.status is S.FILLED, "the entry's last fill")
    s.pump(eng, lambda: tp.quantity == 3 and sl.quantity == 3, "the legs' resize to 3")
    s.pump(eng, lambda: tp.cum_qty == 2, "the take profit's first fill")
    s.pump(eng, lambda: sl.quantity == 1, "the stop loss shrinking to 1")
    s.pump(eng, lambda: tp.status is S.FILLED and sl.status is S.CANCELED, "the take profit's last fill")

    assert [(f.order_id, f.side, f.quantity, f.price) for f in fills] == [
        (entry.internal_id, Side.BUY, 2, 11000), (entry.internal_id, Side.BUY, 1, 11000),
        (tp.internal_id, Side.SELL, 2, 11010), (tp.internal_id, Side.SELL, 1, 11010)]
    assert journal.fills() == fills
    assert eng.position(TICKER) == 0 == s.venue.position(SPEC)
    at_venue = s.venue.order_details(0, sl.cl_ord_id)
    assert (at_venue.status, at_venue.quantity, at_venue.traded_quantity) == (S.CANCELED, 1, 0)
    assert at_venue.stop_price == 5496.0 and at_venue.price == 5494.0
    assert eng.counters["fills"] == 4 and not eng.state_unknown
    assert eng.counters.get("out_of_order", 0) == 0 and eng.counters.get("unknown_orders", 0) == 0

    # restart: the journal rebuilds the same orders and the venue agrees
    journal.close()
    again = Journal(tmp_path / "journal.sqlite", session="2026-11-03")
    eng2, rep = ExecutionEngine.recover(s.venue, again, {TICKER: SPEC})
    assert rep.ok and rep.differences == [] and rep.adopted_fills == 0, rep.summary()
    assert list(eng2.orders.values()) == list(eng.orders.values())
    assert again.fills() == fills and eng2.position(TICKER) == 0
    again.close()


def test_restart_adopts_missed_fills_and_drops_unsent_intent(tmp_path: Path, session_factory) -> None:
    log = wdo_log(tmp_path / "day.qtlog", [(1500, 11000, 1, SELL_AG)])
    s = session_factory(log)
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, session="2026-11-03")
    eng = ExecutionEngine(s.venue, journal, {TICKER: SPEC})
    s.start()
    entry = eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 11000))
    s.pump(eng, lambda: entry.status is S.NEW, "the entry's acknowledgement")
    # the next intent is journaled, and the process dies before SendOrder
    journal.record_intent(OrderRequest(TICKER, Side.SELL, 1, OrderType.LIMIT, OrderPurpose.EXIT, 11020), 0)
    journal.close()
    del eng
    # while nobody listens the entry fills; the order ring died with the process
    s.pump(None, lambda: s.trades_seen == 1, "the trade")
    s.pump(None, lambda: s.venue.order_details(0, entry.cl_ord_id).status is S.FILLED, "the venue's fill")
    s.conn.order_updates()

    fills = []
    journal = Journal(path, session="2026-11-03")
    eng, rep = ExecutionEngine.recover(s.venue, journal, {TICKER: SPEC}, on_fill=fills.append,
                                       brackets=BracketConfig(stop_loss_ticks=8, take_profit_ticks=10))
    assert rep.ok and rep.adopted_fills == 1, rep.summary()
    assert [(f.quantity, f.price) for f in fills] == [(1, 11000)]
    assert journal.fill_sources() == ["recovery"]
    intent = eng.orders[2]
    assert intent.status is S.REJECTED and intent.text == "never sent"
    if not hasattr(s.conn.dll, "enumerate_orders"):
        assert any("cannot list" in n for n in rep.notes)
    assert eng.position(TICKER) == 1 == s.venue.position(SPEC)
    # reconciled: the position gets its bracket, then is flattened
    legs = [o for o in eng.orders.values() if o.request.parent_id == entry.internal_id]
    assert sorted(o.purpose.value for o in legs) == ["stop_loss", "take_profit"]
    s.pump(eng, lambda: all(o.status is S.NEW for o in legs), "the legs' acknowledgements")
    flat = eng.flatten(TICKER, eng.position(TICKER), exch_ns=0)
    s.pump(eng, lambda: flat.status is S.FILLED and not eng.working_orders(), "the flatten")
    assert all(o.status is S.CANCELED for o in legs)
    assert flat.fills[0].price == 10999  # sold into the 5499.5 bid
    assert eng.position(TICKER) == 0 == s.venue.position(SPEC)
    journal.close()


def test_fill_after_cancel_request_at_the_venue(tmp_path: Path, session_factory) -> None:
    """The cancel travels 2 s (the venue's latency); the trade that fills the
    order comes first: a fill after the cancel request is a fill, and the
    cancel's late answer changes nothing."""
    s = session_factory(wdo_log(tmp_path / "day.qtlog", [(1500, 11000, 1, SELL_AG)], until_ms=8000))
    journal = Journal(tmp_path / "journal.sqlite", session="2026-11-03")
    fills = []
    eng = ExecutionEngine(s.venue, journal, {TICKER: SPEC}, on_fill=fills.append)
    s.start()
    o = eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 11000))
    s.pump(eng, lambda: o.status is S.NEW, "the acknowledgement")
    assert s.trades_seen == 0 and s.lib.SimSetOrderLatencyUs(2_000_000) == 0
    eng.cancel(o.internal_id)
    assert o.cancel_requested and o.working
    s.pump(eng, lambda: o.status is S.FILLED, "the fill")
    events_at_fill = len(journal.events(o.internal_id))
    s.pump(eng, lambda: len(journal.events(o.internal_id)) > events_at_fill, "the cancel's answer")
    assert o.status is S.FILLED and [(f.quantity, f.price) for f in fills] == [(1, 11000)]
    assert eng.counters.get("late_fills", 0) == 0 and eng.position(TICKER) == 1 == s.venue.position(SPEC)
    assert journal.actions(o.internal_id) == [("cancel", "sent")]
    journal.close()


def test_venue_rejecting_everything_leaves_no_position(tmp_path: Path, session_factory) -> None:
    s = session_factory(wdo_log(tmp_path / "day.qtlog", [(1500, 11000, 1, SELL_AG)], until_ms=5000))
    assert s.lib.SimRejectOrders(1000, 1.0, b"account blocked") == 0
    journal = Journal(tmp_path / "journal.sqlite", session="2026-11-03")
    eng = ExecutionEngine(s.venue, journal, {TICKER: SPEC}, brackets=BracketConfig())
    s.start()
    sent = [eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.MARKET, OrderPurpose.ENTRY)),
            eng.submit(OrderRequest(TICKER, Side.SELL, 2, OrderType.LIMIT, OrderPurpose.ENTRY, 11001))]
    s.pump(eng, lambda: all(o.status is S.REJECTED for o in sent), "the rejections")
    s.pump(None, lambda: s.trades_seen == 1, "the trade")
    eng.on_order_updates(s.conn.order_updates())
    assert all(o.status is S.REJECTED and o.cum_qty == 0 and o.local_id for o in sent)
    assert eng.position(TICKER) == 0 == s.venue.position(SPEC) and journal.fills() == []
    assert len(eng.orders) == 2  # no bracket without a fill
    assert [o.status for o in journal.orders()] == [S.REJECTED, S.REJECTED]
    journal.close()


def test_order_ring_overflow_stops_trading(tmp_path: Path, session_factory) -> None:
    s = session_factory(wdo_log(tmp_path / "day.qtlog", [], until_ms=5000), order_capacity=4)
    journal = Journal(tmp_path / "journal.sqlite", session="2026-11-03")
    eng = ExecutionEngine(s.venue, journal, {TICKER: SPEC})
    s.start()
    sent: list[Order] = []
    for price in (10990, 10991, 10992, 10993, 10994):  # nobody reads the ring meanwhile
        sent.append(eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, price)))
    assert s.conn.order_state_unknown
    arrived = s.conn.order_updates()
    assert 0 < len(arrived) <= 4
    eng.on_order_updates(arrived)
    if s.conn.order_state_unknown:  # what the runner does on the ring's flag
        eng.mark_state_unknown("order ring overflowed")
    assert eng.state_unknown
    assert eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 10990)) is None
    assert eng.denials["order_state_unknown"] == 1
    # the updates that did arrive were applied and journaled
    assert sent[0].acked_wall_ns is not None and sent[0].status in (S.PENDING_NEW, S.NEW)
    assert len(journal.events()) == len(arrived)
    # reconciled with the venue: every order's state is known again, trading resumes
    rep = eng.reconcile()
    assert rep.ok and rep.differences == [], rep.summary()
    assert not eng.state_unknown
    for o in sent:  # as the venue said then (it may have moved on since: the market is live)
        v = s.venue.order_details(o.local_id, o.cl_ord_id or "")
        assert o.last_event_id > 0 and o.status in (S.PENDING_NEW, S.NEW)
        assert (o.status, o.last_event_id) == (v.status, v.event_id) or v.event_id > o.last_event_id
    again = eng.submit(OrderRequest(TICKER, Side.BUY, 1, OrderType.LIMIT, OrderPurpose.ENTRY, 10990))
    assert again is not None and again.local_id
    journal.close()


def run_until(args: list[str], line: str, timeout: float = 30.0) -> subprocess.Popen:
    """Start a child process and wait for it to print ``line``."""
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + timeout
    while True:
        got = proc.stdout.readline()
        if not got:
            proc.wait(10)
            raise AssertionError(f"the trading process died: {proc.stderr.read()[-2000:]}")
        if got.strip() == line:
            return proc
        assert time.monotonic() < deadline, f"the trading process never said {line!r}"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL of a child process")
def test_kill_9_at_any_moment_leaves_a_consistent_journal(tmp_path: Path, session_factory) -> None:
    log = wdo_log(tmp_path / "deep.qtlog", [], until_ms=60_000, depth=1_000_000)
    path = tmp_path / "journal.sqlite"
    child = Path(sc.__file__).with_name("execution_child.py")
    proc = run_until([str(child), "trade", str(log), str(path)], "round trip 5")
    time.sleep(random.uniform(0.0, 0.05))  # somewhere in the middle of an order's life
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    journal = Journal(path, session="kill-test")
    orders, fills = journal.orders(), journal.fills()
    assert len(orders) >= 10 and len(journal.decisions()) >= len(orders)
    for o in orders:  # an order's state and its fills were committed together
        assert o.cum_qty == sum(f.quantity for f in fills if f.order_id == o.internal_id)
        assert o.status is S.PENDING_SUBMIT or o.local_id is not None
    assert sum(o.status is S.PENDING_SUBMIT for o in orders) <= 1
    position = journal.positions().get(TICKER, 0)
    assert position in (-1, 0, 1)

    # the venue died with the process (its session is gone): the restart must
    # not trade over what it cannot confirm
    s = session_factory(wdo_log(tmp_path / "day.qtlog", [], until_ms=5000))
    eng, rep = ExecutionEngine.recover(s.venue, journal, {TICKER: SPEC})
    unconfirmed = [o for o in orders if o.working and o.local_id is not None]
    assert rep.ok == (position == 0 and not unconfirmed), rep.summary()
    assert len(rep.differences) == len(unconfirmed) + (position != 0)
    assert all("unknown at the venue" in d or "venue position" in d for d in rep.differences)
    assert eng.state_unknown == (not rep.ok)
    journal.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL of a child process")
@pytest.mark.skipif(not hasattr(ProfitDLL, "sim_set_state_file"),
                    reason="needs the simulator's broker state file (SimSetStateFile, branch venue)")
def test_restart_reconciles_with_the_brokers_state(tmp_path: Path, session_factory) -> None:
    """kill -9 after a fill the process never saw, inside a SendOrder and
    between a journal write and its SendOrder; the broker (the simulator's
    state file) outlives it.  The restart adopts the fill, finds the order
    sent without a local id among the venue's open orders, drops the one
    never sent, agrees on the position, and trades on (flatten)."""
    log = wdo_log(tmp_path / "day.qtlog", [(1500, 11000, 1, SELL_AG)])
    path, state = tmp_path / "journal.sqlite", tmp_path / "broker.state"
    child = Path(sc.__file__).with_name("execution_child.py")
    proc = run_until([str(child), "broker", str(log), str(path), str(state)], "ready")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()

    s = session_factory(log, early=0.0, state_file=state)
    journal = Journal(path, session="broker-test")
    fills = []
    eng, rep = ExecutionEngine.recover(s.venue, journal, {TICKER: SPEC}, on_fill=fills.append)
    assert rep.ok and rep.differences == [] and rep.adopted_fills == 1, rep.summary()
    entry, sent, never = (eng.orders[i] for i in (1, 2, 3))
    assert entry.status is S.FILLED and [(f.quantity, f.price) for f in fills] == [(1, 11000)]
    assert sent.status is S.NEW and sent.local_id and sent.cl_ord_id
    assert s.venue.order_details(0, sent.cl_ord_id).price == 5510.0
    assert never.status is S.REJECTED and never.text == "never sent"
    assert eng.position(TICKER) == 1 == s.venue.position(SPEC) and not eng.state_unknown
    open_now = s.venue.open_orders()
    assert [v.cl_ord_id for v in open_now] == [sent.cl_ord_id]

    s.conn.dll.sim_set_speed(1.0)
    s.conn.dll.sim_start_replay()
    flat = eng.flatten(TICKER, eng.position(TICKER), exch_ns=0)
    s.pump(eng, lambda: flat.status is S.FILLED and sent.status is S.CANCELED, "the flatten")
    assert eng.position(TICKER) == 0 == s.venue.position(SPEC)
    assert eng.counters.get("unknown_orders", 0) == 0  # the restored session's updates found their orders
    journal.close()
