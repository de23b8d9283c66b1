/* The live pipeline (qt_pipeline.h): market ring -> decode -> per-instrument
 * engine -> decision hook -> decision ring. */
#include "pipeline/qt_pipeline.h"

#include <stdlib.h>
#include <string.h>

#define NO_SLOT 0xFFu
#define DEFAULT_BATCH 256u
#define DEFAULT_CONTROLS 4096u
/* An unbounded wait is cut into slices so qt_pl_stop is seen promptly
 * (qt_ring_wait itself only returns for a record or a close). */
#define WAIT_SLICE_NS 20000000LL

typedef struct pl_inst {
    uint16_t id;
    int owned;
    int own_hook; /* set by id, not by the all-instruments default */
    qt_atomic_u32 suspect; /* read by qt_pl_get_instrument_counters from any thread */
    qt_fe *fe;
    qt_pl_hook hook;
    qt_atomic_u64 records, rows, filtered, decisions;
} pl_inst;

/* Counters: written by the loop thread only (relaxed load + store, no
 * read-modify-write), read from any thread. */
typedef struct pl_counters {
    qt_atomic_u64 records, routed, all_instruments, unknown_records, rows, filtered, decisions,
        decisions_dropped, controls, controls_dropped, gaps, hook_stops, dates, bad_dates,
        missing_ext, orphan_ext;
    qt_atomic_u32 last_unknown, instruments;
} pl_counters;

struct qt_pl {
    qt_pl_config cfg;
    uint8_t map[65536]; /* instrument id -> slot, NO_SLOT when absent */
    pl_inst inst[QT_PL_MAX_INSTRUMENTS];
    uint32_t n;
    qt_pl_hook default_hook;
    qt_profitdll_decoder dec;
    int64_t pending_taken; /* taken_ns of a parent the decoder holds back */
    qt_ring *decisions;    /* may be NULL */
    qt_ring *controls;
    uint32_t decision_slot;
    uint64_t decision_seq;
    qt_atomic_u64 posted_seq; /* of the last decision the ring accepted */
    uint8_t *slot;         /* one decision slot being built (record + vector) */
    double vec[QT_FE_NUM_FEATURES];
    qt_event out[3];       /* decoder output: n + 1 for n <= 2 */
    qt_atomic_u32 stop;
    pl_counters c;
};

static inline void bump(qt_atomic_u64 *c, uint64_t n) {
    qt_store_relaxed(c, qt_load_relaxed(c) + n);
}

static void prefault(qt_ring *r) {
    memset(r->slots, 0, (size_t)(qt_ring_capacity(r) * r->slot_size));
}

qt_pl *qt_pl_create(const qt_pl_config *cfg) {
    if (!cfg || cfg->utc_offset_min < -14 * 60 || cfg->utc_offset_min > 14 * 60) return NULL;
    qt_pl *pl = (qt_pl *)calloc(1, sizeof(qt_pl));
    if (!pl) return NULL;
    pl->cfg = *cfg;
    if (!pl->cfg.batch) pl->cfg.batch = DEFAULT_BATCH;
    if (!pl->cfg.control_capacity) pl->cfg.control_capacity = DEFAULT_CONTROLS;
    if (!pl->cfg.control_types) pl->cfg.control_types = QT_PL_CONTROL_DEFAULT;
    memset(pl->map, NO_SLOT, sizeof pl->map);
    qt_profitdll_decoder_init(&pl->dec, cfg->utc_offset_min);
    pl->decision_slot =
        QT_PL_DECISION_SIZE + (cfg->decision_vector ? (uint32_t)QT_PL_VECTOR_SIZE : 0u);
    pl->slot = (uint8_t *)calloc(1, pl->decision_slot);
    pl->controls = qt_ring_create(pl->cfg.control_capacity, QT_EVENT_SIZE, QT_RING_DROP);
    if (cfg->decision_capacity)
        pl->decisions = qt_ring_create(cfg->decision_capacity, pl->decision_slot, QT_RING_DROP);
    if (!pl->slot || !pl->controls || (cfg->decision_capacity && !pl->decisions)) {
        qt_pl_destroy(pl);
        return NULL;
    }
    /* Touch every slot now: a large calloc maps zero pages lazily, and the
     * first post into each page would otherwise take a page fault on the
     * loop's thread. */
    prefault(pl->controls);
    if (pl->decisions) prefault(pl->decisions);
    atomic_init(&pl->stop, 0u);
    qt_store_relaxed(&pl->c.last_unknown, 0xFFFFFFFFu);
    return pl;
}

