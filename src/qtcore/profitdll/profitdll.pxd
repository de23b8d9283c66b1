# Typed interface to the ProfitDLL ABI (qt_profitdll.h) and the binding's C
# (qt_profitdll_api.h, qt_profitdll_feed.h, qt_profitdll_decode.h), cimported by profitdll.pyx.
from libc.stdint cimport int32_t, int64_t, intptr_t, uint8_t, uint16_t, uint32_t, uint64_t

from events cimport qt_event
from ring cimport qt_ring


cdef extern from "profitdll/qt_profitdll.h" nogil:
    ctypedef uint16_t qt_profitdll_wchar
    enum: NL_OK
    ctypedef struct TSystemTime:
        uint16_t wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds
    ctypedef struct TAssetID:
        qt_profitdll_wchar *ticker
        qt_profitdll_wchar *exchange
        int32_t feed
    ctypedef struct TConnectorAccountIdentifier:
        uint8_t Version
        int32_t BrokerID
        qt_profitdll_wchar *AccountID
        qt_profitdll_wchar *SubAccountID
        int64_t Reserved
    ctypedef struct TConnectorAccountIdentifierOut:
        uint8_t Version
        int32_t BrokerID
        qt_profitdll_wchar AccountID[100]
        int32_t AccountIDLength
        qt_profitdll_wchar SubAccountID[100]
        int32_t SubAccountIDLength
        int64_t Reserved
    ctypedef struct TConnectorAssetIdentifier:
        uint8_t Version
        qt_profitdll_wchar *Ticker
        qt_profitdll_wchar *Exchange
        uint8_t FeedType
    ctypedef struct TConnectorAssetIdentifierOut:
        uint8_t Version
        qt_profitdll_wchar *Ticker
        int32_t TickerLength
        qt_profitdll_wchar *Exchange
        int32_t ExchangeLength
        uint8_t FeedType
    ctypedef struct TConnectorOrderIdentifier:
        uint8_t Version
        int64_t LocalOrderID
        qt_profitdll_wchar *ClOrderID
    ctypedef struct TConnectorSendOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorAssetIdentifier AssetID
        qt_profitdll_wchar *Password
        uint8_t OrderType
        uint8_t OrderSide
        double Price
        double StopPrice
        int64_t Quantity
    ctypedef struct TConnectorChangeOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorOrderIdentifier OrderID
        qt_profitdll_wchar *Password
        double Price
        double StopPrice
        int64_t Quantity
    ctypedef struct TConnectorCancelOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorOrderIdentifier OrderID
        qt_profitdll_wchar *Password
    ctypedef struct TConnectorCancelAllOrders:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        qt_profitdll_wchar *Password
    ctypedef struct TConnectorZeroPosition:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorAssetIdentifier AssetID
        qt_profitdll_wchar *Password
        double Price
        uint8_t PositionType
    ctypedef struct TConnectorTradingAccountPosition:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorAssetIdentifier AssetID
        int64_t OpenQuantity
        double OpenAveragePrice
        uint8_t OpenSide
        double DailyAverageSellPrice
        int64_t DailySellQuantity
        double DailyAverageBuyPrice
        int64_t DailyBuyQuantity
        int64_t DailyQuantityD1
        int64_t DailyQuantityD2
        int64_t DailyQuantityD3
        int64_t DailyQuantityBlocked
        int64_t DailyQuantityPending
        int64_t DailyQuantityAlloc
        int64_t DailyQuantityProvision
        int64_t DailyQuantity
        int64_t DailyQuantityAvailable
        uint8_t PositionType
        int64_t EventID
    ctypedef struct TConnectorOrderOut:
        uint8_t Version
        TConnectorOrderIdentifier OrderID
        TConnectorAccountIdentifierOut AccountID
        TConnectorAssetIdentifierOut AssetID
        int64_t Quantity
        int64_t TradedQuantity
        int64_t LeavesQuantity
        double Price
        double StopPrice
        double AveragePrice
        uint8_t OrderSide
        uint8_t OrderType
        uint8_t OrderStatus
        uint8_t ValidityType
        TSystemTime Date
        TSystemTime LastUpdate
        TSystemTime CloseDate
        TSystemTime ValidityDate
        qt_profitdll_wchar *TextMessage
        int32_t TextMessageLength
        int64_t EventID


