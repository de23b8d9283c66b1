# Typed interface of the live pipeline (qt_pipeline.h), cimported by
# pipeline.pyx (the module's name is qualified, so Cython does not pick this file up
# by itself).
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from events cimport qt_event
from features cimport qt_fe
from ring cimport qt_ring


cdef extern from "pipeline/qt_pipeline.h" nogil:
    enum: QT_PL_MAX_INSTRUMENTS
    enum: QT_PL_OUTPUTS
    enum: QT_PL_DECISION_SIZE
    enum: QT_PL_VECTOR_SIZE
    enum: QT_PL_CONTROL_DEFAULT
    enum: QT_PL_D_HISTORY
    enum: QT_PL_D_BOOK_SUSPECT
    enum: QT_PL_SKIP
    enum: QT_PL_POST
    enum: QT_PL_STOP
    enum: QT_PL_DONE
    enum: QT_PL_STOPPED
    enum: QT_PL_CLOSED
    enum: QT_PL_IDLE

    ctypedef struct qt_pl_decision:
        uint16_t instrument
        uint8_t trade_flags
        uint8_t flags
        uint64_t decision_seq
        uint64_t seq
        int64_t trade_number
        int64_t exch_ns
        int64_t price
        int32_t qty
        int16_t action
        uint8_t trade_type
        uint64_t row
        int64_t recv_ns
        int64_t taken_ns
        int64_t decoded_ns
        int64_t features_ns
        int64_t decided_ns
        double output[3]

    ctypedef int (*qt_pl_filter_fn)(void *user, const qt_pl_decision *d, const double *features,
                                    const qt_event *trade) noexcept
    ctypedef int (*qt_pl_decide_fn)(void *user, qt_pl_decision *d, const double *features,
                                    const qt_event *trade) noexcept
    ctypedef struct qt_pl_hook:
        qt_pl_filter_fn filter
        void *filter_user
        qt_pl_decide_fn decide
        void *decide_user

    ctypedef struct qt_pl_config:
        int32_t utc_offset_min
        uint64_t decision_capacity
        int decision_vector
        uint64_t control_capacity
        uint32_t control_types
        uint32_t batch

    ctypedef struct qt_pl_counters:
        uint64_t records, routed, all_instruments, unknown_records, rows, filtered, decisions
        uint64_t decisions_dropped, controls, controls_dropped, gaps, hook_stops, dates
        uint64_t bad_dates, missing_ext, orphan_ext
        uint32_t last_unknown, instruments

    ctypedef struct qt_pl_instrument_counters:
        uint64_t records, rows, filtered, decisions
        int book_suspect

    ctypedef struct qt_pl:
        pass

    qt_pl *qt_pl_create(const qt_pl_config *cfg)
    void qt_pl_destroy(qt_pl *pl)
    int qt_pl_add_engine(qt_pl *pl, uint16_t id, qt_fe *fe)
    qt_fe *qt_pl_engine(qt_pl *pl, uint16_t id)
    int qt_pl_set_hook(qt_pl *pl, uint16_t id, const qt_pl_hook *hook)
    uint64_t qt_pl_run(qt_pl *pl, qt_ring *market, uint64_t max_records, int64_t wait_ns,
                       uint32_t spin_iters, int *status)
    uint64_t qt_pl_run_decoded(qt_pl *pl, const qt_event *ev, uint64_t n, int *status)
    uint64_t qt_pl_flush(qt_pl *pl)
    void qt_pl_stop(qt_pl *pl, qt_ring *market)
    void qt_pl_clear_stop(qt_pl *pl)
    void qt_pl_close(qt_pl *pl)
    uint64_t qt_pl_wait_decision(qt_pl *pl, void *out, uint64_t max, int64_t timeout_ns,
                                 uint32_t spin_iters)
    uint32_t qt_pl_decision_slot_size(const qt_pl *pl)
    int qt_pl_decisions_closed(qt_pl *pl)
    uint64_t qt_pl_pop_controls(qt_pl *pl, qt_event *out, uint64_t max)
    qt_ring *qt_pl_decision_ring(qt_pl *pl)
    qt_ring *qt_pl_control_ring(qt_pl *pl)
    uint64_t qt_pl_posted_seq(const qt_pl *pl)
    void qt_pl_get_counters(const qt_pl *pl, qt_pl_counters *out)
    int qt_pl_get_instrument_counters(const qt_pl *pl, uint16_t id, qt_pl_instrument_counters *out)



cdef extern from "pipeline/qt_pl_lockstep.h" nogil:
    enum: QT_PL_LS_ENGAGED
    enum: QT_PL_LS_RELEASED
    enum: QT_PL_LS_TIMED_OUT

    ctypedef struct qt_pl_lockstep_counters:
        uint64_t inline_runs, records, stopped_runs, decision_waits, decisions_waited, order_waits
        uint64_t order_updates_waited, wait_ns, max_wait_ns, timeouts, decisions_acked, orders_acked
        uint64_t decisions_posted, orders_pushed
        int32_t released, closed

    ctypedef struct qt_pl_lockstep:
        pass

    # the feed's consumer (qt_profitdll_feed.h), only passed on as a pointer here
    ctypedef struct qt_profitdll_consumer:
        pass

    qt_pl_lockstep *qt_pl_lockstep_create(qt_pl *pl, qt_ring *market, qt_ring *orders, int64_t timeout_ns)
    void qt_pl_lockstep_destroy(qt_pl_lockstep *ls)
    const qt_profitdll_consumer *qt_pl_lockstep_consumer(qt_pl_lockstep *ls)
    void qt_pl_lockstep_ack_decisions(qt_pl_lockstep *ls, uint64_t decision_seq)
    void qt_pl_lockstep_ack_orders(qt_pl_lockstep *ls, uint64_t count)
    void qt_pl_lockstep_release(qt_pl_lockstep *ls)
    int qt_pl_lockstep_released(const qt_pl_lockstep *ls)
    uint64_t qt_pl_lockstep_drain(qt_pl_lockstep *ls)
    void qt_pl_lockstep_close(qt_pl_lockstep *ls)
    void qt_pl_lockstep_get_counters(const qt_pl_lockstep *ls, qt_pl_lockstep_counters *out)