void qt_pl_destroy(qt_pl *pl) {
    if (!pl) return;
    for (uint32_t i = 0; i < pl->n; i++)
        if (pl->inst[i].owned) qt_fe_destroy(pl->inst[i].fe);
    qt_ring_destroy(pl->decisions);
    qt_ring_destroy(pl->controls);
    free(pl->slot);
    free(pl);
}

static int add(qt_pl *pl, uint16_t id, qt_fe *fe, int owned) {
    pl_inst *in = &pl->inst[pl->n];
    memset(in, 0, sizeof *in);
    in->id = id;
    in->fe = fe;
    in->owned = owned;
    in->hook = pl->default_hook;
    pl->map[id] = (uint8_t)pl->n;
    pl->n++;
    qt_store_relaxed(&pl->c.instruments, pl->n);
    return 0;
}

static int add_check(const qt_pl *pl, uint16_t id) {
    if (id == QT_PROFITDLL_ALL_INSTRUMENTS) return -1;
    if (pl->map[id] != NO_SLOT) return -3;
    if (pl->n >= QT_PL_MAX_INSTRUMENTS) return -2;
    return 0;
}

int qt_pl_add_instrument(qt_pl *pl, uint16_t id, const qt_fe_config *cfg) {
    int rc = add_check(pl, id);
    if (rc) return rc;
    qt_fe *fe = qt_fe_create(cfg);
    if (!fe) return -1;
    return add(pl, id, fe, 1);
}

int qt_pl_add_engine(qt_pl *pl, uint16_t id, qt_fe *fe) {
    if (!fe) return -1;
    int rc = add_check(pl, id);
    return rc ? rc : add(pl, id, fe, 0);
}

qt_fe *qt_pl_engine(qt_pl *pl, uint16_t id) {
    uint8_t s = pl->map[id];
    return s == NO_SLOT ? NULL : pl->inst[s].fe;
}

int qt_pl_set_hook(qt_pl *pl, uint16_t id, const qt_pl_hook *hook) {
    qt_pl_hook h;
    memset(&h, 0, sizeof h);
    if (hook) h = *hook;
    if (id == QT_PROFITDLL_ALL_INSTRUMENTS) {
        pl->default_hook = h;
        for (uint32_t i = 0; i < pl->n; i++)
            if (!pl->inst[i].own_hook) pl->inst[i].hook = h;
        return 0;
    }
    uint8_t s = pl->map[id];
    if (s == NO_SLOT) return -1;
    pl->inst[s].hook = h;
    pl->inst[s].own_hook = hook != NULL;
    if (!hook) pl->inst[s].hook = pl->default_hook;
    return 0;
}

/* ------------------------------------------------------------ routing */

static void control(qt_pl *pl, const qt_event *e) {
    if (!(pl->cfg.control_types & (1u << (e->type & 31)))) return;
    bump(&pl->c.controls, 1);
    if (!qt_ring_push(pl->controls, e)) bump(&pl->c.controls_dropped, 1);
}

