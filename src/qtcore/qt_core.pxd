# Typed interface to the C core headers, shared by the Cython modules.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "qt_events.h" nogil:
    enum: QT_EVENT_SIZE
    enum: QT_ORDER_UPDATE_SIZE
    ctypedef struct qt_event:
        uint8_t type
        uint8_t flags
        uint16_t instrument
        uint32_t crc
        uint64_t seq
        int64_t recv_ns
        int64_t exch_ns
        int64_t price
        int32_t qty
        uint8_t code
        uint8_t side
        uint16_t aux
        int64_t ref
        int32_t a
        int32_t b


cdef extern from "qt_atomic.h" nogil:
    int64_t qt_monotonic_ns()
    int64_t qt_utc_ns()
    uint64_t qt_thread_id()


cdef extern from "qt_ring.h" nogil:
    ctypedef enum qt_ring_policy:
        QT_RING_DROP
        QT_RING_LOSSLESS
    ctypedef struct qt_ring:
        pass
    qt_ring *qt_ring_create(uint64_t capacity, uint32_t slot_size, qt_ring_policy policy)
    void qt_ring_destroy(qt_ring *r)
    int qt_ring_push_n(qt_ring *r, const void *recs, uint32_t n)
    int qt_ring_push(qt_ring *r, const void *rec)
    uint64_t qt_ring_available(qt_ring *r)
    uint64_t qt_ring_pop(qt_ring *r, void *out, uint64_t max)
    uint64_t qt_ring_wait(qt_ring *r, int64_t timeout_ns, uint32_t spin_iters)
    void qt_ring_close(qt_ring *r)
    uint64_t qt_ring_capacity(const qt_ring *r)
    uint64_t qt_ring_dropped(qt_ring *r)
    uint64_t qt_ring_pushed(qt_ring *r)
    uint64_t qt_ring_popped(qt_ring *r)
    int qt_ring_overflowed(qt_ring *r)
    int qt_ring_closed(qt_ring *r)


cdef extern from "qt_crc32c.h" nogil:
    uint32_t qt_crc32c(const void *data, size_t len)
    uint32_t qt_crc32c_update(uint32_t crc, const void *data, size_t len)
    uint32_t qt_crc32c_update_portable(uint32_t crc, const void *data, size_t len)
    int qt_crc32c_hardware()
    void qt_crc32c_use_hardware(int on)
    void qt_crc32c_blocks64(const void *blocks, size_t n, unsigned zero_at, uint32_t *crcs)


