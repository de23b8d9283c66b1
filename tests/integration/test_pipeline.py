"""The live pipeline behind the binding's real C callback entry points.

Two instruments (and a third the pipeline has no engine for) are driven
through ``qt_profitdll_on_trade`` / ``on_price_book`` / ``on_state`` /
``on_ticker_state`` from a thread, as the DLL would call them, into one
market ring.  The same session played into a second ring and read back with
the binding's MarketReader gives each instrument's own decoded record
stream; the batch features of that stream (FeatureEngine.run, the
``features`` command's path) must equal the pipeline's live vectors bit for
bit."""

from __future__ import annotations

import ctypes as C
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from quantumtrader.data.events import EVENT_DTYPE, EventType, GapReason, Phase
from quantumtrader.features.engine_setup import SessionSetupError, build_engine
from quantumtrader.qtcore import pipeline as qpl
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.ring import Ring
from quantumtrader.runners import ControlEvent, ControlKind, LivePipeline, PipelineInstrument


class TAssetID(C.Structure):
    _pack_ = 1  # Delphi packed record: 20 bytes
    _fields_ = [("ticker", C.c_void_p), ("exchange", C.c_void_p), ("feed", C.c_int32)]


TRADE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_uint32, C.c_double, C.c_double, C.c_int32, C.c_int32,
                    C.c_int32, C.c_int32, C.c_uint16)
PRICE_BOOK = C.CFUNCTYPE(None, TAssetID, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_double,
                         C.c_void_p, C.c_void_p)
TICKER_STATE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_int32)
STATE = C.CFUNCTYPE(None, C.c_int32, C.c_int32)

WDO, WIN, OTHER = 1, 2, 9
INSTRUMENTS = [PipelineInstrument(WDO, "WDOZ26", 0.5, 0.5), PipelineInstrument(WIN, "WINZ26", 5.0, 5.0)]
TRADES = 1500
OTHER_EVERY = 50
ADD, EDIT = 0, 1


def wide(s: str) -> C.Array:
    return C.create_string_buffer((s + "\0").encode("utf-16-le"))


class DLLThread:
    """Calls the entry points as the DLL's thread would, with a fixed seed:
    the same session every time it is played."""

    def __init__(self) -> None:
        self.on_trade = TRADE(profitdll.callback_address("trade"))
        self.on_book = PRICE_BOOK(profitdll.callback_address("price_book"))
        self.on_phase = TICKER_STATE(profitdll.callback_address("ticker_state"))
        self.on_state = STATE(profitdll.callback_address("state"))
        self._keep = [wide("F")]
        self.assets = {}
        for iid, ticker in ((WDO, "WDOZ26"), (WIN, "WINZ26"), (OTHER, "PETR4")):
            t = wide(ticker)
            self._keep.append(t)
            self.assets[iid] = TAssetID(C.addressof(t), C.addressof(self._keep[0]), 0)
        self.trades = {WDO: 0, WIN: 0, OTHER: 0}

    def _book(self, iid: int, bid: float, tick: float) -> None:
        a = self.assets[iid]
        for k in range(5, 0, -1):  # worst first, each add the new best (position 0)
            self.on_book(a, ADD, 0, 0, 10 * k, k, bid - (k - 1) * tick, None, None)
            self.on_book(a, ADD, 0, 1, 10 * k, k, bid + k * tick, None, None)

    def session(self) -> None:
        rng = np.random.default_rng(11)
        self.trades = {WDO: 0, WIN: 0, OTHER: 0}
        touch = {WDO: (5000.0, 0.5), WIN: (130000.0, 5.0)}
        self.on_state(2, 4)
        self.on_phase(self.assets[WDO], C.addressof(date := wide("03/11/2026 09:00:00.000")), Phase.OPEN)
        for iid, (bid, tick) in touch.items():
            self._book(iid, bid, tick)
        for t in range(TRADES):
            iid = WIN if rng.random() < 0.4 else WDO
            bid, tick = touch[iid]
            for _ in range(int(rng.integers(1, 7))):
                self.on_book(self.assets[iid], EDIT, int(rng.integers(0, 5)), int(rng.integers(0, 2)),
                             int(rng.integers(1, 80)), 1, 0.0, None, None)
            ms = 3_600_000 + t * 211
            date = wide(f"03/11/2026 {9 + ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:"
                        f"{ms // 1000 % 60:02d}.{ms % 1000:03d}")
            buy = bool(rng.integers(0, 2))
            self.on_trade(self.assets[iid], C.addressof(date), 5000 + t, bid + tick if buy else bid, 0.0,
                          int(rng.integers(1, 30)), int(rng.integers(0, 9)), int(rng.integers(0, 9)),
                          2 if buy else 3, 0)
            self.trades[iid] += 1
            if t % OTHER_EVERY == 0:
                self.on_trade(self.assets[OTHER], C.addressof(date), t, 30.25, 0.0, 100, 1, 2, 2, 0)
                self.trades[OTHER] += 1
            if t == TRADES // 2:  # the market-data link drops and comes back
                self.on_state(2, 1)
                self.on_state(2, 4)
        self.on_phase(self.assets[WIN], C.addressof(date := wide("03/11/2026 18:00:00.000")), Phase.CLOSED)

    def play(self, ring: Ring) -> None:
        """The session into ``ring`` from a thread (the feed reset first:
        the same sequence numbers every time)."""
        profitdll.detach_rings()
        profitdll.feed_reset()
        profitdll.set_utc_offset(-180)
        profitdll.register_instrument("WDOZ26", WDO, 0.5)
        profitdll.register_instrument("WINZ26", WIN, 5.0)
        profitdll.register_instrument("PETR4", OTHER, 0.01)
        profitdll.attach_rings(ring)
        t = threading.Thread(target=self.session, name="dll")
        t.start()
        t.join()
        profitdll.detach_rings()


