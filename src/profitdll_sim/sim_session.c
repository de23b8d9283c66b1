/* Session plumbing shared by the exports and the connector thread: the
 * futex mutex, configuration defaults and errors, the command queue and the
 * registry of arrays handed to callbacks (FreePointer). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_session.h"

void sim_mutex_lock(sim_mutex *m) {
    uint32_t c = 0;
    if (atomic_compare_exchange_strong_explicit(m, &c, 1, memory_order_acquire, memory_order_relaxed)) return;
    if (c != 2) c = atomic_exchange_explicit(m, 2, memory_order_acquire);
    while (c != 0) {
        qt_wait_u32(m, 2, -1);
        c = atomic_exchange_explicit(m, 2, memory_order_acquire);
    }
}

void sim_mutex_unlock(sim_mutex *m) {
    if (atomic_exchange_explicit(m, 0, memory_order_release) == 2) qt_wake_all_u32(m);
}

sim_config g_config = {
    .speed = 1.0,
    .utc_offset_min = -180,
    .book_packet_levels = 32,
    .max_gap_ms = 2000,
    .auto_start = 1,
    .login_result = 0,
    .account = {.broker_id = 1, .account_id = "SIM0001", .sub_account_id = ""},
    .broker_name = "QuantumTrader Simulator",
    .owner_name = "Simulated Trader",
    .daily_limit_pct = 10.0,
    .order_latency_us = 5000,
    .fee_per_contract = -1.0,
    .seed = 0x51D0DE5EEDull,
};
sim_mutex g_config_lock;
_Atomic(sim_session *) g_session;

static char g_error[512];
static sim_mutex g_error_lock;

void sim_set_error(const char *fmt, ...) {
    char buf[sizeof(g_error)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sim_mutex_lock(&g_error_lock);
    memcpy(g_error, buf, sizeof(buf));
    sim_mutex_unlock(&g_error_lock);
}

int QT_PROFITDLL_CALL SimGetLastError(char *buf, int size) {
    if (!buf || size <= 0) return NL_INVALID_ARGS;
    sim_mutex_lock(&g_error_lock);
    snprintf(buf, (size_t)size, "%s", g_error);
    sim_mutex_unlock(&g_error_lock);
    return NL_OK;
}

/* "HH:MM=state,HH:MM=state" */
int sim_parse_schedule(const char *spec, sim_phase_entry *out, int *n) {
    *n = 0;
    if (!spec) return 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        int hh, mm, st, used = 0;
        if (sscanf(p, "%d:%d=%d%n", &hh, &mm, &st, &used) != 3 || used == 0) return -1;
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || st < 0 || st > 255) return -1;
        if (*n == SIM_MAX_SCHEDULE) return -1;
        out[*n].minute_of_day = hh * 60 + mm;
        out[*n].state = st;
        (*n)++;
        p += used;
        if (*p && *p != ',' && *p != ' ') return -1;
    }
    return 0;
}

sim_session *sim_current(void) { return atomic_load_explicit(&g_session, memory_order_acquire); }

/* The calling thread's id, cached: qt_thread_id is a system call on Linux,
 * and GetServerClock asks this inside every book callback. */
static uint64_t this_thread_id(void) {
    static _Thread_local uint64_t tid;
    if (!tid) tid = qt_thread_id();
    return tid;
}

int sim_in_callback(const sim_session *s) {
    return s && atomic_load(&((sim_session *)s)->thread_tid) == this_thread_id();
}

void sim_wake(sim_session *s) {
    atomic_fetch_add(&s->wake, 1);
    qt_wake_all_u32(&s->wake);
}

int sim_push_cmd(sim_session *s, const sim_cmd *c) {
    int rc = NL_OK;
    sim_mutex_lock(&s->lock);
    if (s->cmd_n == SIM_CMD_CAP) {
        rc = NL_INTERNAL_ERROR;
    } else {
        s->cmds[(s->cmd_head + s->cmd_n) % SIM_CMD_CAP] = *c;
        s->cmd_n++;
        atomic_store_explicit(&s->cmd_pending, 1, memory_order_release);
    }
    sim_mutex_unlock(&s->lock);
    if (rc == NL_OK) sim_wake(s);
    return rc;
}

/* ---- arrays handed to callbacks: an open-addressing set of live pointers ---- */

#define TOMBSTONE ((void *)1)

static size_t slot_of(const void *p, size_t cap) {
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

static int set_insert(sim_alloc_set *a, void *p);

/* Rebuild without tombstones, sized for the live entries (so a client that
 * frees what it gets keeps the table small over a long replay). */
static int set_grow(sim_alloc_set *a) {
    size_t live = 0;
    for (size_t i = 0; i < a->cap; i++)
        if (a->slots[i] && a->slots[i] != TOMBSTONE) live++;
    size_t cap = 256;
    while (cap < (live + 1) * 4) cap *= 2;
    void **old = a->slots;
    size_t old_cap = a->cap;
    a->slots = (void **)calloc(cap, sizeof(void *));
    if (!a->slots) {
        a->slots = old;
        return -1;
    }
    a->cap = cap;
    a->used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] && old[i] != TOMBSTONE) set_insert(a, old[i]);
    free(old);
    return 0;
}

static int set_insert(sim_alloc_set *a, void *p) {
    if ((a->used + 1) * 2 > a->cap && set_grow(a)) return -1;
    size_t i = slot_of(p, a->cap);
    while (a->slots[i] && a->slots[i] != TOMBSTONE) i = (i + 1) & (a->cap - 1);
    a->slots[i] = p;
    a->used++;
    return 0;
}

static int set_remove(sim_alloc_set *a, void *p) {
    if (!a->cap) return -1;
    size_t i = slot_of(p, a->cap);
    for (size_t k = 0; k < a->cap && a->slots[i]; k++, i = (i + 1) & (a->cap - 1)) {
        if (a->slots[i] == p) {
            a->slots[i] = TOMBSTONE;
            return 0;
        }
    }
    return -1;
}

void *sim_alloc_array(sim_session *s, size_t bytes) {
    void *p = malloc(bytes);
    if (!p) return NULL;
    sim_mutex_lock(&s->lock);
    int rc = set_insert(&s->allocs, p);
    sim_mutex_unlock(&s->lock);
    if (rc) {
        free(p);
        return NULL;
    }
    SIM_COUNT(s, arrays_allocated, 1);
    return p;
}

int sim_free_array(sim_session *s, void *p) {
    sim_mutex_lock(&s->lock);
    int rc = set_remove(&s->allocs, p);
    sim_mutex_unlock(&s->lock);
    if (rc) {
        SIM_COUNT(s, free_pointer_errors, 1);
        return NL_INVALID_ARGS;
    }
    free(p);
    SIM_COUNT(s, arrays_freed, 1);
    return NL_OK;
}

void sim_free_all_arrays(sim_session *s) {
    for (size_t i = 0; i < s->allocs.cap; i++)
        if (s->allocs.slots[i] && s->allocs.slots[i] != TOMBSTONE) free(s->allocs.slots[i]);
    free(s->allocs.slots);
    memset(&s->allocs, 0, sizeof(s->allocs));
}

int64_t sim_clock_now(sim_session *s) {
    int64_t c = atomic_load(&s->clock_ns);
    if (c == 0) return qt_utc_ns();
    double speed;
    uint64_t bits = atomic_load(&s->speed_bits);
    memcpy(&speed, &bits, sizeof(speed));
    if (speed > 0 && !atomic_load(&s->replay_done))
        c += (int64_t)((double)(qt_monotonic_ns() - atomic_load(&s->clock_wall_ns)) * speed);
    return c;
}