cdef extern from "qt_evlog.h" nogil:
    enum: QT_EVLOG_VERSION
    enum: QT_EVLOG_FIXED_SIZE
    enum: QT_EVLOG_DEFAULT_HEADER_SIZE
    enum: QT_EVLOG_MIN_HEADER_SIZE
    enum: QT_EVLOG_MAX_HEADER_SIZE
    enum: QT_EVLOG_INSTRUMENT_LEN
    enum: QT_EVLOG_CALENDAR_LEN
    enum: QT_EVLOG_SOURCE_LEN
    enum: QT_EVLOG_MAX_NAME_BYTES
    ctypedef struct qt_evlog_header:
        char magic[8]
        uint32_t version
        uint32_t header_size
        uint32_t record_size
        uint32_t header_crc
        double price_unit
        double tick_size
        double qty_scale
        int64_t created_ns
        uint8_t reserved[72]
        char instrument[64]
        char calendar_version[64]
        char source[768]
    ctypedef struct qt_evlog_error:
        int code
        int sys_errno
        uint64_t index
        char msg[256]
    ctypedef struct qt_evlog_writer:
        pass
    enum qt_evlog_status:
        QT_EVLOG_OK
        QT_EVLOG_EIO
        QT_EVLOG_EARG
        QT_EVLOG_ESEQ
        QT_EVLOG_EDICT
        QT_EVLOG_ENOMEM
        QT_EVLOG_EFAILED
        QT_EVLOG_EMAGIC
        QT_EVLOG_EVERSION
        QT_EVLOG_ECORRUPT
        QT_EVLOG_ETRUNC
    enum qt_evlog_tail:
        QT_EVLOG_TAIL_NONE
        QT_EVLOG_TAIL_PARTIAL
        QT_EVLOG_TAIL_CHECKSUM
        QT_EVLOG_TAIL_SEQUENCE
        QT_EVLOG_TAIL_ZERO
    qt_evlog_writer *qt_evlog_open_write(const char *path, const qt_evlog_header *h, qt_evlog_error *err)
    int qt_evlog_append(qt_evlog_writer *w, const qt_event *ev, uint64_t n)
    int qt_evlog_set_agents(qt_evlog_writer *w, uint32_t count, const char *const *names,
                            const uint16_t *lens)
    int qt_evlog_flush(qt_evlog_writer *w, int sync)
    int qt_evlog_close(qt_evlog_writer *w)
    uint64_t qt_evlog_records_written(const qt_evlog_writer *w)
    const qt_evlog_header *qt_evlog_writer_header(const qt_evlog_writer *w)
    const qt_evlog_error *qt_evlog_last_error(const qt_evlog_writer *w)
    uint32_t qt_evlog_record_crc(const qt_event *ev)
    uint64_t qt_evlog_validate(const void *region, uint64_t nbytes, int *reason)
    int qt_evlog_parse_header(const void *buf, size_t len, qt_evlog_header *out, qt_evlog_error *err)
    int qt_evlog_find_dictionary(const void *buf, size_t len, const qt_evlog_header *h,
                                 uint64_t *entries_offset, uint32_t *count, uint32_t *nbytes,
                                 uint64_t *generation, qt_evlog_error *err)
cdef extern from "qt_book.h" nogil:
    enum: QT_BOOK_DEFAULT_CAPACITY
    enum: QT_BOOK_MAX_CAPACITY
    enum: QT_BOOK_APPLIED
    enum: QT_BOOK_REJECTED
    enum: QT_BOOK_EVENT
    enum: QT_BOOK_REASON_SHIFT
    enum: QT_BOOK_VALID
    enum: QT_BOOK_LOCKED
    enum: QT_BOOK_CROSSED
    enum: QT_BOOK_REJ__COUNT
    ctypedef struct qt_book_counters:
        uint64_t applied
        uint64_t rejected
        uint64_t ignored
        uint64_t book_events
        uint64_t snapshots
        uint64_t snapshots_abandoned
        uint64_t rejected_by[11]  # QT_BOOK_REJ__COUNT; index it, never copy it whole
    ctypedef struct qt_book_quote:
        int64_t bid, ask
        int64_t bid_qty, ask_qty
        uint32_t bid_levels, ask_levels
    ctypedef struct qt_book:
        pass
    qt_book *qt_book_create(int64_t tick_units, uint32_t capacity)
    void qt_book_destroy(qt_book *b)
    unsigned qt_book_apply(qt_book *b, const qt_event *ev)
    uint64_t qt_book_apply_n(qt_book *b, const qt_event *ev, uint64_t n)
    void qt_book_clear(qt_book *b)
    int64_t qt_book_best_price(const qt_book *b, int side)
    int64_t qt_book_best_qty(const qt_book *b, int side)
    uint32_t qt_book_size(const qt_book *b, int side)
    void qt_book_get_quote(const qt_book *b, qt_book_quote *out)
    uint32_t qt_book_levels(const qt_book *b, int side, uint32_t n, int64_t *prices, int64_t *qtys,
                            int32_t *counts)
    int64_t qt_book_depth(const qt_book *b, int side, uint32_t n)
    unsigned qt_book_state(const qt_book *b)
    void qt_book_get_counters(const qt_book *b, qt_book_counters *out)
    int qt_book_in_snapshot(const qt_book *b)
    int64_t qt_book_tick_units(const qt_book *b)
    uint32_t qt_book_capacity(const qt_book *b)
    uint32_t qt_book_deepest(const qt_book *b, int side)
    const char *qt_book_reject_name(int reason)
    int qt_book_check(const qt_book *b)
