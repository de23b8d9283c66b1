/* The binding's own path to a ProfitDLL, with the simulator DLL standing in
 * for ProfitDLL64.dll: qt_profitdll_api_load opens it by absolute path (on
 * Windows LoadLibraryExW with the restricted search, so this runs the real
 * loader under wine) and resolves every export; qt_profitdll_api_login starts a
 * market session with the core's callback entry points; the simulator
 * replays a small log and every trade arrives in the market ring, decoded,
 * in order, from the DLL's thread.  Also: a missing file and (Windows) a
 * relative path are refused with a message.
 * Usage: test_profitdll_load SIMULATOR_LIBRARY LOG_PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/qt_atomic.h"
#include "market/qt_events.h"
#include "market/qt_evlog.h"
#include "profitdll/qt_profitdll_api.h"
#include "profitdll/qt_profitdll_feed.h"
#include "profitdll/qt_profitdll.h"
#include "market/qt_ring.h"

#include "qt_check.h"

#define UNIT 0.5
#define N_TRADES 200
/* 2026-11-03 09:00:00 -03:00 in UTC ns */
#define DAY0_OPEN 1793707200000000000LL

static uint16_t W_WDO[] = {'W', 'D', 'O', 'F', 'U', 'T', 0};
static uint16_t W_F[] = {'F', 0};
static uint16_t W_KEY[] = {'k', 0};
static uint16_t W_USER[] = {'u', 0};
static uint16_t W_PASS[] = {'p', 0};

typedef int(QT_PROFITDLL_CALL *sim_path_fn)(const char *);
typedef int(QT_PROFITDLL_CALL *sim_double_fn)(double);
typedef int(QT_PROFITDLL_CALL *sim_int_fn)(int);
typedef int(QT_PROFITDLL_CALL *sim_void_fn)(void);

static void *sym(const qt_profitdll_api *api, const char *name) {
    void *p = qt_profitdll_api_symbol(api, name);
    if (!p) fprintf(stderr, "simulator export %s missing\n", name);
    CHECK(p != NULL);
    return p;
}

static void write_log(const char *path) {
    qt_evlog_header h;
    memset(&h, 0, sizeof(h));
    h.price_unit = UNIT;
    h.tick_size = UNIT;
    h.qty_scale = 1.0;
    snprintf(h.instrument, sizeof(h.instrument), "WDOFUT");
    snprintf(h.source, sizeof(h.source), "test_profitdll_load");
    qt_evlog_error err;
    qt_evlog_writer *w = qt_evlog_open_write(path, &h, &err);
    CHECK(w != NULL);
    const char *agents[] = {"XP", "BTG Pactual"};
    CHECK(qt_evlog_set_agents(w, 2, agents, NULL) == QT_EVLOG_OK);
    qt_event e;
    memset(&e, 0, sizeof(e));
    e.type = QT_EV_SESSION;
    e.exch_ns = e.recv_ns = DAY0_OPEN;
    e.price = QT_PRICE_NONE;
    e.ref = 20261103;
    CHECK(qt_evlog_append(w, &e, 1) == 0);
    for (int i = 0; i < N_TRADES; i++) {
        memset(&e, 0, sizeof(e));
        e.type = QT_EV_TRADE;
        e.seq = (uint64_t)i + 2;
        e.exch_ns = DAY0_OPEN + (int64_t)(i + 1) * 1000000000LL;
        e.recv_ns = e.exch_ns + 1000000;
        e.price = 11000 + i % 7;
        e.qty = 1 + i % 5;
        e.ref = 1000 + i;
        e.a = 1;
        e.b = 2;
        CHECK(qt_evlog_append(w, &e, 1) == 0);
    }
    CHECK(qt_evlog_close(w) == 0);
}

/* Pop everything ready; count the trades and check each against the log. */
static int n_trades, bad_trades, market_ready;

