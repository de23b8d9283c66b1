"""The live pipeline end to end, through the real path, for two instruments
at once: a synthetic WDO log and a synthetic WIN log played in one session
by the simulator library (one ticker each, merged by exchange time) ->
ProfitDLL's callbacks -> the binding's C entry points -> the session's market
ring -> the pipeline's C loop (decoding, routing by instrument, one book and
one feature engine per instrument) -> the decision thread.

What each instrument's decision thread receives must equal, bit for bit and
row for row, the table the ``features`` command writes for that instrument's
own log: a routing mistake (a record given to the other instrument's engine,
or lost), a book record stamped with a time other than the log's, or a
dropped decision changes rows, timestamps or the 77 values.  And a stop
(what an orchestrator does on Ctrl-C) during a paced replay ends the loop and
its threads within a bounded time, with the session still closing cleanly;
a market-data drop reaches the orchestrator and resubscribes once."""

from __future__ import annotations

import dataclasses
import itertools
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from profitdll_support import LOG_DAY, SIM_CREDENTIALS, configure_sim

from quantumtrader.adapters.profitdll.connection import FeedStatus, ProfitConnection, Subscription
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.adapters.profitdll.simulator import set_replay_logs
from quantumtrader.cli import main as cli_main
from quantumtrader.data.events import GapReason, Phase
from quantumtrader.data.synth import write_synthetic_log
from quantumtrader.features.table import read_feature_table
from quantumtrader.qtcore import pipeline as qpl
from quantumtrader.runners import ControlEvent, ControlKind, LivePipeline

TICKERS = {"WDO": "WDOZ26", "WIN": "WINZ26"}  # the contracts current on LOG_DAY


@dataclasses.dataclass(frozen=True)
class BatchTable:
    """What ``quantumtrader features LOG --out TABLE`` wrote for one log."""

    ts: np.ndarray
    trade_number: np.ndarray
    matrix: np.ndarray
    names: tuple[str, ...]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One short synthetic session each, on the same day (they interleave)."""
    d = tmp_path_factory.mktemp("pipeline-sim")
    out = {"WDO": d / "wdo.qtlog", "WIN": d / "win.qtlog"}
    write_synthetic_log(out["WDO"], days=1, seed=41, signal=0.5, trades_per_day=800, levels=10)
    write_synthetic_log(out["WIN"], days=1, seed=42, signal=0.5, instrument="WINFUT", trades_per_day=800,
                        levels=10)
    return out


@pytest.fixture(scope="module")
def batch(logs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, BatchTable]:
    """Each log through the ``features`` command, as a training set is made."""
    d = tmp_path_factory.mktemp("pipeline-sim-features")
    out = {}
    for name, log in logs.items():
        table_path = d / f"{name}.parquet"
        assert cli_main(["features", os.fspath(log), "--out", os.fspath(table_path)]) == 0
        t = read_feature_table(table_path)
        assert t.matrix.shape[1] == 77
        out[name] = BatchTable(t.ts, t.trade_number, t.matrix, t.names)
    return out


def connect_two(logs: dict[str, Path], *, speed: float = 0.0
                ) -> tuple[ProfitConnection, dict[str, Subscription]]:
    """One simulator session serving both logs, WDO and WIN subscribed, the
    replay not started yet."""
    conn = ProfitConnection(simulator_path(), credentials=SIM_CREDENTIALS, market_capacity=1 << 20,
                            utc_offset_min=-180)
    try:
        configure_sim(conn.dll, logs["WDO"], speed=speed)
        set_replay_logs(conn.dll, [(logs["WDO"], TICKERS["WDO"]), (logs["WIN"], TICKERS["WIN"])])
        conn.connect(10.0)
        subs = {name: conn.subscribe(name, date=LOG_DAY) for name in TICKERS}
    except BaseException:
        conn.close()
        raise
    assert {n: s.ticker for n, s in subs.items()} == TICKERS
    return conn, subs


@dataclasses.dataclass
class Received:
    """What the pipeline's consumer threads were given."""

    decisions: list[np.ndarray] = dataclasses.field(default_factory=list)
    woken_ns: list[np.ndarray] = dataclasses.field(default_factory=list)
    controls: list[ControlEvent] = dataclasses.field(default_factory=list)
    decision_threads: set[str] = dataclasses.field(default_factory=set)
    control_threads: set[str] = dataclasses.field(default_factory=set)
    first_decision: threading.Event = dataclasses.field(default_factory=threading.Event)

    def on_decision(self, recs: np.ndarray, woken_ns: int) -> None:
        self.decision_threads.add(threading.current_thread().name)
        self.decisions.append(recs.copy())  # the array is only valid during the call
        self.woken_ns.append(np.full(len(recs), woken_ns, dtype=np.int64))
        self.first_decision.set()

    def on_control(self, event: ControlEvent) -> None:
        self.control_threads.add(threading.current_thread().name)
        self.controls.append(event)

    def all_decisions(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.decisions), np.concatenate(self.woken_ns)


