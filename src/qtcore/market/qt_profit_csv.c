/* Profit tick CSV export -> event records.  See qt_profit_csv.h. */
#include "market/qt_profit_csv.h"

#include <stdlib.h>
#include <string.h>

#include "platform/qt_civil_date.h"

#define DATE_CACHE 64 /* direct-mapped; a miss only costs a round trip to the caller */
#define NS_PER_S 1000000000LL
#define TRADE_TYPE_OTHER_CODE 32 /* any word not in the ProfitDLL list */

typedef struct agent_slot {
    uint32_t hash;
    int32_t id;   /* -1: empty */
    uint32_t off; /* name bytes in the arena */
    uint32_t len;
} agent_slot;

typedef struct date_slot {
    int32_t date; /* 0: empty */
    int32_t offsets[24];
    int64_t midnight_s; /* local midnight as seconds since the epoch, as if UTC */
} date_slot;

struct qt_pcsv {
    char ticker[QT_PCSV_MAX_TICKER_LEN];
    size_t ticker_len;
    double price_unit;
    uint32_t max_listed;

    agent_slot *slots;
    uint32_t slot_mask; /* capacity - 1, capacity a power of two */
    uint32_t n_agents;
    char *arena;
    size_t arena_len, arena_cap;

    date_slot dates[DATE_CACHE];

    int64_t next_line;
    uint64_t next_seq;
    int32_t session_date; /* date of the last session record, 0 before the first */
    int have_prev;        /* a trade was emitted: prev_* hold its order key */
    int32_t prev_date;
    int64_t prev_tod_ns;
    int64_t prev_number;

    uint32_t listed[QT_PCSV_REASON_COUNT];
    qt_pcsv_counters c;
};

/* ---- agent dictionary: open addressing, linear probing ---------------- */

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a: names are short, this is plenty */
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static int agents_grow(qt_pcsv *p) {
    uint32_t cap = (p->slot_mask + 1) * 2;
    agent_slot *ns = (agent_slot *)malloc(sizeof(agent_slot) * cap);
    if (!ns) return -1;
    for (uint32_t i = 0; i < cap; i++) ns[i].id = -1;
    for (uint32_t i = 0; i <= p->slot_mask; i++) {
        agent_slot *s = &p->slots[i];
        if (s->id < 0) continue;
        uint32_t j = s->hash & (cap - 1);
        while (ns[j].id >= 0) j = (j + 1) & (cap - 1);
        ns[j] = *s;
    }
    free(p->slots);
    p->slots = ns;
    p->slot_mask = cap - 1;
    return 0;
}

static agent_slot *agents_find(const qt_pcsv *p, const char *name, size_t len, uint32_t h) {
    uint32_t j = h & p->slot_mask;
    for (;;) {
        agent_slot *s = &p->slots[j];
        if (s->id < 0) return s; /* the empty slot where it would go */
        if (s->hash == h && s->len == len && memcmp(p->arena + s->off, name, len) == 0) return s;
        j = (j + 1) & p->slot_mask;
    }
}

int qt_pcsv_add_agent(qt_pcsv *p, const char *name, size_t len, int32_t id) {
    if (!p || id < 0 || len > QT_PCSV_MAX_AGENT_LEN || (len && !name)) return -1;
    uint32_t h = hash_bytes(name, len);
    agent_slot *s = agents_find(p, name, len, h);
    if (s->id >= 0) {
        s->id = id;
        return 0;
    }
    if ((p->n_agents + 1) * 2 > p->slot_mask + 1) {
        if (agents_grow(p) != 0) return -1;
        s = agents_find(p, name, len, h);
    }
    if (p->arena_len + len > p->arena_cap) {
        size_t cap = p->arena_cap * 2;
        while (cap < p->arena_len + len) cap *= 2;
        char *na = (char *)realloc(p->arena, cap);
        if (!na) return -1;
        p->arena = na;
        p->arena_cap = cap;
    }
    if (len) memcpy(p->arena + p->arena_len, name, len);
    s->hash = h;
    s->id = id;
    s->off = (uint32_t)p->arena_len;
    s->len = (uint32_t)len;
    p->arena_len += len;
    p->n_agents++;
    return 0;
}

