#include "market/qt_audit.h"

#include <string.h>

void qt_audit_stats_init(qt_audit_stats *st) {
    memset(st, 0, sizeof *st);
    st->first_outside_index = -1;
    st->first_crossed_index = -1;
    st->price_min = QT_PRICE_NONE;
    st->price_max = QT_PRICE_NONE;
    st->first_exch_ns = QT_TIME_NONE;
    st->last_exch_ns = QT_TIME_NONE;
}

static void audit_trade(const qt_book *book, const qt_event *e, uint64_t index, qt_audit_stats *st) {
    if ((e->flags & (QT_F_EDIT | QT_F_AFTER_HOURS | QT_F_INVALID)) || e->price == QT_PRICE_NONE ||
        e->qty <= 0) {
        st->trades_skipped++;
        return;
    }
    st->trades++;
    st->trade_qty += (uint64_t)e->qty;
    st->trade_notional += (double)e->price * (double)e->qty;
    if (st->price_min == QT_PRICE_NONE || e->price < st->price_min) st->price_min = e->price;
    if (st->price_max == QT_PRICE_NONE || e->price > st->price_max) st->price_max = e->price;

    int64_t bid = qt_book_best_price(book, 0);
    int64_t ask = qt_book_best_price(book, 1);
    if (bid == QT_PRICE_NONE || ask == QT_PRICE_NONE) {
        st->trades_without_book++;
    } else if (e->price == bid || e->price == ask) {
        st->trades_at_touch++;
    } else if (e->price > bid && e->price < ask) {
        st->trades_inside++;
    } else {
        st->trades_outside++;
        if (st->first_outside_index < 0) st->first_outside_index = (int64_t)index;
    }
}

static void audit_book_event(const qt_book *book, uint64_t index, qt_audit_stats *st) {
    st->book_events++;
    unsigned state = qt_book_state(book);
    if (state & QT_BOOK_CROSSED) {
        st->crossed_events++;
        if (st->first_crossed_index < 0) st->first_crossed_index = (int64_t)index;
    } else if (state & QT_BOOK_LOCKED) {
        st->locked_events++;
    } else if (state & QT_BOOK_VALID) {
        int64_t spread = qt_book_best_price(book, 1) - qt_book_best_price(book, 0);
        st->spread_samples++;
        st->spread_sum += spread;
        if (spread > st->spread_max) st->spread_max = spread;
    }
}

uint64_t qt_audit_apply(qt_book *book, const qt_event *ev, uint64_t n, qt_audit_stats *st) {
    for (uint64_t i = 0; i < n; i++) {
        const qt_event *e = &ev[i];
        uint64_t index = st->records++;
        if (e->type < QT_EV__COUNT) st->by_type[e->type]++;
        if (e->exch_ns != QT_TIME_NONE) {
            if (st->first_exch_ns == QT_TIME_NONE) st->first_exch_ns = e->exch_ns;
            st->last_exch_ns = e->exch_ns;
        }
        if (e->type == QT_EV_TRADE) {
            audit_trade(book, e, index, st);
            continue;
        }
        unsigned r = qt_book_apply(book, e);
        if (r & QT_BOOK_REJECTED) st->book_rejects++;
        if (r & QT_BOOK_EVENT) audit_book_event(book, index, st);
    }
    return n;
}