def test_two_instruments_through_the_simulator_equal_the_features_of_their_logs(
    logs: dict[str, Path], batch: dict[str, BatchTable]
) -> None:
    got = Received()
    conn, subs = connect_two(logs)
    try:
        pipe = LivePipeline.from_connection(conn, on_decision=got.on_decision, on_control=got.on_control)
        assert {i.name for i in pipe.instruments.values()} == set(TICKERS.values())
        ring = conn.market_ring
        assert ring is not None
        pipe.start()  # takes the ring over: from here on only the loop reads it
        t0 = time.monotonic()
        conn.dll.sim_start_replay()
        assert conn.dll.sim_wait_replay_done(30.0), "the replay did not finish"
        # every callback has returned: the end of the stream; the loop drains
        # what is left and ends by itself (status "closed"), as it does at the
        # end of a recording
        ring.close()
        assert pipe.wait(30.0), "the pipeline did not drain the ring"
        seconds = time.monotonic() - t0
        sim = conn.dll.sim_counters()
        feed = conn.counters
        status = conn.feed_status
    finally:
        conn.close()
    c = pipe.counters
    assert pipe.final_status == "closed" and pipe.errors == [] and c["callback_errors"] == 0
    assert not pipe.running
    recs, woken = got.all_decisions()

    # nothing lost on the way: the ring, the decoder, the router, the decision ring
    assert feed["ring_dropped"] == 0 and feed["records_dropped"] == 0 and feed["invalid"] == 0
    assert feed["unknown_instrument"] == 0  # the callbacks knew both tickers
    assert c["unknown_records"] == 0 and c["last_unknown"] is None  # the loop too
    assert c["missing_ext"] == c["orphan_ext"] == c["bad_dates"] == 0
    assert c["decisions_dropped"] == 0 and c["filtered"] == 0 and c["gaps"] == 0
    assert c["rows"] == c["decisions"] == len(recs) == sim["trades_delivered"]
    assert np.array_equal(recs["decision_seq"], np.arange(1, len(recs) + 1))

    # the two instruments interleave in the one stream (the test is about routing)
    ids = {name: sub.instrument_id for name, sub in subs.items()}
    assert set(np.unique(recs["instrument"]).tolist()) == set(ids.values())
    assert np.count_nonzero(np.diff(recs["instrument"].astype(np.int32))) > 100

    rows = {}
    for name, iid in ids.items():
        want = batch[name]
        mine = recs[recs["instrument"] == iid]
        rows[name] = len(mine)
        # every row of the log's table, no more, in order
        assert len(mine) == len(want.trade_number) > 500, name
        assert np.array_equal(mine["row"], np.arange(1, len(mine) + 1)), name
        assert np.array_equal(mine["trade_number"], want.trade_number), name
        assert np.array_equal(mine["exch_ns"], want.ts), name
        live = mine["features"]
        assert live.shape == want.matrix.shape == (len(mine), 77)
        # NaN where the table has NaN, then every value bit for bit; a failure names the features
        nan_differs = [f for j, f in enumerate(want.names)
                       if not np.array_equal(np.isnan(live[:, j]), np.isnan(want.matrix[:, j]))]
        assert nan_differs == [], f"{name}: NaN positions differ"
        bits_differ = [f for j, f in enumerate(want.names)
                       if not np.array_equal(live[:, j].view(np.uint64), want.matrix[:, j].view(np.uint64))]
        assert bits_differ == [], f"{name}: values differ"
        # the book features are defined (a wrongly stamped or routed book would not hide in NaNs)
        assert np.isfinite(want.matrix[:, 73:77]).mean() > 0.8, name
        ic = c["instrument"][iid]
        assert ic["rows"] == ic["decisions"] == len(mine) and not ic["book_suspect"]
        assert ic["engine"]["book_rejected"] == 0 and ic["engine"]["book_untimed"] == 0
    assert c["routed"] == sum(c["instrument"][i]["records"] for i in ids.values())

    # stage timestamps: callback entry -> taken -> decoded -> features -> decided -> decision thread
    stages = [recs["recv_ns"], recs["taken_ns"], recs["decoded_ns"], recs["features_ns"], recs["decided_ns"],
              woken]
    assert (stages[0] > 0).all()
    for before, after in itertools.pairwise(stages):
        assert (before <= after).all()

    # decisions on the decision thread, connection states on the control thread (and
    # through the connection's state machine, which stays live)
    assert got.decision_threads == {"qt-pipeline-decisions"}
    assert got.control_threads == {"qt-pipeline-controls"}
    states = [(e.conn_type, e.result) for e in got.controls if e.kind is ControlKind.CONNECTION]
    assert (2, 4) in states and (0, 0) in states  # market data connected, logged in
    assert all(e.instrument == qpl.ALL_INSTRUMENTS for e in got.controls if e.kind is ControlKind.CONNECTION)
    # each ticker's phases (pre-opening, open, closed) reach the orchestrator under its own id
    for iid in ids.values():
        phases = [e.phase for e in got.controls if e.kind is ControlKind.PHASE and e.instrument == iid]
        assert phases == [Phase.PRE_OPENING, Phase.OPEN, Phase.CLOSED], iid
    assert c["controls"] == len(got.controls) and c["controls_dropped"] == 0
    # the states read while logging in ran through the loop first (in order, before the
    # replay's records) without the state machine taking them for a drop and a return
    assert status is FeedStatus.LIVE and feed["reconnections"] == 0 and feed["gaps"] == 0

    print(f"\nlive pipeline through the simulator: WDO {rows['WDO']} rows, WIN {rows['WIN']} rows, "
          f"{c['records']} ring records, {len(got.controls)} control events, {seconds:.2f} s")