@pytest.fixture
def dll():
    d = DLLThread()
    yield d
    profitdll.detach_rings()
    profitdll.feed_reset()


def batch_features(dll: DLLThread) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each instrument's decoded records, alone, through its own engine (the batch path)."""
    ring = Ring(1 << 16)
    dll.play(ring)
    reader = profitdll.MarketReader(ring, utc_offset_min=-180)
    parts = []
    while len(recs := reader.read()):
        parts.append(recs)
    parts.append(reader.flush())
    events = np.concatenate(parts)
    assert ring.dropped == 0 and reader.counters["missing_ext"] == 0
    out = {}
    for inst in INSTRUMENTS:
        engine, _ = build_engine(inst.name, inst.price_unit, inst.tick_size)
        mine = events[events["instrument"] == inst.instrument_id]
        ts, number, matrix = engine.run(mine)
        assert engine.counters["book_rejected"] == 0  # the positional book actions made sense
        assert len(matrix) == dll.trades[inst.instrument_id]
        out[inst.instrument_id] = (ts, number, matrix)
    return out


@dataclasses.dataclass
class LiveRun:
    pipe: LivePipeline
    decisions: np.ndarray  # every posted decision record, in order
    woken_ns: np.ndarray   # per decision: when the decision thread had it
    controls: list[ControlEvent]
    threads: set[int]      # threads the decision callback ran on


def run_live(dll: DLLThread) -> LiveRun:
    """The session into the pipeline's ring while it runs."""
    got: list[np.ndarray] = []
    woken: list[np.ndarray] = []
    controls: list[ControlEvent] = []
    threads: set[int] = set()

    def on_decision(recs: np.ndarray, woken_ns: int) -> None:
        threads.add(threading.get_ident())
        got.append(recs.copy())
        woken.append(np.full(len(recs), woken_ns, dtype=np.int64))

    pipe = LivePipeline(INSTRUMENTS, utc_offset_min=-180, on_decision=on_decision, on_control=controls.append)
    ring = Ring(1 << 16)
    pipe.start(ring)
    dll.play(ring)
    ring.close()
    assert pipe.wait(10.0)
    return LiveRun(pipe, np.concatenate(got), np.concatenate(woken), controls, threads)


def test_decision_dtype_matches_the_c_layout() -> None:
    layout = qpl.decision_layout()
    assert layout.pop("size") == qpl.DECISION_DTYPE.itemsize == qpl.DECISION_SIZE
    for name, offset in layout.items():
        assert qpl.DECISION_DTYPE.fields[name][1] == offset, name
    assert set(layout) == set(qpl.DECISION_DTYPE.names)
    assert qpl.DECISION_VECTOR_DTYPE.fields["features"][1] == qpl.DECISION_SIZE
    assert qpl.DECISION_VECTOR_DTYPE.itemsize == qpl.DECISION_SIZE + 77 * 8


