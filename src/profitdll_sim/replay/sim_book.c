/* Position-keeping price book (see sim_book.h). */
#include "replay/sim_book.h"

#include <stdlib.h>
#include <string.h>

#include "profitdll/qt_profitdll.h"

/* Lists are ascending in key: bids by price, asks by -price, so the best
 * level is always last. */
static int64_t key(int side, int64_t price) { return side == 0 ? price : -price; }

void sim_book_init(sim_book *b) { memset(b, 0, sizeof(*b)); }

void sim_book_free(sim_book *b) {
    for (int s = 0; s < 2; s++) {
        free(b->side[s].lv);
        free(b->staging[s].lv);
    }
    memset(b, 0, sizeof(*b));
}

void sim_book_clear(sim_book *b) {
    for (int s = 0; s < 2; s++) b->side[s].size = b->staging[s].size = 0;
    b->staging_mask = 0;
}

static int reserve(sim_side *sd, uint32_t need) {
    if (need <= sd->cap) return 0;
    uint32_t cap = sd->cap ? sd->cap : 64;
    while (cap < need) {
        if (cap > (1u << 24)) return -1;
        cap *= 2;
    }
    sim_level *p = (sim_level *)realloc(sd->lv, (size_t)cap * sizeof(sim_level));
    if (!p) return -1;
    sd->lv = p;
    sd->cap = cap;
    return 0;
}

/* Index of the first entry whose key is >= k (insertion point). */
static uint32_t lower_bound(const sim_side *sd, int side, int64_t price) {
    int64_t k = key(side, price);
    uint32_t lo = 0, hi = sd->size;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (key(side, sd->lv[mid].price) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int insert_at(sim_side *sd, uint32_t idx, int64_t price, int64_t qty, int32_t count) {
    if (reserve(sd, sd->size + 1)) return -1;
    memmove(sd->lv + idx + 1, sd->lv + idx, (size_t)(sd->size - idx) * sizeof(sim_level));
    sd->lv[idx].price = price;
    sd->lv[idx].qty = qty;
    sd->lv[idx].count = count;
    sd->size++;
    return 0;
}

static void erase_at(sim_side *sd, uint32_t idx) {
    memmove(sd->lv + idx, sd->lv + idx + 1, (size_t)(sd->size - idx - 1) * sizeof(sim_level));
    sd->size--;
}

/* Set / add / delete a level by price in one side list. */
static int upsert(sim_side *sd, int side, int64_t price, int64_t qty, int32_t count,
                  sim_book_action *out) {
    uint32_t i = lower_bound(sd, side, price);
    int found = i < sd->size && sd->lv[i].price == price;
    if (qty == 0) {
        if (!found) return 0;
        if (out) {
            out->action = QT_PROFITDLL_BA_DELETE;
            out->position = (int)(sd->size - i - 1);
        }
        erase_at(sd, i);
        return 1;
    }
    if (found) {
        sd->lv[i].qty = qty;
        sd->lv[i].count = count;
        if (out) {
            out->action = QT_PROFITDLL_BA_EDIT;
            out->position = (int)(sd->size - i - 1);
        }
        return 1;
    }
    uint32_t before = sd->size;
    if (insert_at(sd, i, price, qty, count)) return -1;
    if (out) {
        out->action = QT_PROFITDLL_BA_ADD;
        out->position = (int)(before - i);
    }
    return 1;
}

int sim_book_update_level(sim_book *b, int side, int64_t price, int64_t qty, int32_t count,
                          sim_book_action *out) {
    if ((side != 0 && side != 1) || qty < 0 || count < 0) return -1;
    sim_book_action a = {0, side, 0, price, qty, count};
    int r = upsert(&b->side[side], side, price, qty, count, &a);
    if (r == 1 && out) *out = a;
    return r;
}

int sim_book_apply_action(sim_book *b, const sim_book_action *a) {
    if (a->side != 0 && a->side != 1) return -1;
    sim_side *sd = &b->side[a->side];
    int64_t pos = a->position;
    switch (a->action) {
    case QT_PROFITDLL_BA_ADD: {
        if (pos < 0 || pos > (int64_t)sd->size || a->qty <= 0 || a->count < 0) return -1;
        uint32_t idx = sd->size - (uint32_t)pos;
        int64_t k = key(a->side, a->price);
        if (idx > 0 && key(a->side, sd->lv[idx - 1].price) >= k) return -1;
        if (idx < sd->size && key(a->side, sd->lv[idx].price) <= k) return -1;
        return insert_at(sd, idx, a->price, a->qty, a->count);
    }
    case QT_PROFITDLL_BA_EDIT: {
        if (pos < 0 || pos >= (int64_t)sd->size || a->qty <= 0 || a->count < 0) return -1;
        sim_level *l = &sd->lv[sd->size - (uint32_t)pos - 1];
        l->qty = a->qty;
        l->count = a->count;
        return 0;
    }
    case QT_PROFITDLL_BA_DELETE:
        if (pos < 0 || pos >= (int64_t)sd->size) return -1;
        erase_at(sd, sd->size - (uint32_t)pos - 1);
        return 0;
    case QT_PROFITDLL_BA_DELETE_FROM:
        if (pos < 0 || pos >= (int64_t)sd->size) return -1;
        sd->size = sd->size - (uint32_t)pos - 1;
        return 0;
    default:
        return -1;
    }
}

void sim_book_snapshot_begin(sim_book *b, unsigned sides_mask) {
    b->staging_mask = sides_mask & 3u;
    b->staging[0].size = b->staging[1].size = 0;
}

int sim_book_snapshot_level(sim_book *b, int side, int64_t price, int64_t qty, int32_t count) {
    if ((side != 0 && side != 1) || !(b->staging_mask & (1u << side)) || qty < 0 || count < 0)
        return -1;
    return upsert(&b->staging[side], side, price, qty, count, NULL) < 0 ? -1 : 0;
}

unsigned sim_book_snapshot_end(sim_book *b) {
    unsigned m = b->staging_mask;
    for (int s = 0; s < 2; s++) {
        if (!(m & (1u << s))) continue;
        sim_side t = b->side[s];
        b->side[s] = b->staging[s];
        b->staging[s] = t;
        b->staging[s].size = 0;
    }
    b->staging_mask = 0;
    return m;
}

const sim_level *sim_book_best(const sim_book *b, int side) {
    if (side != 0 && side != 1) return NULL;
    const sim_side *sd = &b->side[side];
    return sd->size ? &sd->lv[sd->size - 1] : NULL;
}