int32_t qt_pcsv_agent_id(const qt_pcsv *p, const char *name, size_t len) {
    if (!p || len > QT_PCSV_MAX_AGENT_LEN) return -1;
    return agents_find(p, name, len, hash_bytes(name, len))->id;
}

/* ---- dates -------------------------------------------------------------- */

int64_t qt_pcsv_days_from_civil(int32_t y, int32_t m, int32_t d) {
    return qt_days_from_civil(y, m, d);
}

static int valid_date(int32_t date, int32_t *y, int32_t *m, int32_t *d) {
    *y = date / 10000;
    *m = (date / 100) % 100;
    *d = date % 100;
    if (*y < 1900 || *y > 2999 || *m < 1 || *m > 12 || *d < 1) return 0;
    return *d <= qt_days_in_month(*y, *m);
}

static date_slot *date_slot_of(qt_pcsv *p, int32_t date) {
    return &p->dates[((uint32_t)date * 2654435761u) >> 26]; /* top 6 bits: 64 slots */
}

int qt_pcsv_set_date(qt_pcsv *p, int32_t yyyymmdd, const int32_t offsets[24]) {
    int32_t y, m, d;
    if (!p || !offsets || !valid_date(yyyymmdd, &y, &m, &d)) return -1;
    date_slot *s = date_slot_of(p, yyyymmdd);
    s->date = yyyymmdd;
    memcpy(s->offsets, offsets, sizeof(s->offsets));
    s->midnight_s = qt_pcsv_days_from_civil(y, m, d) * 86400;
    return 0;
}

/* ---- life cycle ---------------------------------------------------------- */

qt_pcsv *qt_pcsv_create(const char *ticker, size_t ticker_len, double price_unit, uint32_t max_listed) {
    if (!ticker || ticker_len == 0 || ticker_len > QT_PCSV_MAX_TICKER_LEN || !(price_unit > 0.0))
        return NULL;
    qt_pcsv *p = (qt_pcsv *)calloc(1, sizeof(qt_pcsv));
    if (!p) return NULL;
    memcpy(p->ticker, ticker, ticker_len);
    p->ticker_len = ticker_len;
    p->price_unit = price_unit;
    p->max_listed = max_listed;
    p->slot_mask = 255;
    p->slots = (agent_slot *)malloc(sizeof(agent_slot) * 256);
    p->arena_cap = 4096;
    p->arena = (char *)malloc(p->arena_cap);
    if (!p->slots || !p->arena) {
        qt_pcsv_destroy(p);
        return NULL;
    }
    for (uint32_t i = 0; i < 256; i++) p->slots[i].id = -1;
    p->next_line = 1;
    return p;
}

void qt_pcsv_destroy(qt_pcsv *p) {
    if (!p) return;
    free(p->slots);
    free(p->arena);
    free(p);
}

void qt_pcsv_set_position(qt_pcsv *p, int64_t next_line, uint64_t next_seq) {
    p->next_line = next_line;
    p->next_seq = next_seq;
}

int64_t qt_pcsv_next_line(const qt_pcsv *p) { return p->next_line; }
uint64_t qt_pcsv_next_seq(const qt_pcsv *p) { return p->next_seq; }
void qt_pcsv_get_counters(const qt_pcsv *p, qt_pcsv_counters *out) { *out = p->c; }

/* ---- field parsing -------------------------------------------------------- */

typedef struct field {
    const char *s;
    size_t n;
} field;

static inline int is_digit(char c) { return (unsigned)(c - '0') < 10u; }

