/* Price book, C level:
 *  1. each ProfitDLL action (add at top/middle/bottom, edit, delete,
 *     delete-from) against hand-computed sides;
 *  2. each reject reason, and that a rejected record changes nothing;
 *  3. L2 level updates, messages and book-event counting;
 *  4. a full book staged across packets, swapped in only at its last END;
 *  5. queries (best, depth, levels, crossed/locked/valid), clear;
 *  6. a long random run against a naive plain-array book with a small
 *     capacity (forces recentring and capacity rejects), checking
 *     consistency after every record.  Runs under ASan+UBSan in CI.
 * Usage: test_book [random_steps] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_book.h"

#include "qt_check.h"

static qt_event ev_book(int action, int side, int pos, int64_t price, int32_t qty, int32_t count) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_PRICE_BOOK;
    e.code = (uint8_t)action;
    e.side = (uint8_t)side;
    e.a = pos;
    e.price = price;
    e.qty = qty;
    e.b = count;
    return e;
}

static qt_event ev_l2(int side, int64_t price, int32_t qty, int32_t count, int last) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_L2_LEVEL;
    e.side = (uint8_t)side;
    e.price = price;
    e.qty = qty;
    e.b = count;
    e.flags = last ? QT_F_LAST : 0;
    return e;
}

static qt_event ev_snap(int type, int side, int last) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = (uint8_t)type;
    e.side = (uint8_t)side;
    e.a = -1;
    e.price = QT_PRICE_NONE;
    e.flags = last ? QT_F_LAST : 0;
    return e;
}

static unsigned apply(qt_book *b, qt_event e) { return qt_book_apply(b, &e); }

/* The side's prices best first must equal want[0..n). */
static int side_is(const qt_book *b, int side, const int64_t *want, uint32_t n) {
    int64_t p[64];
    if (qt_book_size(b, side) != n) return 0;
    if (qt_book_levels(b, side, 64, p, NULL, NULL) != n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != want[i]) return 0;
    return 1;
}

