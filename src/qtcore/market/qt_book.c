/* L2 price book: see qt_book.h for the semantics. */
#include "market/qt_book.h"

#include <stdlib.h>
#include <string.h>

/* book.pxd declares the counters' rejected_by array with this length */
_Static_assert(QT_BOOK_REJ__COUNT == 11, "update rejected_by[] in book.pxd");

typedef struct book_level {
    int64_t price;
    int64_t qty;
    int32_t count;
    int32_t zero; /* always 0, so two arrays compare with memcmp */
} book_level;

/* One side: size levels, worst-to-best, at buf[begin .. begin+size) of a
 * buffer of 2 * capacity slots. */
typedef struct book_side {
    book_level *buf;
    uint32_t begin;
    uint32_t size;
} book_side;

struct qt_book {
    book_side side[2];  /* visible book */
    book_side stage[2]; /* full book being built */
    uint32_t capacity;
    uint32_t buflen; /* slots per side buffer: 2 * capacity */
    int64_t tick;
    uint8_t snap_sides;  /* bit s: side s is being rebuilt in stage[s] */
    uint8_t msg_changed; /* the open L2 message has changed a level */
    qt_book_counters c;
    uint32_t deepest[2]; /* qt_book_deepest */
    book_level *mem;
};

#define LV(s) ((s)->buf + (s)->begin)

static void side_reset(book_side *s, uint32_t buflen) {
    s->begin = buflen / 2;
    s->size = 0;
}

qt_book *qt_book_create(int64_t tick_units, uint32_t capacity) {
    if (capacity == 0) capacity = QT_BOOK_DEFAULT_CAPACITY;
    if (tick_units < 1 || capacity > QT_BOOK_MAX_CAPACITY) return NULL;
    qt_book *b = (qt_book *)calloc(1, sizeof(qt_book));
    if (!b) return NULL;
    b->capacity = capacity;
    b->buflen = 2 * capacity;
    b->tick = tick_units;
    b->mem = (book_level *)calloc((size_t)4 * b->buflen, sizeof(book_level));
    if (!b->mem) {
        free(b);
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        b->side[i].buf = b->mem + (size_t)i * b->buflen;
        b->stage[i].buf = b->mem + (size_t)(2 + i) * b->buflen;
        side_reset(&b->side[i], b->buflen);
        side_reset(&b->stage[i], b->buflen);
    }
    return b;
}

void qt_book_destroy(qt_book *b) {
    if (!b) return;
    free(b->mem);
    free(b);
}

void qt_book_clear(qt_book *b) {
    if (b->snap_sides) b->c.snapshots_abandoned++;
    for (int i = 0; i < 2; i++) {
        side_reset(&b->side[i], b->buflen);
        side_reset(&b->stage[i], b->buflen);
    }
    b->snap_sides = 0;
    b->msg_changed = 0;
}

/* Make room for one level at index i (0 <= i <= size < capacity) and return
 * it.  Moves the shorter part; if that part has no room left in the buffer,
 * recentres the array (leaving >= capacity/2 free slots at each end, so the
 * next recentring is at least that many operations away). */
static book_level *open_gap(book_side *s, uint32_t buflen, uint32_t i) {
    uint32_t n = s->size, right = n - i;
    book_level *base = LV(s);
    if (right <= i) {
        if (s->begin + n < buflen) {
            memmove(base + i + 1, base + i, (size_t)right * sizeof(book_level));
            s->size = n + 1;
            return base + i;
        }
    } else if (s->begin > 0) {
        memmove(base - 1, base, (size_t)i * sizeof(book_level));
        s->begin--;
        s->size = n + 1;
        return base - 1 + i;
    }
    uint32_t nb = (buflen - (n + 1)) / 2;
    book_level *nbase = s->buf + nb;
    if (nb <= s->begin) { /* moving left: the left part first, it vacates room */
        memmove(nbase, base, (size_t)i * sizeof(book_level));
        memmove(nbase + i + 1, base + i, (size_t)right * sizeof(book_level));
    } else {
        memmove(nbase + i + 1, base + i, (size_t)right * sizeof(book_level));
        memmove(nbase, base, (size_t)i * sizeof(book_level));
    }
    s->begin = nb;
    s->size = n + 1;
    return nbase + i;
}

/* Remove k levels at index i (i + k <= size), moving the shorter part. */
static void close_gap(book_side *s, uint32_t buflen, uint32_t i, uint32_t k) {
    uint32_t n = s->size, right = n - i - k;
    book_level *base = LV(s);
    if (i < right) {
        memmove(base + k, base, (size_t)i * sizeof(book_level));
        s->begin += k;
    } else {
        memmove(base + i, base + i + k, (size_t)right * sizeof(book_level));
    }
    s->size = n - k;
    if (s->size == 0) s->begin = buflen / 2;
}

