/* Consumer side of the ProfitDLL callbacks: dates.
 *
 * The callbacks copy the DLL's date strings raw (QT_EV_EXT after a parent
 * flagged QT_F_RAW_DATE); the consumer turns them into exchange times here,
 * off the callback thread.  Dates are "DD/MM/YYYY HH:mm:SS.ZZZ" in the
 * exchange's local time, shifted to UTC by a fixed offset in minutes east
 * (Sao Paulo: -180; the caller picks the offset of the session's day).
 *
 * Pure functions and a small state, no allocation, no OS calls. */
#ifndef QT_PROFITDLL_DECODE_H
#define QT_PROFITDLL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/qt_civil_date.h"
#include "market/qt_events.h"

/* Local civil time -> UTC ns, or QT_TIME_NONE when a field is out of range
 * (years 1970..9999, leap second 60 accepted as the next second). */
static inline int64_t qt_profitdll_local_to_utc_ns(int64_t y, int64_t mo, int64_t d, int64_t h,
                                              int64_t mi, int64_t s, int64_t ms,
                                              int32_t utc_offset_min) {
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > qt_days_in_month(y, mo) ||
        h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || ms < 0 || ms > 999)
        return QT_TIME_NONE;
    int64_t sec = qt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
                  (int64_t)utc_offset_min * 60;
    return sec * 1000000000LL + ms * 1000000LL;
}

/* Parse "DD/MM/YYYY", "DD/MM/YYYY HH:mm:SS" or "DD/MM/YYYY HH:mm:SS.ZZZ"
 * (UTF-16 units, ending at a NUL or after max_units; 1 to 3 fraction
 * digits, more are read as milliseconds and the rest ignored).  Returns UTC
 * ns or QT_TIME_NONE if the text is not such a date. */
int64_t qt_profitdll_parse_date(const uint16_t *s, size_t max_units, int32_t utc_offset_min);

typedef struct qt_profitdll_decoder {
    int32_t utc_offset_min;
    int has_pending;      /* a parent whose EXT is still to come */
    qt_event pending;
    int64_t daily_exch_ns; /* exch_ns of the last DAILY, for its RANGE / LIMITS */
    uint16_t daily_instrument;
    uint64_t dates;        /* dates parsed */
    uint64_t bad_dates;    /* EXT text that is not a date: parent keeps QT_TIME_NONE */
    uint64_t missing_ext;  /* parent flagged RAW_DATE without its EXT next */
    uint64_t orphan_ext;   /* EXT with no parent before it: dropped */
} qt_profitdll_decoder;

void qt_profitdll_decoder_init(qt_profitdll_decoder *d, int32_t utc_offset_min);

/* Resolve n ring records into out (room for n + 1 records): each parent
 * gets the exch_ns of its EXT and loses QT_F_RAW_DATE, EXT records are
 * consumed, DAILY_RANGE / DAILY_LIMITS take the time of the DAILY before
 * them.  A parent that ends `in` without its EXT is held back and written
 * by the next call (records of one callback may straddle two reads of the
 * ring).  Returns the number of records written. */
uint64_t qt_profitdll_decode(qt_profitdll_decoder *d, const qt_event *in, uint64_t n, qt_event *out);

/* End of stream: write a held-back parent (its date never came: counted in
 * missing_ext).  Returns 0 or 1. */
uint64_t qt_profitdll_decode_flush(qt_profitdll_decoder *d, qt_event *out);

#endif