def test_two_instruments_live_equal_their_batch_features(dll: DLLThread) -> None:
    expected = batch_features(dll)
    run = run_live(dll)
    recs = run.decisions
    c = run.pipe.counters
    assert run.pipe.errors == []

    # every row was posted once, in order, none lost
    assert c["rows"] == c["decisions"] == len(recs) == dll.trades[WDO] + dll.trades[WIN]
    assert c["decisions_dropped"] == 0 and c["callback_errors"] == 0
    assert np.array_equal(recs["decision_seq"], np.arange(1, len(recs) + 1))

    # per instrument: the live vectors are the batch vectors, bit for bit
    for iid, (ts, number, matrix) in expected.items():
        mine = recs[recs["instrument"] == iid]
        assert len(mine) == len(matrix) > 400
        assert np.array_equal(mine["trade_number"], number)
        assert np.array_equal(mine["exch_ns"], ts)  # trade times never go back here
        assert np.array_equal(mine["row"], np.arange(1, len(mine) + 1))
        assert np.array_equal(mine["features"].view(np.uint64), matrix.view(np.uint64))
        assert c["instrument"][iid]["rows"] == len(matrix)
        assert c["instrument"][iid]["engine"]["book_rejected"] == 0

    # stage timestamps: callback entry -> taken -> decoded -> features -> decided -> woken
    stages = [recs["recv_ns"], recs["taken_ns"], recs["decoded_ns"], recs["features_ns"], recs["decided_ns"],
              run.woken_ns]
    assert (stages[0] > 0).all()
    for before, after in itertools.pairwise(stages):
        assert (before <= after).all()

    # the decision callback ran on one thread that is neither this one nor the loop
    assert len(run.threads) == 1 and threading.get_ident() not in run.threads

    # the ticker without an engine: counted and dropped, nothing routed
    assert c["unknown_records"] == dll.trades[OTHER] and c["last_unknown"] == OTHER
    assert profitdll.feed_counters()["unknown_instrument"] == 0  # the feed knew it
    assert c["missing_ext"] == c["orphan_ext"] == c["bad_dates"] == 0
    assert c["dates"] == dll.trades[WDO] + dll.trades[WIN] + dll.trades[OTHER] + 2  # + 2 phases


def test_control_events_reach_the_orchestrator(dll: DLLThread) -> None:
    run = run_live(dll)
    controls = run.controls
    kinds = [e.kind for e in controls]
    assert kinds == [ControlKind.CONNECTION, ControlKind.PHASE, ControlKind.CONNECTION, ControlKind.FEED_GAP,
                     ControlKind.CONNECTION, ControlKind.PHASE]
    up, opening, drop, gap, back, closing = controls
    assert (up.conn_type, up.result, up.instrument) == (2, 4, qpl.ALL_INSTRUMENTS)
    assert (opening.instrument, opening.phase) == (WDO, Phase.OPEN)
    # the phase's raw date was decoded on the way: 09:00 in Sao Paulo is 12:00 UTC
    assert opening.exch_ns == int(np.datetime64("2026-11-03T12:00", "ns").astype(np.int64))
    assert (drop.conn_type, drop.result) == (2, 1)
    assert gap.gap_reason is GapReason.DISCONNECT and gap.instrument == qpl.ALL_INSTRUMENTS
    assert (back.result, closing.instrument, closing.phase) == (4, WIN, Phase.CLOSED)
    c = run.pipe.counters
    assert c["controls"] == 6 and c["controls_dropped"] == 0 and c["gaps"] == 1
    # the drop left both books suspect until a full book; no full book came
    assert all(c["instrument"][i]["book_suspect"] for i in (WDO, WIN))


def test_suspect_books_and_history_flag_the_decisions() -> None:
    """A feed gap marks decisions BOOK_SUSPECT; history trades are flagged HISTORY."""
    got: list[np.ndarray] = []
    pipe = LivePipeline(INSTRUMENTS[:1], on_decision=lambda r, w: got.append(r.copy()))
    ev = np.zeros(3, dtype=EVENT_DTYPE)
    ev["type"] = [EventType.TRADE, EventType.FEED_GAP, EventType.TRADE]
    ev["instrument"] = [WDO, qpl.ALL_INSTRUMENTS, WDO]
    ev["flags"] = [4, 0, 0]  # HISTORY, -, -
    ev["exch_ns"] = int(np.datetime64("2026-11-03T13:00", "ns").astype(np.int64))
    ev["price"] = 10000
    ev["qty"] = 1
    ev["code"] = 2
    assert pipe.run_events(ev) == 3
    ring = Ring(4)
    pipe.start(ring)
    ring.close()
    assert pipe.wait(10.0)
    recs = np.concatenate(got)
    assert list(recs["flags"]) == [qpl.D_HISTORY, qpl.D_BOOK_SUSPECT]
    assert list(recs["trade_flags"]) == [4, 0]


