/* The Profit CSV parser at the C level (run under ASan+UBSan in CI):
 *  1. the pause protocol: NEED_DATE, NEED_AGENT, then a session record and
 *     trades with UTC times from the offset table, price units, agent ids,
 *     trade-type codes; a paused row is counted once;
 *  2. a row cut at the end of the buffer is left unconsumed unless final;
 *  3. every bad-row reason, with its line number; after-hours and blank
 *     lines; out-of-order rows kept and reported;
 *  4. OUT_FULL with a small output array loses nothing;
 *  5. the agent table grows past its first capacity and keeps every id;
 *  6. days_from_civil against known dates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/qt_profit_csv.h"

#include "qt_check.h"

static const int32_t BRT[24] = {
    -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800,
    -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800, -10800};

static int32_t next_agent_id = 0;

/* Parse buf to the end, answering pauses like the Python driver does. */
static size_t run(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                  qt_pcsv_issue *issues, size_t issue_cap, size_t *n_issues, size_t *consumed) {
    size_t n = 0, pos = 0;
    *n_issues = 0;
    for (;;) {
        qt_pcsv_result res;
        int st = qt_pcsv_parse(p, buf + pos, len - pos, final, out + n, out_cap - n, issues + *n_issues,
                               issue_cap - *n_issues, &res);
        CHECK(st >= 0);
        n += res.n_events;
        *n_issues += res.n_issues;
        size_t base = pos;
        pos += res.consumed;
        if (st == QT_PCSV_DONE) break;
        if (st == QT_PCSV_NEED_DATE) {
            CHECK(qt_pcsv_set_date(p, res.need_date, BRT) == 0);
        } else if (st == QT_PCSV_NEED_AGENT) {
            CHECK(qt_pcsv_add_agent(p, buf + base + res.agent_off, res.agent_len, next_agent_id++) == 0);
        } else {
            CHECK(st == QT_PCSV_OUT_FULL);
            CHECK(n == out_cap || n + 1 == out_cap);
            break;
        }
    }
    *consumed = pos;
    return n;
}

static void test_basic(void) {
    next_agent_id = 0;
    qt_pcsv *p = qt_pcsv_create("WDOFUT", 6, 0.5, 10);
    CHECK(p);
    const char *csv =
        "WDOFUT,20261113,090000,13,5350.00000000,50,2675000.0000,XP,BTG,Auction,N\n"
        "WDOFUT,20261113,090001,14,5350.5,1,0,BTG,XP,aggressor_buyer,N\r\n"
        " WDOFUT , 20261113 , 090002 , 15 , 5351 , 2 , 0 , \"Nova\" , XP , Aggressor-Seller , n \n"
        "WDOFUT,20261113,090003,16,5351,2,0,XP,XP,Something Else,N\n"
        "WDOFUT,20261116,100000,1,5400,3,0,XP,XP,RLP,N";
    qt_event out[16];
    qt_pcsv_issue iss[16];
    size_t ni, consumed;
    size_t n = run(p, csv, strlen(csv), 0, out, 16, iss, 16, &ni, &consumed);
    /* without final, the unterminated last row stays */
    CHECK(n == 5);
    CHECK(consumed == strlen(csv) - strlen("WDOFUT,20261116,100000,1,5400,3,0,XP,XP,RLP,N"));
    CHECK(out[0].type == QT_EV_SESSION && out[0].ref == 20261113 && out[0].seq == 0);
    CHECK(out[1].type == QT_EV_TRADE && out[1].seq == 1);
    CHECK(out[1].exch_ns == 1794571200000000000LL && out[1].recv_ns == out[1].exch_ns);
    CHECK(out[0].exch_ns == out[1].exch_ns);
    CHECK(out[1].price == 10700 && out[1].qty == 50 && out[1].code == 4 && out[1].ref == 13);
    CHECK(out[1].a == 0 && out[1].b == 1); /* XP first seen, then BTG */
    CHECK(out[2].price == 10701 && out[2].code == 2 && out[2].a == 1 && out[2].b == 0);
    CHECK(out[2].exch_ns == 1794571201000000000LL);
    CHECK(out[3].price == 10702 && out[3].code == 3 && out[3].a == 2 && out[3].b == 0);
    CHECK(out[4].code == 32);
    CHECK(ni == 0);
    n = run(p, csv + consumed, strlen(csv) - consumed, 1, out, 16, iss, 16, &ni, &consumed);
    CHECK(n == 2 && out[0].type == QT_EV_SESSION && out[0].ref == 20261116 && out[1].code == 13);
    CHECK(out[1].seq == 6 && out[1].price == 10800 && out[1].qty == 3);
    qt_pcsv_counters c;
    qt_pcsv_get_counters(p, &c);
    CHECK(c.rows == 5 && c.trades == 5 && c.sessions == 2 && c.bad == 0 && c.lines == 5);
    CHECK(qt_pcsv_next_line(p) == 6 && qt_pcsv_next_seq(p) == 7);
    qt_pcsv_destroy(p);
}