static void test_actions(void) {
    qt_book *b = qt_book_create(5, 16);
    CHECK(b);
    CHECK(qt_book_best_price(b, 0) == QT_PRICE_NONE && qt_book_best_qty(b, 0) == 0);
    /* bids: add the best level, then a better one on top, a worse one at the bottom */
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 100, 10, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 105, 20, 2)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 2, 90, 30, 3)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    { int64_t w[] = {105, 100, 90}; CHECK(side_is(b, 0, w, 3)); }
    /* position 1 inserts between the best and the second: 95 would break the order;
     * position 2 puts it between 100 and 90 */
    CHECK(QT_BOOK_REASON(apply(b, ev_book(QT_BA_ADD, 0, 1, 95, 5, 1))) == QT_BOOK_REJ_ORDER);
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 2, 95, 5, 1)) & QT_BOOK_APPLIED);
    { int64_t w[] = {105, 100, 95, 90}; CHECK(side_is(b, 0, w, 4)); }
    CHECK(qt_book_check(b) == 0);
    qt_book_destroy(b);

    b = qt_book_create(5, 16);
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 100, 10, 1)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 110, 20, 2)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 1, 105, 7, 1)) & QT_BOOK_APPLIED);
    { int64_t w[] = {110, 105, 100}; CHECK(side_is(b, 0, w, 3)); }
    /* asks: best (lowest) last in the array, first in levels() */
    CHECK(apply(b, ev_book(QT_BA_ADD, 1, 0, 120, 4, 1)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 1, 0, 115, 3, 1)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 1, 2, 130, 2, 1)) & QT_BOOK_APPLIED);
    { int64_t w[] = {115, 120, 130}; CHECK(side_is(b, 1, w, 3)); }
    CHECK(qt_book_best_price(b, 1) == 115 && qt_book_best_qty(b, 1) == 3);
    /* edit the second-best bid */
    CHECK(apply(b, ev_book(QT_BA_EDIT, 0, 1, QT_PRICE_NONE, 70, 9)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    {
        int64_t p[3], q[3];
        int32_t c[3];
        CHECK(qt_book_levels(b, 0, 3, p, q, c) == 3);
        CHECK(p[1] == 105 && q[1] == 70 && c[1] == 9);
    }
    /* the same edit again changes no level: applied, but no book event */
    CHECK(apply(b, ev_book(QT_BA_EDIT, 0, 1, QT_PRICE_NONE, 70, 9)) == QT_BOOK_APPLIED);
    /* edit ignores the price field */
    CHECK(apply(b, ev_book(QT_BA_EDIT, 0, 0, 999, 21, 2)) & QT_BOOK_EVENT);
    { int64_t w[] = {110, 105, 100}; CHECK(side_is(b, 0, w, 3)); }
    /* delete the best ask, then the worst ask */
    CHECK(apply(b, ev_book(QT_BA_DELETE, 1, 0, QT_PRICE_NONE, 0, 0)) & QT_BOOK_EVENT);
    { int64_t w[] = {120, 130}; CHECK(side_is(b, 1, w, 2)); }
    CHECK(apply(b, ev_book(QT_BA_DELETE, 1, 1, QT_PRICE_NONE, 0, 0)) & QT_BOOK_EVENT);
    { int64_t w[] = {120}; CHECK(side_is(b, 1, w, 1)); }
    /* delete-from position 1 of the bids: drops 105 and every better one, keeps 3-1-1 = 1 */
    CHECK(apply(b, ev_book(QT_BA_DELETE_FROM, 0, 1, QT_PRICE_NONE, 0, 0)) & QT_BOOK_EVENT);
    { int64_t w[] = {100}; CHECK(side_is(b, 0, w, 1)); }
    /* delete-from position 0 of a one-level side empties it */
    CHECK(apply(b, ev_book(QT_BA_DELETE_FROM, 0, 0, QT_PRICE_NONE, 0, 0)) & QT_BOOK_EVENT);
    CHECK(qt_book_size(b, 0) == 0 && qt_book_best_price(b, 0) == QT_PRICE_NONE);
    qt_book_counters c;
    qt_book_get_counters(b, &c);
    CHECK(c.rejected == 0 && c.applied == 13 && c.book_events == 12);
    CHECK(qt_book_check(b) == 0);
    qt_book_destroy(b);
}

static void test_rejects(void) {
    qt_book *b = qt_book_create(5, 2);
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 100, 10, 1)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 1, 0, 110, 10, 1)) & QT_BOOK_APPLIED);
    struct {
        qt_event e;
        int why;
    } cases[] = {
        {ev_book(QT_BA_ADD, 0, 0, 105, 1, 1), 0}, /* placeholder, flagged below */
        {ev_book(QT_BA_ADD, 2, 0, 105, 1, 1), QT_BOOK_REJ_SIDE},
        {ev_book(7, 0, 0, 105, 1, 1), QT_BOOK_REJ_ACTION},
        {ev_book(QT_BA_FULL_BOOK, 0, 0, 105, 1, 1), QT_BOOK_REJ_ACTION},
        {ev_book(QT_BA_ADD, 0, 2, 95, 1, 1), QT_BOOK_REJ_POSITION},     /* size 1: position <= 1 */
        {ev_book(QT_BA_ADD, 0, -1, 105, 1, 1), QT_BOOK_REJ_POSITION},
        {ev_book(QT_BA_EDIT, 0, 1, 0, 1, 1), QT_BOOK_REJ_POSITION},     /* size 1: position < 1 */
        {ev_book(QT_BA_DELETE, 1, 1, 0, 0, 0), QT_BOOK_REJ_POSITION},
        {ev_book(QT_BA_DELETE_FROM, 1, 5, 0, 0, 0), QT_BOOK_REJ_POSITION},
        {ev_book(QT_BA_ADD, 0, 0, 105, -1, 1), QT_BOOK_REJ_QTY},
        {ev_book(QT_BA_ADD, 0, 0, 105, 0, 1), QT_BOOK_REJ_QTY},
        {ev_book(QT_BA_ADD, 0, 0, 105, 3, -1), QT_BOOK_REJ_QTY},
        {ev_book(QT_BA_EDIT, 0, 0, 0, -4, 1), QT_BOOK_REJ_QTY},
        {ev_book(QT_BA_ADD, 0, 0, QT_PRICE_NONE, 1, 1), QT_BOOK_REJ_PRICE},
        {ev_book(QT_BA_ADD, 0, 0, 103, 1, 1), QT_BOOK_REJ_TICK},
        {ev_book(QT_BA_ADD, 0, 0, 95, 1, 1), QT_BOOK_REJ_ORDER},       /* worse than the best, on top */
        {ev_book(QT_BA_ADD, 0, 0, 100, 1, 1), QT_BOOK_REJ_ORDER},      /* duplicate price */
        {ev_book(QT_BA_ADD, 0, 1, 105, 1, 1), QT_BOOK_REJ_ORDER},      /* better than the best, at the bottom */
        {ev_book(QT_BA_ADD, 1, 0, 115, 1, 1), QT_BOOK_REJ_ORDER},      /* ask above the best ask, on top */
        {ev_l2(3, 100, 1, 1, 1), QT_BOOK_REJ_SIDE},
        {ev_l2(0, QT_PRICE_NONE, 1, 1, 1), QT_BOOK_REJ_PRICE},
        {ev_l2(0, 101, 1, 1, 1), QT_BOOK_REJ_TICK},
        {ev_l2(0, 100, -1, 1, 1), QT_BOOK_REJ_QTY},
        {ev_l2(0, 100, 1, -1, 1), QT_BOOK_REJ_QTY},
        {ev_snap(QT_EV_SNAPSHOT_END, 0, 1), QT_BOOK_REJ_SEQUENCE},
        {ev_snap(QT_EV_SNAPSHOT_BEGIN, 3, 0), QT_BOOK_REJ_SIDE},
    };
    cases[0].e.flags = QT_F_INVALID;
    cases[0].why = QT_BOOK_REJ_FLAGGED;
    int n = (int)(sizeof cases / sizeof cases[0]);
    uint64_t per[QT_BOOK_REJ__COUNT] = {0};
    for (int i = 0; i < n; i++) {
        unsigned r = qt_book_apply(b, &cases[i].e);
        if (r != (QT_BOOK_REJECTED | ((unsigned)cases[i].why << QT_BOOK_REASON_SHIFT)))
            fprintf(stderr, "case %d: result %#x, want reason %d (%s)\n", i, r, cases[i].why,
                    qt_book_reject_name(cases[i].why));
        CHECK(QT_BOOK_REASON(r) == (unsigned)cases[i].why && (r & QT_BOOK_REJECTED));
        per[cases[i].why]++;
        /* nothing changed */
        int64_t w0[] = {100}, w1[] = {110};
        CHECK(side_is(b, 0, w0, 1) && side_is(b, 1, w1, 1));
        CHECK(qt_book_best_qty(b, 0) == 10);
    }
    /* every record type except the book's is ignored, not rejected */
    qt_event t = ev_l2(0, 100, 5, 1, 1);
    t.type = QT_EV_TRADE;
    CHECK(qt_book_apply(b, &t) == 0);
    /* capacity 2: the third level is refused, on both paths */
    CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 105, 1, 1)) & QT_BOOK_APPLIED);
    unsigned r = apply(b, ev_book(QT_BA_ADD, 0, 0, 110, 1, 1));
    CHECK(QT_BOOK_REASON(r) == QT_BOOK_REJ_CAPACITY);
    per[QT_BOOK_REJ_CAPACITY]++;
    r = apply(b, ev_l2(0, 95, 1, 1, 1));
    CHECK(QT_BOOK_REASON(r) == QT_BOOK_REJ_CAPACITY);
    per[QT_BOOK_REJ_CAPACITY]++;
    CHECK(qt_book_deepest(b, 0) == 2 && qt_book_deepest(b, 2) == 0); /* refused levels never counted */
    /* ... but updating or deleting an existing level of a full side works */
    CHECK(apply(b, ev_l2(0, 105, 9, 1, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    qt_book_counters c;
    qt_book_get_counters(b, &c);
    uint64_t total = 0;
    for (int k = 1; k < QT_BOOK_REJ__COUNT; k++) {
        CHECK(c.rejected_by[k] == per[k]);
        CHECK(per[k] > 0); /* every reason was exercised */
        total += per[k];
    }
    CHECK(c.rejected == total && c.ignored == 1 && c.applied == 4);
    CHECK(strcmp(qt_book_reject_name(QT_BOOK_REJ_POSITION), "position") == 0);
    CHECK(qt_book_check(b) == 0);
    qt_book_destroy(b);
    /* bad creation arguments */
    CHECK(qt_book_create(0, 16) == NULL);
    CHECK(qt_book_create(-5, 16) == NULL);
    CHECK(qt_book_create(1, QT_BOOK_MAX_CAPACITY + 1) == NULL);
    b = qt_book_create(1, 0);
    CHECK(b && qt_book_capacity(b) == QT_BOOK_DEFAULT_CAPACITY);
    qt_book_destroy(b);
}

static void test_l2_messages(void) {
    qt_book *b = qt_book_create(1, 64);
    /* one message of three records: applied as they come, one book event at the LAST */
    CHECK(apply(b, ev_l2(0, 100, 5, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 103, 6, 2, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 101, 7, 3, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    { int64_t w[] = {101, 100}; CHECK(side_is(b, 0, w, 2)); }
    CHECK(qt_book_best_price(b, 1) == 103 && qt_book_best_qty(b, 1) == 6);
    /* a message that changes nothing (same qty, delete of an absent level) is not a book event */
    CHECK(apply(b, ev_l2(0, 100, 5, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 200, 0, 0, 1)) == QT_BOOK_APPLIED);
    /* the count alone changes the level */
    CHECK(apply(b, ev_l2(0, 100, 5, 4, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    /* qty 0 deletes */
    CHECK(apply(b, ev_l2(0, 101, 0, 0, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(qt_book_best_price(b, 0) == 100);
    /* a refused record carrying LAST still closes the message that changed a level */
    CHECK(apply(b, ev_l2(0, 99, 3, 1, 0)) == QT_BOOK_APPLIED);
    unsigned r = apply(b, ev_l2(0, QT_PRICE_NONE, 3, 1, 1));
    CHECK((r & QT_BOOK_REJECTED) && (r & QT_BOOK_EVENT) && QT_BOOK_REASON(r) == QT_BOOK_REJ_PRICE);
    CHECK(apply(b, ev_l2(0, 98, 3, 1, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    /* asks: many levels in any order stay sorted, lookups find each */
    for (int i = 0; i < 40; i++) CHECK(apply(b, ev_l2(1, 103 + (i * 17) % 40, 1 + i, 1, 1)) & QT_BOOK_APPLIED);
    CHECK(qt_book_size(b, 1) == 40 && qt_book_best_price(b, 1) == 103);
    for (int i = 0; i < 40; i++) CHECK(apply(b, ev_l2(1, 103 + i, 1000 + i, 1, 1)) & QT_BOOK_EVENT);
    {
        int64_t p[40], q[40];
        CHECK(qt_book_levels(b, 1, 40, p, q, NULL) == 40);
        for (int i = 0; i < 40; i++) CHECK(p[i] == 103 + i && q[i] == 1000 + i);
    }
    CHECK(qt_book_check(b) == 0);
    qt_book_counters c;
    qt_book_get_counters(b, &c);
    CHECK(c.book_events == 85 && c.rejected == 1);
    qt_book_destroy(b);
}

static void test_snapshot(void) {
    qt_book *b = qt_book_create(1, 32);
    /* visible book before */
    CHECK(apply(b, ev_l2(0, 90, 1, 1, 0)) & QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 95, 1, 1, 1)) & QT_BOOK_EVENT);
    /* full book of both sides over two packets, levels in any order */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 2, 0)) == QT_BOOK_APPLIED);
    CHECK(qt_book_in_snapshot(b) == 3);
    CHECK(apply(b, ev_l2(0, 100, 10, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 98, 8, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 103, 30, 3, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 99, 9, 1, 1)) == QT_BOOK_APPLIED); /* LAST inside a snapshot means nothing */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 0, 0)) == QT_BOOK_APPLIED); /* end of packet 1 */
    /* the visible book is untouched until the last packet */
    { int64_t w0[] = {90}, w1[] = {95}; CHECK(side_is(b, 0, w0, 1) && side_is(b, 1, w1, 1)); }
    CHECK(apply(b, ev_l2(1, 101, 10, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 102, 20, 2, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 104, 40, 4, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(1, 104, 0, 0, 0)) == QT_BOOK_APPLIED); /* qty 0 removes it again */
    CHECK(qt_book_check(b) == 0);
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 0, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(qt_book_in_snapshot(b) == 0);
    { int64_t w0[] = {100, 99, 98}, w1[] = {101, 102, 103}; CHECK(side_is(b, 0, w0, 3) && side_is(b, 1, w1, 3)); }
    /* the same full book again changes no level: no book event */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 0, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 98, 8, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 100, 10, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 99, 9, 1, 0)) == QT_BOOK_APPLIED);
    /* an L2 record of the side this snapshot excludes is refused */
    CHECK(QT_BOOK_REASON(apply(b, ev_l2(1, 150, 9, 1, 0))) == QT_BOOK_REJ_SEQUENCE);
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 0, 1)) == QT_BOOK_APPLIED);
    /* a one-sided full book leaves the other side alone; an empty one empties its side */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 1, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(qt_book_size(b, 1) == 0 && qt_book_size(b, 0) == 3);
    /* a new BEGIN abandons an open full book; PRICE_BOOK actions during a
     * full book go to the visible book */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 0, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 50, 1, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_book(QT_BA_ADD, 1, 0, 120, 5, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 0, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_l2(0, 60, 1, 1, 0)) == QT_BOOK_APPLIED);
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 0, 1)) == (QT_BOOK_APPLIED | QT_BOOK_EVENT));
    { int64_t w0[] = {60}, w1[] = {120}; CHECK(side_is(b, 0, w0, 1) && side_is(b, 1, w1, 1)); }
    /* clear abandons an open full book and empties everything */
    CHECK(apply(b, ev_snap(QT_EV_SNAPSHOT_BEGIN, 2, 0)) == QT_BOOK_APPLIED);
    qt_book_clear(b);
    CHECK(qt_book_in_snapshot(b) == 0 && qt_book_size(b, 0) == 0 && qt_book_size(b, 1) == 0);
    CHECK(QT_BOOK_REASON(apply(b, ev_snap(QT_EV_SNAPSHOT_END, 0, 1))) == QT_BOOK_REJ_SEQUENCE);
    qt_book_counters c;
    qt_book_get_counters(b, &c);
    CHECK(c.snapshots == 4 && c.snapshots_abandoned == 2 && c.rejected == 2 && c.book_events == 5);
    CHECK(qt_book_check(b) == 0);
    qt_book_destroy(b);
}

