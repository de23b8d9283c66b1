/* The simulator's connector thread: the one thread every callback runs on,
 * as ProfitDLL's ConnectorThread.  It logs in (state callbacks), loads the
 * event logs, then replays them for the subscribed tickers and serves the
 * commands client threads queue (subscriptions, history, faults).
 *
 * - Several logs (SimSetReplayLog, then SimAddReplayLog for each further
 *   one) are replayed at once, one feed each (sim_feed.h) under its own
 *   ticker, merged by exchange time (a record without one keeps its log's
 *   last; ties go to the log added first), so each ticker's callbacks come
 *   in its log's order and the tickers interleave as their markets did.
 *   Two logs may not be served under the same ticker.  The brokers of all
 *   logs form one dictionary (GetAgentNameByID): a log whose ids name other
 *   brokers than the first log's is renumbered.
 * - The replay starts at the first subscription to a served ticker (or at
 *   SimStartReplay); a ticker no log serves gets the invalid-ticker
 *   callback.
 * - Pacing: at speed > 0 records are released at their recorded receive
 *   times (one log: recv_ns deltas / speed; several: their merged exchange
 *   times, since the receive clocks of separate recordings are not
 *   comparable), pauses capped at SimSetMaxGapMs; at speed 0 as fast as the
 *   callbacks return.
 * - A market-data drop suppresses every market callback for its span (the
 *   logs keep being followed, as the exchanges keep trading), then
 *   reconnects and resends full books, tiny book, daily and phase of the
 *   subscriptions.
 * - Orders: the order engine trades the first log's instrument; at speed >
 *   0 its clock also runs between records so an order is acknowledged when
 *   its latency has passed; at the end of the logs the market closes for it
 *   (sim_orders_on_end).
 * - Broker state (SimSetStateFile, sim_state_file.h): at a routing login
 *   with a state file that has entries, the logs are first replayed
 *   without callbacks up to the file's last position, the engine taking
 *   the recorded commands where they were sent (fast_forward). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_events.h"
#include "replay/sim_feed.h"
#include "sim_order_callbacks.h"
#include "sim_text.h"

typedef struct replay {
    sim_session *s;
    sim_connector c;
    sim_feed feeds[SIM_MAX_LOGS];
    int n_feeds;
    int finished; /* every feed at its end */
} replay;

static int64_t wall_now(void) { return qt_monotonic_ns(); }

void sim_state_callback(sim_session *s, int type, int result) {
    TStateCallback cb = SIM_CB(s, state);
    SIM_COUNT(s, state_callbacks, 1);
    if (cb) cb(type, result);
}

/* ------------------------------------------------------------------------ */
/* market-data drops                                                        */

static void begin_drop(replay *r, int64_t ms) {
    sim_connector *c = &r->c;
    if (ms < 0) ms = 0;
    if (!c->dropping) sim_state_callback(r->s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_DISCONNECTED);
    c->dropping = 1;
    c->drop_until_log = atomic_load(&r->s->clock_ns) + ms * 1000000;
    c->drop_until_wall = wall_now() + ms * 1000000;
    SIM_COUNT(r->s, drops, 1);
}

