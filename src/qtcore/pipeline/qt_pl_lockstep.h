/* Lockstep: the gate that makes a full-speed backtest deterministic.
 *
 * A backtest replays a log through the ProfitDLL simulator as fast as the
 * callbacks return.  With the pipeline on its own thread (qt_pl_run) and the
 * decisions handled by a Python thread, the replay runs ahead of them and
 * where an order lands depends on timing.  A lockstep object, installed as
 * the feed's consumer (qt_profitdll_feed_set_consumer with
 * qt_pl_lockstep_consumer), makes the callback thread itself the pipeline's
 * loop and holds it until the decision side has caught up:
 *
 *  after_market (the end of every market-data callback that staged records,
 *  outside the feed lock, on the callback thread):
 *    1. runs the pipeline inline over the market ring until the ring is
 *       empty: qt_pl_run(pl, market, UINT64_MAX, 0, 0, &status);
 *    2. if the decision ring has accepted decisions beyond the acknowledged
 *       one (qt_pl_posted_seq > acknowledged decision_seq), waits until the
 *       decision consumer acknowledges them (qt_pl_lockstep_ack_decisions),
 *       so the market does not move while the decisions are being made.
 *  after_order (after every update pushed to the order ring): when an order
 *    ring is bound, waits until the order consumer has acknowledged as many
 *    updates as the ring has accepted in total (qt_pl_lockstep_ack_orders
 *    with the count handled so far, e.g. the ring's popped count once the
 *    popped updates are handled).
 *
 * Waits sleep on the platform's wait/wake (qt_wait_u32), never spin.  They
 * end when the acknowledgement arrives, or for good when the gate is
 * released: qt_pl_lockstep_release (stop, Ctrl-C, a consumer that died), or
 * a single wait longer than timeout_ns, which releases the gate, is counted
 * (timeouts) and reported (released = QT_PL_LS_TIMED_OUT).  A released gate
 * still runs the pipeline inline at every callback (someone has to take the
 * records) but never waits again; the callback thread never hangs forever.
 * qt_pl_lockstep_close also stops the inline runs, after which the
 * pipeline belongs to its owner again.
 *
 * Acknowledgements are monotonic: a smaller value than one already given is
 * ignored.  A decision the full decision ring dropped is never waited for
 * (qt_pl_posted_seq names the last accepted one).
 *
 * Threads: after_market / after_order on the callback thread (calls from a
 * second thread are safe: inline runs take turns under a lock); ack_decisions on the decision consumer; ack_orders on the order
 * consumer; release, drain, close and the counters from any thread.  While a
 * lockstep is not closed, nothing else may run the pipeline (qt_pl_run,
 * qt_pl_run_decoded, qt_pl_flush).  Remove the consumer from the feed before
 * destroying the lockstep; create and destroy only while not installed.  No
 * allocation after create; no Python. */
#ifndef QT_PL_LOCKSTEP_H
#define QT_PL_LOCKSTEP_H

#include <stdint.h>

#include "pipeline/qt_pipeline.h"
#include "profitdll/qt_profitdll_feed.h"
#include "market/qt_ring.h"

#define QT_PL_LS_DEFAULT_TIMEOUT_NS 10000000000LL /* 10 s */

/* qt_pl_lockstep_counters.released */
enum qt_pl_ls_released { QT_PL_LS_ENGAGED = 0, QT_PL_LS_RELEASED = 1, QT_PL_LS_TIMED_OUT = 2 };

typedef struct qt_pl_lockstep_counters {
    uint64_t inline_runs;          /* pipeline runs on the callback thread (and drains) */
    uint64_t records;              /* records those runs took from the market ring */
    uint64_t stopped_runs;         /* runs that ended STOPPED (qt_pl_stop or a hook) */
    uint64_t decision_waits;       /* after_market calls that waited for decisions */
    uint64_t decisions_waited;     /* decisions those waits were for */
    uint64_t order_waits;          /* after_order calls that waited */
    uint64_t order_updates_waited; /* order updates those waits were for */
    uint64_t wait_ns;              /* total time the callback thread waited */
    uint64_t max_wait_ns;          /* longest single wait */
    uint64_t timeouts;             /* waits that hit the timeout (the first releases the gate) */
    uint64_t decisions_acked;      /* highest decision_seq acknowledged */
    uint64_t orders_acked;         /* order updates acknowledged */
    uint64_t decisions_posted;     /* qt_pl_posted_seq */
    uint64_t orders_pushed;        /* order updates the bound order ring accepted */
    int32_t released;              /* qt_pl_ls_released */
    int32_t closed;
} qt_pl_lockstep_counters;

typedef struct qt_pl_lockstep qt_pl_lockstep;

/* Bound to `pl` and the market ring it runs on (64-byte slots), and
 * optionally the order ring (NULL: after_order never waits).  timeout_ns:
 * the longest single wait (> 0).  NULL on bad arguments or no memory. */
qt_pl_lockstep *qt_pl_lockstep_create(qt_pl *pl, qt_ring *market, qt_ring *orders, int64_t timeout_ns);
/* Only once removed from the feed (qt_profitdll_feed_set_consumer returned). */
void qt_pl_lockstep_destroy(qt_pl_lockstep *ls);

/* The consumer to install in the feed (lives inside the lockstep). */
const qt_profitdll_consumer *qt_pl_lockstep_consumer(qt_pl_lockstep *ls);
/* The consumer's functions (user = the lockstep), for callers that drive
 * them without the feed. */
void qt_pl_lockstep_after_market(void *ls);
void qt_pl_lockstep_after_order(void *ls);

/* Every decision up to `decision_seq` has been handled. */
void qt_pl_lockstep_ack_decisions(qt_pl_lockstep *ls, uint64_t decision_seq);
/* `count` order updates have been handled in total (since the ring was made). */
void qt_pl_lockstep_ack_orders(qt_pl_lockstep *ls, uint64_t count);

/* End every wait now and for good (idempotent). */
void qt_pl_lockstep_release(qt_pl_lockstep *ls);
/* qt_pl_ls_released. */
int qt_pl_lockstep_released(const qt_pl_lockstep *ls);
/* Run the pipeline over the records the market ring holds now, on the
 * calling thread, without waiting for decisions: the records pushed before
 * the consumer was installed, or left when the replay ended.  Meant for when
 * no callback runs (a callback meanwhile waits for its turn, and does not
 * wait for the decisions this posts).  Returns the records taken (0 once
 * closed). */
uint64_t qt_pl_lockstep_drain(qt_pl_lockstep *ls);
/* Release, then stop the inline runs: returns once none is in progress;
 * from then on the callbacks only pass through.  Idempotent. */
void qt_pl_lockstep_close(qt_pl_lockstep *ls);

void qt_pl_lockstep_get_counters(const qt_pl_lockstep *ls, qt_pl_lockstep_counters *out);

#endif
