/* Incremental feature engine, spec qt-features/1: a record in, the 77
 * features of a trade out.  See qt_features.h for the contract and the
 * exactness argument; the engine's state and the split into qt_fe_*.c are
 * described in qt_fe_internal.h.  The comments here say why the pieces look
 * as they do. */
#include <math.h>
#include <string.h>

#include "features/qt_fe_internal.h"

static const uint32_t RW[6] = {5, 10, 20, 50, 100, 200}; /* return windows */
static const uint32_t QW[4] = {10, 20, 50, 100}; /* quantity windows */

static inline double safe_div(double a, double b) {
    if (isnan(a) || isnan(b)) return NAN;
    return b != 0.0 ? a / b : 0.0;
}

/* ------------------------------------------------------------------ trades */

/* mean and sample std of W_N(r) for return window k, in return units. */
static inline void rstats(qt_fe *fe, int k, double *mean, double *sd) {
    fe_return_stats(fe->hist, fe->n, RW[k], fe->rs1[k], fe->rs2[k], fe->rbig[k], &fe->c.recomputations, mean, sd);
}

/* The 12 book features from the book as it stands now. */
static void book_features(const qt_fe *fe, double *out) {
    int64_t bq[10], aq[10];
    uint32_t nb = qt_book_levels(fe->book, QT_SIDE_BUY, 10, NULL, bq, NULL);
    uint32_t na = qt_book_levels(fe->book, QT_SIDE_SELL, 10, NULL, aq, NULL);
    static const uint32_t DEPTHS[3] = {1, 5, 10};
    int64_t db[3], da[3], sb = 0, sa = 0;
    for (uint32_t k = 0, d = 0; k < 10; k++) {
        if (k < nb) sb += bq[k];
        if (k < na) sa += aq[k];
        if (k + 1 == DEPTHS[d]) {
            db[d] = sb;
            da[d] = sa;
            d++;
        }
    }
    if (nb && na) {
        int64_t bid_p = qt_book_best_price(fe->book, QT_SIDE_BUY), ask_p = qt_book_best_price(fe->book, QT_SIDE_SELL);
        if (bid_p < ask_p) {
            /* the spread from the integer difference: exact, no decimal noise
             * of two large prices subtracted */
            double spread = to_price(fe, ask_p - bid_p);
            double ticks = spread / fe->tick_size;
            out[QT_FE_SPREAD] = spread;
            out[QT_FE_SPREAD_TICKS] = ticks;
            /* microprice - mid = (ba - bb)(qb - qa) / (2 (qb + qa)) exactly:
             * the spec's form subtracts two nearly equal prices and keeps
             * only ~1e-9 of relative accuracy; this one loses nothing */
            out[QT_FE_MICROPRICE_DEV] = ticks * (double)(bq[0] - aq[0]) / (2.0 * (double)(bq[0] + aq[0]));
        } else {
            out[QT_FE_SPREAD] = out[QT_FE_SPREAD_TICKS] = out[QT_FE_MICROPRICE_DEV] = NAN;
        }
    } else {
        out[QT_FE_SPREAD] = out[QT_FE_SPREAD_TICKS] = out[QT_FE_MICROPRICE_DEV] = NAN;
    }
    /* imbalances: the quantity scale cancels */
    for (int k = 0; k < 3; k++)
        out[QT_FE_BOOK_IMBALANCE_1 + k] = db[k] + da[k] ? (double)(db[k] - da[k]) / (double)(db[k] + da[k]) : 0.0;
    out[QT_FE_DEPTH_BID_5] = qty_out(fe, db[1]);
    out[QT_FE_DEPTH_ASK_5] = qty_out(fe, da[1]);
    out[QT_FE_OFI_10] = fe->ofi_n >= 10 ? qty_out(fe, fe->ofi10) : NAN;
    out[QT_FE_OFI_50] = fe->ofi_n >= 50 ? qty_out(fe, fe->ofi50) : NAN;
    out[QT_FE_OFI_100] = fe->ofi_n >= 100 ? qty_out(fe, fe->ofi100) : NAN;
    out[QT_FE_BOOK_UPDATE_RATE] = (double)fe->book10.total / 10.0;
}

