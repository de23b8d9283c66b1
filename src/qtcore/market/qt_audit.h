/* Book audit: runs an event stream through a price book and checks the
 * market it describes is consistent, the check behind `quantumtrader audit`
 * and the demo.  A consistent market executes every trade at or inside the
 * touch of the book as it stood just before the trade, and no complete book
 * event leaves the book crossed.
 *
 * The audit reads the book only between records, so it sees the state a
 * trade met; partial L2 messages (records without QT_F_LAST) are not judged.
 * Accumulates over calls: feed a long log chunk by chunk. */
#ifndef QT_AUDIT_H
#define QT_AUDIT_H

#include <stdint.h>

#include "market/qt_book.h"
#include "market/qt_events.h"

typedef struct qt_audit_stats {
    uint64_t records;
    uint64_t by_type[QT_EV__COUNT];
    /* trades of the live stream (not edits, not after-hours, not flagged invalid) */
    uint64_t trades;
    uint64_t trade_qty;
    double trade_notional;       /* sum price * qty, price units (for the VWAP) */
    uint64_t trades_at_touch;    /* price == best bid or best ask */
    uint64_t trades_inside;      /* best bid < price < best ask */
    uint64_t trades_outside;     /* price outside [best bid, best ask]: inconsistent */
    uint64_t trades_without_book; /* a side was empty: not judged */
    uint64_t trades_skipped;     /* edits, after-hours, flagged or priceless trades */
    int64_t first_outside_index; /* record index (over all calls) of the first outside trade, -1 */
    int64_t price_min, price_max; /* QT_PRICE_NONE before the first trade */
    int64_t first_exch_ns, last_exch_ns; /* QT_TIME_NONE when the stream has no exchange time */
    /* book */
    uint64_t book_events;  /* complete book events that changed the book */
    uint64_t book_rejects; /* book records the book refused */
    uint64_t crossed_events; /* book events after which best bid > best ask */
    uint64_t locked_events;  /* ... best bid == best ask */
    int64_t first_crossed_index; /* -1 */
    uint64_t spread_samples;     /* book events with both sides present, not crossed */
    int64_t spread_sum;          /* in price units, over those samples */
    int64_t spread_max;
} qt_audit_stats;

void qt_audit_stats_init(qt_audit_stats *st);

/* Applies ev[0..n) to the book in order and accumulates into st.  Runs
 * without touching Python; returns the number of records processed (n). */
uint64_t qt_audit_apply(qt_book *book, const qt_event *ev, uint64_t n, qt_audit_stats *st);

#endif
