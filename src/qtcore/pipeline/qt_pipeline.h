/* The live pipeline: one loop from the market ring to the decision.
 *
 * Input: the market ring exactly as the ProfitDLL callback entry points
 * (qt_profitdll_callbacks.c) fill it: 64-byte qt_event records of every
 * subscribed instrument interleaved, V1 trades, DAILY and PHASE records
 * flagged QT_F_RAW_DATE with their date string in the QT_EV_EXT record
 * after them, recv_ns set at callback entry.  One thread (the caller of
 * qt_pl_run) takes the records in ring order and, per record:
 *
 *  1. decodes it (qt_profitdll_decode: the parent of an EXT gets its exch_ns,
 *     DAILY_RANGE / DAILY_LIMITS the time of their DAILY; a parent whose
 *     EXT is still to come is held back, never reordered);
 *  2. routes it by `instrument`:
 *     - an instrument added with qt_pl_add_instrument / qt_pl_add_engine:
 *       its own qt_fe engine (own book, tick size, price unit, session
 *       hours) gets every record of that instrument, in ring order, through
 *       qt_fe_on_event, so its vectors equal bit for bit those of qt_fe_drain
 *       over that instrument's decoded records alone (the batch path);
 *     - QT_PROFITDLL_ALL_INSTRUMENTS (CONN_STATE, FEED_GAP): no engine;
 *     - any other instrument: counted (unknown_records) and dropped;
 *  3. control records (types in config.control_types; default CONN_STATE,
 *     FEED_GAP, PHASE) of a known instrument or of all instruments are also
 *     copied, decoded, into the control ring (qt_event slots) for the
 *     orchestrator: it stops entries or resubscribes without reading every
 *     market record (a known instrument's control records still go to its
 *     engine too).  A full control ring drops and counts (controls_dropped);
 *  4. at each decision point (a trade record that produced a feature row)
 *     the instrument's hook runs on this thread, without the GIL, with the
 *     decision record (instrument, trade, its exchange time, stage timestamps),
 *     the 77 features and the decoded trade record (all valid during the
 *     call only):
 *       filter(): 0 = not a decision point (the sampler), counted `filtered`;
 *       decide(): the model; writes output[] / action into the record and
 *                 returns QT_PL_POST (hand it to the decision thread),
 *                 QT_PL_STOP (stop the loop after this record; a record the
 *                 decoder released together with it is still routed), both
 *                 or 0.
 *     No filter: every row is a decision point.  No decide: QT_PL_POST.
 *     Posted records go into the decision ring (qt_pl_decision slots,
 *     optionally followed by the vector); its consumer (one thread, e.g.
 *     Python's decision thread with the GIL released) sleeps in
 *     qt_pl_wait_decision until one arrives.  A full decision ring drops and
 *     counts (decisions_dropped); `decision_seq` numbers every posted record,
 *     so the consumer sees the hole too.
 *
 * Stage timestamps (qt_monotonic_ns, the clock recv_ns is taken from):
 *   recv_ns     callback entry (set by the callback, from the record);
 *   taken_ns    the loop takes the trade record from the ring (records are
 *               peeked in batches; the clock is read when the loop reaches
 *               this record, so time queued in the ring is recv -> taken);
 *   decoded_ns  its date is decoded and it is routed;
 *   features_ns its feature vector is complete;
 *   decided_ns  filter and decide have returned (the record is then posted).
 * recv <= taken <= decoded <= features <= decided on one machine.  A trade
 * held back for its EXT across two peeks keeps the taken_ns read when the
 * loop first reached it.
 *
 * Book state: a FEED_GAP (for its instrument or all) marks the instruments'
 * books suspect until their next complete full book (SNAPSHOT_END with
 * QT_F_LAST); decisions meanwhile carry QT_PL_D_BOOK_SUSPECT.  History
 * trades carry QT_PL_D_HISTORY (backfill: never a reason to trade).
 *
 * No allocation after qt_pl_create / qt_pl_add_* (the output rings are touched
 * at creation, so posting takes no page fault); no lock; no Python.
 * Threads: qt_pl_run, qt_pl_run_decoded and qt_pl_flush on one thread (the
 * loop); qt_pl_wait_decision on one other (the decision consumer);
 * qt_pl_pop_controls on one (the control consumer); qt_pl_stop and the
 * counters from any thread.  Adding instruments, setting hooks, reading an
 * engine (its counters, its book) and qt_pl_destroy only while the loop is
 * not running. */
#ifndef QT_PIPELINE_H
#define QT_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/qt_atomic.h"
#include "market/qt_events.h"
#include "features/qt_features.h"
#include "profitdll/qt_profitdll_decode.h"
#include "profitdll/qt_profitdll_feed.h"
#include "market/qt_ring.h"

#define QT_PL_MAX_INSTRUMENTS QT_PROFITDLL_MAX_INSTRUMENTS
#define QT_PL_OUTPUTS 3 /* model outputs a decision record carries */

/* Decision record: what crosses from the loop to the decision thread.
 * QT_PL_DECISION_SIZE bytes, followed in the ring slot by the 77 features
 * (QT_PL_VECTOR_SIZE bytes) when config.decision_vector is set. */