static void drain(qt_ring *market) {
    qt_event ev[64];
    uint64_t got;
    while ((got = qt_ring_pop(market, ev, 64)) != 0) {
        for (uint64_t i = 0; i < got; i++) {
            if (ev[i].type == QT_EV_CONN_STATE && ev[i].a == QT_PROFITDLL_CONN_MARKET_LOGIN &&
                ev[i].b == QT_PROFITDLL_MARKET_LOGIN_VALID)
                market_ready = 1;
            if (ev[i].type != QT_EV_TRADE) continue;
            int k = n_trades++;
            if (ev[i].instrument != 1 || ev[i].price != 11000 + k % 7 || ev[i].qty != 1 + k % 5 ||
                ev[i].ref != 1000 + k || ev[i].exch_ns != DAY0_OPEN + (int64_t)(k + 1) * 1000000000LL)
                bad_trades++;
        }
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char path[4096];
#if defined(_WIN32)
    /* meson hands over a path of the build machine: make it fully qualified
     * (drive letter), which LoadLibraryExW's restricted search requires */
    CHECK(_fullpath(path, argv[1], sizeof(path)) != NULL);
#else
    snprintf(path, sizeof(path), "%s", argv[1]);
#endif
    const char *log_path = argv[2];
    write_log(log_path);

    qt_profitdll_api api;
    char err[512];
    memset(&api, 0, sizeof(api));
    CHECK(qt_profitdll_api_load(&api, "no_such_folder/ProfitDLL64.dll", err, sizeof(err)) == -1);
    CHECK(err[0] != '\0' && api.lib == NULL);
#if defined(_WIN32)
    /* never the DLL search order: a bare name is refused before loading */
    CHECK(qt_profitdll_api_load(&api, "libprofitdll_sim.dll", err, sizeof(err)) == -1);
    CHECK(strstr(err, "must be absolute") != NULL);
#endif
    if (qt_profitdll_api_load(&api, path, err, sizeof(err)) != 0) fprintf(stderr, "%s\n", err);
    CHECK(api.lib != NULL && api.DLLInitializeMarketLogin != NULL && api.GetServerClock != NULL);

    CHECK(((sim_path_fn)sym(&api, "SimSetReplayLog"))(log_path) == NL_OK);
    CHECK(((sim_double_fn)sym(&api, "SimSetSpeed"))(0) == NL_OK);
    CHECK(((sim_int_fn)sym(&api, "SimSetAutoStart"))(0) == NL_OK);

    qt_ring *market = qt_ring_create(1 << 12, sizeof(qt_event), QT_RING_DROP);
    qt_ring *orders = qt_ring_create(64, sizeof(qt_order_update), QT_RING_LOSSLESS);
    CHECK(market && orders);
    CHECK(qt_profitdll_feed_attach(market, orders) == 0);
    CHECK(qt_profitdll_feed_add_instrument(W_WDO, 1, UNIT) == 0);
    const char *failed = NULL;
    CHECK(qt_profitdll_api_login(&api, 0, 1, W_KEY, W_USER, W_PASS, &failed) == NL_OK);
    for (int i = 0; i < 2000 && !market_ready; i++) {
        qt_ring_wait(market, 10000000LL, 100);
        drain(market);
    }
    CHECK(market_ready);

    CHECK(api.SubscribeTicker(W_WDO, W_F) == NL_OK);
    CHECK(((sim_void_fn)sym(&api, "SimStartReplay"))() == NL_OK);
    CHECK(((sim_int_fn)sym(&api, "SimWaitReplayDone"))(20000) == NL_OK);
    drain(market);
    printf("profitdll_load: %d trades through %s, %d wrong, %llu dropped\n", n_trades, path, bad_trades,
           (unsigned long long)qt_ring_dropped(market));
    CHECK(n_trades == N_TRADES);
    CHECK(bad_trades == 0);
    CHECK(qt_ring_dropped(market) == 0);

    CHECK(api.DLLFinalize() == NL_OK);
    qt_profitdll_feed_detach();
    qt_profitdll_api_unload(&api);
    qt_ring_destroy(market);
    qt_ring_destroy(orders);
    remove(log_path);
    printf("test_profitdll_load: ok\n");
    return 0;
}
