# cython: freethreading_compatible=False
"""The live pipeline of the core: one C loop from the market ring to the
decision (``qt_pipeline.h``).

:class:`Pipeline` takes the market ring as the ProfitDLL callbacks fill it,
decodes the raw dates, routes each record to its instrument's feature engine
(a :class:`quantumtrader.qtcore.features.FeatureEngine`, each with its own
book and session parameters) and calls the decision hook at every trade that
produced a feature row, all in C without the GIL.  Decisions reach one
Python thread through the decision ring (:meth:`Pipeline.wait_decisions`
sleeps without the GIL until one is posted); connection states, feed gaps
and ticker phases reach the orchestrator through the control ring
(:meth:`Pipeline.wait_controls` / :meth:`Pipeline.pop_controls`).  Python
only configures it and consumes what it posts.

:class:`Lockstep` is the backtest's gate (``qt_pl_lockstep.h``): installed
as the ProfitDLL feed's consumer, the DLL's callback thread runs the loop
itself and waits, without the GIL, until the decision and order consumers
acknowledge what it posted, so a replay at full speed is deterministic."""
import numpy as np

from cpython.pycapsule cimport (
    PyCapsule_GetContext, PyCapsule_GetPointer, PyCapsule_IsValid, PyCapsule_New, PyCapsule_SetContext,
)
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

from clock cimport qt_monotonic_ns
from events cimport qt_event
from features cimport QT_FE_NUM_FEATURES, qt_fe
from ring cimport qt_ring, qt_ring_available, qt_ring_closed, qt_ring_pop, qt_ring_wait

from pipeline cimport (
    QT_PL_CLOSED, QT_PL_D_BOOK_SUSPECT, QT_PL_D_HISTORY, QT_PL_DECISION_SIZE, QT_PL_DONE, QT_PL_IDLE,
    QT_PL_MAX_INSTRUMENTS, QT_PL_OUTPUTS, QT_PL_STOPPED, QT_PL_VECTOR_SIZE, qt_pl, qt_pl_add_engine,
    qt_pl_close, qt_pl_config, qt_pl_control_ring, qt_pl_counters,
    qt_pl_create, qt_pl_decision, qt_pl_decisions_closed, qt_pl_destroy, qt_pl_flush,
    qt_pl_get_counters, qt_pl_get_instrument_counters, qt_pl_hook, qt_pl_instrument_counters,
    qt_pl_decision_ring, qt_pl_pop_controls, qt_pl_run, qt_pl_run_decoded, qt_pl_set_hook, qt_pl_stop,
    qt_pl_clear_stop, QT_PL_LS_ENGAGED, QT_PL_LS_RELEASED, QT_PL_LS_TIMED_OUT, qt_pl_lockstep,
    qt_pl_lockstep_ack_decisions, qt_pl_lockstep_ack_orders, qt_pl_lockstep_close, qt_pl_lockstep_consumer,
    qt_pl_lockstep_counters, qt_pl_lockstep_create, qt_pl_lockstep_destroy, qt_pl_lockstep_drain,
    qt_pl_lockstep_get_counters, qt_pl_lockstep_release, qt_pl_lockstep_released,
)

from quantumtrader.data.events import EVENT_DTYPE, EventType

ALL_INSTRUMENTS = 0xFFFF
MAX_INSTRUMENTS = QT_PL_MAX_INSTRUMENTS
N_OUTPUTS = QT_PL_OUTPUTS
DECISION_SIZE = QT_PL_DECISION_SIZE
D_HISTORY = QT_PL_D_HISTORY
D_BOOK_SUSPECT = QT_PL_D_BOOK_SUSPECT
DONE = QT_PL_DONE
STOPPED = QT_PL_STOPPED
CLOSED = QT_PL_CLOSED
IDLE = QT_PL_IDLE
STATUS_NAMES = {QT_PL_DONE: "done", QT_PL_STOPPED: "stopped", QT_PL_CLOSED: "closed", QT_PL_IDLE: "idle"}
DEFAULT_CONTROL_TYPES = (EventType.CONN_STATE, EventType.FEED_GAP, EventType.PHASE)

