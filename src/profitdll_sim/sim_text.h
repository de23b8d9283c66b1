/* Text at the ProfitDLL boundary: UTF-16LE strings (PWideChar) to and from
 * UTF-8, and the DLL's date strings "DD/MM/YYYY HH:mm:SS.ZZZ" (local time)
 * to and from UTC nanoseconds.  Pure functions, no allocation. */
#ifndef SIM_TEXT_H
#define SIM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "profitdll/qt_profitdll.h"

/* Length of a NUL-terminated UTF-16 string, counting at most `max` units
 * (returns max if no NUL within them). */
size_t sim_u16_len(const uint16_t *s, size_t max);

/* UTF-16 -> UTF-8 into out[cap] (always NUL-terminated when cap > 0).
 * Returns the byte length written, or -1 if s is NULL, the text does not
 * fit or contains an unpaired surrogate. */
int sim_u16_to_utf8(const uint16_t *s, char *out, size_t cap);

/* UTF-8 -> UTF-16 into out[cap] units (NUL-terminated).  Returns the unit
 * count written (without the NUL), or -1 on invalid UTF-8 / no room. */
int sim_utf8_to_u16(const char *s, uint16_t *out, size_t cap);
/* Tickers and exchange codes compare case-insensitively (ASCII): 1 if equal. */
int sim_ascii_ieq(const char *a, const char *b);

/* Civil local time of a UTC instant shifted by utc_offset_min. */
typedef struct sim_civil {
    int year, month, day, hour, minute, second, millisecond;
    int weekday; /* 0 = Sunday */
} sim_civil;

void sim_civil_from_ns(int64_t utc_ns, int utc_offset_min, sim_civil *out);
/* UTC ns of a local civil time (fields range-checked by the caller). */
int64_t sim_ns_from_civil(const sim_civil *c, int utc_offset_min);

/* "DD/MM/YYYY HH:mm:SS.ZZZ" into out[24] (23 units + NUL). */
#define SIM_DATE_LEN 23
void sim_format_date_u16(int64_t utc_ns, int utc_offset_min, uint16_t out[SIM_DATE_LEN + 1]);
/* The same as 8-bit text (book arrays carry dates as bytes). */
void sim_format_date_ascii(int64_t utc_ns, int utc_offset_min, char out[SIM_DATE_LEN + 1]);
void sim_systemtime_from_ns(int64_t utc_ns, int utc_offset_min, TSystemTime *out);

/* Parse "DD/MM/YYYY", "DD/MM/YYYY HH:mm", "DD/MM/YYYY HH:mm:SS" or with
 * ".ZZZ" (UTF-16, local time).  *date_only is set when no time was given.
 * Returns 0 on success, -1 on malformed or out-of-range text. */
int sim_parse_date_u16(const uint16_t *s, int utc_offset_min, int64_t *utc_ns, int *date_only);

/* Delphi TDateTime (days since 1899-12-30, local time) of a UTC instant. */
double sim_delphi_datetime(int64_t utc_ns, int utc_offset_min);

#endif