static void test_queries(void) {
    qt_book *b = qt_book_create(1, 16);
    CHECK(qt_book_state(b) == 0);
    for (int i = 0; i < 6; i++) CHECK(apply(b, ev_l2(0, 100 - i, 10 + i, 1, 1)) & QT_BOOK_APPLIED);
    CHECK(qt_book_state(b) == 0); /* one side empty: neither valid nor crossed */
    CHECK(apply(b, ev_l2(1, 102, 7, 1, 1)) & QT_BOOK_APPLIED);
    CHECK(qt_book_state(b) == QT_BOOK_VALID);
    CHECK(qt_book_depth(b, 0, 1) == 10);
    CHECK(qt_book_depth(b, 0, 3) == 10 + 11 + 12);
    CHECK(qt_book_depth(b, 0, 100) == 10 + 11 + 12 + 13 + 14 + 15);
    CHECK(qt_book_depth(b, 1, 5) == 7 && qt_book_depth(b, 5, 5) == 0);
    qt_book_quote q;
    qt_book_get_quote(b, &q);
    CHECK(q.bid == 100 && q.ask == 102 && q.bid_qty == 10 && q.ask_qty == 7);
    CHECK(q.bid_levels == 6 && q.ask_levels == 1);
    CHECK(apply(b, ev_l2(1, 100, 7, 1, 1)) & QT_BOOK_APPLIED);
    CHECK(qt_book_state(b) == QT_BOOK_LOCKED);
    CHECK(apply(b, ev_l2(1, 99, 7, 1, 1)) & QT_BOOK_APPLIED);
    CHECK(qt_book_state(b) == QT_BOOK_CROSSED);
    int64_t p[3];
    CHECK(qt_book_levels(b, 1, 3, p, NULL, NULL) == 3 && p[0] == 99 && p[1] == 100 && p[2] == 102);
    CHECK(qt_book_levels(b, 2, 3, p, NULL, NULL) == 0 && qt_book_best_price(b, -1) == QT_PRICE_NONE);
    qt_book_destroy(b);
}