cdef extern from "qt_profit_csv.h" nogil:
    enum: QT_PCSV_FIELDS
    enum: QT_PCSV_MAX_AGENT_LEN
    enum: QT_PCSV_REASON_COUNT
    enum: QT_PCSV_DONE
    enum: QT_PCSV_OUT_FULL
    enum: QT_PCSV_NEED_DATE
    enum: QT_PCSV_NEED_AGENT
    enum: QT_PCSV_ERROR
    ctypedef struct qt_pcsv:
        pass
    ctypedef struct qt_pcsv_issue:
        int64_t line
        int32_t reason
    ctypedef struct qt_pcsv_counters:
        uint64_t lines, rows, trades, sessions, after_hours, blank, bad
        uint64_t reasons[12]
    ctypedef struct qt_pcsv_result:
        size_t consumed, n_events, n_issues
        int32_t need_date
        size_t agent_off, agent_len
    qt_pcsv *qt_pcsv_create(const char *ticker, size_t ticker_len, double price_unit, uint32_t max_listed)
    void qt_pcsv_destroy(qt_pcsv *p)
    int qt_pcsv_add_agent(qt_pcsv *p, const char *name, size_t len, int32_t id)
    int32_t qt_pcsv_agent_id(const qt_pcsv *p, const char *name, size_t len)
    int qt_pcsv_set_date(qt_pcsv *p, int32_t yyyymmdd, const int32_t *offsets)
    void qt_pcsv_set_position(qt_pcsv *p, int64_t next_line, uint64_t next_seq)
    int64_t qt_pcsv_next_line(const qt_pcsv *p)
    uint64_t qt_pcsv_next_seq(const qt_pcsv *p)
    void qt_pcsv_get_counters(const qt_pcsv *p, qt_pcsv_counters *out)
    int qt_pcsv_parse(qt_pcsv *p, const char *buf, size_t len, int final, qt_event *out, size_t out_cap,
                      qt_pcsv_issue *issues, size_t issue_cap, qt_pcsv_result *res)
    int64_t qt_pcsv_days_from_civil(int32_t y, int32_t m, int32_t d)


cdef extern from "qt_replay.h" nogil:
    enum: QT_EV__COUNT
    ctypedef struct qt_replay_stats:
        uint64_t records
        uint64_t by_type[QT_EV__COUNT]
        uint64_t trades
        uint64_t trade_qty
        double trade_notional
        uint64_t trades_at_touch
        uint64_t trades_inside
        uint64_t trades_outside
        uint64_t trades_without_book
        uint64_t trades_skipped
        int64_t first_outside_index
        int64_t price_min
        int64_t price_max
        int64_t first_exch_ns
        int64_t last_exch_ns
        uint64_t book_events
        uint64_t book_rejects
        uint64_t crossed_events
        uint64_t locked_events
        int64_t first_crossed_index
        uint64_t spread_samples
        int64_t spread_sum
        int64_t spread_max
    void qt_replay_stats_init(qt_replay_stats *st)
    uint64_t qt_replay_audit(qt_book *book, const qt_event *ev, uint64_t n, qt_replay_stats *st)

