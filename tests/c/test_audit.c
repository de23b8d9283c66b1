/* Book audit, C level (runs under ASan+UBSan in CI): trades judged
 * against the touch they met, crossing judged at message ends only, skipped
 * trades, refused records, and that chunked calls accumulate exactly like
 * one call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_audit.h"

#include "qt_check.h"

static qt_event l2(int side, int64_t price, int32_t qty, int last) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_L2_LEVEL;
    e.side = (uint8_t)side;
    e.price = price;
    e.qty = qty;
    e.exch_ns = QT_TIME_NONE;
    e.flags = last ? QT_F_LAST : 0;
    return e;
}

static qt_event trade(int64_t price, int32_t qty, uint8_t flags) {
    qt_event e;
    memset(&e, 0, sizeof e);
    e.type = QT_EV_TRADE;
    e.price = price;
    e.qty = qty;
    e.flags = flags;
    e.exch_ns = 1000 + price;
    return e;
}

int main(void) {
    qt_event ev[] = {
        l2(0, 100, 5, 1), l2(1, 104, 5, 1),
        trade(100, 2, 0),            /* at the bid */
        trade(102, 1, 0),            /* inside */
        trade(106, 1, 0),            /* outside: index 4 */
        trade(200, 1, QT_F_EDIT),    /* skipped */
        trade(200, 1, QT_F_INVALID), /* skipped */
        l2(0, 105, 1, 0), l2(1, 104, 0, 0), l2(1, 106, 3, 1), /* passes through a cross: fine */
        l2(0, 107, 1, 1),            /* bid 107 > ask 106: crossed, index 10 */
        l2(0, 101, 1, 1),            /* off the 2-unit tick below: refused */
    };
    const uint64_t n = sizeof ev / sizeof ev[0];

    qt_book *b = qt_book_create(1, 64);
    CHECK(b);
    qt_audit_stats st;
    qt_audit_stats_init(&st);
    CHECK(qt_audit_apply(b, ev, n - 1, &st) == n - 1);
    CHECK(st.records == n - 1);
    CHECK(st.trades == 3 && st.trades_skipped == 2 && st.trade_qty == 4);
    CHECK(st.trades_at_touch == 1 && st.trades_inside == 1 && st.trades_outside == 1);
    CHECK(st.first_outside_index == 4);
    CHECK(st.price_min == 100 && st.price_max == 106);
    CHECK(st.crossed_events == 1 && st.first_crossed_index == 10);
    CHECK(st.book_events == 4);
    CHECK(st.spread_samples == 2 && st.spread_max == 4 && st.spread_sum == 5);
    CHECK(st.by_type[QT_EV_TRADE] == 5 && st.by_type[QT_EV_L2_LEVEL] == 6);
    CHECK(st.first_exch_ns == 1100 && st.last_exch_ns == 1200);
    qt_book_destroy(b);

    /* chunked == whole */
    qt_book *b1 = qt_book_create(1, 64), *b2 = qt_book_create(1, 64);
    qt_audit_stats whole, parts;
    qt_audit_stats_init(&whole);
    qt_audit_stats_init(&parts);
    qt_audit_apply(b1, ev, n, &whole);
    for (uint64_t i = 0; i < n; i += 3) qt_audit_apply(b2, ev + i, i + 3 <= n ? 3 : n - i, &parts);
    CHECK(memcmp(&whole, &parts, sizeof whole) == 0);
    qt_book_destroy(b1);
    qt_book_destroy(b2);

    /* a refused record: tick 2 units, price 101 */
    qt_book *b3 = qt_book_create(2, 64);
    qt_audit_stats st3;
    qt_audit_stats_init(&st3);
    qt_audit_apply(b3, &ev[n - 1], 1, &st3);
    CHECK(st3.book_rejects == 1 && st3.book_events == 0);
    qt_book_destroy(b3);
    puts("test_audit: ok");
    return 0;
}