def test_a_failing_decision_callback_is_counted_and_the_loop_goes_on(dll: DLLThread) -> None:
    calls = []

    def broken(recs: np.ndarray, woken_ns: int) -> None:
        calls.append(len(recs))
        raise RuntimeError("model crashed")

    pipe = LivePipeline(INSTRUMENTS, on_decision=broken)
    ring = Ring(1 << 16)
    pipe.start(ring)
    dll.play(ring)
    ring.close()
    assert pipe.wait(10.0)
    c = pipe.counters
    assert sum(calls) == c["decisions"] == c["rows"] == dll.trades[WDO] + dll.trades[WIN]
    assert c["callback_errors"] == len(calls) > 0
    assert pipe.final_status == "closed"


def test_stop_from_another_thread_leaves_the_rest_in_the_ring() -> None:
    pipe = LivePipeline(INSTRUMENTS, on_decision=lambda r, w: None)
    ring = Ring(1 << 10)
    pipe.start(ring)
    counters = pipe.stop(5.0)
    assert pipe.final_status == "stopped" and not pipe.running
    assert counters["records"] == 0
    with pytest.raises(RuntimeError):
        pipe.start(ring)


def test_polled_controls_without_a_control_thread() -> None:
    pipe = LivePipeline(INSTRUMENTS[:1])
    ev = np.zeros(2, dtype=EVENT_DTYPE)
    ev["type"] = [EventType.CONN_STATE, EventType.PHASE]
    ev["instrument"] = [qpl.ALL_INSTRUMENTS, 77]  # a phase of an unknown instrument is dropped
    ev["a"], ev["b"] = 2, 4
    pipe.run_events(ev)
    events = pipe.poll_controls()
    assert [e.kind for e in events] == [ControlKind.CONNECTION]
    assert pipe.counters["unknown_records"] == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: qpl.Pipeline(utc_offset_min=100_000), "UTC offset"),
        (lambda: qpl.Pipeline(control_types=[]), "control_types is empty"),
        (lambda: LivePipeline([]), "at least one instrument"),
        (lambda: LivePipeline(INSTRUMENTS + INSTRUMENTS[:1]), "given twice"),
    ],
)
def test_bad_configuration_is_one_clear_error(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_engines_from_log_headers_are_configured_as_the_features_command_does() -> None:
    from quantumtrader.data.eventlog import EventLogHeader

    header = EventLogHeader(instrument="WDOFUT", price_unit=0.5, tick_size=0.5)
    pipe = LivePipeline.from_log_headers({4: header})
    _engine, params = build_engine("WDOFUT", 0.5, 0.5)
    assert pipe.sessions[4] == params and params.hours_source == "calendar"
    assert pipe.core.instruments == (4,)


def test_an_instrument_the_calendar_does_not_know_needs_hours() -> None:
    with pytest.raises(SessionSetupError, match="--session-open"):
        LivePipeline([PipelineInstrument(3, "BTCUSDT", 0.1, 0.1)])
    pipe = LivePipeline([PipelineInstrument(3, "BTCUSDT", 0.1, 0.1, 1000.0, "00:00", "24:00")])
    assert pipe.sessions[3].hours_source == "option" and pipe.sessions[3].qty_scale == 1000.0


def test_attached_to_a_profitdll_session(tmp_path) -> None:
    """Through the simulator library: a ProfitConnection's market ring taken
    over by the pipeline (V1 trades: every date decoded by the loop) gives
    the batch features of what the same replay delivers through poll()."""
    from profitdll_support import drain_replay, sim_connection

    from quantumtrader.adapters.profitdll.connection import FeedStatus
    from quantumtrader.data.synth import write_synthetic_log

    log = tmp_path / "wdo.qtlog"
    write_synthetic_log(log, days=1, seed=5, signal=0.0, trades_per_day=600, levels=10)
    conn = sim_connection(log, drop_invalid=False, trades_v2=False)
    try:
        polled = drain_replay(conn)
        sub = next(iter(conn.subscriptions.values()))
    finally:
        conn.close()
    engine, _ = build_engine(sub.ticker, sub.price_unit, sub.tick_size)
    _ts, number, matrix = engine.run(polled[polled["instrument"] == sub.instrument_id])
    assert len(matrix) > 500

    got: list[np.ndarray] = []
    controls: list[ControlEvent] = []
    conn = sim_connection(log, drop_invalid=False, trades_v2=False)
    try:
        pipe = LivePipeline.from_connection(conn, on_decision=lambda r, w: got.append(r.copy()),
                                            on_control=controls.append)
        assert pipe.instruments[sub.instrument_id].name == sub.ticker
        pipe.start()
        conn.dll.sim_start_replay()
        ring = conn.market_ring
        assert ring is not None
        deadline = time.monotonic() + 30
        while not (conn.dll.sim_counters()["replay_done"] and ring.available == 0):
            assert time.monotonic() < deadline, "replay did not finish"
            time.sleep(0.01)
        c = pipe.stop()
        # the records read while logging in ran first; the state machine saw them again
        assert conn.feed_status is FeedStatus.LIVE and conn.ready
    finally:
        conn.close()
    recs = np.concatenate(got)
    assert c["decisions"] == len(recs) == len(matrix) and c["decisions_dropped"] == 0
    assert np.array_equal(recs["trade_number"], number)
    assert np.array_equal(recs["features"].view(np.uint64), matrix.view(np.uint64))
    assert c["dates"] >= len(matrix) and c["missing_ext"] == c["bad_dates"] == 0
    assert any(e.kind is ControlKind.CONNECTION and (e.conn_type, e.result) == (2, 4) for e in controls)
    assert pipe.errors == [] and c["callback_errors"] == 0


class Decision(C.Structure):
    """qt_pl_decision as a C hook sees it."""

    _fields_ = [("instrument", C.c_uint16), ("trade_flags", C.c_uint8), ("flags", C.c_uint8),
                ("ring_stamp", C.c_uint32), ("decision_seq", C.c_uint64), ("seq", C.c_uint64),
                ("trade_number", C.c_int64), ("exch_ns", C.c_int64), ("price", C.c_int64), ("qty", C.c_int32),
                ("action", C.c_int16), ("trade_type", C.c_uint8), ("_pad", C.c_uint8), ("row", C.c_uint64),
                ("recv_ns", C.c_int64), ("taken_ns", C.c_int64), ("decoded_ns", C.c_int64),
                ("features_ns", C.c_int64), ("decided_ns", C.c_int64), ("output", C.c_double * 3)]


HOOK_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.POINTER(Decision), C.POINTER(C.c_double), C.c_void_p)