cdef extern from "qt_features.h" nogil:
    enum: QT_FE_NUM_MODEL
    enum: QT_FE_NUM_BOOK
    enum: QT_FE_NUM_FEATURES
    ctypedef struct qt_fe_tz_transition:
        int64_t utc_ns_from
        int32_t offset_s
    ctypedef struct qt_fe_session_hours:
        int32_t date
        int32_t open_s
        int32_t close_s
    ctypedef struct qt_fe_config:
        double tick_size
        double price_unit
        double qty_scale
        const qt_fe_tz_transition *tz
        size_t n_tz
        const qt_fe_session_hours *sessions
        size_t n_sessions
        int32_t default_open_s
        int32_t default_close_s
        uint32_t book_capacity
    ctypedef struct qt_fe_counters:
        uint64_t trades, rows, ts_regressions, ts_missing, edits, after_hours, invalid
        uint64_t session_resets, book_records, book_rejected, book_events, book_untimed
        uint64_t recomputations, skipped_records
    ctypedef struct qt_fe:
        pass
    ctypedef int (*qt_fe_decision_fn)(void *user, const double *features, const qt_event *trade,
                                      int64_t ts) noexcept
    ctypedef struct qt_fe_hook:
        qt_fe_decision_fn fn
        void *user
    ctypedef struct qt_fe_sink:
        double *matrix
        int64_t *ts
        int64_t *trade_number
        size_t capacity
        size_t rows
        uint64_t every
        qt_fe_decision_fn hook
        void *user
        int64_t *lat_ns
        size_t lat_cap
        size_t lat_n
    enum qt_fe_drain_status:
        QT_FE_DRAIN_DONE
        QT_FE_DRAIN_FULL
        QT_FE_DRAIN_STOPPED
        QT_FE_DRAIN_CLOSED
        QT_FE_DRAIN_IDLE
    qt_fe *qt_fe_create(const qt_fe_config *cfg)
    void qt_fe_destroy(qt_fe *fe)
    void qt_fe_reset(qt_fe *fe)
    const qt_book *qt_fe_book(const qt_fe *fe)
    int qt_fe_on_event(qt_fe *fe, const qt_event *ev, double *out)
    size_t qt_fe_drain(qt_fe *fe, const qt_event *ev, size_t n, qt_fe_sink *sink, int *status)
    uint64_t qt_fe_drain_ring(qt_fe *fe, qt_ring *ring, qt_fe_sink *sink, uint64_t max_events,
                              int64_t wait_ns, uint32_t spin_iters, int *status)
    void qt_fe_get_counters(const qt_fe *fe, qt_fe_counters *out)
    size_t qt_fe_memory_bytes(const qt_fe *fe)


cdef extern from "qt_profitdll.h" nogil:
    ctypedef uint16_t qt_pdll_wchar
    enum: NL_OK
    ctypedef struct TSystemTime:
        uint16_t wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds
    ctypedef struct TAssetID:
        qt_pdll_wchar *ticker
        qt_pdll_wchar *exchange
        int32_t feed
    ctypedef struct TConnectorAccountIdentifier:
        uint8_t Version
        int32_t BrokerID
        qt_pdll_wchar *AccountID
        qt_pdll_wchar *SubAccountID
        int64_t Reserved
    ctypedef struct TConnectorAccountIdentifierOut:
        uint8_t Version
        int32_t BrokerID
        qt_pdll_wchar AccountID[100]
        int32_t AccountIDLength
        qt_pdll_wchar SubAccountID[100]
        int32_t SubAccountIDLength
        int64_t Reserved
    ctypedef struct TConnectorAssetIdentifier:
        uint8_t Version
        qt_pdll_wchar *Ticker
        qt_pdll_wchar *Exchange
        uint8_t FeedType
    ctypedef struct TConnectorAssetIdentifierOut:
        uint8_t Version
        qt_pdll_wchar *Ticker
        int32_t TickerLength
        qt_pdll_wchar *Exchange
        int32_t ExchangeLength
        uint8_t FeedType
    ctypedef struct TConnectorOrderIdentifier:
        uint8_t Version
        int64_t LocalOrderID
        qt_pdll_wchar *ClOrderID
    ctypedef struct TConnectorSendOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorAssetIdentifier AssetID
        qt_pdll_wchar *Password
        uint8_t OrderType
        uint8_t OrderSide
        double Price
        double StopPrice
        int64_t Quantity
    ctypedef struct TConnectorChangeOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorOrderIdentifier OrderID
        qt_pdll_wchar *Password
        double Price
        double StopPrice
        int64_t Quantity
    ctypedef struct TConnectorCancelOrder:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorOrderIdentifier OrderID
        qt_pdll_wchar *Password
    ctypedef struct TConnectorCancelAllOrders:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        qt_pdll_wchar *Password
    ctypedef struct TConnectorZeroPosition:
        uint8_t Version
        TConnectorAccountIdentifier AccountID
        TConnectorAssetIdentifier AssetID
        qt_pdll_wchar *Password
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
        qt_pdll_wchar *TextMessage
        int32_t TextMessageLength
        int64_t EventID


