/* Resolving the ProfitDLL exports and starting a session (qt_profitdll_api.h). */
#include "profitdll/qt_profitdll_api.h"

#include <stdio.h>
#include <string.h>

#include "platform/qt_dl.h"
#include "profitdll/qt_profitdll_feed.h"

typedef struct export_slot {
    const char *name;
    size_t offset;
} export_slot;

#define SLOT(n) {#n, offsetof(qt_profitdll_api, n)}
static const export_slot required[] = {
    SLOT(DLLInitializeLogin),
    SLOT(DLLInitializeMarketLogin),
    SLOT(DLLFinalize),
    SLOT(SetTradeCallbackV2),
    SLOT(SetHistoryTradeCallbackV2),
    SLOT(SetChangeStateTickerCallback),
    SLOT(SetOrderCallback),
    SLOT(SubscribeTicker),
    SLOT(UnsubscribeTicker),
    SLOT(SubscribePriceBook),
    SLOT(UnsubscribePriceBook),
    SLOT(SubscribeOfferBook),
    SLOT(UnsubscribeOfferBook),
    SLOT(GetHistoryTrades),
    SLOT(TranslateTrade),
    SLOT(FreePointer),
    SLOT(GetOrderDetails),
    SLOT(SendOrder),
    SLOT(SendChangeOrderV2),
    SLOT(SendCancelOrderV2),
    SLOT(SendCancelAllOrdersV2),
    SLOT(SendZeroPositionV2),
    SLOT(GetPositionV2),
    SLOT(GetServerClock),
};
#undef SLOT
#define N_REQUIRED (sizeof(required) / sizeof(required[0]))
_Static_assert(sizeof(qt_profitdll_api) == sizeof(void *) * (1 + N_REQUIRED),
               "every function pointer of qt_profitdll_api has a slot in `required`");

size_t qt_profitdll_api_required_count(void) { return N_REQUIRED; }

const char *qt_profitdll_api_required_name(size_t i) { return i < N_REQUIRED ? required[i].name : NULL; }

int qt_profitdll_api_load(qt_profitdll_api *api, const char *path_utf8, char *err, size_t errcap) {
    memset(api, 0, sizeof(*api));
    if (err && errcap) err[0] = '\0';
    void *lib = qt_dl_open(path_utf8, err, errcap);
    if (!lib) return -1;
    int missing = 0;
    size_t at = 0;
    for (size_t i = 0; i < N_REQUIRED; i++) {
        void *p = qt_dl_sym(lib, required[i].name);
        if (p) {
            /* object pointer -> function pointer slot, without a cast */
            memcpy((char *)api + required[i].offset, &p, sizeof(p));
            continue;
        }
        if (err && errcap) {
            int w = missing == 0 ? snprintf(err, errcap, "%s does not export: %s", path_utf8,
                                            required[i].name)
                                 : snprintf(err + at, errcap - at, ", %s", required[i].name);
            if (w > 0) at = at + (size_t)w < errcap ? at + (size_t)w : errcap - 1;
        }
        missing++;
    }
    if (missing) {
        qt_dl_close(lib);
        memset(api, 0, sizeof(*api));
        return missing;
    }
    api->lib = lib;
    return 0;
}

void qt_profitdll_api_unload(qt_profitdll_api *api) {
    if (api->lib) qt_dl_close(api->lib);
    memset(api, 0, sizeof(*api));
}

void *qt_profitdll_api_symbol(const qt_profitdll_api *api, const char *name) {
    return api->lib ? qt_dl_sym(api->lib, name) : NULL;
}

int32_t qt_profitdll_api_login(const qt_profitdll_api *api, int routing, int trades_v2,
                          const qt_profitdll_wchar *activation_key, const qt_profitdll_wchar *user,
                          const qt_profitdll_wchar *password, const char **failed_call) {
    const char *unused;
    if (!failed_call) failed_call = &unused;
    *failed_call = NULL;
    if (!api->lib) {
        *failed_call = "DLLInitializeLogin";
        return NL_NOT_INITIALIZED;
    }
    qt_profitdll_feed_set_accessors(api->TranslateTrade, api->FreePointer, api->GetOrderDetails,
                               api->GetServerClock);
    /* V1 trade callbacks only when V2 is not used: the DLL would call both */
    TNewTradeCallback trade = trades_v2 ? NULL : qt_profitdll_on_trade;
    THistoryTradeCallback history = trades_v2 ? NULL : qt_profitdll_on_history_trade;
    int32_t rc;
    if (routing) {
        *failed_call = "DLLInitializeLogin";
        rc = api->DLLInitializeLogin(activation_key, user, password, qt_profitdll_on_state, NULL, NULL,
                                     NULL, trade, qt_profitdll_on_daily, qt_profitdll_on_price_book,
                                     qt_profitdll_on_offer_book, history, qt_profitdll_on_progress,
                                     qt_profitdll_on_tiny_book);
    } else {
        *failed_call = "DLLInitializeMarketLogin";
        rc = api->DLLInitializeMarketLogin(activation_key, user, password, qt_profitdll_on_state, trade,
                                           qt_profitdll_on_daily, qt_profitdll_on_price_book,
                                           qt_profitdll_on_offer_book, history, qt_profitdll_on_progress,
                                           qt_profitdll_on_tiny_book);
    }
    if (rc != NL_OK) return rc;
    *failed_call = "SetChangeStateTickerCallback";
    if ((rc = api->SetChangeStateTickerCallback(qt_profitdll_on_ticker_state)) != NL_OK) return rc;
    if (trades_v2) {
        *failed_call = "SetTradeCallbackV2";
        if ((rc = api->SetTradeCallbackV2(qt_profitdll_on_trade_v2)) != NL_OK) return rc;
        *failed_call = "SetHistoryTradeCallbackV2";
        if ((rc = api->SetHistoryTradeCallbackV2(qt_profitdll_on_history_trade_v2)) != NL_OK) return rc;
    }
    if (routing) {
        *failed_call = "SetOrderCallback";
        if ((rc = api->SetOrderCallback(qt_profitdll_on_order)) != NL_OK) return rc;
    }
    *failed_call = NULL;
    return NL_OK;
}
