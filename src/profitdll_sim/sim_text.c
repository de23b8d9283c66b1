/* UTF-16 <-> UTF-8 and the DLL's date strings (see sim_text.h). */
#include "sim_text.h"

#include <string.h>

#include "platform/qt_civil_date.h"

int sim_ascii_ieq(const char *a, const char *b) {
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'a' && x <= 'z') x = (char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (char)(y - 32);
        if (x != y) return 0;
        if (!x) return 1;
    }
}

size_t sim_u16_len(const uint16_t *s, size_t max) {
    size_t n = 0;
    if (!s) return 0;
    while (n < max && s[n]) n++;
    return n;
}

int sim_u16_to_utf8(const uint16_t *s, char *out, size_t cap) {
    if (!s || !out || cap == 0) return -1;
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        uint32_t c = s[i];
        if (c >= 0xD800 && c <= 0xDBFF) {
            uint32_t lo = s[i + 1];
            if (lo < 0xDC00 || lo > 0xDFFF) goto bad;
            c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
            i++;
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            goto bad;
        }
        unsigned char buf[4];
        size_t n;
        if (c < 0x80) {
            buf[0] = (unsigned char)c;
            n = 1;
        } else if (c < 0x800) {
            buf[0] = (unsigned char)(0xC0 | (c >> 6));
            buf[1] = (unsigned char)(0x80 | (c & 0x3F));
            n = 2;
        } else if (c < 0x10000) {
            buf[0] = (unsigned char)(0xE0 | (c >> 12));
            buf[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[2] = (unsigned char)(0x80 | (c & 0x3F));
            n = 3;
        } else {
            buf[0] = (unsigned char)(0xF0 | (c >> 18));
            buf[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            buf[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[3] = (unsigned char)(0x80 | (c & 0x3F));
            n = 4;
        }
        if (o + n >= cap) goto bad;
        memcpy(out + o, buf, n);
        o += n;
    }
    out[o] = 0;
    return (int)o;
bad:
    out[0] = 0;
    return -1;
}

int sim_utf8_to_u16(const char *s, uint16_t *out, size_t cap) {
    if (!s || !out || cap == 0) return -1;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        uint32_t c;
        int extra;
        if (*p < 0x80) {
            c = *p;
            extra = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            extra = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            extra = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            c = *p & 0x07;
            extra = 3;
        } else {
            goto bad;
        }
        p++;
        for (int k = 0; k < extra; k++, p++) {
            if ((*p & 0xC0) != 0x80) goto bad;
            c = (c << 6) | (*p & 0x3F);
        }
        if ((extra == 1 && c < 0x80) || (extra == 2 && c < 0x800) || (extra == 3 && c < 0x10000) ||
            c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            goto bad;
        if (c >= 0x10000) {
            if (o + 2 >= cap) goto bad;
            c -= 0x10000;
            out[o++] = (uint16_t)(0xD800 + (c >> 10));
            out[o++] = (uint16_t)(0xDC00 + (c & 0x3FF));
        } else {
            if (o + 1 >= cap) goto bad;
            out[o++] = (uint16_t)c;
        }
    }
    out[o] = 0;
    return (int)o;
bad:
    out[0] = 0;
    return -1;
}

void sim_civil_from_ns(int64_t utc_ns, int utc_offset_min, sim_civil *out) {
    int64_t ms = qt_floor_div(utc_ns, 1000000) + (int64_t)utc_offset_min * 60000;
    int64_t days = qt_floor_div(ms, 86400000);
    int64_t in_day = ms - days * 86400000;
    int64_t year;
    qt_civil_from_days(days, &year, &out->month, &out->day);
    out->year = (int)year;
    out->hour = (int)(in_day / 3600000);
    out->minute = (int)(in_day / 60000 % 60);
    out->second = (int)(in_day / 1000 % 60);
    out->millisecond = (int)(in_day % 1000);
    int64_t wd = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    out->weekday = (int)(wd < 0 ? wd + 7 : wd);
}

int64_t sim_ns_from_civil(const sim_civil *c, int utc_offset_min) {
    int64_t days = qt_days_from_civil(c->year, c->month, c->day);
    int64_t ms = days * 86400000 + (int64_t)c->hour * 3600000 + (int64_t)c->minute * 60000 +
                 (int64_t)c->second * 1000 + c->millisecond;
    return (ms - (int64_t)utc_offset_min * 60000) * 1000000;
}

static void put2(char *p, int v) {
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void sim_format_date_ascii(int64_t utc_ns, int utc_offset_min, char out[SIM_DATE_LEN + 1]) {
    sim_civil c;
    sim_civil_from_ns(utc_ns, utc_offset_min, &c);
    int y = c.year < 0 ? 0 : c.year % 10000;
    put2(out, c.day);
    out[2] = '/';
    put2(out + 3, c.month);
    out[5] = '/';
    put2(out + 6, y / 100);
    put2(out + 8, y % 100);
    out[10] = ' ';
    put2(out + 11, c.hour);
    out[13] = ':';
    put2(out + 14, c.minute);
    out[16] = ':';
    put2(out + 17, c.second);
    out[19] = '.';
    out[20] = (char)('0' + c.millisecond / 100);
    put2(out + 21, c.millisecond % 100);
    out[SIM_DATE_LEN] = 0;
}

void sim_format_date_u16(int64_t utc_ns, int utc_offset_min, uint16_t out[SIM_DATE_LEN + 1]) {
    char a[SIM_DATE_LEN + 1];
    sim_format_date_ascii(utc_ns, utc_offset_min, a);
    for (int i = 0; i <= SIM_DATE_LEN; i++) out[i] = (uint16_t)(unsigned char)a[i];
}

void sim_systemtime_from_ns(int64_t utc_ns, int utc_offset_min, TSystemTime *out) {
    sim_civil c;
    sim_civil_from_ns(utc_ns, utc_offset_min, &c);
    out->wYear = (uint16_t)c.year;
    out->wMonth = (uint16_t)c.month;
    out->wDayOfWeek = (uint16_t)c.weekday;
    out->wDay = (uint16_t)c.day;
    out->wHour = (uint16_t)c.hour;
    out->wMinute = (uint16_t)c.minute;
    out->wSecond = (uint16_t)c.second;
    out->wMilliseconds = (uint16_t)c.millisecond;
}

/* Reads exactly `digits` decimal digits at s[*i]. */
static int read_num(const uint16_t *s, size_t *i, int digits, int *out) {
    int v = 0;
    for (int k = 0; k < digits; k++) {
        uint16_t ch = s[*i];
        if (ch < '0' || ch > '9') return -1;
        v = v * 10 + (ch - '0');
        (*i)++;
    }
    *out = v;
    return 0;
}

int sim_parse_date_u16(const uint16_t *s, int utc_offset_min, int64_t *utc_ns, int *date_only) {
    if (!s) return -1;
    sim_civil c = {0};
    size_t i = 0;
    if (read_num(s, &i, 2, &c.day) || s[i++] != '/' || read_num(s, &i, 2, &c.month) ||
        s[i++] != '/' || read_num(s, &i, 4, &c.year))
        return -1;
    *date_only = 1;
    if (s[i] == ' ') {
        i++;
        if (read_num(s, &i, 2, &c.hour) || s[i++] != ':' || read_num(s, &i, 2, &c.minute))
            return -1;
        if (s[i] == ':') {
            i++;
            if (read_num(s, &i, 2, &c.second)) return -1;
            if (s[i] == '.') {
                i++;
                if (read_num(s, &i, 3, &c.millisecond)) return -1;
            }
        }
        *date_only = 0;
    }
    if (s[i] != 0) return -1;
    if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > qt_days_in_month(c.year, c.month) ||
        c.hour > 23 || c.minute > 59 || c.second > 59 || c.year < 1900)
        return -1;
    *utc_ns = sim_ns_from_civil(&c, utc_offset_min);
    return 0;
}

double sim_delphi_datetime(int64_t utc_ns, int utc_offset_min) {
    /* 1899-12-30 is 25569 days before 1970-01-01 */
    double local_ms = (double)qt_floor_div(utc_ns, 1000000) + (double)utc_offset_min * 60000.0;
    return 25569.0 + local_ms / 86400000.0;
}
