/* Parser of the Profit tick CSV export into QT_EV_TRADE / QT_EV_SESSION
 * records.
 *
 * Row: <ticker>,<YYYYMMDD>,<HHMMSS local>,<trade_number>,<price>,<qty>,<vol>,
 *      <buy_agent>,<sell_agent>,<trade_type word>,<aft S/N>
 *
 * The caller (Python) streams the file through qt_pcsv_parse() in large
 * byte chunks; the parser only consumes complete lines (ending in '\n'),
 * except with `final` set, where a last unterminated line is parsed too, so
 * a row split across a chunk boundary is parsed once the caller has put the
 * rest of it behind the unconsumed bytes.
 *
 * The parser pauses (returns without consuming the row) when it meets
 * something only the caller can decide, and resumes on the same row at the
 * next call:
 *   QT_PCSV_NEED_DATE  a date whose UTC offsets are unknown: the caller
 *                      computes the offset of each local hour of that date
 *                      (time zone database) and calls qt_pcsv_set_date();
 *   QT_PCSV_NEED_AGENT a broker name not in the dictionary: the caller
 *                      decides its id (first-seen order, or an existing id
 *                      when the decoded name is already known) and calls
 *                      qt_pcsv_add_agent();
 *   QT_PCSV_OUT_FULL   the output array cannot take one more row.
 * Nothing is counted for a row before it completes, so a paused row is
 * counted once.
 *
 * Bad rows are skipped and counted per reason; the line numbers of the first
 * `max_listed` rows of each reason are written to the caller's issue array.
 * Rows out of (date, time, trade_number) order are kept in file order and
 * reported the same way (reason QT_PCSV_OUT_OF_ORDER); they are not bad.
 * After-hours rows (aft = S) are counted and skipped.
 *
 * Fields are trimmed of spaces/tabs and of one pair of enclosing double
 * quotes; quoting does not protect a comma (Profit does not write any), so
 * such a row has the wrong field count.  Lines may end in CRLF.
 *
 * No allocation happens in qt_pcsv_parse(); only qt_pcsv_add_agent() may
 * grow the agent table.  Portable C11. */
#ifndef QT_PROFIT_CSV_H
#define QT_PROFIT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "market/qt_events.h"

#define QT_PCSV_FIELDS 11
#define QT_PCSV_MAX_AGENT_LEN 256 /* longer broker names are bad rows */
#define QT_PCSV_MAX_TICKER_LEN 64

typedef enum qt_pcsv_status {
    QT_PCSV_DONE = 0,       /* every complete line of the buffer was consumed */
    QT_PCSV_OUT_FULL = 1,   /* output array full: call again with more room */
    QT_PCSV_NEED_DATE = 2,  /* res.need_date has no offsets yet */
    QT_PCSV_NEED_AGENT = 3, /* res.agent_off/agent_len name an unknown broker */
    QT_PCSV_ERROR = -1      /* invalid arguments */
} qt_pcsv_status;

/* Why a row was reported.  1..QT_PCSV_BAD_LAST are bad rows (skipped). */
typedef enum qt_pcsv_reason {
    QT_PCSV_BAD_FIELDS = 1,     /* not 11 fields */
    QT_PCSV_BAD_NUMBER = 2,     /* trade number, price or qty not a number */
    QT_PCSV_BAD_PRICE = 3,      /* price NaN, negative or zero */
    QT_PCSV_BAD_GRID = 4,       /* price not a whole number of price units */
    QT_PCSV_BAD_QTY = 5,        /* qty negative, zero or beyond int32 */
    QT_PCSV_BAD_DATE = 6,       /* not a valid YYYYMMDD date */
    QT_PCSV_BAD_TIME = 7,       /* not a valid HHMMSS time */
    QT_PCSV_BAD_AFT = 8,        /* aft neither S nor N */
    QT_PCSV_BAD_AGENT = 9,      /* broker name longer than QT_PCSV_MAX_AGENT_LEN */
    QT_PCSV_OTHER_TICKER = 10,  /* a row of another ticker than the imported one */
    QT_PCSV_BAD_LAST = 10,
    QT_PCSV_OUT_OF_ORDER = 11,  /* kept: (date, time, trade_number) below the previous row's */
    QT_PCSV_REASON_COUNT = 12
} qt_pcsv_reason;

