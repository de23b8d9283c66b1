/* L2 price book of one instrument: two sides of aggregated levels (price in
 * integer price units, quantity, order count), fed by event records.
 *
 * Three ways in, all through qt_book_apply():
 * - QT_EV_PRICE_BOOK: a ProfitDLL PriceBook action.  Positions count from
 *   the END of a side's list, which is kept worst-to-best, so position 0 is
 *   the best level: add inserts at index size - position (0 <= position <=
 *   size), edit/delete act on index size - position - 1, delete-from keeps
 *   size - position - 1 entries.  Positions are authoritative (the DLL keeps
 *   the order), but an add whose price would break the side's strict price
 *   order is rejected, so the by-price lookup of the L2 path stays valid.
 * - QT_EV_SNAPSHOT_BEGIN (side 0, 1 or 2 = both), QT_EV_L2_LEVEL records in
 *   any order, QT_EV_SNAPSHOT_END: a full book, built into staging and
 *   swapped in at the END flagged QT_F_LAST, so the visible book is never
 *   half built even when the full book spans several packets.
 * - QT_EV_L2_LEVEL outside a snapshot: level update of imported data (qty is
 *   the new aggregated quantity, 0 deletes the level); the records of one
 *   exchange message end with the one flagged QT_F_LAST.
 *
 * Every side is an array ordered worst-to-best inside a buffer twice the
 * capacity, with free room at both ends: an insert or delete moves the
 * shorter part of the array (the `position` entries above it for the usual
 * near-top DLL action), so operations at either end are O(1); when the
 * array drifts to an end of its buffer it is recentred once (amortised O(1)).
 *
 * Capacity is fixed at creation and never grows: an insert beyond it is
 * rejected and counted.  No allocation happens after qt_book_create, so the
 * apply path has a bounded cost and cannot fail for lack of memory.
 *
 * A book belongs to one thread; nothing here is synchronised. */
#ifndef QT_BOOK_H
#define QT_BOOK_H

#include <stdint.h>

#include "market/qt_events.h"

#define QT_BOOK_DEFAULT_CAPACITY 4096u
#define QT_BOOK_MAX_CAPACITY (1u << 22)

/* What qt_book_apply did, as bits; the reject reason sits in bits 8..15. */
enum qt_book_result {
    QT_BOOK_APPLIED = 1u << 0,  /* the record was accepted (it may change nothing) */
    QT_BOOK_REJECTED = 1u << 1, /* the record was refused; the book is unchanged */
    /* a book event ended here: a PRICE_BOOK record, the QT_F_LAST record of
     * an L2 message or the final SNAPSHOT_END, that changed at least one level */
    QT_BOOK_EVENT = 1u << 2,
};
#define QT_BOOK_REASON_SHIFT 8
#define QT_BOOK_REASON(result) (((result) >> QT_BOOK_REASON_SHIFT) & 0xffu)

typedef enum qt_book_reject {
    QT_BOOK_REJ_NONE = 0,
    QT_BOOK_REJ_FLAGGED = 1,   /* the producer flagged the record QT_F_INVALID */
    QT_BOOK_REJ_SIDE = 2,      /* side not 0/1 (0/1/2 for SNAPSHOT_BEGIN) */
    QT_BOOK_REJ_ACTION = 3,    /* PRICE_BOOK action not add/edit/delete/delete-from */
    QT_BOOK_REJ_POSITION = 4,  /* position out of range for the side's size */
    QT_BOOK_REJ_QTY = 5,       /* negative qty or count; qty <= 0 in add/edit */
    QT_BOOK_REJ_PRICE = 6,     /* QT_PRICE_NONE where a price is needed */
    QT_BOOK_REJ_TICK = 7,      /* price not a multiple of tick_units */
    QT_BOOK_REJ_ORDER = 8,     /* add would break the side's strict price order */
    QT_BOOK_REJ_CAPACITY = 9,  /* insert into a full side */
    QT_BOOK_REJ_SEQUENCE = 10, /* SNAPSHOT_END with no snapshot open, or an L2
                                  record of a side the open snapshot excludes */
    QT_BOOK_REJ__COUNT
} qt_book_reject;