static void test_bad_rows(void) {
    next_agent_id = 0;
    qt_pcsv *p = qt_pcsv_create("WDOFUT", 6, 0.5, 2);
    CHECK(p);
    const char *csv =
        "WDOFUT,20261113,090000,1,5350,1,0,XP,BTG,Auction,N\n"        /* 1 ok */
        "WDOFUT,20261113,090000,2,5350,1,0,XP,BTG,Auction\n"          /* 2 fields */
        "WDOFUT,20261113,090000,x3,5350,1,0,XP,BTG,Auction,N\n"       /* 3 number */
        "WDOFUT,20261113,090000,4,NaN,1,0,XP,BTG,Auction,N\n"         /* 4 price */
        "WDOFUT,20261113,090000,5,-5350,1,0,XP,BTG,Auction,N\n"       /* 5 price */
        "WDOFUT,20261113,090000,6,0.0,1,0,XP,BTG,Auction,N\n"         /* 6 price (3rd: not listed) */
        "WDOFUT,20261113,090000,7,5350.25,1,0,XP,BTG,Auction,N\n"     /* 7 grid */
        "WDOFUT,20261113,090000,8,5350,-1,0,XP,BTG,Auction,N\n"       /* 8 qty */
        "WDOFUT,20261313,090000,9,5350,1,0,XP,BTG,Auction,N\n"        /* 9 date */
        "WDOFUT,20261113,096000,10,5350,1,0,XP,BTG,Auction,N\n"       /* 10 time */
        "WDOFUT,20261113,090000,11,5350,1,0,XP,BTG,Auction,X\n"       /* 11 aft */
        "WINFUT,20261113,090000,12,5350,1,0,XP,BTG,Auction,N\n"       /* 12 ticker */
        "\n"                                                          /* 13 blank */
        "WDOFUT,20261113,090001,13,5350,1,0,XP,BTG,Auction,S\n"       /* 14 after hours */
        "WDOFUT,20261113,090001,14,5350,1.5,0,XP,BTG,Auction,N\n"     /* 15 qty */
        "WDOFUT,20261113,090001,15,5350,abc,0,XP,BTG,Auction,N\n"     /* 16 number */
        "WDOFUT,20261113,090000,16,5350,1,0,XP,BTG,Auction,N\n"       /* 17 ok */
        "WDOFUT,20261113,090002,17,5350,1,0,XP,BTG,Auction,N\n"       /* 18 ok */
        "WDOFUT,20261113,090001,18,5350,1,0,XP,BTG,Auction,N\n";      /* 19 kept, out of order */
    qt_event out[32];
    qt_pcsv_issue iss[64];
    size_t ni, consumed;
    size_t n = run(p, csv, strlen(csv), 1, out, 32, iss, 64, &ni, &consumed);
    CHECK(consumed == strlen(csv));
    CHECK(n == 5); /* session + lines 1, 17, 18, 19 */
    CHECK(out[2].ref == 16 && out[3].ref == 17 && out[4].ref == 18);
    qt_pcsv_counters c;
    qt_pcsv_get_counters(p, &c);
    CHECK(c.rows == 18 && c.blank == 1 && c.after_hours == 1 && c.trades == 4 && c.bad == 13);
    CHECK(c.reasons[QT_PCSV_BAD_FIELDS] == 1 && c.reasons[QT_PCSV_BAD_NUMBER] == 2);
    CHECK(c.reasons[QT_PCSV_BAD_PRICE] == 3 && c.reasons[QT_PCSV_BAD_GRID] == 1);
    CHECK(c.reasons[QT_PCSV_BAD_QTY] == 2 && c.reasons[QT_PCSV_BAD_DATE] == 1);
    CHECK(c.reasons[QT_PCSV_BAD_TIME] == 1 && c.reasons[QT_PCSV_BAD_AFT] == 1);
    CHECK(c.reasons[QT_PCSV_OTHER_TICKER] == 1 && c.reasons[QT_PCSV_OUT_OF_ORDER] == 1);
    static const int64_t want_line[] = {2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 15, 16, 19};
    static const int32_t want_reason[] = {1, 2, 3, 3, 4, 5, 6, 7, 8, 10, 5, 2, 11};
    CHECK(ni == sizeof(want_line) / sizeof(want_line[0]));
    for (size_t i = 0; i < ni; i++) CHECK(iss[i].line == want_line[i] && iss[i].reason == want_reason[i]);
    qt_pcsv_destroy(p);
}