_DECISION_FIELDS = [
    ("instrument", "<u2", 0), ("trade_flags", "u1", 2), ("flags", "u1", 3),
    ("decision_seq", "<u8", 8), ("seq", "<u8", 16), ("trade_number", "<i8", 24),
    ("exch_ns", "<i8", 32), ("price", "<i8", 40), ("qty", "<i4", 48), ("action", "<i2", 52),
    ("trade_type", "u1", 54),
    ("row", "<u8", 56), ("recv_ns", "<i8", 64), ("taken_ns", "<i8", 72), ("decoded_ns", "<i8", 80),
    ("features_ns", "<i8", 88), ("decided_ns", "<i8", 96), ("output", ("<f8", (N_OUTPUTS,)), 104),
]


def monotonic_ns():
    """The core's monotonic clock (the one every stage timestamp is read from)."""
    return qt_monotonic_ns()


def _decision_dtype(bint with_vector):
    names = [f[0] for f in _DECISION_FIELDS]
    formats = [f[1] for f in _DECISION_FIELDS]
    offsets = [f[2] for f in _DECISION_FIELDS]
    size = QT_PL_DECISION_SIZE
    if with_vector:
        names.append("features")
        formats.append(("<f8", (QT_FE_NUM_FEATURES,)))
        offsets.append(QT_PL_DECISION_SIZE)
        size += QT_PL_VECTOR_SIZE
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size})


#: A decision record (qt_pl_decision) as numpy sees it; DECISION_VECTOR_DTYPE
#: adds the 77 features that follow it when the pipeline posts vectors.
DECISION_DTYPE = _decision_dtype(False)
DECISION_VECTOR_DTYPE = _decision_dtype(True)


def decision_layout():
    """Field offsets and size of qt_pl_decision as the C compiler laid it out
    (for the test that holds DECISION_DTYPE to it)."""
    cdef qt_pl_decision d
    cdef size_t b = <size_t>&d
    return dict(
        size=sizeof(qt_pl_decision), instrument=<size_t>&d.instrument - b,
        trade_flags=<size_t>&d.trade_flags - b, flags=<size_t>&d.flags - b, action=<size_t>&d.action - b,
        decision_seq=<size_t>&d.decision_seq - b, seq=<size_t>&d.seq - b,
        trade_number=<size_t>&d.trade_number - b, exch_ns=<size_t>&d.exch_ns - b,
        price=<size_t>&d.price - b, qty=<size_t>&d.qty - b, trade_type=<size_t>&d.trade_type - b,
        row=<size_t>&d.row - b, recv_ns=<size_t>&d.recv_ns - b, taken_ns=<size_t>&d.taken_ns - b,
        decoded_ns=<size_t>&d.decoded_ns - b, features_ns=<size_t>&d.features_ns - b,
        decided_ns=<size_t>&d.decided_ns - b, output=<size_t>&d.output[0] - b,
    )


cdef qt_ring *_ring_ptr(object ring) except NULL:
    cap = ring.capsule()
    if not PyCapsule_IsValid(cap, b"qt_ring"):
        raise TypeError("ring must provide a 'qt_ring' capsule")
    if ring.slot_size != 64:
        raise ValueError(f"the ring's slots are {ring.slot_size} bytes, not 64-byte events")
    return <qt_ring *>PyCapsule_GetPointer(cap, b"qt_ring")


cdef const uint8_t[::1] _event_bytes(object events) except *:
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise TypeError("events must be a numpy array of EVENT_DTYPE records")
    return np.ascontiguousarray(events).reshape(-1).view(np.uint8)


