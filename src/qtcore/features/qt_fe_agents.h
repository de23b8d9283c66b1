/* Private to the feature engine (qt_features.c and its qt_fe_*.c parts; not
 * installed, not part of the qt_features.h contract).
 *
 * Agent ranking over W_500 (spec: top_buyer_k_active, top_sellers_count,
 * ...): per side (buyer, seller), the agents with a trade in the last 500
 * trades, ordered by volume in the window, ties to the more recent trade;
 * for each, its trades in W_500 and in W_20.
 *
 * Contract: agent ids (any int32) map to slots of a fixed pool of
 * AGENT_SLOTS; a slot is taken by agent_slot when an agent enters and must
 * be given back (qt_fe_agent_free) once the agent has no trade left in
 * W_500 on either side, so at most 2 * 500 slots are ever live and no id is
 * refused.  The caller moves the window: rank_leave for the trade leaving
 * W_500, the cnt20 decrement for the one leaving W_20, rank_enter for the
 * new trade (idx: its number in the session, increasing).  order[0..len)
 * is then the side's ranking, best first.  Cost: O(displacement) per move
 * in the sorted array (O(A) worst case, A agents in the window).
 *
 * What runs per trade is static inline here (it must stay inlinable into
 * the engine's trade path); clearing and slot release are in qt_fe_agents.c. */
#ifndef QT_FE_AGENTS_H
#define QT_FE_AGENTS_H

#include <stdint.h>

/* Agents present in W_500 (as buyer or seller) are at most 2*500; slots are
 * recycled when an agent leaves both sides of the window, so a fixed pool
 * serves any number of agent ids. */
#define AGENT_SLOTS 1024
#define AGENT_MAP 2048
#define AGENT_MAP_BITS 11

typedef struct fe_rank {
    int64_t vol[AGENT_SLOTS];  /* volume in W_500 on this side */
    int64_t last[AGENT_SLOTS]; /* index of the latest trade in W_500 on this side */
    int32_t cnt[AGENT_SLOTS];  /* trades in W_500 on this side */
    int32_t cnt20[AGENT_SLOTS]; /* trades in W_20 on this side */
    int16_t pos[AGENT_SLOTS];  /* position in order[] */
    int16_t order[AGENT_SLOTS]; /* present agents, best first */
    int32_t len;
} fe_rank;

typedef struct fe_agents {
    int32_t map_key[AGENT_MAP];
    int16_t map_slot[AGENT_MAP]; /* -1: empty */
    int32_t slot_id[AGENT_SLOTS];
    int16_t free_slots[AGENT_SLOTS];
    int32_t n_free;
    fe_rank buy, sell;
} fe_agents;

/* Empty ranking, every slot free. */
void qt_fe_agents_clear(fe_agents *ag);
/* Slot s back to the pool (its agent has left W_500 on both sides). */
void qt_fe_agent_free(fe_agents *ag, int s);

static inline uint32_t agent_hash(int32_t id) {
    return ((uint32_t)id * 2654435761u) >> (32 - AGENT_MAP_BITS);
}

/* The slot of agent id, taken from the pool if the agent is new; -1 only if
 * the pool is empty, which the W_500 bound rules out. */
static inline int agent_slot(fe_agents *ag, int32_t id) {
    uint32_t i = agent_hash(id);
    while (ag->map_slot[i] >= 0) {
        if (ag->map_key[i] == id) return ag->map_slot[i];
        i = (i + 1) & (AGENT_MAP - 1);
    }
    if (ag->n_free == 0) return -1; /* impossible: at most 1000 agents live */
    int s = ag->free_slots[--ag->n_free];
    ag->map_key[i] = id;
    ag->map_slot[i] = (int16_t)s;
    ag->slot_id[s] = id;
    ag->buy.vol[s] = ag->sell.vol[s] = 0;
    ag->buy.cnt[s] = ag->sell.cnt[s] = 0;
    ag->buy.cnt20[s] = ag->sell.cnt20[s] = 0;
    return s;
}

static inline int rank_better(const fe_rank *rk, int a, int b) {
    return rk->vol[a] > rk->vol[b] || (rk->vol[a] == rk->vol[b] && rk->last[a] > rk->last[b]);
}

static inline void rank_promote(fe_rank *rk, int s) {
    int p = rk->pos[s];
    while (p > 0 && rank_better(rk, s, rk->order[p - 1])) {
        rk->order[p] = rk->order[p - 1];
        rk->pos[rk->order[p]] = (int16_t)p;
        p--;
    }
    rk->order[p] = (int16_t)s;
    rk->pos[s] = (int16_t)p;
}

static inline void rank_demote(fe_rank *rk, int s) {
    int p = rk->pos[s];
    while (p + 1 < rk->len && rank_better(rk, rk->order[p + 1], s)) {
        rk->order[p] = rk->order[p + 1];
        rk->pos[rk->order[p]] = (int16_t)p;
        p++;
    }
    rk->order[p] = (int16_t)s;
    rk->pos[s] = (int16_t)p;
}

/* Trade `idx` of this side leaves W_500. */
static inline void rank_leave(fe_rank *rk, int s, int32_t q) {
    rk->vol[s] -= q;
    if (--rk->cnt[s] == 0) {
        for (int p = rk->pos[s]; p + 1 < rk->len; p++) {
            rk->order[p] = rk->order[p + 1];
            rk->pos[rk->order[p]] = (int16_t)p;
        }
        rk->len--;
    } else {
        rank_demote(rk, s);
    }
}

/* Trade `idx` (the newest) enters W_500 on this side. */
static inline void rank_enter(fe_rank *rk, int s, int32_t q, int64_t idx) {
    if (rk->cnt[s]++ == 0) {
        rk->order[rk->len] = (int16_t)s;
        rk->pos[s] = (int16_t)rk->len;
        rk->len++;
    }
    rk->vol[s] += q;
    rk->last[s] = idx;
    rk->cnt20[s]++;
    rank_promote(rk, s);
}

static inline int rank_top_count20(const fe_rank *rk) {
    int k = rk->len < 5 ? rk->len : 5, c = 0;
    for (int i = 0; i < k; i++) c += rk->cnt20[rk->order[i]] > 0;
    return c;
}

#endif