static void test_out_full_and_many_agents(void) {
    next_agent_id = 0;
    qt_pcsv *p = qt_pcsv_create("X", 1, 1.0, 4);
    CHECK(p);
    enum { ROWS = 3000 };
    char *csv = (char *)malloc(ROWS * 64);
    CHECK(csv);
    size_t len = 0;
    for (int i = 0; i < ROWS; i++)
        len += (size_t)sprintf(csv + len, "X,20180115,%02d%02d%02d,%d,%d,1,0,broker%d,broker%d,Cross,N\n",
                               10 + i / 3600, i / 60 % 60, i % 60, i, 100 + i, i, (i * 7) % ROWS);
    qt_event *out = (qt_event *)malloc(sizeof(qt_event) * (ROWS + 1));
    CHECK(out);
    qt_pcsv_issue iss[64];
    size_t total = 0, pos = 0;
    while (pos < len) {
        size_t ni, consumed;
        total += run(p, csv + pos, len - pos, 1, out + total, total + 7 <= ROWS + 1 ? 7 : ROWS + 1 - total, iss,
                     64, &ni, &consumed);
        pos += consumed;
    }
    CHECK(total == ROWS + 1);
    for (int i = 0; i < ROWS; i++) {
        qt_event *e = &out[i + 1];
        CHECK(e->seq == (uint64_t)(i + 1) && e->ref == i && e->price == 100 + i);
        CHECK(qt_pcsv_agent_id(p, "broker0", 7) == 0);
        char name[32];
        int k = sprintf(name, "broker%d", i);
        CHECK(e->a == qt_pcsv_agent_id(p, name, (size_t)k));
        k = sprintf(name, "broker%d", (i * 7) % ROWS);
        CHECK(e->b == qt_pcsv_agent_id(p, name, (size_t)k));
    }
    CHECK(next_agent_id == ROWS);
    free(out);
    free(csv);
    qt_pcsv_destroy(p);
}

static void test_days(void) {
    CHECK(qt_pcsv_days_from_civil(1970, 1, 1) == 0);
    CHECK(qt_pcsv_days_from_civil(2000, 3, 1) == 11017);
    CHECK(qt_pcsv_days_from_civil(2026, 11, 13) * 86400 == 1794528000LL);
    CHECK(qt_pcsv_days_from_civil(1969, 12, 31) == -1);
}

int main(void) {
    test_basic();
    test_bad_rows();
    test_out_full_and_many_agents();
    test_days();
    printf("profit_csv: ok\n");
    return 0;
}
