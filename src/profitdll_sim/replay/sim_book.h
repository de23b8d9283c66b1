/* The simulator's price book of one instrument, kept the way ProfitDLL
 * reports it: each side a list ordered worst-to-best, so the DLL's
 * `position` (counted from the end) is size - index - 1.
 *
 * Level updates of our event logs (QT_EV_L2_LEVEL: side, price, new
 * aggregate qty, 0 deletes) become position-based actions here: an update of
 * an existing price is an edit at its position, a new price an add at the
 * position it takes, qty 0 a delete.  Positional actions recorded from the
 * real DLL (QT_EV_PRICE_BOOK) are applied as they are.  Full books are
 * staged (snapshot begin / levels / end) and swapped in at the end.
 *
 * Memory grows by doubling when a side fills (rare, amortised); nothing is
 * synchronised: the book belongs to the replay thread. */
#ifndef SIM_BOOK_H
#define SIM_BOOK_H

#include <stdint.h>

typedef struct sim_level {
    int64_t price; /* price units */
    int64_t qty;
    int32_t count;
} sim_level;

typedef struct sim_side {
    sim_level *lv; /* worst-to-best */
    uint32_t size, cap;
} sim_side;

typedef struct sim_book {
    sim_side side[2];    /* 0 buy, 1 sell */
    sim_side staging[2]; /* full book being received */
    unsigned staging_mask; /* bit 0 buy, bit 1 sell: sides being rebuilt */
} sim_book;

/* One positional action, as a PriceBook callback carries it. */
typedef struct sim_book_action {
    int action;   /* QT_PROFITDLL_BA_ADD / EDIT / DELETE / DELETE_FROM */
    int side;     /* 0 buy, 1 sell */
    int position; /* from the end of the side's list */
    int64_t price;
    int64_t qty;
    int32_t count;
} sim_book_action;

void sim_book_init(sim_book *b);
void sim_book_free(sim_book *b);
void sim_book_clear(sim_book *b);

/* Apply a level update; *out is the action a DLL client needs to follow.
 * Returns 1 when an action resulted, 0 when nothing changed (delete of an
 * absent price), -1 when rejected (bad side, negative qty, no memory). */
int sim_book_update_level(sim_book *b, int side, int64_t price, int64_t qty, int32_t count,
                          sim_book_action *out);

/* Apply a positional action (recorded PriceBook).  0 on success, -1 when
 * the position is out of range, an add would break the price order, or
 * qty/side are invalid (the book is then unchanged). */
int sim_book_apply_action(sim_book *b, const sim_book_action *a);

/* Full books: begin (sides_mask: bit 0 buy, bit 1 sell), levels in any
 * order, end swaps the staged sides in and returns their mask. */
void sim_book_snapshot_begin(sim_book *b, unsigned sides_mask);
int sim_book_snapshot_level(sim_book *b, int side, int64_t price, int64_t qty, int32_t count);
unsigned sim_book_snapshot_end(sim_book *b);

/* Best level of a side (the last entry), or NULL if empty. */
const sim_level *sim_book_best(const sim_book *b, int side);

#endif