/* Whole unsigned number of up to 18 digits; -1 if not that. */
static int64_t parse_digits(const char *s, size_t n) {
    if (n == 0 || n > 18) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static const double POW10[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* A decimal number [+-]digits[.digits] as a mantissa and a count of
 * decimals (trailing zeros of the fraction dropped).  0: not a number;
 * -2: NaN/Inf words. */
static int parse_decimal(const char *s, size_t n, int *neg, uint64_t *mant, int *decimals) {
    size_t i = 0;
    *neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) *neg = s[i++] == '-';
    if (n - i == 3 && (s[i] | 32) == 'n' && (s[i + 1] | 32) == 'a' && (s[i + 2] | 32) == 'n') return -2;
    if (n - i >= 3 && (s[i] | 32) == 'i' && (s[i + 1] | 32) == 'n' && (s[i + 2] | 32) == 'f') return -2;
    size_t int_start = i;
    while (i < n && is_digit(s[i])) i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && is_digit(s[i])) i++;
        frac_end = i;
    }
    if (i != n || (int_end == int_start && frac_end == frac_start)) return 0;
    while (frac_end > frac_start && s[frac_end - 1] == '0') frac_end--;
    while (int_start < int_end && s[int_start] == '0') int_start++;
    size_t digits = (int_end - int_start) + (frac_end - frac_start);
    if (digits > 18) return 0;
    uint64_t v = 0;
    for (size_t k = int_start; k < int_end; k++) v = v * 10 + (uint64_t)(s[k] - '0');
    for (size_t k = frac_start; k < frac_end; k++) v = v * 10 + (uint64_t)(s[k] - '0');
    *mant = v;
    *decimals = (int)(frac_end - frac_start);
    return 1;
}

/* HHMMSS (or HMMSS, or HH:MM:SS), optional .fraction -> ns since local
 * midnight; -1 when invalid. */
static int64_t parse_time(const char *s, size_t n, int *hour) {
    size_t dot = n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.') {
            dot = i;
            break;
        }
    int64_t hh, mm, ss;
    if (dot == 8 && s[2] == ':' && s[5] == ':') {
        hh = parse_digits(s, 2);
        mm = parse_digits(s + 3, 2);
        ss = parse_digits(s + 6, 2);
        if (hh < 0 || mm < 0 || ss < 0) return -1;
    } else if (dot == 6 || dot == 5) {
        int64_t v = parse_digits(s, dot);
        if (v < 0) return -1;
        hh = v / 10000;
        mm = (v / 100) % 100;
        ss = v % 100;
    } else {
        return -1;
    }
    if (hh > 23 || mm > 59 || ss > 59) return -1;
    int64_t frac = 0;
    if (dot < n) {
        size_t fd = n - dot - 1;
        if (fd == 0 || fd > 9) return -1;
        int64_t f = parse_digits(s + dot + 1, fd);
        if (f < 0) return -1;
        frac = f * (int64_t)POW10[9 - fd];
    }
    *hour = (int)hh;
    return ((hh * 60 + mm) * 60 + ss) * NS_PER_S + frac;
}

/* Export word -> ProfitDLL trade-type code, ignoring case, ' ', '_', '-'. */
static uint8_t trade_type_code(const char *s, size_t n) {
    char w[24];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '_' || c == '-') continue;
        if (k == sizeof(w)) return TRADE_TYPE_OTHER_CODE;
        w[k++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    static const struct {
        const char *word;
        uint8_t code;
    } words[] = {
        {"aggressorbuyer", 2}, {"aggressorseller", 3}, {"auction", 4}, {"cross", 1},
        {"surveillance", 5},   {"expit", 6},           {"optionexercise", 7}, {"overthecounter", 8},
        {"derivativeterm", 9}, {"index", 10},          {"btc", 11},           {"onbehalf", 12},
        {"rlp", 13},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t wl = strlen(words[i].word);
        if (wl == k && memcmp(words[i].word, w, k) == 0) return words[i].code;
    }
    return TRADE_TYPE_OTHER_CODE;
}

static inline field trim(const char *s, const char *e) {
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    if (e - s >= 2 && *s == '"' && e[-1] == '"') {
        s++;
        e--;
    }
    field f = {s, (size_t)(e - s)};
    return f;
}