cdef extern from "profitdll/qt_profitdll_api.h" nogil:
    # the function-pointer members are called without the GIL: typed nogil
    ctypedef int32_t (*qt_profitdll_void_fn)() noexcept nogil
    ctypedef int32_t (*qt_profitdll_ticker_request_fn)(const qt_profitdll_wchar *,
                                                  const qt_profitdll_wchar *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_history_fn)(const qt_profitdll_wchar *, const qt_profitdll_wchar *,
                                           const qt_profitdll_wchar *, const qt_profitdll_wchar *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_order_details_fn)(TConnectorOrderOut *) noexcept nogil
    ctypedef int64_t (*qt_profitdll_send_order_fn)(const TConnectorSendOrder *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_change_order_fn)(const TConnectorChangeOrder *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_cancel_order_fn)(const TConnectorCancelOrder *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_cancel_all_fn)(const TConnectorCancelAllOrders *) noexcept nogil
    ctypedef int64_t (*qt_profitdll_zero_fn)(const TConnectorZeroPosition *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_position_fn)(TConnectorTradingAccountPosition *) noexcept nogil
    ctypedef int32_t (*qt_profitdll_clock_fn)(double *, int32_t *, int32_t *, int32_t *, int32_t *,
                                         int32_t *, int32_t *, int32_t *) noexcept nogil
    ctypedef struct qt_profitdll_api:
        void *lib
        qt_profitdll_void_fn DLLFinalize
        qt_profitdll_ticker_request_fn SubscribeTicker
        qt_profitdll_ticker_request_fn UnsubscribeTicker
        qt_profitdll_ticker_request_fn SubscribePriceBook
        qt_profitdll_ticker_request_fn UnsubscribePriceBook
        qt_profitdll_ticker_request_fn SubscribeOfferBook
        qt_profitdll_ticker_request_fn UnsubscribeOfferBook
        qt_profitdll_history_fn GetHistoryTrades
        qt_profitdll_order_details_fn GetOrderDetails
        qt_profitdll_send_order_fn SendOrder
        qt_profitdll_change_order_fn SendChangeOrderV2
        qt_profitdll_cancel_order_fn SendCancelOrderV2
        qt_profitdll_cancel_all_fn SendCancelAllOrdersV2
        qt_profitdll_zero_fn SendZeroPositionV2
        qt_profitdll_position_fn GetPositionV2
        qt_profitdll_clock_fn GetServerClock
    size_t qt_profitdll_api_required_count()
    const char *qt_profitdll_api_required_name(size_t i)
    int qt_profitdll_api_load(qt_profitdll_api *api, const char *path_utf8, char *err, size_t errcap)
    void qt_profitdll_api_unload(qt_profitdll_api *api)
    void *qt_profitdll_api_symbol(const qt_profitdll_api *api, const char *name)
    int32_t qt_profitdll_api_login(const qt_profitdll_api *api, int routing, int trades_v2,
                              const qt_profitdll_wchar *activation_key, const qt_profitdll_wchar *user,
                              const qt_profitdll_wchar *password, const char **failed_call)


