"""Lockstep backtests through the real path: the ProfitDLL simulator library
replaying a synthetic WDO day at full speed -> the binding's C callbacks ->
the market ring -> the pipeline, run by the DLL's own thread (the lockstep
gate installed as the feed's consumer) -> the decision thread, which may
send orders -> the order callbacks -> the order ring -> the order thread.

- While Python decides (slowly), the replay stands still: at each decision
  the binding has entered exactly as many trade callbacks as the log has
  trades up to the one decided on; without the gate (threaded mode) the
  replay runs ahead, and the decisions themselves are the same.
- Two runs whose decisions send an order each give the same order updates,
  fills included, field by field (only the wall-clock receive time and the
  session-unique ClOrdID differ).
- release() during a wait ends it at once; a consumer that never answers
  releases the gate after the timeout; the DLL's thread never hangs.
- The order thread works in threaded mode too."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from profitdll_support import SIM_CREDENTIALS, TICKER, log_expectations, sim_connection

from quantumtrader.adapters.profitdll.connection import ProfitConnection
from quantumtrader.adapters.profitdll.order_updates import ORDER_UPDATE_DTYPE
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.execution.orders import OrderStatus
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.pipeline import Lockstep, Pipeline
from quantumtrader.qtcore.ring import Ring
from quantumtrader.runners import LivePipeline, PipelineInstrument

FILLED = int(OrderStatus.FILLED)


class Account:
    broker_id = 1
    account_id = "SIM0001"
    sub_account_id = ""


@pytest.fixture(scope="module")
def synth_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lockstep") / "wdo.qtlog"
    write_synthetic_log(path, days=1, seed=5, signal=0.3, trades_per_day=100, levels=10)
    return path


@pytest.fixture(scope="module")
def trade_index(synth_log: Path) -> dict[int, int]:
    """Trade number -> its position among the log's trades (0-based)."""
    numbers = log_expectations(synth_log)["trades"]["ref"].tolist()
    assert len(set(numbers)) == len(numbers)
    return {int(n): i for i, n in enumerate(numbers)}


@pytest.fixture
def session():
    """Simulator sessions of one test, one at a time (one per process): a new
    one ends the previous; whatever happens, a pipeline stops (its gate
    leaves the feed) before its connection closes."""
    made: list[tuple[ProfitConnection, list[LivePipeline]]] = []

    def end_all() -> None:
        while made:
            conn, pipes = made.pop()
            try:
                for p in pipes:
                    p.stop()
            finally:
                conn.close()

    def make(log: Path, *, routing: bool = False) -> tuple[ProfitConnection, list[LivePipeline]]:
        end_all()
        conn = sim_connection(log, routing=routing)
        made.append((conn, []))
        return made[-1]

    yield make
    end_all()
    assert profitdll.installed_consumer() is None


def replay(conn: ProfitConnection, pipe: LivePipeline, **start: object) -> dict:
    """Start the pipeline and the replay, wait for the replay's end, stop."""
    pipe.start(**start)
    conn.dll.sim_start_replay()
    assert conn.dll.sim_wait_replay_done(60.0), "the replay did not finish"
    return pipe.stop()


class SlowDecisions:
    """Sleeps at each decision and notes where the replay is meanwhile."""

    def __init__(self, sleep_s: float) -> None:
        self.sleep_s = sleep_s
        self.seen: list[tuple[int, int, int]] = []  # trade number, trade callbacks entered before, after
        self.recs: list[np.ndarray] = []

    def __call__(self, recs: np.ndarray, woken_ns: int) -> None:
        before = profitdll.feed_counters()["calls"]["trade_v2"]
        time.sleep(self.sleep_s)
        after = profitdll.feed_counters()["calls"]["trade_v2"]
        self.recs.append(recs.copy())
        for r in recs:
            self.seen.append((int(r["trade_number"]), before, after))


def test_the_replay_waits_while_python_decides(synth_log: Path, trade_index: dict[int, int], session) -> None:
    conn, pipes = session(synth_log)
    slow = SlowDecisions(0.02)
    pipe = LivePipeline.from_connection(conn, on_decision=slow)
    pipes.append(pipe)
    c = replay(conn, pipe, lockstep=True)
    assert pipe.final_status == "stopped" and pipe.errors == [] and c["callback_errors"] == 0
    assert len(slow.seen) == c["decisions"] > 20 and c["decisions_dropped"] == 0
    for number, before, after in slow.seen:
        # the DLL's thread is inside this very trade's callback, and stays there
        assert before == after == trade_index[number] + 1, (number, before, after)
    ls = c["lockstep"]
    assert ls["state"] == "released" and ls["timeouts"] == 0 and ls["closed"]  # released by stop()
    assert ls["decisions_acked"] == ls["decisions_posted"] == c["decisions"]
    assert ls["decision_waits"] > 0 and ls["wait_ns"] > 0
    # every record taken, inline (the connection read the few before the start)
    assert ls["records"] == c["records"] and conn.market_ring.popped == conn.market_ring.pushed
    assert profitdll.installed_consumer() is None and not pipe.running

    # the same day threaded: the replay runs ahead of the slow decisions,
    # which are the same decisions all the same
    conn2, pipes2 = session(synth_log)
    slow2 = SlowDecisions(0.02)
    pipe2 = LivePipeline.from_connection(conn2, on_decision=slow2)
    pipes2.append(pipe2)
    pipe2.start()
    conn2.dll.sim_start_replay()
    assert conn2.dll.sim_wait_replay_done(60.0)
    conn2.market_ring.close()
    assert pipe2.wait(60.0) and pipe2.final_status == "closed"
    assert "lockstep" not in pipe2.counters
    ahead = max(before - (trade_index[n] + 1) for n, before, _ in slow2.seen)
    assert ahead > 0  # at a 20 ms decision the full-speed replay of this day is long over
    a, b = np.concatenate(slow.recs), np.concatenate(slow2.recs)
    for f in ("decision_seq", "trade_number", "exch_ns", "price", "qty", "features"):
        np.testing.assert_array_equal(a[f], b[f], err_msg=f)


