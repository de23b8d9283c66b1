/* The broker state file (sim_state_file.h): header, entries, appending with
 * one unbuffered write per line, loading, and the fast-forward's entry
 * runner.  Everything that touches the order engine goes through
 * sim_command_exec, for live requests and restored ones alike. */
#if !defined(_WIN32)
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L /* ftello, ftruncate, write */
#endif
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <io.h>
#define write_fd(fd, p, n) _write((fd), (p), (unsigned)(n))
#define file_no(f) _fileno(f)
#define tell64(f) _ftelli64(f)
#else
#include <sys/file.h>
#include <unistd.h>
#define write_fd(fd, p, n) write((fd), (p), (n))
#define file_no(f) fileno(f)
#define tell64(f) ((int64_t)ftello(f))
#endif

#include "platform/qt_crc32c.h"
#include "platform/qt_file.h"
#include "sim_session.h"
#include "sim_state_file.h"

#define MAGIC "QTSIMSTATE 1"
#define LINE_CAP 4096
#define FINGERPRINT_BYTES 65536

typedef struct state_entry {
    char kind; /* 'C' command, 'K' clock, 'A' reached, 'P' injected phase */
    uint64_t records, events;
    int64_t now_ns;
    int64_t result;
    sim_command cmd;
} state_entry;

struct sim_state {
    char path[SIM_PATH_LEN];
    FILE *f; /* append mode; written with write(2) on its descriptor */
    char prefix[24];
    state_entry *entries; /* loaded for the fast-forward */
    size_t n_entries, next; /* next: the first entry not yet run */
    uint64_t last_records, last_events; /* of the last line written or loaded */
    int have_last;
    int mismatch; /* a restored command gave another result */
    char mismatch_text[200];
};

/* ------------------------------------------------------------------------ */
/* the order side's dispatcher                                              */

int64_t sim_command_exec(sim_orders *o, const sim_command *c) {
    switch (c->kind) {
    case SIM_COMMAND_SEND: return sim_orders_send(o, &c->u.send);
    case SIM_COMMAND_CHANGE: return sim_orders_change(o, &c->u.change);
    case SIM_COMMAND_CANCEL: return sim_orders_cancel(o, &c->u.cancel);
    case SIM_COMMAND_CANCEL_MANY: return sim_orders_cancel_many(o, &c->u.filter);
    case SIM_COMMAND_ZERO: return sim_orders_zero_position(o, &c->u.zero);
    case SIM_COMMAND_LATENCY: sim_orders_set_latency(o, c->u.latency_ns); return NL_OK;
    case SIM_COMMAND_REJECTS:
        sim_orders_set_rejects(o, c->u.rejects.count, c->u.rejects.probability, c->u.rejects.reason);
        return NL_OK;
    default: return NL_INVALID_ARGS;
    }
}

/* ------------------------------------------------------------------------ */
/* lines                                                                    */

typedef struct line_buf {
    char b[LINE_CAP];
    size_t n;
    int overflow;
} line_buf;

static void put_raw(line_buf *l, const char *s, size_t n) {
    if (l->n + n + 16 > LINE_CAP) {
        l->overflow = 1;
        return;
    }
    memcpy(l->b + l->n, s, n);
    l->n += n;
}

static void put_fmt(line_buf *l, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        l->overflow = 1;
        return;
    }
    if (l->n) put_raw(l, " ", 1);
    put_raw(l, tmp, (size_t)n);
}

static void put_str(line_buf *l, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    if (l->n) put_raw(l, " ", 1);
    if (!s[0]) {
        put_raw(l, "~", 1);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '%' || *p == '~' || *p == 0x7F) {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            put_raw(l, e, 3);
        } else {
            put_raw(l, (const char *)p, 1);
        }
    }
}

static void put_i64(line_buf *l, int64_t v) { put_fmt(l, "%" PRId64, v); }
static void put_u64(line_buf *l, uint64_t v) { put_fmt(l, "%" PRIu64, v); }