@pytest.mark.parametrize("how", ["stop", "ctrl-c"])
def test_stop_during_a_paced_replay_ends_the_loop_and_its_threads(logs: dict[str, Path], how: str) -> None:
    """At replay speed 1 the session lasts hours: the orchestrator stops the
    pipeline (directly, or from its Ctrl-C handler) and everything ends
    within a bounded time; the session then closes without hanging."""
    got = Received()
    conn, _subs = connect_two(logs, speed=1.0)
    try:
        pipe = LivePipeline.from_connection(conn, on_decision=got.on_decision, on_control=got.on_control)
        before = set(threading.enumerate())
        pipe.start()
        mine = [t for t in threading.enumerate() if t not in before]
        assert sorted(t.name for t in mine) == ["qt-pipeline-controls", "qt-pipeline-decisions",
                                                "qt-pipeline-loop"]
        conn.dll.sim_start_replay()
        assert got.first_decision.wait(30.0), "no decision arrived"
        if how == "stop":
            t0 = time.monotonic()
            counters = pipe.stop(timeout=5.0)
        else:
            counters, t0 = interrupted_run(pipe)
        stop_s = time.monotonic() - t0
        assert not conn.dll.sim_counters()["replay_done"]  # it was stopped mid-session
        alive = [t.name for t in mine if t.is_alive()]
        t1 = time.monotonic()
    finally:
        conn.close()  # DLLFinalize while the replay is pacing
    close_s = time.monotonic() - t1
    assert pipe.final_status == "stopped" and not pipe.running
    assert alive == []  # loop, decision and control threads all ended
    assert stop_s < 2.0, f"stop took {stop_s:.2f} s"
    assert close_s < 5.0, f"closing the session took {close_s:.2f} s"
    assert counters["decisions"] >= 1 and pipe.errors == [] and counters["callback_errors"] == 0
    recs, _ = got.all_decisions()
    assert len(recs) == counters["decisions"]  # what was posted before the stop was delivered
    assert conn.feed_status is FeedStatus.CLOSED
    print(f"\n{how}: {len(recs)} decisions before it, loop and threads ended in {stop_s * 1e3:.0f} ms, "
          f"session closed in {close_s * 1e3:.0f} ms")


