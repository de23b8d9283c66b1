/* The feature engine's drain loop (qt_fe_drain, qt_fe_drain_ring): records
 * from an array or the market ring through the engine into the caller's
 * sink, the decision hook called at each decision point.  See qt_features.h
 * for the contract. */
#include <string.h>

#include "platform/qt_atomic.h"
#include "features/qt_fe_internal.h"
#include "market/qt_ring.h"

enum { ONE_TAKEN = 0, ONE_STOP = 1, ONE_FULL = 2 };

/* One record through the engine into the sink: ONE_TAKEN, ONE_STOP (taken,
 * and the hook asked to stop) or ONE_FULL (a trade while the matrix is
 * full: not taken, so no row is ever lost).  The latency clock starts when
 * the record is taken. */
static inline int drain_one(qt_fe *fe, const qt_event *ev, qt_fe_sink *s) {
    if (ev->type != QT_EV_TRADE) {
        qt_fe_on_event(fe, ev, NULL);
        return ONE_TAKEN;
    }
    if (s->matrix && s->rows >= s->capacity) return ONE_FULL;
    int64_t t0 = s->lat_ns && s->lat_n < s->lat_cap ? qt_monotonic_ns() : 0;
    uint64_t row = fe->c.rows;
    int keep = s->matrix && s->every && row % s->every == 0;
    double *out = keep ? s->matrix + s->rows * QT_FE_NUM_FEATURES : fe->scratch;
    if (!qt_fe_on_trade(fe, ev, out)) return ONE_TAKEN;
    if (t0) s->lat_ns[s->lat_n++] = qt_monotonic_ns() - t0;
    if (keep) {
        if (s->ts) s->ts[s->rows] = fe->latest_ts;
        if (s->trade_number) s->trade_number[s->rows] = ev->ref;
        if (s->price) s->price[s->rows] = ev->price;
        s->rows++;
    }
    return s->hook && s->hook(s->user, out, ev, fe->latest_ts) != 0 ? ONE_STOP : ONE_TAKEN;
}

size_t qt_fe_drain(qt_fe *fe, const qt_event *ev, size_t n, qt_fe_sink *sink, int *status) {
    qt_fe_sink none;
    if (!sink) {
        memset(&none, 0, sizeof none);
        sink = &none;
    }
    size_t i = 0;
    int st = QT_FE_DRAIN_DONE;
    for (; i < n; i++) {
        int r = drain_one(fe, &ev[i], sink);
        if (r == ONE_TAKEN) continue;
        if (r == ONE_STOP) {
            i++;
            st = QT_FE_DRAIN_STOPPED;
        } else {
            st = QT_FE_DRAIN_FULL;
        }
        break;
    }
    if (status) *status = st;
    return i;
}

#define DRAIN_BATCH 256

uint64_t qt_fe_drain_ring(qt_fe *fe, qt_ring *ring, qt_fe_sink *sink, uint64_t max_events, int64_t wait_ns,
                          uint32_t spin_iters, int *status) {
    qt_fe_sink none;
    if (!sink) {
        memset(&none, 0, sizeof none);
        sink = &none;
    }
    uint64_t done = 0;
    int st = QT_FE_DRAIN_DONE;
    while (done < max_events) {
        uint64_t k = max_events - done < DRAIN_BATCH ? max_events - done : DRAIN_BATCH;
        const qt_event *ev = (const qt_event *)qt_ring_peek(ring, &k);
        if (k == 0) {
            if (qt_ring_closed(ring) && qt_ring_available(ring) == 0) {
                st = QT_FE_DRAIN_CLOSED;
                break;
            }
            if (wait_ns == 0 || qt_ring_wait(ring, wait_ns, spin_iters) == 0) {
                if (qt_ring_closed(ring) && qt_ring_available(ring) == 0) st = QT_FE_DRAIN_CLOSED;
                else if (wait_ns >= 0) st = QT_FE_DRAIN_IDLE;
                else continue; /* woken without a record: wait again */
                break;
            }
            continue;
        }
        uint64_t i = 0;
        int r = ONE_TAKEN;
        for (; i < k; i++) {
            r = drain_one(fe, &ev[i], sink);
            if (r == ONE_STOP) i++;
            if (r != ONE_TAKEN) break;
        }
        qt_ring_release(ring, i);
        done += i;
        if (r != ONE_TAKEN) {
            st = r == ONE_STOP ? QT_FE_DRAIN_STOPPED : QT_FE_DRAIN_FULL;
            break;
        }
    }
    if (status) *status = st;
    return done;
}
