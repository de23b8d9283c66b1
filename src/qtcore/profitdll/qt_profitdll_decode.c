/* Consumer-side date decoding of ProfitDLL callback records (qt_profitdll_decode.h). */
#include "profitdll/qt_profitdll_decode.h"

#include <string.h>

/* n decimal digits at s[*i]; -1 if any is not a digit. */
static int64_t digits(const uint16_t *s, size_t len, size_t *i, int n) {
    int64_t v = 0;
    if (*i + (size_t)n > len) return -1;
    for (int k = 0; k < n; k++) {
        uint16_t c = s[*i + (size_t)k];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    return v;
}

static int expect(const uint16_t *s, size_t len, size_t *i, uint16_t c) {
    if (*i >= len || s[*i] != c) return 0;
    (*i)++;
    return 1;
}

int64_t qt_profitdll_parse_date(const uint16_t *s, size_t max_units, int32_t utc_offset_min) {
    if (!s) return QT_TIME_NONE;
    size_t len = 0;
    while (len < max_units && s[len] != 0) len++;
    size_t i = 0;
    int64_t d = digits(s, len, &i, 2);
    if (d < 0 || !expect(s, len, &i, '/')) return QT_TIME_NONE;
    int64_t mo = digits(s, len, &i, 2);
    if (mo < 0 || !expect(s, len, &i, '/')) return QT_TIME_NONE;
    int64_t y = digits(s, len, &i, 4);
    if (y < 0) return QT_TIME_NONE;
    int64_t h = 0, mi = 0, sec = 0, ms = 0;
    if (i < len) {
        if (!expect(s, len, &i, ' ')) return QT_TIME_NONE;
        h = digits(s, len, &i, 2);
        if (h < 0 || !expect(s, len, &i, ':')) return QT_TIME_NONE;
        mi = digits(s, len, &i, 2);
        if (mi < 0 || !expect(s, len, &i, ':')) return QT_TIME_NONE;
        sec = digits(s, len, &i, 2);
        if (sec < 0) return QT_TIME_NONE;
        if (i < len) {
            if (!expect(s, len, &i, '.')) return QT_TIME_NONE;
            int nd = 0;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (nd < 3) ms = ms * 10 + (s[i] - '0');
                nd++;
                i++;
            }
            if (nd == 0 || i != len) return QT_TIME_NONE;
            for (; nd < 3; nd++) ms *= 10;
        }
    }
    return qt_profitdll_local_to_utc_ns(y, mo, d, h, mi, sec, ms, utc_offset_min);
}

void qt_profitdll_decoder_init(qt_profitdll_decoder *d, int32_t utc_offset_min) {
    memset(d, 0, sizeof(*d));
    d->utc_offset_min = utc_offset_min;
    d->daily_exch_ns = QT_TIME_NONE;
}

static void apply_ext(qt_profitdll_decoder *d, qt_event *parent, const qt_event *ext) {
    uint16_t units[QT_EVENT_SIZE / 2];
    memcpy(units, (const uint8_t *)ext + 8, QT_EVENT_SIZE - 8);
    int64_t t = qt_profitdll_parse_date(units, (QT_EVENT_SIZE - 8) / 2, d->utc_offset_min);
    if (t == QT_TIME_NONE)
        d->bad_dates++;
    else
        d->dates++;
    parent->exch_ns = t;
    parent->flags &= (uint8_t)~QT_F_RAW_DATE;
}

/* A parent is complete: remember a DAILY's time for the records after it. */
static void emitted(qt_profitdll_decoder *d, const qt_event *e) {
    if (e->type == QT_EV_DAILY) {
        d->daily_exch_ns = e->exch_ns;
        d->daily_instrument = e->instrument;
    }
}

uint64_t qt_profitdll_decode(qt_profitdll_decoder *d, const qt_event *in, uint64_t n, qt_event *out) {
    uint64_t w = 0, i = 0;
    if (d->has_pending) {
        d->has_pending = 0;
        qt_event p = d->pending;
        if (n > 0 && in[0].type == QT_EV_EXT) {
            apply_ext(d, &p, &in[0]);
            i = 1;
        } else if (n > 0) {
            d->missing_ext++;
            p.flags &= (uint8_t)~QT_F_RAW_DATE;
        } else {
            d->pending = p; /* nothing new: keep waiting */
            d->has_pending = 1;
            return 0;
        }
        out[w] = p;
        emitted(d, &out[w]);
        w++;
    }
    for (; i < n; i++) {
        const qt_event *e = &in[i];
        if (e->type == QT_EV_EXT) {
            d->orphan_ext++; /* its parent was consumed already: no place for it */
            continue;
        }
        qt_event o = *e;
        if ((o.type == QT_EV_DAILY_RANGE || o.type == QT_EV_DAILY_LIMITS) &&
            o.exch_ns == QT_TIME_NONE && o.instrument == d->daily_instrument)
            o.exch_ns = d->daily_exch_ns;
        if (o.flags & QT_F_RAW_DATE) {
            if (i + 1 == n) {
                d->pending = o;
                d->has_pending = 1;
                break;
            }
            if (in[i + 1].type == QT_EV_EXT) {
                apply_ext(d, &o, &in[i + 1]);
                i++;
            } else {
                d->missing_ext++;
                o.flags &= (uint8_t)~QT_F_RAW_DATE;
            }
        }
        out[w] = o;
        emitted(d, &out[w]);
        w++;
    }
    return w;
}

uint64_t qt_profitdll_decode_flush(qt_profitdll_decoder *d, qt_event *out) {
    if (!d->has_pending) return 0;
    d->has_pending = 0;
    d->missing_ext++;
    out[0] = d->pending;
    out[0].flags &= (uint8_t)~QT_F_RAW_DATE;
    emitted(d, &out[0]);
    return 1;
}