/* A row of `in`: filter, decide, post.  Returns QT_PL_STOP or 0. */
static int decision(qt_pl *pl, pl_inst *in, const qt_event *e, int64_t taken, int64_t decoded,
                    const double *vec) {
    qt_pl_decision *d = (qt_pl_decision *)pl->slot;
    d->instrument = in->id;
    d->trade_flags = e->flags;
    d->flags = (uint8_t)((e->flags & QT_F_HISTORY ? QT_PL_D_HISTORY : 0) |
                         (qt_load_relaxed(&in->suspect) ? QT_PL_D_BOOK_SUSPECT : 0));
    d->action = 0;
    d->decision_seq = 0;
    d->seq = e->seq;
    d->trade_number = e->ref;
    d->exch_ns = e->exch_ns;
    d->price = e->price;
    d->qty = e->qty;
    d->trade_type = e->code;
    d->row = qt_load_relaxed(&in->rows);
    d->recv_ns = e->recv_ns;
    d->taken_ns = taken;
    d->decoded_ns = decoded;
    d->features_ns = qt_monotonic_ns();
    d->decided_ns = 0;
    for (int k = 0; k < QT_PL_OUTPUTS; k++) d->output[k] = 0.0;
    const qt_pl_hook *h = &in->hook;
    if (h->filter && !h->filter(h->filter_user, d, vec, e)) {
        bump(&in->filtered, 1);
        bump(&pl->c.filtered, 1);
        return 0;
    }
    int r = h->decide ? h->decide(h->decide_user, d, vec, e) : QT_PL_POST;
    d->decided_ns = qt_monotonic_ns();
    if (r & QT_PL_POST) {
        d->decision_seq = ++pl->decision_seq;
        bump(&in->decisions, 1);
        bump(&pl->c.decisions, 1);
        if (pl->decisions && qt_ring_push(pl->decisions, pl->slot))
            qt_store_release(&pl->posted_seq, pl->decision_seq);
        else if (pl->decisions)
            bump(&pl->c.decisions_dropped, 1);
    }
    if (r & QT_PL_STOP) {
        bump(&pl->c.hook_stops, 1);
        return QT_PL_STOP;
    }
    return 0;
}

/* One decoded record.  Returns QT_PL_STOP or 0. */
static int route(qt_pl *pl, const qt_event *e, int64_t taken) {
    uint16_t id = e->instrument;
    if (id == QT_PROFITDLL_ALL_INSTRUMENTS) {
        bump(&pl->c.all_instruments, 1);
        if (e->type == QT_EV_FEED_GAP) {
            bump(&pl->c.gaps, 1);
            for (uint32_t i = 0; i < pl->n; i++) qt_store_relaxed(&pl->inst[i].suspect, 1u);
        }
        control(pl, e);
        return 0;
    }
    uint8_t s = pl->map[id];
    if (QT_UNLIKELY(s == NO_SLOT)) {
        bump(&pl->c.unknown_records, 1);
        qt_store_relaxed(&pl->c.last_unknown, (uint32_t)id);
        return 0;
    }
    pl_inst *in = &pl->inst[s];
    bump(&in->records, 1);
    bump(&pl->c.routed, 1);
    if (e->type != QT_EV_TRADE) {
        if (e->type == QT_EV_FEED_GAP) {
            bump(&pl->c.gaps, 1);
            qt_store_relaxed(&in->suspect, 1u);
        } else if (e->type == QT_EV_SNAPSHOT_END && (e->flags & QT_F_LAST) &&
                   !(e->flags & QT_F_INVALID)) {
            qt_store_relaxed(&in->suspect, 0u);
        }
        qt_fe_on_event(in->fe, e, NULL);
        control(pl, e);
        return 0;
    }
    int64_t decoded = qt_monotonic_ns();
    double *vec = pl->cfg.decision_vector ? (double *)(pl->slot + QT_PL_DECISION_SIZE) : pl->vec;
    if (!qt_fe_on_event(in->fe, e, vec)) return 0;
    bump(&in->rows, 1);
    bump(&pl->c.rows, 1);
    return decision(pl, in, e, taken, decoded, vec);
}

/* Records that need the decoder: dated by an EXT, or dated by the DAILY
 * before them, or anything while a parent is held back. */
static inline int needs_decoder(const qt_pl *pl, const qt_event *e) {
    return pl->dec.has_pending || (e->flags & QT_F_RAW_DATE) || e->type == QT_EV_EXT ||
           (e->type >= QT_EV_DAILY && e->type <= QT_EV_DAILY_LIMITS);
}