int qt_fe_on_trade(qt_fe *fe, const qt_event *ev, double *out) {
    fe->c.trades++;
    if (ev->flags & QT_F_INVALID) {
        fe->c.invalid++;
        return 0;
    }
    if (ev->flags & QT_F_AFTER_HOURS) {
        fe->c.after_hours++;
        return 0;
    }
    /* A correction of an earlier trade: the rows already emitted stand and
     * it is not a new trade of the stream, so it neither emits nor moves any
     * window (nor the clock). */
    if (ev->flags & QT_F_EDIT) {
        fe->c.edits++;
        return 0;
    }
    const int64_t P = ev->price;
    const int32_t q = ev->qty;
    int64_t ts, usec, lsec;
    if (P == QT_PRICE_NONE || P <= 0 || P > FE_MAX_PRICE || q <= 0 || !clock_take(fe, ev->exch_ns, &ts)) {
        fe->c.invalid++;
        return 0;
    }
    clock_place(fe, ts, &usec, &lsec);

    const int64_t n = ++fe->n;
    fe_trade *t = H(fe, n);
    const double p = to_price(fe, P);
    const int8_t s = ev->code == 2 ? 1 : ev->code == 3 ? -1 : 0;
    const int64_t sq = (int64_t)s * q;
    const int32_t b = ev->a, a = ev->b;

    /* ---- the record of trade n */
    t->P = P;
    t->p = p;
    t->q = q;
    t->s = s;
    t->bits = 0;
    t->R = 0;
    t->r = 0.0;
    t->QR = i128_zero();
    if (n >= 2) {
        double r = p / H(fe, n - 1)->p - 1.0;
        t->r = r;
        double x = r * TWO53;
        /* |r| <= 1 is on the 2^-53 grid; the equality re-checks it */
        if (r <= 1.0 && (double)(int64_t)x == x) {
            t->R = (int64_t)x;
            t->QR = i128_from_integral_double(((double)q * r) * TWO53);
        } else {
            t->bits |= TB_BIG;
        }
        if (b != fe->prev_b) t->bits |= TB_BUYER_CHANGED;
        if (a != fe->prev_s) t->bits |= TB_SELLER_CHANGED;
    }
    fe->prev_b = b;
    fe->prev_s = a;
    fe->cum_signed += sq;
    secwin_add(&fe->trades60, usec);
    t->ti = (int32_t)fe->trades60.total;

    /* ---- windows over returns (defined from trade 2) */
    if (n >= 2) {
        const fe_i128 R2 = i128_square(t->R);
        const int big = (t->bits & TB_BIG) != 0;
        for (int k = 0; k < NRW; k++) {
            fe->rs1[k] += t->R;
            i128_add(&fe->rs2[k], R2);
            fe->rbig[k] += big;
            if (n - (int64_t)RW[k] >= 2) {
                const fe_trade *o = H(fe, n - RW[k]);
                fe->rs1[k] -= o->R;
                i128_sub(&fe->rs2[k], i128_square(o->R));
                fe->rbig[k] -= (o->bits & TB_BIG) != 0;
            }
        }
        i128_add(&fe->qr20, t->QR);
        if (n - 20 >= 2) i128_sub(&fe->qr20, H(fe, n - 20)->QR);
    }

    /* ---- windows over prices, quantities, flags (defined from trade 1) */
    fe->ps5 += P;
    if (n > 5) fe->ps5 -= H(fe, n - 5)->P;
    fe->ps20 += P;
    i128_add(&fe->ps2_20, i128_square(P));
    if (n > 20) {
        int64_t o = H(fe, n - 20)->P;
        fe->ps20 -= o;
        i128_sub(&fe->ps2_20, i128_square(o));
    }
    fe->ps50 += P;
    if (n > 50) fe->ps50 -= H(fe, n - 50)->P;
    const fe_i128 q2 = i128_square(q);
    for (int k = 0; k < 4; k++) {
        fe->qs[k] += q;
        fe->sqs[k] += sq;
        if (k) i128_add(&fe->qs2[k], q2);
        if (n > (int64_t)QW[k]) {
            const fe_trade *o = H(fe, n - QW[k]);
            fe->qs[k] -= o->q;
            fe->sqs[k] -= (int64_t)o->s * o->q;
            if (k) i128_sub(&fe->qs2[k], i128_square(o->q));
        }
    }
    fe->bchg100 += (t->bits & TB_BUYER_CHANGED) != 0;
    fe->schg100 += (t->bits & TB_SELLER_CHANGED) != 0;
    if (n > 100) {
        const fe_trade *o = H(fe, n - 100);
        fe->bchg100 -= (o->bits & TB_BUYER_CHANGED) != 0;
        fe->schg100 -= (o->bits & TB_SELLER_CHANGED) != 0;
    }
    fe->ti200 += t->ti;
    if (n > 200) fe->ti200 -= H(fe, n - 200)->ti;

    /* ---- agent ranking over W_500, presence in W_20 */
    fe_agents *ag = &fe->ag;
    if (n > 20) {
        const fe_trade *o = H(fe, n - 20);
        ag->buy.cnt20[o->bslot]--;
        ag->sell.cnt20[o->sslot]--;
    }
    if (n > 500) {
        const fe_trade *o = H(fe, n - 500);
        rank_leave(&ag->buy, o->bslot, o->q);
        rank_leave(&ag->sell, o->sslot, o->q);
        if (ag->buy.cnt[o->bslot] == 0 && ag->sell.cnt[o->bslot] == 0) qt_fe_agent_free(ag, o->bslot);
        if (o->sslot != o->bslot && ag->buy.cnt[o->sslot] == 0 && ag->sell.cnt[o->sslot] == 0)
            qt_fe_agent_free(ag, o->sslot);
    }
    int bslot = agent_slot(ag, b), sslot = agent_slot(ag, a);
    if (bslot < 0 || sslot < 0) bslot = sslot = 0; /* unreachable: the pool holds every live agent */
    t->bslot = (uint16_t)bslot;
    t->sslot = (uint16_t)sslot;
    rank_enter(&ag->buy, bslot, q, n);
    rank_enter(&ag->sell, sslot, q, n);

    fe_gk_update(&fe->gk, lsec, p);

    /* ================================================== the feature vector */
    double mean_r[NRW], sd_r[NRW];
    for (int k = 0; k < NRW; k++) {
        if (n >= (int64_t)RW[k] + 1) rstats(fe, k, &mean_r[k], &sd_r[k]);
        else mean_r[k] = sd_r[k] = NAN;
    }
    /* volatility */
    for (int k = 0; k < 4; k++) {
        out[QT_FE_VOLATILITY_10 + k] = sd_r[RW10 + k];
        out[QT_FE_VOLATILITY_RATIO_10 + k] = safe_div(sd_r[RW10 + k], sd_r[RW20 + k]);
    }
    out[QT_FE_VOLATILITY_GK] = fe->gk.n >= 5 ? fe->gk.value : NAN;
    if (n >= 20) {
        /* (p - (m - 2s)) / (4s) with m = S/20, s = sqrt(D)/20: the same as
         * (20p - S + 2 sqrt(D)) / (4 sqrt(D)), whose first term is an exact
         * integer, so nothing cancels at the price level */
        fe_i128 d = var_numerator(fe->ps20, fe->ps2_20, 20);
        if (i128_is_zero(d)) {
            out[QT_FE_BB_POSITION] = 0.5;
        } else {
            double root = sqrt(i128_to_double(d));
            out[QT_FE_BB_POSITION] = ((double)(20 * P - fe->ps20) + 2.0 * root) / (4.0 * root);
        }
    } else {
        out[QT_FE_BB_POSITION] = NAN;
    }
    /* returns */
    static const int RET_LAGS[7] = {1, 2, 5, 10, 20, 50, 100};
    for (int k = 0; k < 7; k++)
        out[QT_FE_RETURNS_1 + k] = n > RET_LAGS[k] ? p / H(fe, n - RET_LAGS[k])->p - 1.0 : NAN;
    double l1 = n > 1 ? log(p / H(fe, n - 1)->p) : NAN;
    double l5 = n > 5 ? log(p / H(fe, n - 5)->p) : NAN;
    double l20 = n > 20 ? log(p / H(fe, n - 20)->p) : NAN;
    double l50 = n > 50 ? log(p / H(fe, n - 50)->p) : NAN;
    out[QT_FE_LOG_RETURNS_1] = l1;
    out[QT_FE_LOG_RETURNS_1 + 1] = l5;
    out[QT_FE_LOG_RETURNS_1 + 2] = l20;
    /* order flow */
    for (int k = 0; k < 4; k++)
        out[QT_FE_ORDER_FLOW_IMBALANCE_10 + k] =
            n >= (int64_t)QW[k] ? safe_div((double)fe->sqs[k], (double)fe->qs[k]) : NAN;
    out[QT_FE_CUMULATIVE_SIGNED_VOLUME] = qty_out(fe, fe->cum_signed);
    out[QT_FE_SIGNED_VOLUME] = qty_out(fe, sq);
    if (n >= 21) {
        double num;
        if (fe->rbig[RW20] == 0) {
            num = i128_to_double(fe->qr20) * INV_TWO53;
        } else {
            fe->c.recomputations++;
            num = 0.0;
            for (int64_t i = n - 19; i <= n; i++) num += (double)H(fe, i)->q * H(fe, i)->r;
        }
        out[QT_FE_VOLUME_WEIGHTED_RETURN] = safe_div(num, (double)fe->qs[1]);
    } else {
        out[QT_FE_VOLUME_WEIGHTED_RETURN] = NAN;
    }
    out[QT_FE_AGENT_TURNOVER] =
        n >= 100 ? ((double)fe->bchg100 / 100.0 + (double)fe->schg100 / 100.0) / 2.0 : NAN;
    /* volume */
    for (int k = 1; k < 4; k++) {
        uint32_t N = QW[k];
        if (n >= (int64_t)N) {
            double mean = (double)fe->qs[k] / N;
            double sd = std_from_sums(fe->qs[k], fe->qs2[k], N);
            out[QT_FE_VOLUME_RATIO_20 + k - 1] = safe_div((double)q, mean);
            /* q - mean as (N q - S) / N: an exact integer, one rounding */
            out[QT_FE_VOLUME_ZSCORE_20 + k - 1] = safe_div((double)((int64_t)N * q - fe->qs[k]) / N, sd);
        } else {
            out[QT_FE_VOLUME_RATIO_20 + k - 1] = out[QT_FE_VOLUME_ZSCORE_20 + k - 1] = NAN;
        }
    }
    out[QT_FE_TRADE_INTENSITY] = (double)t->ti / 60.0;
    /* ti / mean(W_200(ti)) with the 1/60 cancelled: one rounding */
    out[QT_FE_TRADE_INTENSITY_RATIO] = n >= 200 ? safe_div((double)t->ti * 200.0, (double)fe->ti200) : NAN;
    /* technical */
    out[QT_FE_MA_5_20_RATIO] = n >= 20 ? ((double)fe->ps5 / 5.0) / ((double)fe->ps20 / 20.0) : NAN;
    out[QT_FE_MA_20_50_RATIO] = n >= 50 ? ((double)fe->ps20 / 20.0) / ((double)fe->ps50 / 50.0) : NAN;
    out[QT_FE_MOMENTUM_5_20] = l5 - (5.0 / 20.0) * l20;
    out[QT_FE_MOMENTUM_20_50] = l20 - (20.0 / 50.0) * l50;
    out[QT_FE_SHARPE_5] = safe_div(mean_r[RW5], sd_r[RW5]);
    out[QT_FE_SHARPE_20] = safe_div(mean_r[RW20], sd_r[RW20]);
    const int64_t local_t = lsec - fe->day * 86400;
    double tn = (double)(local_t - fe->open_s) / (double)(fe->close_s - fe->open_s);
    out[QT_FE_TIME_NORMALIZED] = tn < 0.0 ? 0.0 : tn > 1.0 ? 1.0 : tn;
    /* microstructure */
    if (n >= 500) {
        for (int k = 0; k < 5; k++) {
            out[QT_FE_TOP_BUYER_0_ACTIVE + k] = k < ag->buy.len && ag->buy.order[k] == bslot;
            out[QT_FE_TOP_SELLER_0_ACTIVE + k] = k < ag->sell.len && ag->sell.order[k] == sslot;
        }
        out[QT_FE_TOP_BUYERS_COUNT] = rank_top_count20(&ag->buy);
        out[QT_FE_TOP_SELLERS_COUNT] = rank_top_count20(&ag->sell);
    } else {
        for (int k = 0; k < 12; k++) out[QT_FE_TOP_BUYER_0_ACTIVE + k] = NAN;
    }
    out[QT_FE_BUYER_CHANGED] = (t->bits & TB_BUYER_CHANGED) != 0;
    out[QT_FE_SELLER_CHANGED] = (t->bits & TB_SELLER_CHANGED) != 0;
    out[QT_FE_IS_BUYER_AGGRESSOR] = ev->code == 2;
    out[QT_FE_IS_SELLER_AGGRESSOR] = ev->code == 3;
    /* temporal */
    out[QT_FE_MINUTE] = (double)((local_t / 60) % 60);
    out[QT_FE_HOUR] = (double)(local_t / 3600);
    out[QT_FE_DAY_OF_WEEK] = fe->dow;
    out[QT_FE_IS_OPENING_30MIN] = local_t >= fe->open_s && local_t < fe->open_s + 1800;
    out[QT_FE_IS_CLOSING_30MIN] = local_t >= fe->close_s - 1800 && local_t < fe->close_s;
    out[QT_FE_IS_LUNCH_HOUR] = local_t >= 12 * 3600 && local_t < 13 * 3600;

    /* book: book events before this trade within its 10-second window */
    secwin_advance(&fe->book10, usec);
    book_features(fe, out);

    fe->c.rows++;
    return 1;
}

