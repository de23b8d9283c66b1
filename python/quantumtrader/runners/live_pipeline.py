"""The live pipeline's Python side.

The C loop (:class:`quantumtrader.qtcore.pipeline.Pipeline`) takes the market
ring as the ProfitDLL callbacks fill it, decodes, runs each instrument's book
and 77 features and calls the decision hook at every trade, without the GIL.
This module only:

- builds one feature engine per instrument exactly as the ``features``
  command does (:func:`quantumtrader.features.engine_setup.build_engine`:
  session hours from the trading calendar, or given; tick size and price unit
  from the log header or the subscription), so live vectors are the training
  vectors;
- runs the loop on its own thread (GIL released for as long as it runs);
- runs one decision thread that sleeps, GIL released, until the loop posts
  decisions, and calls ``on_decision(records, woken_ns)`` with a
  ``DECISION_DTYPE`` array (stage timestamps recv -> taken -> decoded ->
  features -> decided, then ``woken_ns`` when this thread got them: the
  tick-to-decision latency);
- runs one control thread that hands connection states, feed gaps and ticker
  phases to ``on_control(event)`` (and, when attached to a
  :class:`~quantumtrader.adapters.profitdll.connection.ProfitConnection`, to its state
  machine first, which resubscribes after a reconnection), so the
  orchestrator can stop entries without reading market records;
- with ``on_orders``, runs one order thread that sleeps on the order ring
  and calls ``on_orders(records)`` with the ``ORDER_UPDATE_DTYPE`` updates
  the order callback pushed (oldest first): the only reader of that ring.

Lockstep (``start(lockstep=True)``, backtests through the simulator at full
speed): no loop thread.  A :class:`~quantumtrader.qtcore.pipeline.Lockstep`
installed in the ProfitDLL feed makes the DLL's callback thread run the
loop itself after every market-data callback and wait until the decision
thread has returned from ``on_decision`` for what it posted, and after every
order update until the order thread has returned from ``on_orders`` (both
acknowledge also when the callback raised).  The market stands still while
Python decides, so a replay gives the same decisions, orders and fills
every time.  A wait longer than ``lockstep_timeout_s`` releases the gate for
good (logged, ``counters["lockstep"]["state"] == "timed_out"``) instead of
hanging the DLL's thread.  The end: the caller waits for the replay to be
done, then :meth:`LivePipeline.stop` (or closes the market ring and calls
:meth:`LivePipeline.wait`), which releases the gate, removes it from the
feed and ends the threads.  Close the connection only after that (its
DLLFinalize waits for the DLL's thread, which may be waiting in the gate).
What the market's end does to working orders (the simulator's
``sim_orders_on_end``) is told after its replay-done: wait for every order's
final update before stopping.  Keep the simulator's early order callbacks
off (``SimSetEarlyOrderCallback``): such a SendOrder waits for the DLL's
thread, which waits for the decision that sends it, until the simulator
gives up after 1 s.

A callback that raises is logged and counted (``callback_errors``); the loop
never stops for it.

After a feed gap the loop flags every decision of the affected instruments
``D_BOOK_SUSPECT`` until a complete full book arrives: a reconnection brings
one; after a ring-full gap the orchestrator gets one by subscribing the price
book again."""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from quantumtrader.adapters.profitdll.order_updates import read_order_updates
from quantumtrader.calendar import TradingCalendar
from quantumtrader.data.eventlog import EventLogHeader
from quantumtrader.data.events import EventType, GapReason
from quantumtrader.features.engine_setup import SessionParameters, build_engine
from quantumtrader.qtcore import pipeline as _pl
from quantumtrader.qtcore import profitdll as _profitdll
from quantumtrader.qtcore.pipeline import (
    ALL_INSTRUMENTS,
    DECISION_DTYPE,
    DECISION_VECTOR_DTYPE,
    STATUS_NAMES,
    Lockstep,
    Pipeline,
)

if TYPE_CHECKING:
    from quantumtrader.adapters.profitdll.connection import ProfitConnection, Subscription

__all__ = [
    "ALL_INSTRUMENTS",
    "DECISION_DTYPE",
    "DECISION_VECTOR_DTYPE",
    "ControlEvent",
    "ControlKind",
    "LivePipeline",
    "PipelineInstrument",
]

log = logging.getLogger(__name__)

DecisionCallback = Callable[[np.ndarray, int], None]
ControlCallback = Callable[["ControlEvent"], None]
OrderCallback = Callable[[np.ndarray], None]