/* A trending market makes a side drift through its buffer: a rising bid
 * side adds on top and loses its worst level, a falling one adds at the
 * bottom and loses its best.  Both must recentre and stay exact.  Driven
 * through qt_book_apply_n, which returns the book events. */
static void test_drift(void) {
    enum { CAP = 8, STEPS = 1000 };
    qt_book *b = qt_book_create(1, CAP);
    qt_event ev[2 * STEPS];
    for (int i = 0; i < CAP; i++) CHECK(apply(b, ev_book(QT_BA_ADD, 0, 0, 1000 + i, 1, 1)) & QT_BOOK_EVENT);
    for (int k = 0; k < STEPS; k++) { /* rising: new best on top, drop the worst (position size-1) */
        ev[2 * k] = ev_book(QT_BA_DELETE, 0, CAP - 1, QT_PRICE_NONE, 0, 0);
        ev[2 * k + 1] = ev_book(QT_BA_ADD, 0, 0, 1000 + CAP + k, 1 + k % 7, 1);
    }
    CHECK(qt_book_apply_n(b, ev, 2 * STEPS) == 2 * STEPS);
    CHECK(qt_book_check(b) == 0 && qt_book_size(b, 0) == CAP);
    CHECK(qt_book_best_price(b, 0) == 1000 + CAP + STEPS - 1);
    for (int k = 0; k < STEPS; k++) { /* falling: drop the best, add a new worst at the bottom */
        ev[2 * k] = ev_book(QT_BA_DELETE, 0, 0, QT_PRICE_NONE, 0, 0);
        ev[2 * k + 1] = ev_book(QT_BA_ADD, 0, CAP - 1, 1000 + STEPS - k - 1, 1, 1);
    }
    CHECK(qt_book_apply_n(b, ev, 2 * STEPS) == 2 * STEPS);
    CHECK(qt_book_check(b) == 0 && qt_book_size(b, 0) == CAP);
    {
        int64_t p[CAP];
        qt_book_levels(b, 0, CAP, p, NULL, NULL);
        for (int i = 0; i < CAP; i++) CHECK(p[i] == 1000 + CAP - 1 - i);
    }
    /* the same drift through L2 updates on the ask side */
    for (int k = 0; k < STEPS; k++) {
        ev[2 * k] = ev_l2(1, 5000 - k + CAP, 0, 0, 0);
        ev[2 * k + 1] = ev_l2(1, 5000 - k, 3, 1, 1);
    }
    CHECK(qt_book_apply_n(b, ev, 2 * STEPS) == STEPS);
    CHECK(qt_book_check(b) == 0 && qt_book_size(b, 1) == CAP);
    CHECK(qt_book_best_price(b, 1) == 5000 - STEPS + 1);
    /* a flagged L2 record is refused */
    qt_event f = ev_l2(1, 5000, 3, 1, 1);
    f.flags |= QT_F_INVALID;
    CHECK(QT_BOOK_REASON(qt_book_apply(b, &f)) == QT_BOOK_REJ_FLAGGED);
    CHECK(qt_book_tick_units(b) == 1);
    qt_book_destroy(b);
}