/* ev[0] (and its EXT) of k records available: decoded and routed.
 * *used: records consumed.  Returns QT_PL_STOP or 0. */
static int step(qt_pl *pl, const qt_event *ev, uint64_t k, uint64_t *used) {
    const qt_event *e = &ev[0];
    int64_t taken = e->type == QT_EV_TRADE ? qt_monotonic_ns() : 0;
    if (QT_LIKELY(!needs_decoder(pl, e))) {
        *used = 1;
        return route(pl, e, taken);
    }
    uint64_t n = (e->flags & QT_F_RAW_DATE) && k >= 2 ? 2 : 1;
    int had = pl->dec.has_pending;
    int64_t held_taken = pl->pending_taken;
    uint64_t w = qt_profitdll_decode(&pl->dec, e, n, pl->out);
    if (pl->dec.has_pending) pl->pending_taken = taken; /* e waits for its EXT */
    *used = n;
    int r = 0;
    for (uint64_t j = 0; j < w; j++)
        r |= route(pl, &pl->out[j], had && j == 0 ? held_taken : taken);
    return r;
}

static void sync_decoder(qt_pl *pl) {
    qt_store_relaxed(&pl->c.dates, pl->dec.dates);
    qt_store_relaxed(&pl->c.bad_dates, pl->dec.bad_dates);
    qt_store_relaxed(&pl->c.missing_ext, pl->dec.missing_ext);
    qt_store_relaxed(&pl->c.orphan_ext, pl->dec.orphan_ext);
}

uint64_t qt_pl_run(qt_pl *pl, qt_ring *market, uint64_t max_records, int64_t wait_ns,
                   uint32_t spin_iters, int *status) {
    uint64_t done = 0;
    int st = QT_PL_DONE;
    int64_t deadline = wait_ns > 0 ? -1 : 0; /* set when a wait starts */
    while (done < max_records) {
        if (qt_load_acquire(&pl->stop)) {
            st = QT_PL_STOPPED;
            break;
        }
        uint64_t k = max_records - done < pl->cfg.batch ? max_records - done : pl->cfg.batch;
        const qt_event *ev = (const qt_event *)qt_ring_peek(market, &k);
        if (k == 0) {
            if (qt_ring_closed(market) && qt_ring_available(market) == 0) {
                st = QT_PL_CLOSED;
                break;
            }
            if (wait_ns == 0) {
                st = QT_PL_IDLE;
                break;
            }
            int64_t slice = WAIT_SLICE_NS;
            if (wait_ns > 0) {
                int64_t now = qt_monotonic_ns();
                if (deadline < 0) deadline = now + wait_ns;
                if (now >= deadline) {
                    st = QT_PL_IDLE;
                    break;
                }
                if (deadline - now < slice) slice = deadline - now;
            }
            qt_ring_wait(market, slice, spin_iters);
            continue;
        }
        if (wait_ns > 0) deadline = -1; /* records came: a later wait starts afresh */
        uint64_t i = 0;
        int r = 0;
        while (i < k && !r) {
            uint64_t used;
            r = step(pl, &ev[i], k - i, &used);
            i += used;
        }
        qt_ring_release(market, i);
        bump(&pl->c.records, i);
        done += i;
        sync_decoder(pl);
        if (r) {
            st = QT_PL_STOPPED;
            break;
        }
    }
    if (status) *status = st;
    return done;
}

uint64_t qt_pl_run_decoded(qt_pl *pl, const qt_event *ev, uint64_t n, int *status) {
    uint64_t i = 0;
    int st = QT_PL_DONE;
    for (; i < n; i++) {
        int64_t taken = ev[i].type == QT_EV_TRADE ? qt_monotonic_ns() : 0;
        if (route(pl, &ev[i], taken)) {
            i++;
            st = QT_PL_STOPPED;
            break;
        }
    }
    if (status) *status = st;
    return i;
}

uint64_t qt_pl_flush(qt_pl *pl) {
    uint64_t w = qt_profitdll_decode_flush(&pl->dec, pl->out);
    if (w) route(pl, &pl->out[0], pl->pending_taken);
    sync_decoder(pl);
    return w;
}