/* Insertion index of `price` in a worst-to-best side: the first index whose
 * level is not worse than price.  A binary search whose compare becomes a
 * conditional move: the depths of real updates are skewed to the top but
 * random, and this beat a linear scan of the top levels followed by a
 * branchy search by 30% on the benchmark's 20-level L2 stream. */
static uint32_t find_price(const book_side *s, int sell, int64_t price) {
    const book_level *l = LV(s);
    uint32_t n = s->size;
    uint32_t base = 0;
    if (sell) {
        while (n > 1) {
            uint32_t half = n / 2;
            base = l[base + half - 1].price > price ? base + half : base;
            n -= half;
        }
        return base + (n == 1 && l[base].price > price);
    }
    while (n > 1) {
        uint32_t half = n / 2;
        base = l[base + half - 1].price < price ? base + half : base;
        n -= half;
    }
    return base + (n == 1 && l[base].price < price);
}

static unsigned reject(qt_book *b, qt_book_reject why) {
    b->c.rejected++;
    b->c.rejected_by[why]++;
    return QT_BOOK_REJECTED | ((unsigned)why << QT_BOOK_REASON_SHIFT);
}

static unsigned book_event(qt_book *b) {
    b->c.book_events++;
    return QT_BOOK_EVENT;
}

static unsigned apply_price_book(qt_book *b, const qt_event *ev) {
    if (ev->side > 1) return reject(b, QT_BOOK_REJ_SIDE);
    int sell = ev->side;
    book_side *s = &b->side[sell];
    uint32_t n = s->size;
    int32_t pos = ev->a;
    uint8_t action = ev->code;
    if (action > QT_BA_DELETE_FROM) return reject(b, QT_BOOK_REJ_ACTION);
    /* add may insert just below the worst level (pos == n); the others need an entry */
    if (pos < 0 || (uint32_t)pos > n || ((uint32_t)pos == n && action != QT_BA_ADD))
        return reject(b, QT_BOOK_REJ_POSITION);
    if (action == QT_BA_DELETE) {
        close_gap(s, b->buflen, n - (uint32_t)pos - 1, 1);
        b->c.applied++;
        return QT_BOOK_APPLIED | book_event(b);
    }
    if (action == QT_BA_DELETE_FROM) {
        s->size = n - (uint32_t)pos - 1;
        if (s->size == 0) s->begin = b->buflen / 2;
        b->c.applied++;
        return QT_BOOK_APPLIED | book_event(b);
    }
    if (ev->qty <= 0 || ev->b < 0) return reject(b, QT_BOOK_REJ_QTY);
    if (action == QT_BA_EDIT) {
        book_level *l = LV(s) + (n - (uint32_t)pos - 1);
        b->c.applied++;
        if (l->qty == ev->qty && l->count == ev->b) return QT_BOOK_APPLIED;
        l->qty = ev->qty;
        l->count = ev->b;
        return QT_BOOK_APPLIED | book_event(b);
    }
    /* add */
    int64_t price = ev->price;
    if (price == QT_PRICE_NONE) return reject(b, QT_BOOK_REJ_PRICE);
    if (price % b->tick != 0) return reject(b, QT_BOOK_REJ_TICK);
    uint32_t i = n - (uint32_t)pos;
    const book_level *l = LV(s);
    /* strict order: the level below (worse) must be worse, the one above better */
    if (sell) {
        if ((i > 0 && l[i - 1].price <= price) || (i < n && l[i].price >= price))
            return reject(b, QT_BOOK_REJ_ORDER);
    } else {
        if ((i > 0 && l[i - 1].price >= price) || (i < n && l[i].price <= price))
            return reject(b, QT_BOOK_REJ_ORDER);
    }
    if (n >= b->capacity) return reject(b, QT_BOOK_REJ_CAPACITY);
    book_level *nl = open_gap(s, b->buflen, i);
    if (s->size > b->deepest[sell]) b->deepest[sell] = s->size;
    nl->price = price;
    nl->qty = ev->qty;
    nl->count = ev->b;
    nl->zero = 0;
    b->c.applied++;
    return QT_BOOK_APPLIED | book_event(b);
}

/* Set the aggregated level at `price` of side s to qty (0 deletes).
 * Returns 0 (unchanged), 1 (changed) or -1 (side full). */
static int set_level(qt_book *b, book_side *s, int sell, int64_t price, int64_t qty, int32_t count) {
    uint32_t i = find_price(s, sell, price);
    book_level *l = LV(s);
    if (i < s->size && l[i].price == price) {
        if (qty == 0) {
            close_gap(s, b->buflen, i, 1);
            return 1;
        }
        if (l[i].qty == qty && l[i].count == count) return 0;
        l[i].qty = qty;
        l[i].count = count;
        return 1;
    }
    if (qty == 0) return 0; /* deleting an absent level: nothing to do */
    if (s->size >= b->capacity) return -1;
    book_level *nl = open_gap(s, b->buflen, i);
    if (s->size > b->deepest[sell]) b->deepest[sell] = s->size;
    nl->price = price;
    nl->qty = qty;
    nl->count = count;
    nl->zero = 0;
    return 1;
}