cdef class Pipeline:
    """The C loop with its engines, hooks and output rings.

    ``utc_offset_min``: of the DLL's date strings (Sao Paulo -180).
    ``decision_capacity``: decision ring slots (0: decisions are counted,
    not posted).  ``decision_vector``: decision records carry the 77
    features.  ``control_types``: event types copied to the control ring
    (default CONN_STATE, FEED_GAP, PHASE).  ``batch``: records peeked per
    step.  Engines are added with :meth:`add_engine` before running; while
    the loop runs (:meth:`run`, on its own thread) they belong to it."""

    cdef qt_pl *_pl
    cdef dict _engines
    cdef dict _hooks
    cdef object _ring
    cdef bint _running
    cdef readonly bint decision_vector
    cdef readonly int utc_offset_min

    def __cinit__(self, int utc_offset_min=-180, uint64_t decision_capacity=1 << 14,
                  bint decision_vector=False, uint64_t control_capacity=4096, control_types=None,
                  uint32_t batch=256):
        cdef qt_pl_config cfg
        memset(&cfg, 0, sizeof(cfg))
        cfg.utc_offset_min = utc_offset_min
        cfg.decision_capacity = decision_capacity
        cfg.decision_vector = decision_vector
        cfg.control_capacity = control_capacity
        cdef uint32_t mask = 0
        for t in (DEFAULT_CONTROL_TYPES if control_types is None else control_types):
            if not 0 < int(t) < 32:
                raise ValueError(f"control type {t!r} is not an event type")
            mask |= 1u << int(t)
        if control_types is not None and mask == 0:
            raise ValueError("control_types is empty: give at least one event type")
        cfg.control_types = mask
        cfg.batch = batch
        self._pl = qt_pl_create(&cfg)
        if self._pl == NULL:
            raise ValueError(f"invalid pipeline configuration (UTC offset {utc_offset_min} min must be "
                             "within +-14 h; ring capacities at most 2^36)")
        self._engines = {}
        self._hooks = {}
        self.decision_vector = decision_vector
        self.utc_offset_min = utc_offset_min

    def __dealloc__(self):
        if self._pl != NULL:
            qt_pl_destroy(self._pl)
            self._pl = NULL

    cdef inline void _idle(self) except *:
        if self._running:
            raise RuntimeError("the pipeline is running: stop it first")

    def add_engine(self, int instrument_id, engine):
        """Route the records of ``instrument_id`` to ``engine`` (a
        FeatureEngine; kept alive here and used only by the loop from now
        on)."""
        self._idle()
        cap = engine.capsule()
        if not PyCapsule_IsValid(cap, b"qt_fe"):
            raise TypeError("engine must provide a 'qt_fe' capsule (a FeatureEngine)")
        if not 0 <= instrument_id < ALL_INSTRUMENTS:
            raise ValueError(f"instrument id must be in 0..{ALL_INSTRUMENTS - 1}, got {instrument_id}")
        rc = qt_pl_add_engine(self._pl, <uint16_t>instrument_id, <qt_fe *>PyCapsule_GetPointer(cap, b"qt_fe"))
        if rc == -2:
            raise ValueError(f"the pipeline holds at most {QT_PL_MAX_INSTRUMENTS} instruments")
        if rc == -3:
            raise ValueError(f"instrument {instrument_id} already has an engine")
        if rc != 0:
            raise ValueError(f"cannot add instrument {instrument_id}")
        self._engines[instrument_id] = engine

    @property
    def instruments(self) -> tuple:
        return tuple(self._engines)

    def engine(self, int instrument_id):
        """The FeatureEngine of an instrument (read it only while stopped)."""
        return self._engines[instrument_id]

    def capsule(self):
        """The C pipeline as a PyCapsule named "qt_pl" (for C tools such as
        the benchmarks).  The capsule does not own it: keep this object
        alive while used, and do not run it from here meanwhile."""
        self._idle()
        return PyCapsule_New(<void *>self._pl, b"qt_pl", NULL)

    def set_hook(self, hook, instrument_id=None):
        """Install a C hook: a PyCapsule named "qt_pl_hook" holding a
        ``qt_pl_hook`` (filter and decide functions with their user data,
        e.g. the compiled ensemble), for one instrument or (None) all.
        ``hook=None`` restores the default (post every row)."""
        self._idle()
        cdef qt_pl_hook *h = NULL
        if hook is not None:
            if not PyCapsule_IsValid(hook, b"qt_pl_hook"):
                raise TypeError("hook must be a PyCapsule named 'qt_pl_hook' (a C qt_pl_hook)")
            h = <qt_pl_hook *>PyCapsule_GetPointer(hook, b"qt_pl_hook")
        cdef uint16_t iid = ALL_INSTRUMENTS if instrument_id is None else instrument_id
        if qt_pl_set_hook(self._pl, iid, h) != 0:
            raise ValueError(f"instrument {instrument_id} has no engine")
        self._hooks[instrument_id] = hook  # the capsule's owner keeps the C data alive

    # ------------------------------------------------------------ the loop
    def run(self, ring, uint64_t max_records=2**63, double timeout_s=-1.0, uint32_t spin=2000):
        """Take records from the market ring in C without the GIL until the
        ring is closed and empty, :meth:`stop` is called, a hook stops it,
        ``max_records`` are taken, or (ring empty) ``timeout_s`` passes
        (negative: no limit).  Returns ``(taken, status)``."""
        cdef qt_ring *r = _ring_ptr(ring)
        cdef int64_t wait_ns = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef int status = QT_PL_DONE
        cdef uint64_t done = 0
        self._idle()
        self._running = True
        self._ring = ring
        try:
            with nogil:
                done = qt_pl_run(self._pl, r, max_records, wait_ns, spin, &status)
        finally:
            self._running = False
        return done, status

    def run_events(self, events):
        """Already decoded records (EVENT_DTYPE: a backfill's history, a
        log), routed exactly as from the ring.  Returns ``(taken, status)``."""
        cdef const uint8_t[::1] buf = _event_bytes(events)
        cdef uint64_t n = buf.shape[0] // 64
        cdef int status = QT_PL_DONE
        cdef uint64_t done = 0
        if n == 0:
            return 0, status
        self._idle()
        self._running = True
        try:
            with nogil:
                done = qt_pl_run_decoded(self._pl, <const qt_event *>&buf[0], n, &status)
        finally:
            self._running = False
        return done, status

    def flush(self):
        """End of stream: a record still waiting for its date is routed without it."""
        self._idle()
        return qt_pl_flush(self._pl)

    def stop(self):
        """Make a running :meth:`run` return (status STOPPED); any thread."""
        ring = self._ring
        cdef qt_ring *r = _ring_ptr(ring) if ring is not None else NULL
        qt_pl_stop(self._pl, r)

    def clear_stop(self):
        qt_pl_clear_stop(self._pl)

    def close(self):
        """No more decisions or control records: their waiting consumers return."""
        qt_pl_close(self._pl)

    # ------------------------------------------------------------ consumers
    def wait_decisions(self, uint64_t max_records=256, double timeout_s=-1.0, uint32_t spin=200):
        """Block without the GIL until decisions are posted (or the timeout,
        or :meth:`close`), then return up to ``max_records`` of them as a
        DECISION_DTYPE (DECISION_VECTOR_DTYPE) array sized to what was ready
        (usually one record: nothing large is allocated per wake-up).  One
        thread only."""
        dtype = DECISION_VECTOR_DTYPE if self.decision_vector else DECISION_DTYPE
        cdef qt_ring *r = qt_pl_decision_ring(self._pl)
        if r == NULL or max_records == 0:
            return np.empty(0, dtype=dtype)
        cdef int64_t t = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef uint64_t ready = qt_ring_available(r)
        if ready == 0 and t != 0:
            with nogil:
                ready = qt_ring_wait(r, t, spin)
        if ready > max_records:
            ready = max_records
        out = np.empty(ready, dtype=dtype)
        if ready == 0:
            return out
        cdef uint8_t[::1] raw = out.view(np.uint8).reshape(-1)
        cdef uint64_t got = qt_ring_pop(r, &raw[0], ready)
        return out[:got]

    @property
    def decisions_closed(self) -> bool:
        """Closed and every posted decision taken."""
        return bool(qt_pl_decisions_closed(self._pl))

    def wait_controls(self, double timeout_s=-1.0, uint32_t spin=0):
        """Block without the GIL until control records are ready (or the
        timeout, or :meth:`close`); returns how many are ready."""
        cdef qt_ring *r = qt_pl_control_ring(self._pl)
        cdef int64_t t = -1 if timeout_s < 0 else <int64_t>(timeout_s * 1e9)
        cdef uint64_t n
        with nogil:
            n = qt_ring_wait(r, t, spin)
        return n

    @property
    def controls_closed(self) -> bool:
        return bool(qt_ring_closed(qt_pl_control_ring(self._pl)))

    def pop_controls(self, uint64_t max_records=1024):
        """Control records ready now (decoded EVENT_DTYPE records)."""
        cdef uint64_t ready = qt_ring_available(qt_pl_control_ring(self._pl))
        out = np.empty(min(ready, max_records), dtype=EVENT_DTYPE)
        if len(out) == 0:
            return out
        cdef uint8_t[::1] raw = out.view(np.uint8).reshape(-1)
        cdef uint64_t got = qt_pl_pop_controls(self._pl, <qt_event *>&raw[0], len(out))
        return out[:got]

    # ------------------------------------------------------------ counters
    @property
    def counters(self) -> dict:
        """The loop's counters (any thread, any time)."""
        cdef qt_pl_counters c
        qt_pl_get_counters(self._pl, &c)
        return dict(records=c.records, routed=c.routed, all_instruments=c.all_instruments,
                    unknown_records=c.unknown_records, rows=c.rows, filtered=c.filtered,
                    decisions=c.decisions, decisions_dropped=c.decisions_dropped, controls=c.controls,
                    controls_dropped=c.controls_dropped, gaps=c.gaps, hook_stops=c.hook_stops,
                    dates=c.dates, bad_dates=c.bad_dates, missing_ext=c.missing_ext,
                    orphan_ext=c.orphan_ext,
                    last_unknown=None if c.last_unknown == 0xFFFFFFFF else c.last_unknown,
                    instruments=c.instruments)

    def instrument_counters(self, int instrument_id) -> dict:
        cdef qt_pl_instrument_counters c
        if not 0 <= instrument_id < ALL_INSTRUMENTS or \
                qt_pl_get_instrument_counters(self._pl, <uint16_t>instrument_id, &c) != 0:
            raise KeyError(f"instrument {instrument_id} has no engine")
        return dict(records=c.records, rows=c.rows, filtered=c.filtered, decisions=c.decisions,
                    book_suspect=bool(c.book_suspect))