typedef struct qt_book_counters {
    uint64_t applied;     /* book records accepted */
    uint64_t rejected;    /* book records refused (sum of rejected_by) */
    uint64_t ignored;     /* records of other types */
    uint64_t book_events; /* complete book events that changed a level */
    uint64_t snapshots;   /* full books completed (swapped in) */
    uint64_t snapshots_abandoned; /* open full books dropped by a new BEGIN or clear */
    uint64_t rejected_by[QT_BOOK_REJ__COUNT]; /* per qt_book_reject; [0] unused */
} qt_book_counters;

/* Best prices and their quantities in one call (what the features read after
 * every book event).  An empty side has price QT_PRICE_NONE and qty 0. */
typedef struct qt_book_quote {
    int64_t bid, ask;
    int64_t bid_qty, ask_qty;
    uint32_t bid_levels, ask_levels;
} qt_book_quote;

enum qt_book_state_bits {
    QT_BOOK_VALID = 1u << 0,   /* both sides non-empty and best bid < best ask */
    QT_BOOK_LOCKED = 1u << 1,  /* both non-empty, best bid == best ask */
    QT_BOOK_CROSSED = 1u << 2, /* both non-empty, best bid > best ask */
};

typedef struct qt_book qt_book;

/* tick_units >= 1: every price must be a multiple of it.  capacity: levels
 * per side, 1..QT_BOOK_MAX_CAPACITY (0 = QT_BOOK_DEFAULT_CAPACITY).  NULL on
 * bad arguments or no memory. */
qt_book *qt_book_create(int64_t tick_units, uint32_t capacity);
void qt_book_destroy(qt_book *b);

/* Apply one record; returns qt_book_result bits (0 for ignored types). */
unsigned qt_book_apply(qt_book *b, const qt_event *ev);
/* Apply n records in order; returns how many book events they completed. */
uint64_t qt_book_apply_n(qt_book *b, const qt_event *ev, uint64_t n);

/* Empty both sides and drop any open full book or L2 message (session
 * reset).  Counters are kept. */
void qt_book_clear(qt_book *b);

/* side: QT_SIDE_BUY / QT_SIDE_SELL; any other side reads as empty. */
int64_t qt_book_best_price(const qt_book *b, int side); /* QT_PRICE_NONE if empty */
int64_t qt_book_best_qty(const qt_book *b, int side);   /* 0 if empty */
uint32_t qt_book_size(const qt_book *b, int side);
void qt_book_get_quote(const qt_book *b, qt_book_quote *out);
/* Copy the best min(n, size) levels, best first; counts may be NULL.
 * Returns how many were copied. */
uint32_t qt_book_levels(const qt_book *b, int side, uint32_t n, int64_t *prices, int64_t *qtys,
                        int32_t *counts);
/* Summed qty of the best min(n, size) levels. */
int64_t qt_book_depth(const qt_book *b, int side, uint32_t n);
unsigned qt_book_state(const qt_book *b); /* qt_book_state_bits */

void qt_book_get_counters(const qt_book *b, qt_book_counters *out);
int qt_book_in_snapshot(const qt_book *b); /* sides being rebuilt: bit 0 bids, bit 1 asks */
int64_t qt_book_tick_units(const qt_book *b);
uint32_t qt_book_capacity(const qt_book *b);
/* The most levels `side` has held since creation, a full book being built
 * included (what a book of this stream needs as capacity; kept by clear).
 * Levels refused for capacity are not counted: with rejected_by[CAPACITY]
 * > 0 the stream needed more than this. */
uint32_t qt_book_deepest(const qt_book *b, int side);
const char *qt_book_reject_name(int reason); /* "position", ...; "" if unknown */

/* Full consistency check of the visible book and the staging area: each
 * side strictly ordered worst-to-best (bids ascending, asks descending),
 * qty > 0, count >= 0, prices on the tick, arrays inside their buffers.
 * Returns 0 if consistent, else a nonzero code naming the first problem
 * (side * 16 + problem; see qt_book.c).  O(size): for tests and debugging. */
int qt_book_check(const qt_book *b);

#endif