static void report(qt_pcsv *p, int reason, int64_t line, qt_pcsv_issue *issues, size_t issue_cap,
                   qt_pcsv_result *res) {
    p->c.reasons[reason]++;
    if (reason <= QT_PCSV_BAD_LAST) p->c.bad++;
    if (p->listed[reason] < p->max_listed && res->n_issues < issue_cap) {
        issues[res->n_issues].line = line;
        issues[res->n_issues].reason = reason;
        issues[res->n_issues]._pad = 0;
        res->n_issues++;
        p->listed[reason]++;
    }
}

/* ---- the row loop -------------------------------------------------------- */

int qt_pcsv_parse(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                  qt_pcsv_issue *issues, size_t issue_cap, qt_pcsv_result *res) {
    if (!res) return QT_PCSV_ERROR;
    memset(res, 0, sizeof(*res));
    if (!p || (!buf && len) || (!out && out_cap) || (!issues && issue_cap)) return QT_PCSV_ERROR;

    size_t pos = 0;
    while (pos < len) {
        const char *line = buf + pos;
        const char *nl = (const char *)memchr(line, '\n', len - pos);
        const char *end;
        size_t next;
        if (nl) {
            end = nl;
            next = (size_t)(nl - buf) + 1;
        } else if (final) {
            end = buf + len;
            next = len;
        } else {
            break; /* incomplete last line: the caller appends the rest */
        }
        int64_t lineno = p->next_line;

        /* split into fields */
        field f[QT_PCSV_FIELDS];
        int nf = 0, blank = 1;
        const char *fs = line;
        for (const char *c = line; c < end; c++) {
            if (*c == ',') {
                if (nf < QT_PCSV_FIELDS) f[nf] = trim(fs, c);
                nf++;
                fs = c + 1;
                blank = 0;
            } else if (blank && *c != ' ' && *c != '\t' && *c != '\r') {
                blank = 0;
            }
        }
        if (blank) {
            p->c.blank++;
            goto consumed;
        }
        if (nf < QT_PCSV_FIELDS) f[nf] = trim(fs, end);
        nf++;
        if (nf != QT_PCSV_FIELDS) {
            report(p, QT_PCSV_BAD_FIELDS, lineno, issues, issue_cap, res);
            goto consumed;
        }
        if (f[0].n != p->ticker_len || memcmp(f[0].s, p->ticker, p->ticker_len) != 0) {
            report(p, QT_PCSV_OTHER_TICKER, lineno, issues, issue_cap, res);
            goto consumed;
        }
        {
            int32_t y, mo, d;
            int64_t date = f[1].n == 8 ? parse_digits(f[1].s, 8) : -1;
            if (date < 0 || !valid_date((int32_t)date, &y, &mo, &d)) {
                report(p, QT_PCSV_BAD_DATE, lineno, issues, issue_cap, res);
                goto consumed;
            }
            int hour = 0;
            int64_t tod_ns = parse_time(f[2].s, f[2].n, &hour);
            if (tod_ns < 0) {
                report(p, QT_PCSV_BAD_TIME, lineno, issues, issue_cap, res);
                goto consumed;
            }
            int64_t number = parse_digits(f[3].s, f[3].n);
            int neg, dec, kind;
            uint64_t mant;
            kind = parse_decimal(f[4].s, f[4].n, &neg, &mant, &dec);
            if (number < 0 || kind == 0) {
                report(p, QT_PCSV_BAD_NUMBER, lineno, issues, issue_cap, res);
                goto consumed;
            }
            if (kind == -2 || neg || mant == 0) {
                report(p, QT_PCSV_BAD_PRICE, lineno, issues, issue_cap, res);
                goto consumed;
            }
            int64_t price;
            /* mant < 1e18 and dec <= 18: both exact doubles below 2^53 in
             * the usual case, so the quotient is the correctly rounded value */
            if (!qt_price_from_double((double)mant / POW10[dec], p->price_unit, &price)) {
                report(p, QT_PCSV_BAD_GRID, lineno, issues, issue_cap, res);
                goto consumed;
            }
            int qneg, qdec;
            uint64_t qmant;
            int qkind = parse_decimal(f[5].s, f[5].n, &qneg, &qmant, &qdec);
            if (qkind != 1) {
                report(p, QT_PCSV_BAD_NUMBER, lineno, issues, issue_cap, res);
                goto consumed;
            }
            if (qneg || qdec != 0 || qmant == 0 || qmant > INT32_MAX) {
                report(p, QT_PCSV_BAD_QTY, lineno, issues, issue_cap, res);
                goto consumed;
            }
            int after_hours;
            if (f[10].n == 1 && (f[10].s[0] | 32) == 's') {
                after_hours = 1;
            } else if (f[10].n == 1 && (f[10].s[0] | 32) == 'n') {
                after_hours = 0;
            } else {
                report(p, QT_PCSV_BAD_AFT, lineno, issues, issue_cap, res);
                goto consumed;
            }
            if (f[7].n > QT_PCSV_MAX_AGENT_LEN || f[8].n > QT_PCSV_MAX_AGENT_LEN) {
                report(p, QT_PCSV_BAD_AGENT, lineno, issues, issue_cap, res);
                goto consumed;
            }
            if (after_hours) {
                /* not part of the stream: its brokers do not enter the dictionary */
                p->c.after_hours++;
                goto consumed;
            }

            /* pauses: nothing of this row is counted yet */
            date_slot *ds = date_slot_of(p, (int32_t)date);
            if (ds->date != (int32_t)date) {
                res->need_date = (int32_t)date;
                res->consumed = pos;
                return QT_PCSV_NEED_DATE;
            }
            int32_t ida = qt_pcsv_agent_id(p, f[7].s, f[7].n);
            int32_t idb = ida < 0 ? -1 : qt_pcsv_agent_id(p, f[8].s, f[8].n);
            if (ida < 0 || idb < 0) {
                const field *miss = ida < 0 ? &f[7] : &f[8];
                res->agent_off = (size_t)(miss->s - buf);
                res->agent_len = miss->n;
                res->consumed = pos;
                return QT_PCSV_NEED_AGENT;
            }
            int new_session = (int32_t)date != p->session_date;
            if (res->n_events + 1 + (size_t)new_session > out_cap) {
                res->consumed = pos;
                return QT_PCSV_OUT_FULL;
            }

            if (p->have_prev &&
                ((int32_t)date < p->prev_date ||
                 ((int32_t)date == p->prev_date &&
                  (tod_ns < p->prev_tod_ns || (tod_ns == p->prev_tod_ns && number <= p->prev_number)))))
                report(p, QT_PCSV_OUT_OF_ORDER, lineno, issues, issue_cap, res);
            p->have_prev = 1;
            p->prev_date = (int32_t)date;
            p->prev_tod_ns = tod_ns;
            p->prev_number = number;

            int64_t utc_ns = (ds->midnight_s - ds->offsets[hour]) * NS_PER_S + tod_ns;
            if (new_session) {
                qt_event *s = &out[res->n_events++];
                memset(s, 0, sizeof(*s));
                s->type = QT_EV_SESSION;
                s->seq = p->next_seq++;
                s->recv_ns = utc_ns;
                s->exch_ns = utc_ns;
                s->price = QT_PRICE_NONE;
                s->ref = date;
                p->session_date = (int32_t)date;
                p->c.sessions++;
            }
            qt_event *e = &out[res->n_events++];
            memset(e, 0, sizeof(*e));
            e->type = QT_EV_TRADE;
            e->seq = p->next_seq++;
            e->recv_ns = utc_ns;
            e->exch_ns = utc_ns;
            e->price = price;
            e->qty = (int32_t)qmant;
            e->code = trade_type_code(f[9].s, f[9].n);
            e->ref = number;
            e->a = ida;
            e->b = idb;
            p->c.trades++;
        }
    consumed:
        if (!blank) p->c.rows++; /* here, not earlier: a paused row is parsed twice */
        p->next_line++;
        p->c.lines++;
        pos = next;
    }
    res->consumed = pos;
    return QT_PCSV_DONE;
}