static void end_drop(replay *r) {
    r->c.dropping = 0;
    sim_state_callback(r->s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTING);
    sim_state_callback(r->s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
    /* a reconnected feed starts with the current state */
    for (int i = 0; i < r->n_feeds; i++) sim_feed_resume(&r->feeds[i]);
}

static int replaying(const replay *r) { return r->c.started && !r->finished && r->n_feeds > 0; }

/* A drop ends before the first record at or past its end (replay time),
 * or, while nothing replays, when its span has passed on the wall clock. */
static void check_drop_end(replay *r, const qt_event *next, int64_t next_t) {
    if (!r->c.dropping) return;
    if (next ? next_t >= r->c.drop_until_log : wall_now() >= r->c.drop_until_wall) end_drop(r);
}

/* ------------------------------------------------------------------------ */
/* commands                                                                 */

static sim_feed *find_feed(replay *r, const char *ticker, const char *exchange) {
    if (!r->s->have_log) return NULL;
    for (int i = 0; i < r->n_feeds; i++)
        if (sim_ascii_ieq(ticker, r->feeds[i].ticker) && sim_ascii_ieq(exchange, r->feeds[i].exchange))
            return &r->feeds[i];
    return NULL;
}

static void invalid_ticker(replay *r, const char *ticker, const char *exchange) {
    TInvalidTickerCallback cb = SIM_CB(r->s, invalid_ticker);
    if (!cb) return;
    uint16_t wt[SIM_ID_LEN], we[SIM_EXCH_LEN];
    if (sim_utf8_to_u16(ticker, wt, SIM_ID_LEN) < 0 || sim_utf8_to_u16(exchange, we, SIM_EXCH_LEN) < 0) return;
    TConnectorAssetIdentifier a;
    memset(&a, 0, sizeof(a));
    a.Ticker = wt;
    a.Exchange = we;
    cb(a);
}

static sim_sub *find_sub(replay *r, const char *ticker, const char *exchange, int create) {
    sim_connector *c = &r->c;
    for (int i = 0; i < c->n_subs; i++)
        if (sim_ascii_ieq(c->subs[i].ticker, ticker) && sim_ascii_ieq(c->subs[i].exchange, exchange))
            return &c->subs[i];
    if (!create || c->n_subs == SIM_MAX_SUBS) return NULL;
    sim_sub *x = &c->subs[c->n_subs++];
    memset(x, 0, sizeof(*x));
    memcpy(x->ticker, ticker, SIM_ID_LEN);
    memcpy(x->exchange, exchange, SIM_EXCH_LEN);
    return x;
}

static void start_replay(replay *r) {
    if (r->c.started || r->n_feeds == 0) return;
    r->c.started = 1;
    r->c.anchored = 0;
}

static void do_subscribe(replay *r, const sim_cmd *c) {
    sim_sub *x = find_sub(r, c->ticker, c->exchange, 1);
    if (!x) return;
    unsigned before = x->kinds;
    x->kinds |= (unsigned)c->sub;
    sim_feed *f = find_feed(r, c->ticker, c->exchange);
    if (!f) {
        if (!before) invalid_ticker(r, c->ticker, c->exchange);
        return;
    }
    sim_feed_subscribe(f, (unsigned)c->sub);
    if (r->s->cfg.auto_start) start_replay(r);
}

static void do_unsubscribe(replay *r, const sim_cmd *c) {
    sim_sub *x = find_sub(r, c->ticker, c->exchange, 0);
    if (!x) return;
    x->kinds &= ~(unsigned)c->sub;
    sim_feed *f = find_feed(r, c->ticker, c->exchange);
    if (f) sim_feed_unsubscribe(f, (unsigned)c->sub);
}

static void serve_history(replay *r, const sim_cmd *c) {
    sim_feed *f = find_feed(r, c->ticker, c->exchange);
    if (f)
        sim_feed_history(f, c->a, c->b);
    else
        invalid_ticker(r, c->ticker, c->exchange);
}

static void stall(replay *r, int64_t ms) {
    if (ms > 60000) ms = 60000;
    int64_t until = wall_now() + ms * 1000000;
    while (!atomic_load(&r->s->stop)) {
        int64_t left = until - wall_now();
        if (left <= 0) break;
        qt_sleep_ns(left < 10000000 ? left : 10000000);
    }
}

/* SimInjectPhase: the engine's phase event goes into the state file, so a
 * restore injects it at the same point. */
static void inject_phase(replay *r, int state) {
    r->s->injecting_phase = 1;
    for (int i = 0; i < r->n_feeds; i++) sim_feed_set_phase(&r->feeds[i], state);
    r->s->injecting_phase = 0;
}

static void run_command(replay *r, const sim_cmd *c) {
    switch (c->kind) {
    case SIM_CMD_SUBSCRIBE:
        do_subscribe(r, c);
        break;
    case SIM_CMD_UNSUBSCRIBE:
        do_unsubscribe(r, c);
        break;
    case SIM_CMD_HISTORY:
        serve_history(r, c);
        break;
    case SIM_CMD_START:
        start_replay(r);
        break;
    case SIM_CMD_DROP:
        begin_drop(r, c->a);
        break;
    case SIM_CMD_STALL:
        stall(r, c->a);
        break;
    case SIM_CMD_MALFORMED: /* for the first log's ticker */
        if (r->n_feeds) sim_feed_inject_malformed(&r->feeds[0], (int)c->a);
        break;
    case SIM_CMD_PHASE: /* a state for every served ticker, e.g. a market-wide halt */
        inject_phase(r, (int)c->a);
        break;
    case SIM_CMD_SPEED:
        r->c.speed = c->x;
        r->c.anchored = 0;
        break;
    case SIM_CMD_DELAY:
        r->c.delay_us = (int)c->a;
        break;
    case SIM_CMD_ACCOUNTS:
        sim_fire_accounts(r->s);
        break;
    case SIM_CMD_ORDER_HISTORY:
        sim_fire_order_history(r->s);
        break;
    default:
        break;
    }
}

static void drain(replay *r) {
    sim_session *s = r->s;
    if (atomic_load_explicit(&s->cmd_pending, memory_order_acquire) == 0) return;
    for (;;) {
        sim_cmd c;
        int have = 0;
        sim_mutex_lock(&s->lock);
        if (s->cmd_n) {
            c = s->cmds[s->cmd_head];
            s->cmd_head = (s->cmd_head + 1) % SIM_CMD_CAP;
            s->cmd_n--;
            have = 1;
        } else if (s->note_n == 0) {
            atomic_store_explicit(&s->cmd_pending, 0, memory_order_release);
        }
        sim_mutex_unlock(&s->lock);
        sim_fire_order_notifications(s);
        if (!have) break;
        run_command(r, &c);
    }
}

/* ------------------------------------------------------------------------ */
/* set-up                                                                   */

static int same_name(const uint16_t *a, const uint16_t *b) {
    if (!a || !b) return a == b;
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* One broker dictionary for the session: the first log's, then each
 * further log's brokers found by name or appended (maps left NULL when a
 * log's ids already mean the same brokers). */
static int merge_agents(sim_session *s) {
    uint64_t total = 0;
    for (int i = 0; i < s->n_logs; i++) total += s->logs[i].n_agents;
    s->agents = (uint16_t **)calloc(total ? total : 1, sizeof(uint16_t *));
    if (!s->agents) return -1;
    for (int i = 0; i < s->n_logs; i++) {
        const sim_log *lg = &s->logs[i];
        int32_t *map = lg->n_agents ? (int32_t *)malloc(lg->n_agents * sizeof(int32_t)) : NULL;
        if (lg->n_agents && !map) return -1;
        int identity = 1;
        for (uint32_t j = 0; j < lg->n_agents; j++) {
            uint32_t k = 0;
            if (j < s->n_agents && same_name(s->agents[j], lg->agents[j]))
                k = j;
            else {
                while (k < s->n_agents && !same_name(s->agents[k], lg->agents[j])) k++;
                if (k == s->n_agents) s->agents[s->n_agents++] = lg->agents[j];
            }
            map[j] = (int32_t)k;
            identity &= k == j;
        }
        if (identity) {
            free(map);
            map = NULL;
        }
        s->agent_maps[i] = map;
    }
    return 0;
}

static int load_logs(replay *r) {
    sim_session *s = r->s;
    const sim_config *c = &s->cfg;
    if (!c->log_path[0]) return 0;
    char err[512];
    for (int i = 0; i <= c->n_more_logs; i++) {
        const char *path = i == 0 ? c->log_path : c->more_logs[i - 1].path;
        if (sim_log_open(&s->logs[i], path, err, sizeof(err))) {
            sim_set_error("%s", err);
            return -1;
        }
        s->n_logs = i + 1;
    }
    s->have_log = 1;
    if (merge_agents(s)) {
        sim_set_error("out of memory");
        return -1;
    }
    int64_t first = QT_TIME_NONE;
    for (int i = 0; i < s->n_logs; i++) {
        const char *ticker = i == 0 ? c->ticker : c->more_logs[i - 1].ticker;
        const char *exchange = i == 0 ? c->exchange : c->more_logs[i - 1].exchange;
        sim_feed *f = &r->feeds[i];
        if (sim_feed_open(f, &r->c, i, &s->logs[i], s->agent_maps[i], ticker, exchange)) return -1;
        r->n_feeds = i + 1;
        for (int j = 0; j < i; j++)
            if (sim_ascii_ieq(f->ticker, r->feeds[j].ticker) && sim_ascii_ieq(f->exchange, r->feeds[j].exchange)) {
                sim_set_error("two logs served under %s:%s (give each log its own ticker)", f->ticker,
                              f->exchange);
                return -1;
            }
        int64_t t = s->logs[i].first_exch_ns;
        if (t != QT_TIME_NONE && (first == QT_TIME_NONE || t < first)) first = t;
    }
    if (first != QT_TIME_NONE) {
        atomic_store(&s->clock_ns, first);
        atomic_store(&s->clock_wall_ns, wall_now());
    }
    return 0;
}

/* The order engine trades the first log's instrument. */
static void create_orders(replay *r) {
    const sim_feed *f = r->n_feeds ? &r->feeds[0] : NULL;
    if (f)
        sim_orders_start(r->s, f->ticker, f->exchange, f->price_unit, f->log->header.tick_size, f->multiplier, 1);
    else
        sim_orders_start(r->s, "", "", 0, 0, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* the loop                                                                 */

/* Paced replay between records: market time runs with the wall clock, so
 * orders whose latency has passed reach the exchange now, not at the next
 * record.  Returns the wall time (ns) until the next one is due. */
static int64_t engine_clock(replay *r) {
    sim_session *s = r->s;
    sim_mutex_lock(&s->lock);
    int64_t next = INT64_MAX;
    if (s->orders) {
        /* only when a command falls due: the state file records each such
         * advance (a restore repeats it between the same two events) */
        int64_t now = sim_clock_now(s);
        if (sim_orders_next_due(s->orders) <= now) {
            sim_orders_on_clock(s->orders, now);
            sim_state_clock(s, now);
        }
        next = sim_orders_next_due(s->orders);
    }
    sim_mutex_unlock(&s->lock);
    if (next == INT64_MAX) return INT64_MAX;
    double wall = (double)(next - sim_clock_now(s)) / r->c.speed;
    return wall < 0 ? 0 : wall > 1e17 ? INT64_MAX : (int64_t)wall + 1;
}

/* When the record of log time t is due on the wall clock (speed > 0);
 * the same t again gives the same answer. */
static int64_t due_time(replay *r, int64_t t) {
    sim_connector *c = &r->c;
    if (t < c->prev_log || t == 0) t = c->prev_log;
    if (!c->anchored) {
        c->anchor_wall = wall_now();
        c->anchor_log = t;
        c->prev_log = t;
        c->anchored = 1;
    }
    int64_t gap = t - c->prev_log;
    double max_log = (double)c->max_gap_ns * c->speed;
    if ((double)gap > max_log) c->anchor_log += gap - (int64_t)max_log; /* skip nights */
    c->prev_log = t;
    return c->anchor_wall + (int64_t)((double)(t - c->anchor_log) / c->speed);
}

/* The feed whose next record comes first (exchange time, then log order);
 * feeds found at their end are finished on the way.  NULL when all are. */
static sim_feed *next_feed(replay *r, const qt_event **next, int64_t *next_t) {
    sim_feed *best = NULL;
    for (int i = 0; i < r->n_feeds; i++) {
        sim_feed *f = &r->feeds[i];
        if (f->finished) continue;
        const qt_event *ev;
        int64_t t;
        if (!sim_feed_peek(f, &ev, &t)) {
            sim_feed_finish(f);
            continue;
        }
        if (!best || t < *next_t) {
            best = f;
            *next = ev;
            *next_t = t;
        }
    }
    return best;
}

static void finish(replay *r) {
    sim_session *s = r->s;
    sim_mutex_lock(&s->lock);
    if (s->orders) {
        sim_orders_on_end(s->orders); /* the market is over: nothing waits for data any more */
        s->engine_events++;
        if (atomic_load(&s->restoring)) sim_state_restore_due(s);
    }
    sim_mutex_unlock(&s->lock);
    r->finished = 1;
    atomic_store(&s->replay_done, 1);
    SIM_COUNT(s, replay_done, 1);
}

/* Take the next record of feed f: the replay position moves first, so a
 * command sent while the record is delivered is placed after it. */
static void step(replay *r, sim_feed *f) {
    atomic_fetch_add(&r->s->replay_records, 1);
    sim_feed_step(f);
}

/* A state file with entries (sim_state_file.h): replay the logs from the
 * start without callbacks (nothing is subscribed yet, and the engine's
 * changes queue none), the engine taking every record and the recorded
 * commands at their recorded positions, up to the last position the file
 * names.  The replay itself starts later as usual (first subscription or
 * SimStartReplay) and goes on from there.  0, or -1 with the error set. */
static int fast_forward(replay *r) {
    sim_session *s = r->s;
    uint64_t target;
    if (!sim_state_restore_target(s, &target)) return 0;
    atomic_store(&s->restoring, 1); /* set since the file was loaded (sim_state_open) */
    sim_mutex_lock(&s->lock);
    sim_state_restore_due(s); /* commands sent before the first record */
    sim_mutex_unlock(&s->lock);
    for (;;) {
        int state, inject;
        do {
            sim_mutex_lock(&s->lock);
            inject = sim_state_restore_phase(s, &state);
            sim_mutex_unlock(&s->lock);
            if (inject) inject_phase(r, state);
        } while (inject);
        if (atomic_load(&s->stop) || r->finished ||
            !(atomic_load(&s->replay_records) < target || sim_state_restore_pending(s)))
            break;
        const qt_event *ev = NULL;
        int64_t t = 0;
        sim_feed *f = next_feed(r, &ev, &t);
        if (!f) {
            finish(r);
            break;
        }
        step(r, f);
    }
    sim_mutex_lock(&s->lock);
    int rc = sim_state_restore_end(s);
    atomic_store(&s->restoring, 0); /* under the lock: the live Sim* setters check it there */
    sim_mutex_unlock(&s->lock);
    return rc;
}

static void login(replay *r) {
    sim_session *s = r->s;
    sim_state_callback(s, QT_PROFITDLL_CONN_LOGIN, s->cfg.login_result);
    if (s->cfg.login_result != QT_PROFITDLL_LOGIN_CONNECTED) return;
    atomic_store(&s->logged_in, 1);
    if (s->routing) {
        sim_state_callback(s, QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_CONNECTING);
        sim_state_callback(s, QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_CONNECTED);
    }
    sim_state_callback(s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTING);
    if (load_logs(r)) {
        for (int i = 0; i < r->n_feeds; i++) sim_feed_close(&r->feeds[i]);
        r->n_feeds = 0;
        sim_state_callback(s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_DISCONNECTED);
    } else {
        sim_state_callback(s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_WAITING);
        atomic_store(&s->market_ready, 1);
        sim_state_callback(s, QT_PROFITDLL_CONN_MARKET_DATA, QT_PROFITDLL_MARKET_CONNECTED);
    }
    sim_state_callback(s, QT_PROFITDLL_CONN_MARKET_LOGIN, QT_PROFITDLL_MARKET_LOGIN_VALID);
    if (s->routing) {
        create_orders(r);
        sim_state_callback(s, QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_CONNECTING);
        if (fast_forward(r)) { /* the broker's state could not be rebuilt: no routing */
            sim_state_callback(s, QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_DISCONNECTED);
            return;
        }
        atomic_store(&s->routing_ready, 1);
        sim_state_callback(s, QT_PROFITDLL_CONN_ROUTING, QT_PROFITDLL_ROUTING_BROKER_CONNECTED);
        sim_fire_accounts(s);
    }
    if (r->n_feeds == 0) {
        r->finished = 1;
        atomic_store(&s->replay_done, 1);
    }
}

void sim_connector_main(void *arg) {
    sim_session *s = (sim_session *)arg;
    replay *r = (replay *)calloc(1, sizeof(replay));
    atomic_store(&s->thread_tid, qt_thread_id());
    if (!r) return;
    r->s = s;
    r->c.s = s;
    r->c.speed = s->cfg.speed;
    r->c.delay_us = s->cfg.callback_delay_us;
    r->c.max_gap_ns = (int64_t)s->cfg.max_gap_ms * 1000000;
    r->c.utc_off = s->cfg.utc_offset_min;
    r->c.packet_levels = s->cfg.book_packet_levels;

    login(r);
    while (!atomic_load(&s->stop)) {
        uint32_t seen = atomic_load(&s->wake);
        drain(r);
        if (atomic_load(&s->stop)) break;
        int64_t wait_ns = 100000000; /* re-check drops / stop at least every 100 ms */
        if (replaying(r)) {
            const qt_event *ev = NULL;
            int64_t t = 0;
            sim_feed *f = next_feed(r, &ev, &t);
            if (!f) {
                finish(r);
                continue;
            }
            check_drop_end(r, ev, t);
            if (r->c.speed > 0) {
                /* due_time is idempotent for the same record: after an early
                 * wake (a command) the record keeps its due time */
                int64_t due = due_time(r, r->n_feeds == 1 ? ev->recv_ns : t);
                int64_t now = wall_now();
                if (due > now) {
                    int64_t w = due - now;
                    int64_t order_w = engine_clock(r);
                    if (order_w < w) w = order_w;
                    if (w > 0) qt_wait_u32(&s->wake, seen, w < 100000000 ? w : 100000000);
                    continue;
                }
            }
            step(r, f);
            continue;
        }
        check_drop_end(r, NULL, 0);
        if (r->c.dropping) {
            int64_t left = r->c.drop_until_wall - wall_now();
            if (left < wait_ns) wait_ns = left > 0 ? left : 0;
        }
        if (wait_ns > 0) qt_wait_u32(&s->wake, seen, wait_ns);
    }

    for (int i = 0; i < r->n_feeds; i++) sim_feed_close(&r->feeds[i]);
    free(r);
}
