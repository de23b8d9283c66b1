/* Queue-position model of the matching engine: see sim_queue.h for the
 * contract. */
#include "matching/sim_queue.h"

#include "market/qt_events.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void sim_queue_join(sim_queue_pos *qp, int64_t level_qty) {
    qp->ahead = level_qty;
    qp->credit = 0;
}

void sim_queue_level_shown(sim_queue_pos *qp, int64_t level_qty, int64_t now, int64_t window) {
    if (level_qty >= qp->ahead) return;
    if (window > 0) {
        if (now > qp->credit_until) qp->credit = 0;
        qp->credit += qp->ahead - level_qty;
        qp->credit_until = now > INT64_MAX - window ? INT64_MAX : now + window;
    }
    qp->ahead = level_qty;
}

void sim_queue_traded_through(sim_queue_pos *qp) {
    qp->ahead = 0;
    qp->credit = 0;
}

int sim_queue_trade_counts(int our_side, int trade_code, int any_trade) {
    if (any_trade || trade_code == 4 /* auction */) return 1;
    return our_side == QT_SIDE_BUY ? trade_code == 3 /* sell aggression */ : trade_code == 2 /* buy aggression */;
}

int64_t sim_queue_trade_at_price(sim_queue_pos *qp, int64_t trade_qty, int64_t own_ahead, int64_t now) {
    if (now > qp->credit_until) qp->credit = 0;
    int64_t used = min64(trade_qty, qp->credit);
    qp->credit -= used;
    int64_t eff = trade_qty - used, pos = qp->ahead + own_ahead;
    int64_t beyond = eff > pos ? eff - pos : 0;
    qp->ahead = qp->ahead > eff ? qp->ahead - eff : 0;
    return beyond;
}