def interrupted_run(pipe: LivePipeline) -> tuple[dict, float]:
    """An orchestrator's main loop waiting on the pipeline, interrupted by a
    real SIGINT (Ctrl-C), whose handler stops the pipeline.  Returns the
    counters and when the interrupt was raised."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    kill = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    try:
        kill.start()
        try:
            deadline = time.monotonic() + 30.0
            while not pipe.wait(0.05):
                assert time.monotonic() < deadline, "no Ctrl-C arrived"
            raise AssertionError("the pipeline ended before Ctrl-C")
        except KeyboardInterrupt:
            t0 = time.monotonic()
            return pipe.stop(timeout=5.0), t0
    finally:
        kill.cancel()
        kill.join()
        signal.signal(signal.SIGINT, previous)


def test_a_market_data_drop_reaches_the_orchestrator_and_resubscribes_once(logs: dict[str, Path]) -> None:
    """The simulator drops the market data mid-replay: the loop hands the
    states and the gap to the control thread, the connection's state machine
    (fed by that thread) subscribes both instruments again, once, and the
    fresh full books clear the suspect books."""
    got = Received()
    conn, _subs = connect_two(logs)
    try:
        conn.dll.sim_set_callback_delay_us(20)  # slow enough for the drop to land mid-replay
        pipe = LivePipeline.from_connection(conn, on_decision=got.on_decision, on_control=got.on_control)
        pipe.start()
        conn.dll.sim_start_replay()
        conn.dll.sim_drop_market_data(600_000)  # ten minutes of the session lost
        conn.dll.sim_set_callback_delay_us(0)
        assert conn.dll.sim_wait_replay_done(60.0), "the replay did not finish"
        sim = conn.dll.sim_counters()
        ring = conn.market_ring
        assert ring is not None
        ring.close()
        assert pipe.wait(30.0)
        status, reconnections, gaps = conn.feed_status, conn.reconnections, list(conn.gaps)
    finally:
        conn.close()
    c = pipe.counters
    assert sim["drops"] == 1 and sim["records_lost_in_drops"] > 0
    assert status is FeedStatus.LIVE and reconnections == 1
    assert [g.reason for g in gaps] == [GapReason.DISCONNECT]
    after_login = [e for e in got.controls if e.kind is not ControlKind.PHASE][5:]
    assert [(e.kind, e.result) for e in after_login] == [
        (ControlKind.CONNECTION, 0), (ControlKind.FEED_GAP, None), (ControlKind.CONNECTION, 1),
        (ControlKind.CONNECTION, 4)]
    assert after_login[1].gap_reason is GapReason.DISCONNECT
    assert got.control_threads == {"qt-pipeline-controls"} and pipe.errors == []
    # every trade the client was given is a decision; none taken before the gap is suspect
    recs, _ = got.all_decisions()
    assert c["rows"] == len(recs) == sim["trades_delivered"] and c["gaps"] == 1
    before_gap = recs["seq"] < after_login[1].seq
    assert not (recs["flags"][before_gap] & qpl.D_BOOK_SUSPECT).any()
    assert not any(c["instrument"][i]["book_suspect"] for i in c["instrument"])