cdef extern from "qt_pdll_api.h" nogil:
    # the function-pointer members are called without the GIL: typed nogil
    ctypedef int32_t (*qt_pdll_void_fn)() noexcept nogil
    ctypedef int32_t (*qt_pdll_ticker_request_fn)(const qt_pdll_wchar *,
                                                  const qt_pdll_wchar *) noexcept nogil
    ctypedef int32_t (*qt_pdll_history_fn)(const qt_pdll_wchar *, const qt_pdll_wchar *,
                                           const qt_pdll_wchar *, const qt_pdll_wchar *) noexcept nogil
    ctypedef int32_t (*qt_pdll_order_details_fn)(TConnectorOrderOut *) noexcept nogil
    ctypedef int64_t (*qt_pdll_send_order_fn)(const TConnectorSendOrder *) noexcept nogil
    ctypedef int32_t (*qt_pdll_change_order_fn)(const TConnectorChangeOrder *) noexcept nogil
    ctypedef int32_t (*qt_pdll_cancel_order_fn)(const TConnectorCancelOrder *) noexcept nogil
    ctypedef int32_t (*qt_pdll_cancel_all_fn)(const TConnectorCancelAllOrders *) noexcept nogil
    ctypedef int64_t (*qt_pdll_zero_fn)(const TConnectorZeroPosition *) noexcept nogil
    ctypedef int32_t (*qt_pdll_position_fn)(TConnectorTradingAccountPosition *) noexcept nogil
    ctypedef int32_t (*qt_pdll_clock_fn)(double *, int32_t *, int32_t *, int32_t *, int32_t *,
                                         int32_t *, int32_t *, int32_t *) noexcept nogil
    ctypedef struct qt_pdll_api:
        void *lib
        qt_pdll_void_fn DLLFinalize
        qt_pdll_ticker_request_fn SubscribeTicker
        qt_pdll_ticker_request_fn UnsubscribeTicker
        qt_pdll_ticker_request_fn SubscribePriceBook
        qt_pdll_ticker_request_fn UnsubscribePriceBook
        qt_pdll_ticker_request_fn SubscribeOfferBook
        qt_pdll_ticker_request_fn UnsubscribeOfferBook
        qt_pdll_history_fn GetHistoryTrades
        qt_pdll_order_details_fn GetOrderDetails
        qt_pdll_send_order_fn SendOrder
        qt_pdll_change_order_fn SendChangeOrderV2
        qt_pdll_cancel_order_fn SendCancelOrderV2
        qt_pdll_cancel_all_fn SendCancelAllOrdersV2
        qt_pdll_zero_fn SendZeroPositionV2
        qt_pdll_position_fn GetPositionV2
        qt_pdll_clock_fn GetServerClock
    size_t qt_pdll_api_required_count()
    const char *qt_pdll_api_required_name(size_t i)
    int qt_pdll_api_load(qt_pdll_api *api, const char *path_utf8, char *err, size_t errcap)
    void qt_pdll_api_unload(qt_pdll_api *api)
    void *qt_pdll_api_symbol(const qt_pdll_api *api, const char *name)
    int32_t qt_pdll_api_login(const qt_pdll_api *api, int routing, int trades_v2,
                              const qt_pdll_wchar *activation_key, const qt_pdll_wchar *user,
                              const qt_pdll_wchar *password, const char **failed_call)