static unsigned apply_l2(qt_book *b, const qt_event *ev) {
    unsigned r;
    int in_snapshot = b->snap_sides != 0;
    /* outside a snapshot, QT_F_LAST closes the exchange message even when
     * this record itself is refused: the message boundary is still real */
    int closes = !in_snapshot && (ev->flags & QT_F_LAST);
    if (ev->flags & QT_F_INVALID) {
        r = reject(b, QT_BOOK_REJ_FLAGGED);
    } else if (ev->side > 1) {
        r = reject(b, QT_BOOK_REJ_SIDE);
    } else if (in_snapshot && !(b->snap_sides & (1u << ev->side))) {
        r = reject(b, QT_BOOK_REJ_SEQUENCE);
    } else if (ev->price == QT_PRICE_NONE) {
        r = reject(b, QT_BOOK_REJ_PRICE);
    } else if (ev->price % b->tick != 0) {
        r = reject(b, QT_BOOK_REJ_TICK);
    } else if (ev->qty < 0 || ev->b < 0) {
        r = reject(b, QT_BOOK_REJ_QTY);
    } else {
        book_side *s = in_snapshot ? &b->stage[ev->side] : &b->side[ev->side];
        int ch = set_level(b, s, ev->side, ev->price, ev->qty, ev->b);
        if (ch < 0) {
            r = reject(b, QT_BOOK_REJ_CAPACITY);
        } else {
            b->c.applied++;
            if (!in_snapshot) b->msg_changed |= (uint8_t)ch;
            r = QT_BOOK_APPLIED;
        }
    }
    if (closes) {
        if (b->msg_changed) r |= book_event(b);
        b->msg_changed = 0;
    }
    return r;
}

static int sides_differ(const book_side *x, const book_side *y) {
    return x->size != y->size || memcmp(LV(x), LV(y), (size_t)x->size * sizeof(book_level)) != 0;
}

static unsigned apply_snapshot_begin(qt_book *b, const qt_event *ev) {
    if (ev->side > 2) return reject(b, QT_BOOK_REJ_SIDE);
    if (b->snap_sides) b->c.snapshots_abandoned++;
    b->snap_sides = ev->side == 2 ? 3 : (uint8_t)(1u << ev->side);
    for (int i = 0; i < 2; i++) side_reset(&b->stage[i], b->buflen);
    b->c.applied++;
    return QT_BOOK_APPLIED;
}

static unsigned apply_snapshot_end(qt_book *b, const qt_event *ev) {
    if (!b->snap_sides) return reject(b, QT_BOOK_REJ_SEQUENCE);
    b->c.applied++;
    if (!(ev->flags & QT_F_LAST)) return QT_BOOK_APPLIED; /* more packets follow */
    int changed = 0;
    for (int i = 0; i < 2; i++) {
        if (!(b->snap_sides & (1u << i))) continue;
        changed |= sides_differ(&b->side[i], &b->stage[i]);
        book_side t = b->side[i];
        b->side[i] = b->stage[i];
        b->stage[i] = t;
        side_reset(&b->stage[i], b->buflen);
    }
    b->snap_sides = 0;
    b->c.snapshots++;
    return changed ? QT_BOOK_APPLIED | book_event(b) : QT_BOOK_APPLIED;
}

unsigned qt_book_apply(qt_book *b, const qt_event *ev) {
    switch (ev->type) {
    case QT_EV_PRICE_BOOK:
        if (ev->flags & QT_F_INVALID) return reject(b, QT_BOOK_REJ_FLAGGED);
        return apply_price_book(b, ev);
    case QT_EV_L2_LEVEL:
        return apply_l2(b, ev);
    case QT_EV_SNAPSHOT_BEGIN:
        if (ev->flags & QT_F_INVALID) return reject(b, QT_BOOK_REJ_FLAGGED);
        return apply_snapshot_begin(b, ev);
    case QT_EV_SNAPSHOT_END:
        if (ev->flags & QT_F_INVALID) return reject(b, QT_BOOK_REJ_FLAGGED);
        return apply_snapshot_end(b, ev);
    default:
        b->c.ignored++;
        return 0;
    }
}

uint64_t qt_book_apply_n(qt_book *b, const qt_event *ev, uint64_t n) {
    uint64_t before = b->c.book_events;
    for (uint64_t i = 0; i < n; i++) qt_book_apply(b, &ev[i]);
    return b->c.book_events - before;
}