/* ---------------------------------------------------------------- the book */

/* The Cont-Kukanov-Stoikov term of a book event, when the event changed the
 * quote and found and left the book valid. */
static inline void book_event(qt_fe *fe) {
    fe->c.book_events++;
    qt_book_quote qt;
    qt_book_get_quote(fe->book, &qt);
    int64_t bid = qt.bid, ask = qt.ask, bq = qt.bid_qty, aq = qt.ask_qty;
    int valid = bid != QT_PRICE_NONE && ask != QT_PRICE_NONE && bid < ask;
    int changed = bid != fe->q_bid || bq != fe->q_bid_qty || ask != fe->q_ask || aq != fe->q_ask_qty;
    if (changed && valid && fe->q_valid) {
        int64_t e = (bid >= fe->q_bid ? bq : 0) - (bid <= fe->q_bid ? fe->q_bid_qty : 0) -
                    (ask <= fe->q_ask ? aq : 0) + (ask >= fe->q_ask ? fe->q_ask_qty : 0);
        int64_t m = fe->ofi_n++;
        fe->ofi[m & (OFI_HIST - 1)] = e;
        fe->ofi10 += e;
        fe->ofi50 += e;
        fe->ofi100 += e;
        if (m >= 10) fe->ofi10 -= fe->ofi[(m - 10) & (OFI_HIST - 1)];
        if (m >= 50) fe->ofi50 -= fe->ofi[(m - 50) & (OFI_HIST - 1)];
        if (m >= 100) fe->ofi100 -= fe->ofi[(m - 100) & (OFI_HIST - 1)];
    }
    fe->q_bid = bid;
    fe->q_ask = ask;
    fe->q_bid_qty = bq;
    fe->q_ask_qty = aq;
    fe->q_valid = valid;
}