class OrderEveryDecision:
    """A market order at each decision, alternating sides; the updates kept."""

    def __init__(self, conn: ProfitConnection) -> None:
        self.conn = conn
        self.sent: list[int] = []
        self.updates: list[np.ndarray] = []
        self.order_threads: set[str] = set()

    def on_decision(self, recs: np.ndarray, woken_ns: int) -> None:
        for _ in recs:
            side = profitdll.SIDE_BUY if len(self.sent) % 2 == 0 else profitdll.SIDE_SELL
            self.sent.append(self.conn.dll.send_order(Account, TICKER, "F", side, profitdll.ORDER_MARKET,
                                                      -1.0, -1.0, 1, SIM_CREDENTIALS.routing_password))

    def on_orders(self, recs: np.ndarray) -> None:
        assert recs.dtype == ORDER_UPDATE_DTYPE
        self.order_threads.add(threading.current_thread().name)
        self.updates.append(recs.copy())

    def all_updates(self) -> np.ndarray:
        return np.concatenate(self.updates)

    def all_final(self) -> bool:
        done = {int(u["local_id"]) for batch in list(self.updates) for u in batch
                if OrderStatus(int(u["status"])).terminal}
        return done >= set(self.sent)


def orders_run(log: Path, session, *, lockstep: bool) -> tuple[OrderEveryDecision, dict]:
    conn, pipes = session(log, routing=True)
    trader = OrderEveryDecision(conn)
    pipe = LivePipeline.from_connection(conn, on_decision=trader.on_decision, on_orders=trader.on_orders)
    pipes.append(pipe)
    pipe.start(lockstep=lockstep)
    conn.dll.sim_start_replay()
    assert conn.dll.sim_wait_replay_done(60.0)
    deadline = time.monotonic() + 10
    if not lockstep:  # the loop and the decision thread may still be catching up
        ring = conn.market_ring
        while ring.popped < ring.pushed or len(trader.sent) < pipe.counters["decisions"]:
            assert time.monotonic() < deadline, "the threaded pipeline did not catch up"
            time.sleep(0.01)
    # what the market's end did to working orders is told after the replay's
    # end: every order's last word first, then stop
    while not trader.all_final():
        assert time.monotonic() < deadline, "orders without a final update"
        time.sleep(0.01)
    c = pipe.stop()
    assert pipe.errors == [] and c["callback_errors"] == 0
    assert trader.order_threads == {"qt-pipeline-orders"}
    assert c["order_updates"] == len(trader.all_updates()) == conn.order_ring.popped
    assert not conn.order_state_unknown
    return trader, c


def test_two_lockstep_runs_give_the_same_orders_and_fills(synth_log: Path, session) -> None:
    runs = [orders_run(synth_log, session, lockstep=True) for _ in range(2)]
    (t1, c1), (t2, c2) = runs
    assert len(t1.sent) == c1["decisions"] > 20
    u1, u2 = t1.all_updates(), t2.all_updates()
    statuses = u1["status"].tolist()
    assert statuses.count(FILLED) >= len(t1.sent) // 2  # most orders filled: a day of real fills
    final = {int(u["local_id"]): int(u["status"]) for u in u1}
    assert set(final) == set(t1.sent)
    assert len(u1) == len(u2)
    for f in ORDER_UPDATE_DTYPE.names:
        if f in ("recv_ns", "cl_ord_id", "_pad"):  # wall clock; unique per session
            continue
        np.testing.assert_array_equal(u1[f], u2[f], err_msg=f)
    for c in (c1, c2):
        ls = c["lockstep"]
        assert ls["timeouts"] == 0 and ls["orders_acked"] == ls["orders_pushed"] == len(u1)
        assert ls["order_waits"] > 0

    # threaded: the order thread hands over the same kind of updates
    t3, c3 = orders_run(synth_log, session, lockstep=False)
    final3 = {int(u["local_id"]): int(u["status"]) for u in t3.all_updates()}
    assert set(final3) == set(t3.sent) and len(t3.sent) == c3["decisions"] == c1["decisions"]