#define QT_PL_DECISION_SIZE 128
#define QT_PL_VECTOR_SIZE (QT_FE_NUM_FEATURES * 8) /* 77 doubles */

enum qt_pl_decision_flags {
    QT_PL_D_HISTORY = 1u << 0,      /* the trade came from a history request */
    QT_PL_D_BOOK_SUSPECT = 1u << 1, /* a feed gap since the last complete full book */
};

typedef struct qt_pl_decision {
    uint16_t instrument;
    uint8_t trade_flags; /* qt_event.flags of the trade */
    uint8_t flags;       /* qt_pl_decision_flags */
    uint32_t ring_stamp; /* owned by the decision ring (qt_ring publishes through bytes 4..7) */
    uint64_t decision_seq; /* 1, 2, ... per pipeline, set when posted (0 inside the hook) */
    uint64_t seq;          /* the trade record's ring sequence number */
    int64_t trade_number;  /* the trade's `ref` */
    int64_t exch_ns;       /* the trade's exchange time as decoded (UTC ns; QT_TIME_NONE: none) */
    int64_t price;         /* trade price, price units */
    int32_t qty;
    int16_t action;        /* set by decide(): the model's action code (0 = none) */
    uint8_t trade_type;    /* qt_event.code of the trade */
    uint8_t _pad;
    uint64_t row;          /* rows of this instrument in this pipeline, this one included */
    int64_t recv_ns;
    int64_t taken_ns;
    int64_t decoded_ns;
    int64_t features_ns;
    int64_t decided_ns;
    double output[QT_PL_OUTPUTS]; /* set by decide(): model outputs */
} qt_pl_decision;

_Static_assert(sizeof(qt_pl_decision) == QT_PL_DECISION_SIZE, "decision record size");
_Static_assert(offsetof(qt_pl_decision, ring_stamp) == 4, "layout: the ring's bytes");
_Static_assert(offsetof(qt_pl_decision, decision_seq) == 8, "layout");
_Static_assert(offsetof(qt_pl_decision, action) == 52, "layout");
_Static_assert(offsetof(qt_pl_decision, row) == 56, "layout");
_Static_assert(offsetof(qt_pl_decision, recv_ns) == 64, "layout");
_Static_assert(offsetof(qt_pl_decision, output) == 104, "layout");

enum qt_pl_hook_result { QT_PL_SKIP = 0, QT_PL_POST = 1, QT_PL_STOP = 2 };

/* filter: 1 if this row is a decision point.  decide: QT_PL_POST and/or
 * QT_PL_STOP bits.  `d` is filled up to features_ns; `features` holds 77
 * values and `trade` the decoded trade, valid during the call only. */
typedef int (*qt_pl_filter_fn)(void *user, const qt_pl_decision *d, const double *features,
                               const qt_event *trade);
typedef int (*qt_pl_decide_fn)(void *user, qt_pl_decision *d, const double *features,
                               const qt_event *trade);

typedef struct qt_pl_hook {
    qt_pl_filter_fn filter; /* NULL: every row is a decision point */
    void *filter_user;
    qt_pl_decide_fn decide; /* NULL: post every decision point */
    void *decide_user;
} qt_pl_hook;

typedef struct qt_pl_config {
    int32_t utc_offset_min;     /* of the DLL's date strings (Sao Paulo: -180) */
    uint64_t decision_capacity; /* decision ring slots (0: no ring; posts are counted only) */
    int decision_vector;        /* decision slots carry the 77 features after the record */
    uint64_t control_capacity;  /* control ring slots (0: 4096) */
    uint32_t control_types;     /* bit (1 << qt_event_type) per type sent; 0: CONN_STATE|FEED_GAP|PHASE */
    uint32_t batch;             /* records peeked per step (0: 256) */
} qt_pl_config;

#define QT_PL_CONTROL_DEFAULT \
    ((1u << QT_EV_CONN_STATE) | (1u << QT_EV_FEED_GAP) | (1u << QT_EV_PHASE))

typedef struct qt_pl_counters {
    uint64_t records;           /* records taken from the market ring (EXT included) */
    uint64_t routed;            /* decoded records given to an engine */
    uint64_t all_instruments;   /* decoded records for all instruments */
    uint64_t unknown_records;   /* records of an instrument without an engine: dropped */
    uint64_t rows;              /* feature rows (all instruments) */
    uint64_t filtered;          /* rows the filter said were not decision points */
    uint64_t decisions;         /* decisions posted (decide said QT_PL_POST) */
    uint64_t decisions_dropped; /* of which the full decision ring refused */
    uint64_t controls;          /* control records sent */
    uint64_t controls_dropped;  /* of which the full control ring refused */
    uint64_t gaps;              /* FEED_GAP records seen */
    uint64_t hook_stops;        /* decide asked to stop */
    uint64_t dates;             /* decoder: dates parsed */
    uint64_t bad_dates;         /* decoder: EXT text not a date (parent kept undated) */
    uint64_t missing_ext;       /* decoder: RAW_DATE parent without its EXT */
    uint64_t orphan_ext;        /* decoder: EXT without a parent, dropped */
    uint32_t last_unknown;      /* instrument id of the last unknown record (0xFFFFFFFF: none) */
    uint32_t instruments;       /* engines */
} qt_pl_counters;