_POLL_S = 0.2  # consumer threads re-check for the end this often when idle
LOCKSTEP_SPIN = 2000  # ring polls (8 pauses each): about 0.3 ms
_CLOSED_POLL_S = 0.02  # lockstep wait(): how often the market ring is checked for its close
_ORDER_BATCH = 4096  # order updates popped per wake-up at most


@dataclasses.dataclass(frozen=True)
class PipelineInstrument:
    """One instrument of the pipeline: the id its records carry in the ring,
    the name the trading calendar knows it by (a contract such as
    ``"WDOZ26"``, a family such as ``"WDOFUT"``, or any name with explicit
    hours), and the numbers its engine needs."""

    instrument_id: int
    name: str
    price_unit: float
    tick_size: float
    qty_scale: float = 1.0
    session_open: str | None = None  # both or neither: every date; else the calendar's
    session_close: str | None = None

    @classmethod
    def from_log_header(cls, instrument_id: int, header: EventLogHeader, *, tick_size: float | None = None,
                        session_open: str | None = None, session_close: str | None = None
                        ) -> PipelineInstrument:
        """As the ``features`` command configures an engine for that log."""
        return cls(instrument_id, header.instrument, header.price_unit,
                   header.tick_size if tick_size is None else tick_size, header.qty_scale,
                   session_open, session_close)

    @classmethod
    def from_subscription(cls, sub: Subscription) -> PipelineInstrument:
        return cls(sub.instrument_id, sub.ticker, sub.price_unit, sub.tick_size)


class ControlKind(enum.Enum):
    CONNECTION = "connection"  # a ProfitDLL connection state changed
    FEED_GAP = "feed_gap"      # records were lost (ring full, disconnect, sequence)
    PHASE = "phase"            # a ticker's trading phase changed (halt, auction, close)
    DAILY_LIMITS = "daily_limits"  # the day's price limits (from the daily callback)
    OTHER = "other"            # a type added to control_types beyond these


@dataclasses.dataclass(frozen=True)
class ControlEvent:
    """A control record, decoded.  ``instrument`` is ALL_INSTRUMENTS for the
    whole feed; the fields of other kinds are None."""

    kind: ControlKind
    instrument: int
    seq: int
    recv_ns: int
    exch_ns: int | None
    conn_type: int | None = None  # CONNECTION: 0 login, 1 routing, 2 market data, 3 market login
    result: int | None = None     # CONNECTION: ProfitDLL result code
    gap_reason: GapReason | int | None = None
    lost: int | None = None       # FEED_GAP: records lost, -1 unknown
    phase: int | None = None      # PHASE: ProfitDLL ticker state (quantumtrader.data.events.Phase)
    low: int | None = None        # DAILY_LIMITS: the day's lower and upper limits, price units
    high: int | None = None

    @classmethod
    def from_record(cls, rec: np.void) -> ControlEvent:
        t = int(rec["type"])
        ex = int(rec["exch_ns"])
        base = dict(instrument=int(rec["instrument"]), seq=int(rec["seq"]), recv_ns=int(rec["recv_ns"]),
                    exch_ns=None if ex == np.iinfo(np.int64).min else ex)
        if t == EventType.CONN_STATE:
            return cls(ControlKind.CONNECTION, conn_type=int(rec["a"]), result=int(rec["b"]), **base)
        if t == EventType.FEED_GAP:
            a = int(rec["a"])
            reason = GapReason(a) if a in GapReason._value2member_map_ else a
            return cls(ControlKind.FEED_GAP, gap_reason=reason, lost=int(rec["qty"]), **base)
        if t == EventType.PHASE:
            return cls(ControlKind.PHASE, phase=int(rec["code"]), **base)
        if t == EventType.DAILY_LIMITS:  # price = upper limit, ref = lower limit (qt_events.h)
            return cls(ControlKind.DAILY_LIMITS, high=int(rec["price"]), low=int(rec["ref"]), **base)
        return cls(ControlKind.OTHER, **base)