/* A book record: the session is placed by the time the record would get
 * (a new local date resets everything, the book included, before it is
 * applied); the clock moves only when the record completes a book event,
 * since a record that changes no level is not a book event. */
static void on_book_record(qt_fe *fe, const qt_event *ev) {
    int64_t eff, usec = 0, lsec;
    int timed = clock_peek(fe, ev->exch_ns, &eff);
    if (timed) clock_place(fe, eff, &usec, &lsec);
    fe->c.book_records++;
    unsigned r = qt_book_apply(fe->book, ev);
    if (r & QT_BOOK_REJECTED) fe->c.book_rejected++;
    if (!(r & QT_BOOK_EVENT)) return;
    if (timed) {
        clock_commit(fe, ev->exch_ns, eff);
        secwin_add(&fe->book10, usec);
    } else {
        fe->c.book_untimed++;
    }
    book_event(fe);
}

int qt_fe_on_event(qt_fe *fe, const qt_event *ev, double *out) {
    switch (ev->type) {
    case QT_EV_TRADE:
        return qt_fe_on_trade(fe, ev, out);
    case QT_EV_PRICE_BOOK:
    case QT_EV_L2_LEVEL:
    case QT_EV_SNAPSHOT_BEGIN:
    case QT_EV_SNAPSHOT_END:
        on_book_record(fe, ev);
        return 0;
    default:
        fe->c.skipped_records++;
        return 0;
    }
}

int64_t qt_fe_clock(const qt_fe *fe) { return fe->have_clock ? fe->latest_ts : 0; }
