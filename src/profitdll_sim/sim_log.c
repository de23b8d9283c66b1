/* Event-log reading for the replay (see sim_log.h). */
#include "sim_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_file.h"
#include "sim_text.h"

static void set_err(char *err, size_t cap, const char *fmt, ...) {
    if (!err || !cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int read_agents(sim_log *lg, const uint8_t *hdr, size_t len) {
    uint64_t off;
    uint32_t count, bytes;
    qt_evlog_error e;
    if (qt_evlog_find_dictionary(hdr, len, &lg->header, &off, &count, &bytes, NULL, &e))
        return 0; /* no usable dictionary: agents stay nameless, ids still flow */
    lg->agents = (uint16_t **)calloc(count ? count : 1, sizeof(uint16_t *));
    if (!lg->agents) return -1;
    lg->n_agents = count;
    const uint8_t *p = hdr + off, *end = p + bytes;
    char name[QT_EVLOG_MAX_NAME_BYTES + 1];
    for (uint32_t i = 0; i < count; i++) {
        uint16_t n;
        if (p + 2 > end) break;
        memcpy(&n, p, 2);
        p += 2;
        if (p + n > end) break;
        memcpy(name, p, n);
        name[n] = 0;
        p += n;
        uint16_t *w = (uint16_t *)malloc(((size_t)n + 1) * sizeof(uint16_t));
        if (!w) return -1;
        if (sim_utf8_to_u16(name, w, (size_t)n + 1) < 0) {
            free(w);
            continue;
        }
        lg->agents[i] = w;
    }
    return 0;
}

int sim_log_cursor_open(sim_log_cursor *c, const sim_log *lg) {
    memset(c, 0, sizeof(*c));
    c->log = lg;
    c->buf = (qt_event *)malloc(SIM_LOG_BLOCK * sizeof(qt_event));
    if (!c->buf) return -1;
    c->f = qt_fopen_utf8(lg->path, "rb");
    if (!c->f || qt_fseek64(c->f, (int64_t)lg->header.header_size, SEEK_SET)) {
        sim_log_cursor_close(c);
        return -1;
    }
    return 0;
}

void sim_log_cursor_close(sim_log_cursor *c) {
    if (c->f) fclose(c->f);
    free(c->buf);
    memset(c, 0, sizeof(*c));
}

/* Refill the block; returns records available (0 at the prefix's end). */
static uint32_t refill(sim_log_cursor *c) {
    if (!c->f) return 0;
    uint64_t left = c->log->records - (c->index + (c->buf_n - c->buf_pos));
    if (left == 0) return 0;
    size_t want = left < SIM_LOG_BLOCK ? (size_t)left : SIM_LOG_BLOCK;
    size_t got = fread(c->buf, sizeof(qt_event), want, c->f);
    int reason;
    uint64_t ok = qt_evlog_validate(c->buf, (uint64_t)got * sizeof(qt_event), &reason);
    if (ok > 0 && c->index > 0 && c->buf[0].seq <= c->last_seq) ok = 0;
    c->buf_n = (uint32_t)ok; /* the file changed under us: stop at the damage */
    c->buf_pos = 0;
    if (ok < want) {
        fclose(c->f);
        c->f = NULL;
    }
    return c->buf_n;
}

const qt_event *sim_log_cursor_peek(sim_log_cursor *c) {
    if (c->buf_pos >= c->buf_n && refill(c) == 0) return NULL;
    return &c->buf[c->buf_pos];
}

const qt_event *sim_log_cursor_next(sim_log_cursor *c) {
    const qt_event *ev = sim_log_cursor_peek(c);
    if (!ev) return NULL;
    c->buf_pos++;
    c->index++;
    c->last_seq = ev->seq;
    return ev;
}

int sim_log_open(sim_log *lg, const char *path, char *err, size_t errcap) {
    memset(lg, 0, sizeof(*lg));
    lg->first_exch_ns = lg->last_exch_ns = QT_TIME_NONE;
    size_t plen = strlen(path);
    lg->path = (char *)malloc(plen + 1);
    if (!lg->path) return -1;
    memcpy(lg->path, path, plen + 1);
    FILE *f = qt_fopen_utf8(path, "rb");
    if (!f) {
        set_err(err, errcap, "cannot open event log %s", path);
        goto fail;
    }
    uint8_t fixed[QT_EVLOG_FIXED_SIZE];
    size_t got = fread(fixed, 1, sizeof(fixed), f);
    qt_evlog_error e;
    if (qt_evlog_parse_header(fixed, got, &lg->header, &e)) {
        set_err(err, errcap, "%s: %s", path, e.msg);
        fclose(f);
        goto fail;
    }
    uint8_t *hdr = (uint8_t *)malloc(lg->header.header_size);
    if (!hdr) {
        fclose(f);
        goto fail;
    }
    memcpy(hdr, fixed, sizeof(fixed));
    size_t rest = lg->header.header_size - sizeof(fixed);
    size_t more = fread(hdr + sizeof(fixed), 1, rest, f);
    fclose(f);
    int rc = read_agents(lg, hdr, sizeof(fixed) + more);
    free(hdr);
    if (rc) {
        set_err(err, errcap, "out of memory reading the agent dictionary");
        goto fail;
    }
    /* Census: count the valid prefix and what it holds. */
    lg->records = UINT64_MAX;
    sim_log_cursor c;
    if (sim_log_cursor_open(&c, lg)) {
        set_err(err, errcap, "cannot read records of %s", path);
        goto fail;
    }
    uint64_t n = 0;
    const qt_event *ev;
    while ((ev = sim_log_cursor_next(&c)) != NULL) {
        n++;
        if (ev->type < QT_EV__COUNT) lg->type_count[ev->type]++;
        if (ev->exch_ns != QT_TIME_NONE) {
            if (lg->first_exch_ns == QT_TIME_NONE) lg->first_exch_ns = ev->exch_ns;
            lg->last_exch_ns = ev->exch_ns;
        }
    }
    sim_log_cursor_close(&c);
    lg->records = n;
    return 0;
fail:
    sim_log_close(lg);
    return -1;
}

void sim_log_close(sim_log *lg) {
    for (uint32_t i = 0; i < lg->n_agents; i++) free(lg->agents[i]);
    free(lg->agents);
    free(lg->path);
    memset(lg, 0, sizeof(*lg));
}