/* ---- random run against a naive book (plain arrays, worst-to-best) ---- */

typedef struct {
    int64_t p[64], q[64];
    int32_t c[64];
    int n;
} naive_side;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int naive_worse(int sell, int64_t x, int64_t y) { return sell ? x > y : x < y; }

static void naive_insert(naive_side *s, int i, int64_t p, int64_t q, int32_t c) {
    memmove(s->p + i + 1, s->p + i, (size_t)(s->n - i) * sizeof(int64_t));
    memmove(s->q + i + 1, s->q + i, (size_t)(s->n - i) * sizeof(int64_t));
    memmove(s->c + i + 1, s->c + i, (size_t)(s->n - i) * sizeof(int32_t));
    s->p[i] = p, s->q[i] = q, s->c[i] = c;
    s->n++;
}

static void naive_remove(naive_side *s, int i) {
    memmove(s->p + i, s->p + i + 1, (size_t)(s->n - i - 1) * sizeof(int64_t));
    memmove(s->q + i, s->q + i + 1, (size_t)(s->n - i - 1) * sizeof(int64_t));
    memmove(s->c + i, s->c + i + 1, (size_t)(s->n - i - 1) * sizeof(int32_t));
    s->n--;
}

static void same_side(const qt_book *b, const naive_side *s, int side) {
    int64_t p[64], q[64];
    int32_t c[64];
    CHECK((int)qt_book_size(b, side) == s->n);
    CHECK((int)qt_book_levels(b, side, 64, p, q, c) == s->n);
    for (int k = 0; k < s->n; k++) {
        int i = s->n - 1 - k;
        CHECK(p[k] == s->p[i] && q[k] == s->q[i] && c[k] == s->c[i]);
    }
}