/* Per instrument (by id), as the loop counts them. */
typedef struct qt_pl_instrument_counters {
    uint64_t records;   /* records given to its engine */
    uint64_t rows;      /* feature rows */
    uint64_t filtered;
    uint64_t decisions; /* posted */
    int book_suspect;   /* a gap since its last complete full book */
} qt_pl_instrument_counters;

typedef enum qt_pl_status {
    QT_PL_DONE = 0,    /* max_records taken */
    QT_PL_STOPPED = 1, /* a hook or qt_pl_stop asked to stop */
    QT_PL_CLOSED = 2,  /* the market ring is closed and empty */
    QT_PL_IDLE = 3,    /* nothing arrived within the wait */
} qt_pl_status;

typedef struct qt_pl qt_pl;

/* NULL on bad configuration or no memory. */
qt_pl *qt_pl_create(const qt_pl_config *cfg);
/* Frees the pipeline, its rings and the engines it created (not borrowed ones). */
void qt_pl_destroy(qt_pl *pl);

/* An engine for instrument `id` created from cfg (owned).  0; -1 bad id or
 * config; -2 table full (QT_PL_MAX_INSTRUMENTS); -3 id already present. */
int qt_pl_add_instrument(qt_pl *pl, uint16_t id, const qt_fe_config *cfg);
/* The same with an engine the caller owns and keeps alive (borrowed). */
int qt_pl_add_engine(qt_pl *pl, uint16_t id, qt_fe *fe);
/* The engine of `id`, or NULL. */
qt_fe *qt_pl_engine(qt_pl *pl, uint16_t id);
/* Hook of instrument `id`, or of every instrument (present and later
 * added) with QT_PROFITDLL_ALL_INSTRUMENTS.  NULL hook: the default (post every
 * row).  0, or -1 for an unknown id. */
int qt_pl_set_hook(qt_pl *pl, uint16_t id, const qt_pl_hook *hook);

/* Take records from `market` (64-byte slots) until max_records are taken,
 * a hook or qt_pl_stop stops it, the ring is closed and empty, or (ring
 * empty) wait_ns passes (<0: no limit; 0: return at once).  Returns the
 * records taken; *status a qt_pl_status. */
uint64_t qt_pl_run(qt_pl *pl, qt_ring *market, uint64_t max_records, int64_t wait_ns,
                   uint32_t spin_iters, int *status);
/* Already decoded records (history from a backfill, a test's stream):
 * routed exactly as from the ring, no decoding, taken_ns = decoded_ns =
 * the moment each is reached. */
uint64_t qt_pl_run_decoded(qt_pl *pl, const qt_event *ev, uint64_t n, int *status);
/* End of stream: a parent still waiting for its EXT is routed without its
 * date (counted missing_ext).  Returns 0 or 1 records routed. */
uint64_t qt_pl_flush(qt_pl *pl);
/* Ask a running qt_pl_run to return (QT_PL_STOPPED) from any thread: after
 * the records it has already peeked (at most config.batch), or within 20 ms
 * when it is waiting on an empty ring (a wait is cut into 20 ms slices).
 * `market`: the ring it runs on (woken, harmlessly) or NULL. */
void qt_pl_stop(qt_pl *pl, qt_ring *market);
/* Clear a stop request (before running again). */
void qt_pl_clear_stop(qt_pl *pl);
/* No more decisions or control records: wakes their consumers for good. */
void qt_pl_close(qt_pl *pl);

/* Decision consumer: wait until a decision is ready, the rings are closed,
 * or timeout_ns passes (<0: no limit); then copy up to max slots into out
 * (qt_pl_decision_slot_size bytes each).  Returns how many were copied. */
uint64_t qt_pl_wait_decision(qt_pl *pl, void *out, uint64_t max, int64_t timeout_ns,
                             uint32_t spin_iters);
uint32_t qt_pl_decision_slot_size(const qt_pl *pl);
/* decision_seq of the last decision the decision ring accepted (0: none):
 * what a consumer can acknowledge at most (a dropped one never reaches it). */
uint64_t qt_pl_posted_seq(const qt_pl *pl);
int qt_pl_decisions_closed(qt_pl *pl); /* closed and empty */
/* Control consumer: up to max decoded qt_event records, without waiting. */
uint64_t qt_pl_pop_controls(qt_pl *pl, qt_event *out, uint64_t max);
/* The rings themselves (to wait on them, e.g. qt_ring_wait on controls). */
qt_ring *qt_pl_decision_ring(qt_pl *pl);
qt_ring *qt_pl_control_ring(qt_pl *pl);

void qt_pl_get_counters(const qt_pl *pl, qt_pl_counters *out);
/* 0, or -1 for an unknown id. */
int qt_pl_get_instrument_counters(const qt_pl *pl, uint16_t id, qt_pl_instrument_counters *out);

#endif