cdef extern from "profitdll/qt_profitdll_feed.h" nogil:
    enum: QT_PROFITDLL_MAX_INSTRUMENTS
    enum: QT_PROFITDLL_TICKER_MAX
    enum: QT_PROFITDLL_ALL_INSTRUMENTS
    enum: QT_PROFITDLL_CB__COUNT
    ctypedef struct qt_profitdll_feed_counters:
        uint64_t calls[12]  # QT_PROFITDLL_CB__COUNT (checked at import)
        uint64_t records, records_dropped, gaps_reported, invalid, unknown_instrument
        uint64_t foreign_thread_calls, detached_calls, bad_arrays, arrays_freed, free_errors
        uint64_t levels_truncated, translate_errors, history_trades, history_done
        uint64_t order_updates, order_detail_errors, order_ring_lost, venue_lost, clock_errors
        int64_t history_progress
        uint64_t callback_thread
        int32_t conn_state[4]
    int qt_profitdll_feed_attach(qt_ring *market, qt_ring *orders)
    void qt_profitdll_feed_detach()
    int qt_profitdll_feed_add_instrument(const qt_profitdll_wchar *ticker, uint16_t id, double price_unit)
    uint32_t qt_profitdll_feed_instruments()
    void qt_profitdll_feed_set_utc_offset(int32_t minutes)
    int32_t qt_profitdll_feed_utc_offset()
    void qt_profitdll_feed_get_counters(qt_profitdll_feed_counters *out)
    void qt_profitdll_feed_clear_progress()
    int qt_profitdll_feed_reset()
    ctypedef struct qt_profitdll_consumer:
        void (*after_market)(void *user) noexcept
        void (*after_order)(void *user) noexcept
        void *user
    int qt_profitdll_feed_set_consumer(const qt_profitdll_consumer *c)
    void qt_profitdll_on_state(int32_t conn_type, int32_t result)
    void qt_profitdll_on_trade(TAssetID asset, qt_profitdll_wchar *date, uint32_t trade_number, double price,
                          double volume, int32_t qty, int32_t buy_agent, int32_t sell_agent,
                          int32_t trade_type, qt_profitdll_wchar is_edit)
    void qt_profitdll_on_trade_v2(TConnectorAssetIdentifier asset, const void *trade, uint32_t flags)
    void qt_profitdll_on_history_trade(TAssetID asset, qt_profitdll_wchar *date, uint32_t trade_number,
                                  double price, double volume, int32_t qty, int32_t buy_agent,
                                  int32_t sell_agent, int32_t trade_type)
    void qt_profitdll_on_history_trade_v2(TConnectorAssetIdentifier asset, const void *trade,
                                     uint32_t flags)
    void qt_profitdll_on_daily(TAssetID asset, qt_profitdll_wchar *date, double open, double high,
                          double low, double close, double volume, double adjust,
                          double max_limit, double min_limit, double volume_buyer,
                          double volume_seller, int32_t qty, int32_t trades,
                          int32_t open_contracts, int32_t qty_buyer, int32_t qty_seller,
                          int32_t trades_buyer, int32_t trades_seller)
    void qt_profitdll_on_price_book(TAssetID asset, int32_t action, int32_t position, int32_t side,
                               int32_t qty, int32_t count, double price, void *sell_array,
                               void *buy_array)
    void qt_profitdll_on_offer_book(TAssetID asset, int32_t action, int32_t position, int32_t side,
                               int32_t qty, int32_t agent, int64_t offer_id, double price,
                               qt_profitdll_wchar has_price, qt_profitdll_wchar has_qty,
                               qt_profitdll_wchar has_date, qt_profitdll_wchar has_offer_id,
                               qt_profitdll_wchar has_agent, qt_profitdll_wchar *date, void *sell_array,
                               void *buy_array)
    void qt_profitdll_on_tiny_book(TAssetID asset, double price, int32_t qty, int32_t side)
    void qt_profitdll_on_ticker_state(TAssetID asset, qt_profitdll_wchar *date, int32_t state)
    void qt_profitdll_on_progress(TAssetID asset, int32_t progress)
    void qt_profitdll_on_order(TConnectorOrderIdentifier order)


cdef extern from "profitdll/qt_profitdll_decode.h" nogil:
    ctypedef struct qt_profitdll_decoder:
        int32_t utc_offset_min
        uint64_t dates, bad_dates, missing_ext, orphan_ext
    void qt_profitdll_decoder_init(qt_profitdll_decoder *d, int32_t utc_offset_min)
    uint64_t qt_profitdll_decode(qt_profitdll_decoder *d, const qt_event *inp, uint64_t n, qt_event *out)
    uint64_t qt_profitdll_decode_flush(qt_profitdll_decoder *d, qt_event *out)
    int64_t qt_profitdll_parse_date(const uint16_t *s, size_t max_units, int32_t utc_offset_min)


# EnumerateAllOrders (resolved by name: an optional export): the binding's
# enumerate_orders collects the identifiers in the callback, then asks
# GetOrderDetails for each once the enumeration has returned.
cdef extern from "profitdll/qt_profitdll.h" nogil:
    ctypedef struct TConnectorOrder:
        uint8_t Version
        TConnectorOrderIdentifier OrderID
    ctypedef int32_t (*TConnectorEnumerateOrdersProc)(const TConnectorOrder *order, intptr_t param) noexcept
    ctypedef int32_t (*qt_profitdll_EnumerateAllOrders_fn)(const TConnectorAccountIdentifier *account,
                                                          uint8_t order_version, intptr_t param,
                                                          TConnectorEnumerateOrdersProc callback)