static void put_double(line_buf *l, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    put_fmt(l, "%016" PRIX64, bits);
}

/* " *crc\n" */
static void seal(line_buf *l) {
    uint32_t crc = qt_crc32c(l->b, l->n);
    char t[16];
    snprintf(t, sizeof(t), " *%08" PRIX32 "\n", crc);
    put_raw(l, t, strlen(t));
}

/* Reading one line's fields. */
typedef struct fields {
    char *f[40];
    int n;
    int bad;
} fields;

static int unescape(char *s) {
    if (strcmp(s, "~") == 0) {
        s[0] = 0;
        return 0;
    }
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p != '%') {
            *w++ = *p;
            continue;
        }
        unsigned v = 0;
        for (int k = 1; k <= 2; k++) {
            char c = p[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + (unsigned)d;
        }
        if (v == 0) return -1;
        *w++ = (char)v;
        p += 2;
    }
    *w = 0;
    return 0;
}

/* Split a line (CRC already checked and cut) into fields, in place. */
static void split(char *line, fields *fs) {
    fs->n = 0;
    fs->bad = 0;
    char *p = line;
    while (*p) {
        if (fs->n == (int)(sizeof(fs->f) / sizeof(fs->f[0]))) {
            fs->bad = 1;
            return;
        }
        fs->f[fs->n++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
}

typedef struct reader {
    fields fs;
    int i;
    int bad;
} reader;

static const char *next_tok(reader *r) {
    if (r->i >= r->fs.n) {
        r->bad = 1;
        return "";
    }
    return r->fs.f[r->i++];
}

static int64_t get_i64(reader *r) {
    const char *t = next_tok(r);
    char *end;
    long long v = strtoll(t, &end, 10);
    if (!*t || *end) r->bad = 1;
    return (int64_t)v;
}

static uint64_t get_u64(reader *r) {
    const char *t = next_tok(r);
    char *end;
    unsigned long long v = strtoull(t, &end, 10);
    if (!*t || *end || *t == '-') r->bad = 1;
    return (uint64_t)v;
}

static double get_double(reader *r) {
    const char *t = next_tok(r);
    char *end;
    unsigned long long bits = strtoull(t, &end, 16);
    if (strlen(t) != 16 || *end) r->bad = 1;
    uint64_t b = (uint64_t)bits;
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static void get_str(reader *r, char *out, size_t cap) {
    const char *t = next_tok(r);
    char tmp[LINE_CAP];
    snprintf(tmp, sizeof(tmp), "%s", t);
    if (unescape(tmp) || strlen(tmp) >= cap) {
        r->bad = 1;
        out[0] = 0;
        return;
    }
    memcpy(out, tmp, strlen(tmp) + 1);
}

/* ------------------------------------------------------------------------ */
/* commands <-> fields                                                      */

static void put_account(line_buf *l, const sim_account *a) {
    put_i64(l, a->broker_id);
    put_str(l, a->account_id);
    put_str(l, a->sub_account_id);
}

static void get_account(reader *r, sim_account *a) {
    a->broker_id = (int32_t)get_i64(r);
    get_str(r, a->account_id, sizeof(a->account_id));
    get_str(r, a->sub_account_id, sizeof(a->sub_account_id));
}

static void put_command(line_buf *l, const sim_command *c) {
    switch (c->kind) {
    case SIM_COMMAND_SEND: {
        const sim_order_request *q = &c->u.send;
        put_fmt(l, "send %u %u %u", q->source, q->order_type, q->side);
        put_double(l, q->price);
        put_double(l, q->stop_price);
        put_i64(l, q->quantity);
        put_account(l, &q->account);
        put_str(l, q->ticker);
        put_str(l, q->exchange);
        break;
    }
    case SIM_COMMAND_CHANGE: {
        const sim_change_request *q = &c->u.change;
        put_fmt(l, "change");
        put_i64(l, q->order.local_id);
        put_str(l, q->order.cl_ord_id);
        put_double(l, q->price);
        put_double(l, q->stop_price);
        put_i64(l, q->quantity);
        put_account(l, &q->account);
        break;
    }
    case SIM_COMMAND_CANCEL:
        put_fmt(l, "cancel");
        put_i64(l, c->u.cancel.order.local_id);
        put_str(l, c->u.cancel.order.cl_ord_id);
        put_account(l, &c->u.cancel.account);
        break;
    case SIM_COMMAND_CANCEL_MANY:
        put_fmt(l, "cancel_many");
        put_str(l, c->u.filter.ticker);
        put_str(l, c->u.filter.exchange);
        put_account(l, &c->u.filter.account);
        break;
    case SIM_COMMAND_ZERO:
        put_fmt(l, "zero");
        put_str(l, c->u.zero.ticker);
        put_str(l, c->u.zero.exchange);
        put_double(l, c->u.zero.price);
        put_fmt(l, "%u", c->u.zero.position_type);
        put_account(l, &c->u.zero.account);
        break;
    case SIM_COMMAND_LATENCY:
        put_fmt(l, "latency");
        put_i64(l, c->u.latency_ns);
        break;
    case SIM_COMMAND_REJECTS:
        put_fmt(l, "rejects");
        put_i64(l, c->u.rejects.count);
        put_double(l, c->u.rejects.probability);
        put_str(l, c->u.rejects.reason);
        break;
    default:
        l->overflow = 1;
    }
}

static uint8_t get_u8(reader *r) {
    int64_t v = get_i64(r);
    if (v < 0 || v > 255) r->bad = 1;
    return (uint8_t)v;
}

static void get_command(reader *r, sim_command *c) {
    memset(c, 0, sizeof(*c));
    const char *k = next_tok(r);
    if (strcmp(k, "send") == 0) {
        sim_order_request *q = &c->u.send;
        c->kind = SIM_COMMAND_SEND;
        q->source = get_u8(r);
        q->order_type = get_u8(r);
        q->side = get_u8(r);
        q->price = get_double(r);
        q->stop_price = get_double(r);
        q->quantity = get_i64(r);
        get_account(r, &q->account);
        get_str(r, q->ticker, sizeof(q->ticker));
        get_str(r, q->exchange, sizeof(q->exchange));
    } else if (strcmp(k, "change") == 0) {
        sim_change_request *q = &c->u.change;
        c->kind = SIM_COMMAND_CHANGE;
        q->order.local_id = get_i64(r);
        get_str(r, q->order.cl_ord_id, sizeof(q->order.cl_ord_id));
        q->price = get_double(r);
        q->stop_price = get_double(r);
        q->quantity = get_i64(r);
        get_account(r, &q->account);
    } else if (strcmp(k, "cancel") == 0) {
        c->kind = SIM_COMMAND_CANCEL;
        c->u.cancel.order.local_id = get_i64(r);
        get_str(r, c->u.cancel.order.cl_ord_id, sizeof(c->u.cancel.order.cl_ord_id));
        get_account(r, &c->u.cancel.account);
    } else if (strcmp(k, "cancel_many") == 0) {
        c->kind = SIM_COMMAND_CANCEL_MANY;
        get_str(r, c->u.filter.ticker, sizeof(c->u.filter.ticker));
        get_str(r, c->u.filter.exchange, sizeof(c->u.filter.exchange));
        get_account(r, &c->u.filter.account);
    } else if (strcmp(k, "zero") == 0) {
        c->kind = SIM_COMMAND_ZERO;
        get_str(r, c->u.zero.ticker, sizeof(c->u.zero.ticker));
        get_str(r, c->u.zero.exchange, sizeof(c->u.zero.exchange));
        c->u.zero.price = get_double(r);
        c->u.zero.position_type = get_u8(r);
        get_account(r, &c->u.zero.account);
    } else if (strcmp(k, "latency") == 0) {
        c->kind = SIM_COMMAND_LATENCY;
        c->u.latency_ns = get_i64(r);
    } else if (strcmp(k, "rejects") == 0) {
        c->kind = SIM_COMMAND_REJECTS;
        c->u.rejects.count = get_i64(r);
        c->u.rejects.probability = get_double(r);
        get_str(r, c->u.rejects.reason, sizeof(c->u.rejects.reason));
    } else {
        r->bad = 1;
    }
}

/* ------------------------------------------------------------------------ */
/* the header: what identifies the replay and the engine's configuration    */

static int fingerprint_log(const char *path, line_buf *l, int index, const char *ticker, const char *exchange,
                           char *err, size_t errcap) {
    FILE *f = qt_fopen_utf8(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot read the replay log %s for the state file", path);
        return -1;
    }
    unsigned char *buf = (unsigned char *)malloc(FINGERPRINT_BYTES);
    int rc = -1;
    if (buf && qt_fseek64(f, 0, SEEK_END) == 0) {
        int64_t size = tell64(f);
        size_t head = (size_t)(size < FINGERPRINT_BYTES ? size : FINGERPRINT_BYTES);
        uint32_t c_head = 0, c_tail = 0;
        if (size >= 0 && qt_fseek64(f, 0, SEEK_SET) == 0 && fread(buf, 1, head, f) == head) {
            c_head = qt_crc32c(buf, head);
            if (qt_fseek64(f, size - (int64_t)head, SEEK_SET) == 0 && fread(buf, 1, head, f) == head) {
                c_tail = qt_crc32c(buf, head);
                put_fmt(l, "log %d", index);
                put_str(l, path);
                put_i64(l, size);
                put_fmt(l, "%08" PRIX32 " %08" PRIX32, c_head, c_tail);
                put_str(l, ticker);
                put_str(l, exchange);
                rc = 0;
            }
        }
    }
    if (rc) snprintf(err, errcap, "cannot read the replay log %s for the state file", path);
    free(buf);
    fclose(f);
    return rc;
}

/* The header lines after the magic and the prefix, each sealed, into out
 * (NUL-terminated).  0, or -1 with err. */
static int header_text(const sim_config *c, char *out, size_t cap, char *err, size_t errcap) {
    size_t n = 0;
    out[0] = 0;
#define EMIT(l)                                                            \
    do {                                                                   \
        seal(&(l));                                                        \
        if ((l).overflow || n + (l).n + 1 > cap) {                         \
            snprintf(err, errcap, "state file header too long");           \
            return -1;                                                     \
        }                                                                  \
        memcpy(out + n, (l).b, (l).n);                                     \
        n += (l).n;                                                        \
        out[n] = 0;                                                        \
    } while (0)
    line_buf l;
    for (int i = 0; i <= c->n_more_logs; i++) {
        memset(&l, 0, sizeof(l));
        const char *path = i == 0 ? c->log_path : c->more_logs[i - 1].path;
        if (!path[0]) break;
        if (fingerprint_log(path, &l, i, i == 0 ? c->ticker : c->more_logs[i - 1].ticker,
                            i == 0 ? c->exchange : c->more_logs[i - 1].exchange, err, errcap))
            return -1;
        EMIT(l);
    }
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg account");
    put_account(&l, &c->account);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg order_latency_us %" PRId64, c->order_latency_us);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg seed %" PRIu64, c->seed);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg fee_per_contract");
    put_double(&l, c->fee_per_contract);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg reject %" PRId64, c->reject_count);
    put_double(&l, c->reject_probability);
    put_str(&l, c->reject_reason);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg multiplier");
    put_double(&l, c->multiplier);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg daily_limit_pct");
    put_double(&l, c->daily_limit_pct);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg utc_offset_min %d", c->utc_offset_min);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "cfg phases %d", c->n_schedule);
    for (int i = 0; i < c->n_schedule; i++) put_fmt(&l, "%d=%d", c->schedule[i].minute_of_day, c->schedule[i].state);
    EMIT(l);
    memset(&l, 0, sizeof(l));
    put_fmt(&l, "begin");
    EMIT(l);
#undef EMIT
    return 0;
}

/* ------------------------------------------------------------------------ */
/* writing                                                                  */

static int write_line(sim_session *s, const line_buf *l) {
    sim_state *st = s->state;
    if (l->overflow) {
        sim_set_error("state file %s: an entry is too long to record", st->path);
        SIM_COUNT(s, state_write_errors, 1);
        return -1;
    }
    size_t done = 0;
    while (done < l->n) {
        long w = (long)write_fd(file_no(st->f), l->b + done, l->n - done);
        if (w <= 0) {
            sim_set_error("state file %s: write failed; the broker state is no longer recorded", st->path);
            SIM_COUNT(s, state_write_errors, 1);
            return -1;
        }
        done += (size_t)w;
    }
    SIM_COUNT(s, state_entries_written, 1);
    return 0;
}

static void begin_entry(sim_session *s, line_buf *l, char kind) {
    memset(l, 0, sizeof(*l));
    uint64_t records = atomic_load(&s->replay_records);
    put_fmt(l, "%c", kind);
    put_u64(l, records);
    put_u64(l, s->engine_events);
    s->state->last_records = records;
    s->state->last_events = s->engine_events;
    s->state->have_last = 1;
}

void sim_state_command(sim_session *s, const sim_command *c, int64_t now_ns, int64_t result) {
    if (!s->state || !s->state->f || atomic_load(&s->restoring)) return;
    line_buf l;
    begin_entry(s, &l, 'C');
    put_i64(&l, now_ns);
    put_command(&l, c);
    put_fmt(&l, "=");
    put_i64(&l, result);
    seal(&l);
    write_line(s, &l);
}

void sim_state_clock(sim_session *s, int64_t now_ns) {
    if (!s->state || !s->state->f || atomic_load(&s->restoring)) return;
    line_buf l;
    begin_entry(s, &l, 'K');
    put_i64(&l, now_ns);
    seal(&l);
    write_line(s, &l);
}

void sim_state_phase(sim_session *s, int state) {
    if (!s->state || !s->state->f || atomic_load(&s->restoring)) return;
    line_buf l;
    begin_entry(s, &l, 'P');
    put_fmt(&l, "%d", state);
    seal(&l);
    write_line(s, &l);
}

void sim_state_reached(sim_session *s) {
    sim_state *st = s->state;
    if (!st || !st->f || atomic_load(&s->restoring)) return;
    if (st->have_last && st->last_records == atomic_load(&s->replay_records) && st->last_events == s->engine_events)
        return; /* the file already says the replay got here */
    line_buf l;
    begin_entry(s, &l, 'A');
    seal(&l);
    write_line(s, &l);
}

/* ------------------------------------------------------------------------ */
/* opening                                                                  */

static char *read_all(const char *path, size_t *len, int *exists) {
    *len = 0;
    *exists = 0;
    FILE *f = qt_fopen_utf8(path, "rb");
    if (!f) return NULL;
    *exists = 1;
    size_t cap = 65536, n = 0;
    char *b = (char *)malloc(cap + 1);
    while (b) {
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        char *nb = (char *)realloc(b, cap * 2 + 1);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        *exists = -1;
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

/* A whole line's payload (CRC checked, " *crc" cut) or NULL. */
static char *check_line(char *line) {
    size_t n = strlen(line);
    if (n < 11 || line[n - 10] != ' ' || line[n - 9] != '*') return NULL;
    char *end;
    unsigned long crc = strtoul(line + n - 8, &end, 16);
    if (*end || (uint32_t)crc != qt_crc32c(line, n - 10)) return NULL;
    line[n - 10] = 0;
    return line;
}

static int cut_file(const char *path, size_t len) {
    FILE *f = qt_fopen_utf8(path, "r+b");
    if (!f) return -1;
#if defined(_WIN32)
    int rc = _chsize_s(_fileno(f), (__int64)len) == 0 ? 0 : -1;
#else
    int rc = ftruncate(fileno(f), (off_t)len);
#endif
    fclose(f);
    return rc;
}

/* One session per state file: an exclusive lock held while the session
 * runs (released by the OS when the process dies, kill -9 included).
 * Windows locks a byte far past the end (its locks are mandatory: the
 * file's own bytes stay readable); elsewhere flock (advisory, per open
 * file, so reading and cutting the file through other handles keep it). */
static int lock_file(FILE *f) {
#if defined(_WIN32)
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.OffsetHigh = 0x7FFFFFFF;
    HANDLE h = (HANDLE)_get_osfhandle(_fileno(f));
    return LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov) ? 0 : -1;
#else
    return flock(fileno(f), LOCK_EX | LOCK_NB);
#endif
}

static int fail(sim_state *st, const char *fmt, const char *detail) {
    char msg[600];
    snprintf(msg, sizeof(msg), fmt, detail);
    sim_set_error("state file %s: %s", st->path, msg);
    return -1;
}

/* The first header line that differs, the file's and this login's. */
static void first_difference(const char *file_hdr, const char *now_hdr, char *out, size_t cap) {
    const char *a = file_hdr, *b = now_hdr;
    while (*a && *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t na = ea ? (size_t)(ea - a) : strlen(a), nb = eb ? (size_t)(eb - b) : strlen(b);
        if (na != nb || memcmp(a, b, na) != 0) {
            int wa = na > 10 ? (int)(na - 10) : (int)na, wb = nb > 10 ? (int)(nb - 10) : (int)nb;
            snprintf(out, cap, "the file has \"%.*s\", this login \"%.*s\"", wa, a, wb, b);
            return;
        }
        a += na + (ea ? 1 : 0);
        b += nb + (eb ? 1 : 0);
    }
    snprintf(out, cap, "the headers differ in length");
}

/* Parse the entries after the header; the torn tail (a last line without
 * its newline) is dropped and *keep says how many bytes are whole. */
static int load_entries(sim_state *st, char *body, size_t body_off, size_t *keep) {
    size_t cap = 64;
    st->entries = (state_entry *)malloc(cap * sizeof(state_entry));
    if (!st->entries) return fail(st, "%s", "out of memory");
    char *p = body;
    *keep = body_off;
    size_t lineno = 0;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (!nl) break; /* torn last line: ignored, cut off */
        *nl = 0;
        lineno++;
        char *payload = check_line(p);
        if (!payload) {
            char d[64];
            snprintf(d, sizeof(d), "entry %zu", lineno);
            return fail(st, "damaged line (%s): not a torn tail, refusing to guess", d);
        }
        reader r;
        memset(&r, 0, sizeof(r));
        split(payload, &r.fs);
        state_entry e;
        memset(&e, 0, sizeof(e));
        const char *k = next_tok(&r);
        e.kind = k[0];
        if (k[0] == 0 || k[1] != 0 || (e.kind != 'C' && e.kind != 'K' && e.kind != 'A' && e.kind != 'P')) r.bad = 1;
        e.records = get_u64(&r);
        e.events = get_u64(&r);
        if (e.kind == 'C' || e.kind == 'K') e.now_ns = get_i64(&r);
        if (e.kind == 'P') e.result = get_u8(&r); /* the injected state */
        if (e.kind == 'C') {
            get_command(&r, &e.cmd);
            if (strcmp(next_tok(&r), "=") != 0) r.bad = 1;
            e.result = get_i64(&r);
        }
        if (r.i != r.fs.n || r.fs.bad) r.bad = 1;
        if (!r.bad && st->n_entries && (e.records < st->entries[st->n_entries - 1].records ||
                                        e.events < st->entries[st->n_entries - 1].events))
            r.bad = 1; /* positions only move forward */
        if (r.bad) {
            char d[64];
            snprintf(d, sizeof(d), "entry %zu", lineno);
            return fail(st, "unreadable %s", d);
        }
        if (st->n_entries == cap) {
            state_entry *ne = (state_entry *)realloc(st->entries, cap * 2 * sizeof(state_entry));
            if (!ne) return fail(st, "%s", "out of memory");
            st->entries = ne;
            cap *= 2;
        }
        st->entries[st->n_entries++] = e;
        st->last_records = e.records;
        st->last_events = e.events;
        st->have_last = 1;
        p = nl + 1;
        *keep = body_off + (size_t)(p - body);
    }
    return 0;
}

int sim_state_open(sim_session *s) {
    const sim_config *c = &s->cfg;
    if (!c->state_path[0] || !s->routing) return 0;
    sim_state *st = (sim_state *)calloc(1, sizeof(*st));
    if (!st) {
        sim_set_error("state file: out of memory");
        return -1;
    }
    snprintf(st->path, sizeof(st->path), "%s", c->state_path);
    s->state = st;
    st->f = qt_fopen_utf8(st->path, "ab"); /* the appending handle, locked first */
    if (!st->f) return fail(st, "%s", "cannot be opened for appending");
    if (lock_file(st->f))
        return fail(st, "%s", "is in use by another session (another process has it open)");
    char err[600];
    size_t hcap = 65536;
    char *now_hdr = (char *)malloc(hcap);
    if (!now_hdr) return fail(st, "%s", "out of memory");
    if (header_text(c, now_hdr, hcap, err, sizeof(err))) {
        free(now_hdr);
        return fail(st, "%s", err);
    }
    size_t len;
    int exists;
    char *text = read_all(st->path, &len, &exists);
    if (exists < 0) {
        free(now_hdr);
        return fail(st, "%s", "cannot be read");
    }
    size_t keep = 0;
    int fresh = 1;
    if (text && len) {
        const char *magic = MAGIC " *";
        size_t ml = strlen(magic);
        if (strncmp(text, magic, len < ml ? len : ml) != 0) {
            free(text);
            free(now_hdr);
            return fail(st, "%s", "is not a simulator state file (refusing to overwrite it)");
        }
        char *begin = strstr(text, "\nbegin *");
        char *begin_end = begin ? strchr(begin + 1, '\n') : NULL;
        if (begin_end) { /* a whole header: it must match */
            fresh = 0;
            char *l1 = strchr(text, '\n');
            char *l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
            *l1 = 0;
            char *prefix_line = l1 + 1;
            if (!l2) {
                free(text);
                free(now_hdr);
                return fail(st, "%s", "damaged header");
            }
            *l2 = 0;
            reader r;
            memset(&r, 0, sizeof(r));
            char *pl = check_line(prefix_line);
            if (!check_line(text) || !pl) r.bad = 1;
            if (!r.bad) {
                split(pl, &r.fs);
                if (strcmp(next_tok(&r), "prefix") != 0) r.bad = 1;
                get_str(&r, st->prefix, sizeof(st->prefix));
                if (r.i != r.fs.n || !st->prefix[0]) r.bad = 1;
            }
            if (r.bad) {
                free(text);
                free(now_hdr);
                return fail(st, "%s", "damaged header");
            }
            char *hdr = l2 + 1;
            size_t hlen = (size_t)(begin_end + 1 - hdr);
            if (hlen != strlen(now_hdr) || memcmp(hdr, now_hdr, hlen) != 0) {
                char saved = hdr[hlen];
                hdr[hlen] = 0;
                first_difference(hdr, now_hdr, err, sizeof(err));
                hdr[hlen] = saved;
                free(text);
                free(now_hdr);
                return fail(st, "was written for another replay or configuration: %s", err);
            }
            size_t body_off = (size_t)(begin_end + 1 - text);
            if (load_entries(st, begin_end + 1, body_off, &keep)) {
                free(text);
                free(now_hdr);
                return -1;
            }
            /* from now until the fast-forward has run: nothing is recorded,
             * no callback queued, no live setting applied to the engine */
            if (st->n_entries) atomic_store(&s->restoring, 1);
        }
        /* else: a header torn by a kill while it was written: start again */
    }
    free(text);
    if (fresh) {
        sim_orders_make_prefix(st->prefix, sizeof(st->prefix));
        line_buf a, b;
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        put_raw(&a, MAGIC, strlen(MAGIC));
        seal(&a);
        put_fmt(&b, "prefix");
        put_str(&b, st->prefix);
        seal(&b);
        /* one write: the header is whole or torn, never half of a valid one */
        size_t hn = strlen(now_hdr), total = a.n + b.n + hn;
        char *all = (char *)malloc(total);
        FILE *f = all ? qt_fopen_utf8(st->path, "wb") : NULL;
        if (!f) {
            free(all);
            free(now_hdr);
            return fail(st, "%s", "cannot be created");
        }
        memcpy(all, a.b, a.n);
        memcpy(all + a.n, b.b, b.n);
        memcpy(all + a.n + b.n, now_hdr, hn);
        int ok = (size_t)write_fd(file_no(f), all, total) == total;
        ok = fclose(f) == 0 && ok;
        free(all);
        if (!ok) {
            free(now_hdr);
            return fail(st, "%s", "cannot be written");
        }
    } else if (keep < len && cut_file(st->path, keep)) {
        free(now_hdr);
        return fail(st, "%s", "its torn last line cannot be cut off");
    }
    free(now_hdr);
    return 0;
}

void sim_state_close(sim_session *s) {
    sim_state *st = s->state;
    if (!st) return;
    if (st->f) fclose(st->f);
    free(st->entries);
    free(st);
    s->state = NULL;
}

const char *sim_state_prefix(const sim_session *s) { return s->state ? s->state->prefix : ""; }

/* ------------------------------------------------------------------------ */
/* fast-forward                                                             */

int sim_state_restore_target(const sim_session *s, uint64_t *records) {
    const sim_state *st = s->state;
    if (!st || !st->n_entries) return 0;
    *records = st->entries[st->n_entries - 1].records;
    return 1;
}

int sim_state_restore_pending(const sim_session *s) { return s->state && s->state->next < s->state->n_entries; }

void sim_state_restore_due(sim_session *s) {
    sim_state *st = s->state;
    if (!st || !s->orders) return;
    while (st->next < st->n_entries && st->entries[st->next].events == s->engine_events) {
        if (st->entries[st->next].kind == 'P') return; /* the connector injects it (sim_state_restore_phase) */
        const state_entry *e = &st->entries[st->next++];
        if (e->kind == 'K') {
            sim_orders_on_clock(s->orders, e->now_ns);
        } else if (e->kind == 'C') {
            s->command_now = e->now_ns;
            int64_t rc = sim_command_exec(s->orders, &e->cmd);
            s->command_now = 0;
            if (rc != e->result && !st->mismatch) {
                st->mismatch = 1;
                snprintf(st->mismatch_text, sizeof(st->mismatch_text),
                         "command %zu gave %" PRId64 " on restore, %" PRId64 " when it was sent", st->next, rc,
                         e->result);
            }
        }
        SIM_COUNT(s, state_entries_restored, 1);
    }
}

int sim_state_restore_phase(sim_session *s, int *state) {
    sim_state *st = s->state;
    if (!st || st->next >= st->n_entries) return 0;
    const state_entry *e = &st->entries[st->next];
    if (e->kind != 'P' || e->events != s->engine_events) return 0;
    *state = (int)e->result;
    st->next++;
    SIM_COUNT(s, state_entries_restored, 1);
    return 1;
}

int sim_state_restore_end(sim_session *s) {
    sim_state *st = s->state;
    if (!st) return 0;
    if (st->mismatch || st->next < st->n_entries) {
        if (!st->mismatch)
            snprintf(st->mismatch_text, sizeof(st->mismatch_text),
                     "%zu entries lie beyond what the replay reproduced", st->n_entries - st->next);
        sim_set_error("state file %s: the replay did not reproduce it: %s", st->path, st->mismatch_text);
        SIM_COUNT(s, state_restore_errors, 1);
        return -1;
    }
    return 0;
}