cdef extern from "qt_pdll_feed.h" nogil:
    enum: QT_PDLL_MAX_INSTRUMENTS
    enum: QT_PDLL_TICKER_MAX
    enum: QT_PDLL_ALL_INSTRUMENTS
    enum: QT_PDLL_CB__COUNT
    ctypedef struct qt_pdll_feed_counters:
        uint64_t calls[12]  # QT_PDLL_CB__COUNT (checked at import)
        uint64_t records, records_dropped, gaps_reported, invalid, unknown_instrument
        uint64_t foreign_thread_calls, detached_calls, bad_arrays, arrays_freed, free_errors
        uint64_t levels_truncated, translate_errors, history_trades, history_done
        uint64_t order_updates, order_detail_errors, order_ring_lost, venue_lost, clock_errors
        int64_t history_progress
        uint64_t callback_thread
        int32_t conn_state[4]
    int qt_pdll_feed_attach(qt_ring *market, qt_ring *orders)
    void qt_pdll_feed_detach()
    int qt_pdll_feed_add_instrument(const qt_pdll_wchar *ticker, uint16_t id, double price_unit)
    uint32_t qt_pdll_feed_instruments()
    void qt_pdll_feed_set_utc_offset(int32_t minutes)
    int32_t qt_pdll_feed_utc_offset()
    void qt_pdll_feed_get_counters(qt_pdll_feed_counters *out)
    void qt_pdll_feed_clear_progress()
    int qt_pdll_feed_reset()
    void qt_pdll_on_state(int32_t conn_type, int32_t result)
    void qt_pdll_on_trade(TAssetID asset, qt_pdll_wchar *date, uint32_t trade_number, double price,
                          double volume, int32_t qty, int32_t buy_agent, int32_t sell_agent,
                          int32_t trade_type, qt_pdll_wchar is_edit)
    void qt_pdll_on_trade_v2(TConnectorAssetIdentifier asset, const void *trade, uint32_t flags)
    void qt_pdll_on_history_trade(TAssetID asset, qt_pdll_wchar *date, uint32_t trade_number,
                                  double price, double volume, int32_t qty, int32_t buy_agent,
                                  int32_t sell_agent, int32_t trade_type)
    void qt_pdll_on_history_trade_v2(TConnectorAssetIdentifier asset, const void *trade,
                                     uint32_t flags)
    void qt_pdll_on_daily(TAssetID asset, qt_pdll_wchar *date, double open, double high,
                          double low, double close, double volume, double adjust,
                          double max_limit, double min_limit, double volume_buyer,
                          double volume_seller, int32_t qty, int32_t trades,
                          int32_t open_contracts, int32_t qty_buyer, int32_t qty_seller,
                          int32_t trades_buyer, int32_t trades_seller)
    void qt_pdll_on_price_book(TAssetID asset, int32_t action, int32_t position, int32_t side,
                               int32_t qty, int32_t count, double price, void *sell_array,
                               void *buy_array)
    void qt_pdll_on_offer_book(TAssetID asset, int32_t action, int32_t position, int32_t side,
                               int32_t qty, int32_t agent, int64_t offer_id, double price,
                               qt_pdll_wchar has_price, qt_pdll_wchar has_qty,
                               qt_pdll_wchar has_date, qt_pdll_wchar has_offer_id,
                               qt_pdll_wchar has_agent, qt_pdll_wchar *date, void *sell_array,
                               void *buy_array)
    void qt_pdll_on_tiny_book(TAssetID asset, double price, int32_t qty, int32_t side)
    void qt_pdll_on_ticker_state(TAssetID asset, qt_pdll_wchar *date, int32_t state)
    void qt_pdll_on_progress(TAssetID asset, int32_t progress)
    void qt_pdll_on_order(TConnectorOrderIdentifier order)


cdef extern from "qt_pdll_decode.h" nogil:
    ctypedef struct qt_pdll_decoder:
        int32_t utc_offset_min
        uint64_t dates, bad_dates, missing_ext, orphan_ext
    void qt_pdll_decoder_init(qt_pdll_decoder *d, int32_t utc_offset_min)
    uint64_t qt_pdll_decode(qt_pdll_decoder *d, const qt_event *inp, uint64_t n, qt_event *out)
    uint64_t qt_pdll_decode_flush(qt_pdll_decoder *d, qt_event *out)
    int64_t qt_pdll_parse_date(const uint16_t *s, size_t max_units, int32_t utc_offset_min)