static void test_random(long steps) {
    enum { CAP = 12 };
    qt_book *b = qt_book_create(2, CAP);
    naive_side ns[2];
    memset(ns, 0, sizeof ns);
    uint64_t events = 0;
    for (long step = 0; step < steps; step++) {
        int side = (int)(rnd() % 2), sell = side;
        naive_side *s = &ns[side];
        qt_event e;
        unsigned want;
        int kind = (int)(rnd() % 10);
        if (kind < 5) { /* DLL action, positions mostly near the top */
            int action = (int)(rnd() % 4);
            int pos = (int)(rnd() % 3 == 0 ? rnd() % (uint64_t)(s->n + 2) : rnd() % 3);
            int64_t price = 2 * (int64_t)(rnd() % 40);
            int32_t qty = 1 + (int32_t)(rnd() % 5);
            e = ev_book(action, side, pos, price, qty, (int32_t)(rnd() % 3));
            want = QT_BOOK_REJECTED;
            if (pos <= s->n && (pos < s->n || action == QT_BA_ADD)) {
                int i = s->n - pos;
                if (action == QT_BA_ADD) {
                    int ok = (i == 0 || naive_worse(sell, s->p[i - 1], price)) &&
                             (i == s->n || naive_worse(sell, price, s->p[i]));
                    if (ok && s->n < CAP) {
                        naive_insert(s, i, price, qty, e.b);
                        want = QT_BOOK_APPLIED | QT_BOOK_EVENT;
                    }
                } else if (action == QT_BA_EDIT) {
                    int k = s->n - pos - 1;
                    want = QT_BOOK_APPLIED;
                    if (s->q[k] != qty || s->c[k] != e.b) want |= QT_BOOK_EVENT;
                    s->q[k] = qty, s->c[k] = e.b;
                } else if (action == QT_BA_DELETE) {
                    naive_remove(s, s->n - pos - 1);
                    want = QT_BOOK_APPLIED | QT_BOOK_EVENT;
                } else {
                    s->n = s->n - pos - 1;
                    want = QT_BOOK_APPLIED | QT_BOOK_EVENT;
                }
            }
        } else { /* one-record L2 message */
            int64_t price = 2 * (int64_t)(rnd() % 40);
            int32_t qty = rnd() % 3 == 0 ? 0 : 1 + (int32_t)(rnd() % 5);
            e = ev_l2(side, price, qty, 1, 1);
            int i = 0;
            while (i < s->n && naive_worse(sell, s->p[i], price)) i++;
            want = QT_BOOK_APPLIED;
            if (i < s->n && s->p[i] == price) {
                if (qty == 0) {
                    naive_remove(s, i);
                    want |= QT_BOOK_EVENT;
                } else if (s->q[i] != qty || s->c[i] != 1) {
                    s->q[i] = qty, s->c[i] = 1;
                    want |= QT_BOOK_EVENT;
                }
            } else if (qty > 0) {
                if (s->n < CAP) {
                    naive_insert(s, i, price, qty, 1);
                    want |= QT_BOOK_EVENT;
                } else {
                    want = QT_BOOK_REJECTED;
                }
            }
        }
        unsigned r = qt_book_apply(b, &e) & (QT_BOOK_APPLIED | QT_BOOK_REJECTED | QT_BOOK_EVENT);
        if (r != want) fprintf(stderr, "step %ld: result %#x want %#x\n", step, r, want);
        CHECK(r == want);
        events += (want & QT_BOOK_EVENT) != 0;
        CHECK(qt_book_check(b) == 0);
        same_side(b, &ns[0], 0);
        same_side(b, &ns[1], 1);
    }
    qt_book_counters c;
    qt_book_get_counters(b, &c);
    CHECK(c.book_events == events);
    printf("random: %ld steps, %llu book events, %llu rejects\n", steps, (unsigned long long)events,
           (unsigned long long)c.rejected);
    qt_book_destroy(b);
}

int main(int argc, char **argv) {
    long steps = argc > 1 ? atol(argv[1]) : 200000;
    test_actions();
    test_rejects();
    test_l2_messages();
    test_snapshot();
    test_queries();
    test_drift();
    test_random(steps);
    printf("test_book: ok\n");
    return 0;
}
