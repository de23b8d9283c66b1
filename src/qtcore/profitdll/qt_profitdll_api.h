/* The ProfitDLL exports the system uses, resolved once at start-up.
 *
 * qt_profitdll_api_load opens the library (the real ProfitDLL64.dll or the
 * simulator: same ABI) and resolves every export below; if any is missing
 * the library is closed again and the error names each missing export, so
 * a wrong or outdated DLL is a clear error before login, never a crash on
 * the first order.  qt_profitdll_api_login then starts the session with the
 * core's callback entry points (qt_profitdll_feed.h). */
#ifndef QT_PROFITDLL_API_H
#define QT_PROFITDLL_API_H

#include <stddef.h>
#include <stdint.h>

#include "profitdll/qt_profitdll.h"

typedef struct qt_profitdll_api {
    void *lib;
    qt_profitdll_DLLInitializeLogin_fn DLLInitializeLogin;
    qt_profitdll_DLLInitializeMarketLogin_fn DLLInitializeMarketLogin;
    qt_profitdll_DLLFinalize_fn DLLFinalize;
    qt_profitdll_SetTradeCallbackV2_fn SetTradeCallbackV2;
    qt_profitdll_SetHistoryTradeCallbackV2_fn SetHistoryTradeCallbackV2;
    qt_profitdll_SetChangeStateTickerCallback_fn SetChangeStateTickerCallback;
    qt_profitdll_SetOrderCallback_fn SetOrderCallback;
    qt_profitdll_SubscribeTicker_fn SubscribeTicker;
    qt_profitdll_UnsubscribeTicker_fn UnsubscribeTicker;
    qt_profitdll_SubscribePriceBook_fn SubscribePriceBook;
    qt_profitdll_UnsubscribePriceBook_fn UnsubscribePriceBook;
    qt_profitdll_SubscribeOfferBook_fn SubscribeOfferBook;
    qt_profitdll_UnsubscribeOfferBook_fn UnsubscribeOfferBook;
    qt_profitdll_GetHistoryTrades_fn GetHistoryTrades;
    qt_profitdll_TranslateTrade_fn TranslateTrade;
    qt_profitdll_FreePointer_fn FreePointer;
    qt_profitdll_GetOrderDetails_fn GetOrderDetails;
    qt_profitdll_SendOrder_fn SendOrder;
    qt_profitdll_SendChangeOrderV2_fn SendChangeOrderV2;
    qt_profitdll_SendCancelOrderV2_fn SendCancelOrderV2;
    qt_profitdll_SendCancelAllOrdersV2_fn SendCancelAllOrdersV2;
    qt_profitdll_SendZeroPositionV2_fn SendZeroPositionV2;
    qt_profitdll_GetPositionV2_fn GetPositionV2;
    qt_profitdll_GetServerClock_fn GetServerClock;
} qt_profitdll_api;

/* Names of the required exports, in struct order. */
size_t qt_profitdll_api_required_count(void);
const char *qt_profitdll_api_required_name(size_t i);

/* Open path_utf8 and resolve every required export.  Returns 0; -1 when the
 * library cannot be opened; otherwise the number of missing exports (the
 * library is closed again).  err receives the reason: the OS's message, or
 * "... does not export: A, B". */
int qt_profitdll_api_load(qt_profitdll_api *api, const char *path_utf8, char *err, size_t errcap);
void qt_profitdll_api_unload(qt_profitdll_api *api);
/* Another export by name (the simulator's Sim* controls), or NULL. */
void *qt_profitdll_api_symbol(const qt_profitdll_api *api, const char *name);

/* Start a session with the core's callbacks: DLLInitializeLogin (routing)
 * or DLLInitializeMarketLogin, then the setters (ticker phase, V2 trades
 * and V2 history trades when trades_v2, the order callback when routing).
 * Hands TranslateTrade, FreePointer, GetOrderDetails and GetServerClock
 * (the time of book records) to the callbacks first.  Returns the first NResult that is not NL_OK (and *failed_call
 * names the export), or NL_OK. */
int32_t qt_profitdll_api_login(const qt_profitdll_api *api, int routing, int trades_v2,
                          const qt_profitdll_wchar *activation_key, const qt_profitdll_wchar *user,
                          const qt_profitdll_wchar *password, const char **failed_call);

#endif