typedef struct qt_pcsv_issue {
    int64_t line;   /* 1-based line number in the file */
    int32_t reason; /* qt_pcsv_reason */
    int32_t _pad;
} qt_pcsv_issue;

typedef struct qt_pcsv_counters {
    uint64_t lines;       /* lines consumed (blank and header lines included) */
    uint64_t rows;        /* non-blank data lines seen */
    uint64_t trades;      /* QT_EV_TRADE records written */
    uint64_t sessions;    /* QT_EV_SESSION records written */
    uint64_t after_hours; /* rows with aft = S, skipped */
    uint64_t blank;       /* blank lines, skipped */
    uint64_t bad;         /* bad rows (all reasons), skipped */
    uint64_t reasons[QT_PCSV_REASON_COUNT]; /* per reason, OUT_OF_ORDER included */
} qt_pcsv_counters;

typedef struct qt_pcsv_result {
    size_t consumed;    /* bytes of the buffer consumed (whole lines) */
    size_t n_events;    /* records written to out */
    size_t n_issues;    /* issues written */
    int32_t need_date;  /* QT_PCSV_NEED_DATE: the date YYYYMMDD */
    size_t agent_off;   /* QT_PCSV_NEED_AGENT: the name's offset in buf */
    size_t agent_len;   /*                     and its length in bytes */
} qt_pcsv_result;

typedef struct qt_pcsv qt_pcsv;

/* ticker: only rows of this ticker are imported (others: OTHER_TICKER).
 * price_unit > 0.  max_listed: issues listed per reason.  NULL on bad
 * arguments or out of memory. */
qt_pcsv *qt_pcsv_create(const char *ticker, size_t ticker_len, double price_unit, uint32_t max_listed);
void qt_pcsv_destroy(qt_pcsv *p);

/* Map a broker name to an id (0 on success, -1 out of memory or name too
 * long).  Re-adding a name replaces its id. */
int qt_pcsv_add_agent(qt_pcsv *p, const char *name, size_t len, int32_t id);
/* The id of a name, or -1. */
int32_t qt_pcsv_agent_id(const qt_pcsv *p, const char *name, size_t len);

/* UTC offsets (seconds, UTC = local - offset) of the 24 local hours of a
 * date.  0 on success, -1 on an invalid date. */
int qt_pcsv_set_date(qt_pcsv *p, int32_t yyyymmdd, const int32_t offsets[24]);

/* The line number of the next line (1 initially; a caller that skipped a
 * header line sets 2) and the seq of the next record (0 initially). */
void qt_pcsv_set_position(qt_pcsv *p, int64_t next_line, uint64_t next_seq);
int64_t qt_pcsv_next_line(const qt_pcsv *p);
uint64_t qt_pcsv_next_seq(const qt_pcsv *p);
void qt_pcsv_get_counters(const qt_pcsv *p, qt_pcsv_counters *out);

/* Parse whole lines of buf[0..len).  out_cap must be >= 2 to make progress
 * (a new date emits a session record before the trade).  The issue array
 * needs at most max_listed * QT_PCSV_REASON_COUNT entries over the whole run.
 * Returns a qt_pcsv_status; res is filled in every case. */
int qt_pcsv_parse(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                  qt_pcsv_issue *issues, size_t issue_cap, qt_pcsv_result *res);

/* Days since 1970-01-01 of a proleptic Gregorian date (exported for tests). */
int64_t qt_pcsv_days_from_civil(int32_t y, int32_t m, int32_t d);

#endif