void qt_pl_stop(qt_pl *pl, qt_ring *market) {
    qt_store_release(&pl->stop, 1u);
    if (market) qt_ring_notify(market);
}

void qt_pl_clear_stop(qt_pl *pl) { qt_store_release(&pl->stop, 0u); }

void qt_pl_close(qt_pl *pl) {
    if (pl->decisions) qt_ring_close(pl->decisions);
    qt_ring_close(pl->controls);
}

/* ------------------------------------------------------------ consumers */

uint64_t qt_pl_wait_decision(qt_pl *pl, void *out, uint64_t max, int64_t timeout_ns,
                             uint32_t spin_iters) {
    if (!pl->decisions || max == 0) return 0;
    if (qt_ring_available(pl->decisions) == 0 && timeout_ns != 0 &&
        qt_ring_wait(pl->decisions, timeout_ns, spin_iters) == 0)
        return 0;
    return qt_ring_pop(pl->decisions, out, max);
}

uint32_t qt_pl_decision_slot_size(const qt_pl *pl) { return pl->decision_slot; }

uint64_t qt_pl_posted_seq(const qt_pl *pl) {
    return qt_load_acquire(&((qt_pl *)pl)->posted_seq);
}

int qt_pl_decisions_closed(qt_pl *pl) {
    return !pl->decisions ||
           (qt_ring_closed(pl->decisions) && qt_ring_available(pl->decisions) == 0);
}

uint64_t qt_pl_pop_controls(qt_pl *pl, qt_event *out, uint64_t max) {
    return qt_ring_pop(pl->controls, out, max);
}

qt_ring *qt_pl_decision_ring(qt_pl *pl) { return pl->decisions; }
qt_ring *qt_pl_control_ring(qt_pl *pl) { return pl->controls; }

/* ------------------------------------------------------------ counters */

void qt_pl_get_counters(const qt_pl *pl, qt_pl_counters *out) {
    qt_pl *p = (qt_pl *)pl; /* atomics are read through non-const pointers */
    out->records = qt_load_relaxed(&p->c.records);
    out->routed = qt_load_relaxed(&p->c.routed);
    out->all_instruments = qt_load_relaxed(&p->c.all_instruments);
    out->unknown_records = qt_load_relaxed(&p->c.unknown_records);
    out->rows = qt_load_relaxed(&p->c.rows);
    out->filtered = qt_load_relaxed(&p->c.filtered);
    out->decisions = qt_load_relaxed(&p->c.decisions);
    out->decisions_dropped = qt_load_relaxed(&p->c.decisions_dropped);
    out->controls = qt_load_relaxed(&p->c.controls);
    out->controls_dropped = qt_load_relaxed(&p->c.controls_dropped);
    out->gaps = qt_load_relaxed(&p->c.gaps);
    out->hook_stops = qt_load_relaxed(&p->c.hook_stops);
    out->dates = qt_load_relaxed(&p->c.dates);
    out->bad_dates = qt_load_relaxed(&p->c.bad_dates);
    out->missing_ext = qt_load_relaxed(&p->c.missing_ext);
    out->orphan_ext = qt_load_relaxed(&p->c.orphan_ext);
    out->last_unknown = qt_load_relaxed(&p->c.last_unknown);
    out->instruments = qt_load_relaxed(&p->c.instruments);
}

int qt_pl_get_instrument_counters(const qt_pl *pl, uint16_t id, qt_pl_instrument_counters *out) {
    qt_pl *p = (qt_pl *)pl;
    uint8_t s = p->map[id];
    if (s == NO_SLOT) return -1;
    pl_inst *in = &p->inst[s];
    out->records = qt_load_relaxed(&in->records);
    out->rows = qt_load_relaxed(&in->rows);
    out->filtered = qt_load_relaxed(&in->filtered);
    out->decisions = qt_load_relaxed(&in->decisions);
    out->book_suspect = (int)qt_load_relaxed(&in->suspect);
    return 0;
}