class LivePipeline:
    """The live loop for a set of instruments.

    ``on_decision(records, woken_ns)``: called on the decision thread with
    the posted decisions (oldest first); without it decisions are counted and
    dropped at the ring.  ``on_control(event)``: called on the control
    thread; without it (and without a connection) control records wait for
    :meth:`poll_controls`.  ``decision_vector``: decision records carry the
    77 features (``records["features"]``).  ``hook``: a "qt_pl_hook" capsule
    (the compiled model) for every instrument; :meth:`set_hook` for one.
    ``on_orders(records)``: called on the order thread with the updates
    popped from the order ring (given to :meth:`start`, or the connection's);
    without it nobody reads that ring here."""

    def __init__(
        self,
        instruments: Iterable[PipelineInstrument],
        *,
        utc_offset_min: int = -180,
        calendar: TradingCalendar | None = None,
        on_decision: DecisionCallback | None = None,
        on_control: ControlCallback | None = None,
        decision_vector: bool = True,
        decision_capacity: int = 1 << 14,
        control_capacity: int = 4096,
        control_types: Iterable[int] | None = None,
        hook: object | None = None,
        on_orders: OrderCallback | None = None,
    ) -> None:
        self.instruments: dict[int, PipelineInstrument] = {}
        self.sessions: dict[int, SessionParameters] = {}
        self.on_decision = on_decision
        self.on_control = on_control
        self.on_orders = on_orders
        self.connection: ProfitConnection | None = None
        self.core = Pipeline(utc_offset_min, decision_capacity if on_decision else 0, decision_vector,
                             control_capacity, control_types)
        for inst in instruments:
            if inst.instrument_id in self.instruments:
                raise ValueError(f"instrument id {inst.instrument_id} given twice")
            engine, params = build_engine(inst.name, inst.price_unit, inst.tick_size, inst.qty_scale,
                                          session_open=inst.session_open, session_close=inst.session_close,
                                          calendar=calendar)
            self.core.add_engine(inst.instrument_id, engine)
            self.instruments[inst.instrument_id] = inst
            self.sessions[inst.instrument_id] = params
        if not self.instruments:
            raise ValueError("a pipeline needs at least one instrument")
        if hook is not None:
            self.core.set_hook(hook)
        self.callback_errors = 0
        self.errors: list[BaseException] = []
        self.final_status: str | None = None
        self._ring: Any = None
        self._order_ring: Any = None
        self._threads: list[threading.Thread] = []
        self._loop: threading.Thread | None = None
        self._stopping = False
        self._orders_done = threading.Event()  # the order thread takes what is left, then ends
        self.order_updates = 0  # handed to on_orders
        self.lockstep: Lockstep | None = None
        # polls of the decision (and, in lockstep, order) ring before a consumer
        # sleeps: in lockstep the replay waits on this thread, so spin ~0.3 ms first
        self._spin = 200
        self._lockstep_capsule: object | None = None
        self._lockstep_ended = False

    @classmethod
    def from_log_headers(cls, headers: Mapping[int, EventLogHeader], **kw: Any) -> LivePipeline:
        """One instrument per event log header, keyed by instrument id."""
        return cls([PipelineInstrument.from_log_header(i, h) for i, h in headers.items()], **kw)

    @classmethod
    def from_connection(cls, connection: ProfitConnection, **kw: Any) -> LivePipeline:
        """The subscriptions of a connected session, its calendar and UTC
        offset.  :meth:`start` then takes its market ring: from then on the
        pipeline is the ring's only consumer (do not ``poll()`` the
        connection), and control records go through the connection's state
        machine (:meth:`ProfitConnection.observe`) before ``on_control``."""
        if not connection.subscriptions:
            raise ValueError("the connection has no subscriptions: subscribe before attaching")
        kw.setdefault("utc_offset_min", connection.utc_offset_min)
        kw.setdefault("calendar", connection.calendar)
        pipe = cls([PipelineInstrument.from_subscription(s) for s in connection.subscriptions.values()], **kw)
        pipe.connection = connection
        return pipe

    def set_hook(self, hook: object | None, instrument_id: int | None = None) -> None:
        """A "qt_pl_hook" capsule for one instrument or (None) all; before start."""
        self.core.set_hook(hook, instrument_id)

    def use_model(self, bundle: Any) -> None:
        """Every instrument decides with the model bundle: its own sampler as
        the filter and its compiled ensemble as the decision, one hook (one
        sampler state) per instrument, reading that instrument's engine clock.
        Decisions then carry the sell / hold / buy probabilities in
        ``output`` and the most likely side in ``action``.  Before start."""
        if self.running:
            raise RuntimeError("the loop is running: choose the model before start()")
        for instrument_id in self.core.instruments:
            self.core.set_hook(bundle.pipeline_hook(self.core.engine(instrument_id)), instrument_id)

    # ------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        if self.lockstep is not None:
            return not self._lockstep_ended
        return self._loop is not None and self._loop.is_alive()

    def run_events(self, events: np.ndarray) -> int:
        """Decoded records (a backfill's history) through the engines and
        hooks, on this thread, before :meth:`start`.  Returns records taken."""
        if self.running:
            raise RuntimeError("the loop is running: give history before start()")
        taken, _status = self.core.run_events(events)
        return int(taken)

    def start(self, ring: Any = None, *, order_ring: Any = None, lockstep: bool = False,
              lockstep_timeout_s: float = 10.0) -> None:
        """Run the loop over ``ring`` (a 64-byte-slot Ring the callbacks
        fill; default: the attached connection's market ring) on its own
        thread, and the decision and control threads; with ``on_orders``,
        the order thread over ``order_ring`` (default: the connection's).

        ``lockstep``: no loop thread; the ProfitDLL callbacks run the loop
        and wait for the consumers (see the module's docstring).  Only one
        lockstep can be installed in the process's feed at a time."""
        if self._loop is not None or self.lockstep is not None:
            raise RuntimeError("already started (a pipeline runs once)")
        self._spin = LOCKSTEP_SPIN if lockstep else 200
        if self.on_orders is not None and order_ring is None:
            order_ring = self.connection.order_ring if self.connection is not None else None
            if order_ring is None:
                raise ValueError("on_orders needs an order ring: give order_ring=, or attach a "
                                 "ProfitConnection made with routing=True")
        if lockstep and _profitdll.installed_consumer() is not None:
            raise RuntimeError("a lockstep is already installed in the ProfitDLL feed: stop its pipeline "
                               "first")
        if ring is None:
            if self.connection is None or self.connection.market_ring is None:
                raise ValueError("no ring: give one, or attach a connected ProfitConnection")
            pending = self.connection.take_pending()
            if len(pending):  # read by the connection while it came up: first, in order
                self.core.run_events(pending)
            ring = self.connection.market_ring
        self._ring = ring
        if self.on_decision is not None:
            self._threads.append(threading.Thread(target=self._run_decisions, name="qt-pipeline-decisions",
                                                  daemon=True))
        if self.on_control is not None or self.connection is not None:
            self._threads.append(threading.Thread(target=self._run_controls, name="qt-pipeline-controls",
                                                  daemon=True))
        if self.on_orders is not None:
            self._order_ring = order_ring
            self._threads.append(threading.Thread(target=self._run_orders, name="qt-pipeline-orders",
                                                  daemon=True))
        if lockstep:
            gate = Lockstep(self.core, ring, order_ring if self.on_orders is not None else None,
                            lockstep_timeout_s)
            self._lockstep_capsule = gate.capsule()
            self.lockstep = gate
            for t in self._threads:  # consumers first: the first callback may wait for them
                t.start()
            _profitdll.set_consumer(self._lockstep_capsule)
            gate.drain()  # what the callbacks pushed before it was installed
            return
        self._loop = threading.Thread(target=self._run_loop, name="qt-pipeline-loop", daemon=True)
        for t in self._threads:
            t.start()
        self._loop.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the loop to end by itself (the ring closed and drained, or
        a hook stopped it), then for the consumers to finish.  True if ended.
        Lockstep: waits for the market ring to be closed (by the caller, once
        the replay is done), then ends as :meth:`stop` does after taking
        what is left in the ring."""
        if self.lockstep is not None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._ring.closed:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                time.sleep(_CLOSED_POLL_S)
            self._end_lockstep(ring_closed=True)
            return self._join(timeout)
        if self._loop is None:
            raise RuntimeError("not started")
        self._loop.join(timeout)
        if self._loop.is_alive():
            return False
        return self._join(timeout)

    def _join(self, timeout: float | None) -> bool:
        self._orders_done.set()  # the loop has ended: nothing more comes from this pipeline
        for t in self._threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """Stop the loop (records still in the ring stay there), let the
        consumers take what was posted, and return the counters.  Lockstep:
        release the gate, remove it from the feed, end the threads."""
        if self.lockstep is not None:
            self._stopping = True
            self._end_lockstep(ring_closed=False)
            if not self._join(timeout):
                raise TimeoutError(f"the pipeline's threads did not end within {timeout:g} s")
        elif self._loop is not None:
            self._stopping = True
            self.core.stop()
            if not self.wait(timeout):
                raise TimeoutError(f"the pipeline did not stop within {timeout:g} s")
        return self.counters

    def _end_lockstep(self, *, ring_closed: bool) -> None:
        """Release the gate (no callback waits from now on), take it out of
        the feed, stop the inline runs; then, if the ring was closed, what is
        left in it; then close the pipeline so its consumers end."""
        gate = self.lockstep
        if gate is None or self._lockstep_ended:
            return
        self._lockstep_ended = True
        try:
            gate.release()
            if _profitdll.installed_consumer() is self._lockstep_capsule:
                _profitdll.set_consumer(None)
            gate.close()
            self._lockstep_capsule = None
            status = _pl.STOPPED
            if ring_closed:
                _taken, status = self.core.run(self._ring, timeout_s=0.0)
                if status == _pl.CLOSED:
                    self.core.flush()
            self.final_status = STATUS_NAMES[status]
            c = gate.counters
            if c["state"] == "timed_out":
                log.warning("lockstep released after a wait longer than %g s (the decision or order "
                            "consumer did not acknowledge): the rest of the replay did not wait for them",
                            gate.timeout_s)
        except BaseException as e:  # the consumers must still end
            self.errors.append(e)
            log.exception("ending the lockstep failed")
        finally:
            self.core.close()

    def __enter__(self) -> LivePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_loop(self) -> None:
        try:
            while True:
                _taken, status = self.core.run(self._ring)
                if status == _pl.CLOSED:
                    self.core.flush()
                    break
                if status == _pl.STOPPED:
                    break
            self.final_status = STATUS_NAMES[status]
        except BaseException as e:  # the consumers must still end
            self.errors.append(e)
            log.exception("pipeline loop failed")
        finally:
            self.core.close()

    def _callback_failed(self, what: str, exc: BaseException) -> None:
        self.callback_errors += 1
        if len(self.errors) < 100:
            self.errors.append(exc)
        log.error("%s callback failed: %r", what, exc)

    def _run_decisions(self) -> None:
        assert self.on_decision is not None
        gate = self.lockstep
        while True:
            recs = self.core.wait_decisions(timeout_s=_POLL_S, spin=self._spin)
            if len(recs):
                woken = _pl.monotonic_ns()
                try:
                    self.on_decision(recs, woken)
                except Exception as e:
                    self._callback_failed("decision", e)
                finally:
                    if gate is not None:  # the DLL's thread may go on
                        gate.ack_decisions(int(recs["decision_seq"][-1]))
            elif self.core.decisions_closed:
                return

    def _run_orders(self) -> None:
        assert self.on_orders is not None
        ring = self._order_ring
        gate = self.lockstep
        while True:
            # read before the pop, so nothing is left behind; a closed ring gets nothing more
            done = self._orders_done.is_set() or ring.closed
            ready = ring.wait(timeout_s=_POLL_S, spin=self._spin if self.lockstep is not None else 0)
            recs = read_order_updates(ring, min(max(int(ready), 1), _ORDER_BATCH))
            if len(recs):
                try:
                    self.on_orders(recs)
                except Exception as e:
                    self._callback_failed("order", e)
                finally:
                    self.order_updates += len(recs)
                    if gate is not None:  # the DLL's thread may go on
                        gate.ack_orders(int(ring.popped))
            elif done:
                return

    def _run_controls(self) -> None:
        while True:
            closed = self.core.controls_closed  # read before the pop: nothing is left behind
            self.core.wait_controls(timeout_s=_POLL_S)
            recs = self.core.pop_controls()
            if len(recs):
                self._deliver_controls(recs)
            elif closed:
                return

    def _deliver_controls(self, recs: np.ndarray) -> None:
        if self.connection is not None:
            try:
                self.connection.observe(recs)
            except Exception as e:
                self._callback_failed("connection state", e)
        if self.on_control is not None:
            for rec in recs:
                try:
                    self.on_control(ControlEvent.from_record(rec))
                except Exception as e:
                    self._callback_failed("control", e)

    def poll_controls(self, max_records: int = 1024) -> list[ControlEvent]:
        """Control events ready now, for an orchestrator without
        ``on_control`` (do not mix with it: the control thread takes them)."""
        if self.on_control is not None or self.connection is not None:
            raise RuntimeError("control events go to the control thread (on_control / connection)")
        return [ControlEvent.from_record(r) for r in self.core.pop_controls(max_records)]

    # ------------------------------------------------------------ counters
    @property
    def counters(self) -> dict[str, Any]:
        """The loop's counters, per instrument too; engine counters (the
        engines' own, e.g. book rejections) only once the loop has ended."""
        c = self.core.counters
        c["callback_errors"] = self.callback_errors
        c["order_updates"] = self.order_updates
        if self.lockstep is not None:
            c["lockstep"] = self.lockstep.counters
        per = {}
        for iid in self.instruments:
            ic = self.core.instrument_counters(iid)
            if not self.running:
                ic["engine"] = self.core.engine(iid).counters
            per[iid] = ic
        c["instrument"] = per
        return c