int64_t qt_book_best_price(const qt_book *b, int side) {
    if (side < 0 || side > 1 || b->side[side].size == 0) return QT_PRICE_NONE;
    const book_side *s = &b->side[side];
    return LV(s)[s->size - 1].price;
}

int64_t qt_book_best_qty(const qt_book *b, int side) {
    if (side < 0 || side > 1 || b->side[side].size == 0) return 0;
    const book_side *s = &b->side[side];
    return LV(s)[s->size - 1].qty;
}

uint32_t qt_book_size(const qt_book *b, int side) {
    if (side < 0 || side > 1) return 0;
    return b->side[side].size;
}

void qt_book_get_quote(const qt_book *b, qt_book_quote *out) {
    out->bid = qt_book_best_price(b, QT_SIDE_BUY);
    out->ask = qt_book_best_price(b, QT_SIDE_SELL);
    out->bid_qty = qt_book_best_qty(b, QT_SIDE_BUY);
    out->ask_qty = qt_book_best_qty(b, QT_SIDE_SELL);
    out->bid_levels = b->side[0].size;
    out->ask_levels = b->side[1].size;
}

uint32_t qt_book_levels(const qt_book *b, int side, uint32_t n, int64_t *prices, int64_t *qtys,
                        int32_t *counts) {
    if (side < 0 || side > 1) return 0;
    const book_side *s = &b->side[side];
    if (n > s->size) n = s->size;
    const book_level *top = LV(s) + s->size - 1;
    for (uint32_t k = 0; k < n; k++) {
        const book_level *l = top - k;
        if (prices) prices[k] = l->price;
        if (qtys) qtys[k] = l->qty;
        if (counts) counts[k] = l->count;
    }
    return n;
}

int64_t qt_book_depth(const qt_book *b, int side, uint32_t n) {
    if (side < 0 || side > 1) return 0;
    const book_side *s = &b->side[side];
    if (n > s->size) n = s->size;
    const book_level *top = LV(s) + s->size - 1;
    int64_t sum = 0;
    for (uint32_t k = 0; k < n; k++) sum += (top - k)->qty;
    return sum;
}

unsigned qt_book_state(const qt_book *b) {
    if (b->side[0].size == 0 || b->side[1].size == 0) return 0;
    int64_t bid = qt_book_best_price(b, 0), ask = qt_book_best_price(b, 1);
    if (bid < ask) return QT_BOOK_VALID;
    return bid == ask ? QT_BOOK_LOCKED : QT_BOOK_CROSSED;
}

void qt_book_get_counters(const qt_book *b, qt_book_counters *out) { *out = b->c; }

int qt_book_in_snapshot(const qt_book *b) { return b->snap_sides; }

int64_t qt_book_tick_units(const qt_book *b) { return b->tick; }

uint32_t qt_book_capacity(const qt_book *b) { return b->capacity; }

uint32_t qt_book_deepest(const qt_book *b, int side) { return side == 0 || side == 1 ? b->deepest[side] : 0; }

const char *qt_book_reject_name(int reason) {
    static const char *const names[QT_BOOK_REJ__COUNT] = {
        "", "flagged", "side", "action", "position", "qty", "price", "tick", "order", "capacity", "sequence",
    };
    if (reason < 0 || reason >= QT_BOOK_REJ__COUNT) return "";
    return names[reason];
}

/* Problems reported by qt_book_check (the low 4 bits of its code). */
enum {
    CHK_BOUNDS = 1,   /* array outside its buffer or above capacity */
    CHK_ORDER = 2,    /* not strictly worse-to-better */
    CHK_QTY = 3,      /* qty <= 0 */
    CHK_COUNT = 4,    /* count < 0 */
    CHK_PRICE = 5,    /* QT_PRICE_NONE or off tick */
    CHK_PADDING = 6,  /* the unused field is not 0 */
};

static int check_side(const qt_book *b, const book_side *s, int sell) {
    if (s->size > b->capacity || s->begin > b->buflen || s->size > b->buflen - s->begin) return CHK_BOUNDS;
    const book_level *l = LV(s);
    for (uint32_t i = 0; i < s->size; i++) {
        if (l[i].price == QT_PRICE_NONE || l[i].price % b->tick != 0) return CHK_PRICE;
        if (l[i].qty <= 0) return CHK_QTY;
        if (l[i].count < 0) return CHK_COUNT;
        if (l[i].zero != 0) return CHK_PADDING;
        if (i > 0 && (sell ? l[i - 1].price <= l[i].price : l[i - 1].price >= l[i].price)) return CHK_ORDER;
    }
    return 0;
}

int qt_book_check(const qt_book *b) {
    for (int i = 0; i < 2; i++) {
        int e = check_side(b, &b->side[i], i);
        if (e) return i * 16 + e;
        e = check_side(b, &b->stage[i], i);
        if (e) return 32 + i * 16 + e;
    }
    return 0;
}