class Blocking:
    """Blocks the decision thread at the first decision until let go."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.go = threading.Event()

    def __call__(self, recs: np.ndarray, woken_ns: int) -> None:
        if not self.arrived.is_set():
            self.arrived.set()
            self.go.wait(60)


def test_release_during_a_wait_ends_it(synth_log: Path, session) -> None:
    conn, pipes = session(synth_log)
    blocking = Blocking()
    pipe = LivePipeline.from_connection(conn, on_decision=blocking)
    pipes.append(pipe)
    try:
        pipe.start(lockstep=True, lockstep_timeout_s=60.0)
        conn.dll.sim_start_replay()
        assert blocking.arrived.wait(30)
        held = profitdll.feed_counters()["calls"]["trade_v2"]
        time.sleep(0.1)
        assert profitdll.feed_counters()["calls"]["trade_v2"] == held  # the replay is held
        assert pipe.lockstep is not None
        pipe.lockstep.release()
        # the replay runs to its end while the decision is still being made
        assert conn.dll.sim_wait_replay_done(30.0)
        assert blocking.go.is_set() is False
    finally:
        blocking.go.set()
    c = pipe.stop()
    ls = c["lockstep"]
    assert ls["state"] == "released" and ls["timeouts"] == 0 and ls["decision_waits"] == 1
    assert ls["records"] == c["records"] and conn.market_ring.popped == conn.market_ring.pushed


def test_a_consumer_that_never_answers_times_out(synth_log: Path, session,
                                                caplog: pytest.LogCaptureFixture) -> None:
    conn, pipes = session(synth_log)
    blocking = Blocking()
    pipe = LivePipeline.from_connection(conn, on_decision=blocking)
    pipes.append(pipe)
    try:
        pipe.start(lockstep=True, lockstep_timeout_s=0.3)
        conn.dll.sim_start_replay()
        # the decision thread stays blocked; the replay ends anyway
        assert conn.dll.sim_wait_replay_done(30.0)
        assert pipe.lockstep is not None and pipe.lockstep.state == "timed_out"
    finally:
        blocking.go.set()
    with caplog.at_level(logging.WARNING):
        c = pipe.stop()
    ls = c["lockstep"]
    assert ls["timeouts"] == 1 and ls["decision_waits"] == 1 and ls["max_wait_ns"] >= 300_000_000
    assert "lockstep released after a wait longer than 0.3 s" in caplog.text


def test_wait_ends_a_lockstep_run_when_the_ring_is_closed(synth_log: Path, session) -> None:
    conn, pipes = session(synth_log)
    got: list[np.ndarray] = []
    pipe = LivePipeline.from_connection(conn, on_decision=lambda r, w: got.append(r.copy()))
    pipes.append(pipe)
    pipe.start(lockstep=True)
    assert not pipe.wait(0.05)  # the ring is open: still running
    conn.dll.sim_start_replay()
    assert conn.dll.sim_wait_replay_done(60.0)
    conn.market_ring.close()
    assert pipe.wait(30.0) and pipe.final_status == "closed" and not pipe.running
    assert sum(len(g) for g in got) == pipe.counters["decisions"] > 20
    assert profitdll.installed_consumer() is None


def test_lockstep_refusals() -> None:
    pipe = Pipeline()
    market, orders = Ring(1 << 10), Ring(1 << 6, 256, lossless=True)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout_s"):
            Lockstep(pipe, market, timeout_s=bad)
    with pytest.raises(ValueError, match="256-byte order updates"):
        Lockstep(pipe, market, market)
    with pytest.raises(ValueError, match="64-byte events"):
        Lockstep(pipe, orders)
    gate = Lockstep(pipe, market, orders, timeout_s=1.0)
    assert gate.state == "engaged" and gate.counters["inline_runs"] == 0
    with pytest.raises(RuntimeError, match="running"):
        pipe.run(market, timeout_s=0.0)
    with pytest.raises(RuntimeError, match="running"):
        Lockstep(pipe, market)
    gate.close()
    assert gate.state == "released" and gate.counters["closed"]
    assert pipe.run(market, timeout_s=0.0) == (0, 3)  # its owner's again: idle
    with pytest.raises(TypeError, match="qt_profitdll_consumer"):
        profitdll.set_consumer(object())

    inst = [PipelineInstrument(1, "WDOZ26", 0.5, 0.5, session_open="09:00", session_close="18:30")]
    live = LivePipeline(inst, on_decision=lambda r, w: None, on_orders=lambda r: None)
    with pytest.raises(ValueError, match="on_orders needs an order ring"):
        live.start(market)
    other = Lockstep(Pipeline(), Ring(1 << 10))
    profitdll.set_consumer(other.capsule())
    try:
        with pytest.raises(RuntimeError, match="already installed"):
            LivePipeline(inst).start(Ring(1 << 10), lockstep=True)
    finally:
        other.release()
        profitdll.set_consumer(None)
    assert profitdll.installed_consumer() is None