# ---------------------------------------------------------------- lockstep

#: Why a Lockstep no longer waits (its ``state``).
LOCKSTEP_STATES = {QT_PL_LS_ENGAGED: "engaged", QT_PL_LS_RELEASED: "released", QT_PL_LS_TIMED_OUT: "timed_out"}
ORDER_UPDATE_SIZE = 256  # qt_order_update, the order ring's slots


cdef qt_ring *_order_ring_ptr(object ring) except NULL:
    cap = ring.capsule()
    if not PyCapsule_IsValid(cap, b"qt_ring"):
        raise TypeError("order_ring must provide a 'qt_ring' capsule")
    if ring.slot_size != ORDER_UPDATE_SIZE:
        raise ValueError(f"the order ring's slots are {ring.slot_size} bytes, not {ORDER_UPDATE_SIZE}-byte "
                         "order updates")
    return <qt_ring *>PyCapsule_GetPointer(cap, b"qt_ring")


cdef void _drop_capsule_owner(object capsule) noexcept:
    # the capsule held its Lockstep alive (the feed may call into it while installed)
    Py_XDECREF(<PyObject *>PyCapsule_GetContext(capsule))


cdef class Lockstep:
    """The backtest's gate between the replay and the decision side.

    Bound to a :class:`Pipeline`, the market ring the ProfitDLL callbacks
    fill, and optionally the order ring.  Installed in the feed
    (``quantumtrader.qtcore.profitdll.set_consumer(lockstep.capsule())``),
    every market-data callback runs the pipeline over the ring on the DLL's
    thread and, if it posted decisions, waits until :meth:`ack_decisions`
    acknowledges them; every order update waits until :meth:`ack_orders`
    acknowledges it (when an order ring is bound).  The market therefore
    stands still while Python decides and handles fills.

    A wait never outlasts ``timeout_s``: the first that does releases the
    gate for good (``state`` "timed_out", counted in ``timeouts``), as
    :meth:`release` does on purpose ("released").  Released, the callbacks
    still run the pipeline but no longer wait.  :meth:`close` also stops
    the inline runs (the pipeline is then its owner's again).  While not
    closed the pipeline counts as running: :meth:`Pipeline.run` refuses.

    Order: uninstall from the feed (``set_consumer(None)``) after
    :meth:`release`, or that call waits for the callback thread's current
    wait to time out."""

    cdef qt_pl_lockstep *_ls
    cdef Pipeline _pipeline
    cdef object _market
    cdef object _orders
    cdef readonly double timeout_s

    def __cinit__(self, Pipeline pipeline not None, market_ring, order_ring=None, double timeout_s=10.0):
        if not 0.0 < timeout_s < 1e9:
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        pipeline._idle()
        cdef qt_ring *m = _ring_ptr(market_ring)
        cdef qt_ring *o = _order_ring_ptr(order_ring) if order_ring is not None else NULL
        self._ls = qt_pl_lockstep_create(pipeline._pl, m, o, <int64_t>(timeout_s * 1e9))
        if self._ls == NULL:
            raise MemoryError("cannot create the lockstep")
        self._pipeline = pipeline
        self._market = market_ring
        self._orders = order_ring
        self.timeout_s = timeout_s
        pipeline._running = True  # the callback thread runs it from now on
        pipeline._ring = market_ring

    def __dealloc__(self):
        if self._ls != NULL:
            # never installed any more: the capsule keeps this object alive while it is
            with nogil:
                qt_pl_lockstep_close(self._ls)
            qt_pl_lockstep_destroy(self._ls)
            self._ls = NULL

    def capsule(self):
        """The feed consumer as a PyCapsule named "qt_profitdll_consumer", for
        ``quantumtrader.qtcore.profitdll.set_consumer``; it keeps this object
        alive for as long as it exists."""
        cap = PyCapsule_New(<void *>qt_pl_lockstep_consumer(self._ls), b"qt_profitdll_consumer",
                            _drop_capsule_owner)
        Py_INCREF(self)
        PyCapsule_SetContext(cap, <void *>self)
        return cap

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def ack_decisions(self, uint64_t decision_seq):
        """Every decision up to ``decision_seq`` has been handled (any larger
        value than before wakes the callback thread; smaller ones are ignored)."""
        qt_pl_lockstep_ack_decisions(self._ls, decision_seq)

    def ack_orders(self, uint64_t count):
        """``count`` order updates have been handled in total since the order
        ring was made (e.g. the ring's ``popped`` once they are handled)."""
        qt_pl_lockstep_ack_orders(self._ls, count)

    def release(self):
        """End every wait now and for good (stop, Ctrl-C, a consumer that died)."""
        qt_pl_lockstep_release(self._ls)

    @property
    def state(self) -> str:
        """"engaged", "released" (:meth:`release`) or "timed_out"."""
        return LOCKSTEP_STATES[qt_pl_lockstep_released(self._ls)]

    def drain(self):
        """Run the pipeline, on this thread without the GIL, over the records
        the market ring holds now (pushed before installing, or left at the
        end), without waiting for decisions.  For when no callback runs.
        Returns the records taken (0 once closed)."""
        cdef uint64_t n
        with nogil:
            n = qt_pl_lockstep_drain(self._ls)
        return n

    def close(self):
        """Release, and stop running the pipeline inline (returns once no
        callback is running it): the pipeline may be run, flushed and
        configured again.  Idempotent."""
        with nogil:
            qt_pl_lockstep_close(self._ls)
        self._pipeline._running = False

    @property
    def counters(self) -> dict:
        """Inline runs and records, waits (count, decisions / order updates
        waited for, total and longest wait in ns), timeouts, what was
        acknowledged and posted, and the state."""
        cdef qt_pl_lockstep_counters c
        qt_pl_lockstep_get_counters(self._ls, &c)
        return dict(inline_runs=c.inline_runs, records=c.records, stopped_runs=c.stopped_runs,
                    decision_waits=c.decision_waits, decisions_waited=c.decisions_waited,
                    order_waits=c.order_waits, order_updates_waited=c.order_updates_waited,
                    wait_ns=c.wait_ns, max_wait_ns=c.max_wait_ns, timeouts=c.timeouts,
                    decisions_acked=c.decisions_acked, decisions_posted=c.decisions_posted,
                    orders_acked=c.orders_acked, orders_pushed=c.orders_pushed,
                    state=LOCKSTEP_STATES[c.released], closed=bool(c.closed))