class Hook(C.Structure):
    _fields_ = [("filter", HOOK_FN), ("filter_user", C.c_void_p), ("decide", HOOK_FN),
                ("decide_user", C.c_void_p)]


def test_a_c_hook_filters_and_decides(dll: DLLThread) -> None:
    """The hook ABI the compiled model will use: a "qt_pl_hook" capsule with a
    filter (the sampler) and a decide (the model) that writes the action and
    outputs into the decision record.  (Here the functions are ctypes
    callbacks, which take the GIL: fine for a test, not for production.)"""
    assert C.sizeof(Decision) == qpl.DECISION_SIZE
    spread = 65  # QT_FE_SPREAD

    def keep_even_rows(user: int, d: C._Pointer, features: C._Pointer, trade: int) -> int:
        return int(d.contents.row % 2 == 0)

    def model(user: int, d: C._Pointer, features: C._Pointer, trade: int) -> int:
        d.contents.action = 7
        d.contents.output[0] = features[spread]
        return 1  # QT_PL_POST

    hook = Hook(HOOK_FN(keep_even_rows), None, HOOK_FN(model), None)
    new_capsule = C.pythonapi.PyCapsule_New
    new_capsule.restype = C.py_object
    new_capsule.argtypes = [C.c_void_p, C.c_char_p, C.c_void_p]
    capsule = new_capsule(C.addressof(hook), b"qt_pl_hook", None)

    got: list[np.ndarray] = []
    pipe = LivePipeline(INSTRUMENTS, on_decision=lambda r, w: got.append(r.copy()), hook=capsule)
    ring = Ring(1 << 16)
    pipe.start(ring)
    dll.play(ring)
    ring.close()
    assert pipe.wait(10.0)
    recs = np.concatenate(got)
    c = pipe.counters
    assert c["rows"] == dll.trades[WDO] + dll.trades[WIN]
    assert len(recs) == c["decisions"] == c["rows"] - c["filtered"] and c["filtered"] > 0
    assert (recs["row"] % 2 == 0).all() and (recs["action"] == 7).all()
    assert np.array_equal(recs["output"][:, 0].view(np.uint64), recs["features"][:, spread].view(np.uint64))
    with pytest.raises(TypeError, match="qt_pl_hook"):
        LivePipeline(INSTRUMENTS, hook=object())
