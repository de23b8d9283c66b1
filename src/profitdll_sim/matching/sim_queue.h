/* Queue-position model of the matching engine (sim_matching.h, "at our
 * price"): where a resting order of ours stands in its price level's queue,
 * and how much of a replayed trade at that price reaches it.
 *
 * Contract (deliberately conservative: when in doubt, fill later or less):
 *   - joining: the order goes behind the level's displayed quantity (the
 *     volume ahead); our own earlier orders at that price are ahead too
 *     (the engine passes them as own_ahead);
 *   - cancellations in the market are assumed to be behind us, except that
 *     the volume ahead never exceeds what the level displays: when the level
 *     shrinks below it, the volume ahead is cut to the level and the cut is
 *     remembered as credit for `window` ns (a feed may show the shrink of a
 *     trade before the trade); window 0 keeps no credit;
 *   - a trade at our price that hits our side first uses up the live credit,
 *     then reduces the volume ahead; only what goes beyond the volume ahead
 *     plus own_ahead can fill us (credit only ever delays fills);
 *   - a trade strictly through our price means the whole level traded
 *     first: nothing is ahead any more;
 *   - which trades hit our side: a sale aggression (trade code 3) for
 *     resting buys, a buy aggression (2) for resting sells, auction prints
 *     (4) for both; with any_trade every trade counts.
 * Splitting one trade among several of our orders (price, then time
 * priority, never more than its quantity) is the engine's job. */
#ifndef SIM_QUEUE_H
#define SIM_QUEUE_H

#include <stdint.h>

typedef struct sim_queue_pos {
    int64_t ahead;        /* market volume ahead of us at our price */
    int64_t credit;       /* cut from `ahead` by a level shrink, not yet matched by trades */
    int64_t credit_until; /* market time the credit lapses */
} sim_queue_pos;

/* The order joins the back of a level displaying level_qty. */
void sim_queue_join(sim_queue_pos *qp, int64_t level_qty);

/* The feed now shows level_qty at our price (market time now). */
void sim_queue_level_shown(sim_queue_pos *qp, int64_t level_qty, int64_t now, int64_t window);

/* A trade went through our price: the level ahead of us is gone. */
void sim_queue_traded_through(sim_queue_pos *qp);

/* 1 when a trade of this code moves the queue of our orders on side
 * our_side (QT_SIDE_BUY / QT_SIDE_SELL). */
int sim_queue_trade_counts(int our_side, int trade_code, int any_trade);

/* A counting trade of trade_qty at our price, with own_ahead of our own
 * orders ahead of this one: returns how much of it goes beyond everything
 * ahead (what may fill us, before our leaves and the trade's remaining
 * quantity bound it), and moves the queue. */
int64_t sim_queue_trade_at_price(sim_queue_pos *qp, int64_t trade_qty, int64_t own_ahead, int64_t now);

#endif
