/* The ProfitDLL callback entry points and the state they feed.
 *
 * ProfitDLL calls these plain C functions on its ConnectorThread.  Each one
 * copies what it was given into the core's rings and returns; none touches
 * Python (CI checks the object file with nm), none allocates, none blocks
 * beyond a short spin on the producer lock:
 *
 * - market data goes into the attached market ring (QT_RING_DROP) as
 *   qt_event records (field mapping per type in qt_events.h).  Records one
 *   callback produces are pushed together (all or none).  When the ring is
 *   full the records are dropped and counted, and the next push is preceded
 *   by a QT_EV_FEED_GAP (a = QT_GAP_RING_FULL, qty = records lost), so the
 *   consumer sees the hole where it happened;
 * - date strings are copied raw, as UTF-16 code units, into a QT_EV_EXT
 *   record right after their parent, which carries QT_F_RAW_DATE; the
 *   consumer parses them (qt_profitdll_decode.h).  V2 trades carry a SYSTEMTIME,
 *   converted here with the configured UTC offset;
 * - book callbacks (PriceBook, OfferBook entries without a date, TinyBook)
 *   carry no time: their records get exch_ns from the DLL's GetServerClock,
 *   called once per callback (local civil time with milliseconds, shifted
 *   by the configured UTC offset: millisecond resolution, as the trades'
 *   dates), so a book record's time windows mean the same live as in a
 *   recording.  Without the accessor, or when it fails, exch_ns stays
 *   QT_TIME_NONE and clock_errors counts it;
 * - prices become integer price units of the instrument (ticker -> id,
 *   price unit, registered before subscribing).  A NaN, infinite, negative
 *   or off-grid price, a negative quantity, an unknown action or side flags
 *   the record QT_F_INVALID (price QT_PRICE_NONE) and is counted: the
 *   consumer decides, nothing crashes;
 * - full books (action 4) are read from the DLL's arrays into preallocated
 *   scratch, the arrays are returned with FreePointer inside the callback,
 *   and the book goes out as SNAPSHOT_BEGIN, L2_LEVEL records in array order
 *   (worst to best, as the DLL keeps its lists), SNAPSHOT_END (QT_F_LAST
 *   once every side of the full book has had its OB_LAST_PACKET);
 * - an order callback calls GetOrderDetails (twice: lengths, then buffers)
 *   and pushes a qt_order_update into the attached order ring
 *   (QT_RING_LOSSLESS): if it is full the ring's sticky overflow flag marks
 *   the venue state unknown.  A routing connection that drops after having
 *   been up pushes a QT_OU_VENUE_LOST update;
 * - a market-data connection that drops after having been up (state 2, any
 *   result but 4) pushes a QT_EV_FEED_GAP with a = QT_GAP_DISCONNECT for all
 *   instruments after the CONN_STATE record.  Ticker phases (halts,
 *   auctions) are QT_EV_PHASE records, never gaps.
 *
 * Records that concern no single instrument (CONN_STATE, FEED_GAP) carry
 * instrument QT_PROFITDLL_ALL_INSTRUMENTS.
 *
 * Threads: the first thread to enter any callback is recorded as the
 * callback thread; calls from any other thread are counted (and still
 * served: a producer lock keeps the single-producer rings consistent).
 *
 * Consumer hook (qt_profitdll_feed_set_consumer): a backtest's lockstep gate
 * (qt_pl_lockstep.h) is told, on the callback's own thread, after each
 * market-data callback that staged records (they are in the market ring,
 * the feed lock is released) and after each order update pushed to the
 * order ring.  Unset it costs one atomic pointer load per callback.
 *
 * Lifetime: the state is process-wide (callbacks carry no user pointer), so
 * there is one DLL session per process.  The rings belong to the caller and
 * must outlive the session: attach them before login, detach them only after
 * DLLFinalize has returned.  A callback that finds no ring attached counts
 * itself and returns. */
#ifndef QT_PROFITDLL_FEED_H
#define QT_PROFITDLL_FEED_H

#include <stdint.h>

#include "market/qt_events.h"
#include "profitdll/qt_profitdll.h"
#include "market/qt_ring.h"

#define QT_PROFITDLL_MAX_INSTRUMENTS 64
#define QT_PROFITDLL_TICKER_MAX 31          /* UTF-16 units of a registered ticker */
#define QT_PROFITDLL_ALL_INSTRUMENTS 0xFFFFu /* instrument of records for every instrument */
/* Levels (price book) or offers (offer book) one full-book callback may
 * carry; beyond it the packet is truncated, counted, and its SNAPSHOT_END
 * flagged invalid so the book does not swap in a partial side. */
#define QT_PROFITDLL_BOOK_SCRATCH 16384
/* UTF-16 units of a raw date an EXT record holds (bytes 8..63). */
#define QT_PROFITDLL_EXT_UNITS 28

/* qt_order_update.flags set by the order callback. */
#define QT_OU_F_NO_DETAILS 1u /* GetOrderDetails failed: error_code holds its NResult */
#define QT_OU_F_CLORDID_TRUNCATED 2u

/* Callback kinds, for per-callback call counters. */
enum qt_profitdll_cb {
    QT_PROFITDLL_CB_STATE = 0,
    QT_PROFITDLL_CB_TRADE,
    QT_PROFITDLL_CB_TRADE_V2,
    QT_PROFITDLL_CB_HISTORY_TRADE,
    QT_PROFITDLL_CB_HISTORY_TRADE_V2,
    QT_PROFITDLL_CB_DAILY,
    QT_PROFITDLL_CB_PRICE_BOOK,
    QT_PROFITDLL_CB_OFFER_BOOK,
    QT_PROFITDLL_CB_TINY_BOOK,
    QT_PROFITDLL_CB_TICKER_STATE,
    QT_PROFITDLL_CB_PROGRESS,
    QT_PROFITDLL_CB_ORDER,
    QT_PROFITDLL_CB__COUNT
};

typedef struct qt_profitdll_feed_counters {
    uint64_t calls[QT_PROFITDLL_CB__COUNT]; /* per qt_profitdll_cb */
    uint64_t records;             /* market records pushed (EXT continuations not counted) */
    uint64_t records_dropped;     /* market records refused by the full ring */
    uint64_t gaps_reported;       /* FEED_GAP records pushed (ring full or disconnect) */
    uint64_t invalid;             /* records flagged QT_F_INVALID */
    uint64_t unknown_instrument;  /* callbacks for a ticker nobody registered: dropped */
    uint64_t foreign_thread_calls;/* callbacks from a thread other than the first one */
    uint64_t detached_calls;      /* callbacks while no ring was attached */
    uint64_t bad_arrays;          /* book arrays whose header and size disagree */
    uint64_t arrays_freed;        /* FreePointer calls made */
    uint64_t free_errors;         /* FreePointer calls the DLL answered with an error */
    uint64_t levels_truncated;    /* full-book entries beyond QT_PROFITDLL_BOOK_SCRATCH */
    uint64_t translate_errors;    /* TranslateTrade failed (trade dropped) */
    uint64_t history_trades;      /* history trades pushed */
    uint64_t history_done;        /* V2 history packets flagged TC_LAST_PACKET */
    uint64_t order_updates;       /* order updates pushed */
    uint64_t order_detail_errors; /* GetOrderDetails failed */
    uint64_t order_ring_lost;     /* updates the lossless ring refused (venue state unknown) */
    uint64_t venue_lost;          /* routing drops reported */
    uint64_t clock_errors;        /* book records left untimed: GetServerClock missing or failed */
    int64_t history_progress;     /* last Progress value (0-100), -1 before any */
    uint64_t callback_thread;     /* id of the first thread that called back (0: none yet) */
    int32_t conn_state[4];        /* last result per connection type, -1 before any */
} qt_profitdll_feed_counters;

/* What the callbacks tell a consumer on their own thread, outside the
 * feed lock: after_market at the end of every market-data callback that
 * staged records (pushed, or dropped and counted if the ring was full),
 * after_order after every update pushed to the order ring (the order
 * callback, and the VENUE_LOST of a routing drop).  Either may be NULL.
 * They may block (a lockstep gate waits there); they must not call the DLL
 * and must not touch Python. */
typedef struct qt_profitdll_consumer {
    void (*after_market)(void *user);
    void (*after_order)(void *user);
    void *user;
} qt_profitdll_consumer;

/* Install `c` (borrowed: it must stay valid until replaced or removed), or
 * remove the consumer with NULL.  Returns once no callback is still inside
 * the previous consumer's functions, so the caller may free it then: make
 * the previous consumer stop blocking first, and never call this from a
 * callback.  Returns 0, or -1 if `c` has neither function. */
int qt_profitdll_feed_set_consumer(const qt_profitdll_consumer *c);

/* Accessors the callbacks call inside the DLL (resolved by the loader). */
void qt_profitdll_feed_set_accessors(qt_profitdll_TranslateTrade_fn translate_trade,
                                qt_profitdll_FreePointer_fn free_pointer,
                                qt_profitdll_GetOrderDetails_fn get_order_details,
                                qt_profitdll_GetServerClock_fn get_server_clock);

/* Attach the rings the callbacks fill (market: 64-byte slots; orders:
 * QT_ORDER_UPDATE_SIZE slots, may be NULL for market-only sessions).
 * Returns 0, or -1 when a slot size is wrong. */
int qt_profitdll_feed_attach(qt_ring *market, qt_ring *orders);
/* Detach: waits for a callback in flight, later callbacks only count; the
 * accessors are forgotten (the session is over, its library may go next). */
void qt_profitdll_feed_detach(void);

/* Register a ticker (UTF-16, NUL-terminated, at most QT_PROFITDLL_TICKER_MAX
 * units) as instrument `id` with `price_unit` (> 0).  Returns 0; -1 bad
 * arguments; -2 table full; -3 ticker already registered with another id
 * or unit.  Entries are published atomically and never change. */
int qt_profitdll_feed_add_instrument(const qt_profitdll_wchar *ticker, uint16_t id, double price_unit);
/* Number of registered instruments. */
uint32_t qt_profitdll_feed_instruments(void);

/* Minutes east of UTC of the DLL's local times (Sao Paulo: -180). */
void qt_profitdll_feed_set_utc_offset(int32_t minutes);
int32_t qt_profitdll_feed_utc_offset(void);

void qt_profitdll_feed_get_counters(qt_profitdll_feed_counters *out);
/* Set history_progress back to -1 before a history request, so its
 * Progress 100 is not confused with an earlier request's. */
void qt_profitdll_feed_clear_progress(void);
/* Forget instruments, counters, the callback thread and the sequence
 * number.  Only between sessions (returns -1 while rings are attached). */
int qt_profitdll_feed_reset(void);

/* The entry points, with the DLL's callback types (qt_profitdll.h). */
void QT_PROFITDLL_CALL qt_profitdll_on_state(int32_t conn_type, int32_t result);
void QT_PROFITDLL_CALL qt_profitdll_on_trade(TAssetID asset, qt_profitdll_str date, uint32_t trade_number,
                                   double price, double volume, int32_t qty, int32_t buy_agent,
                                   int32_t sell_agent, int32_t trade_type, qt_profitdll_wchar is_edit);
void QT_PROFITDLL_CALL qt_profitdll_on_history_trade(TAssetID asset, qt_profitdll_str date,
                                           uint32_t trade_number, double price, double volume,
                                           int32_t qty, int32_t buy_agent, int32_t sell_agent,
                                           int32_t trade_type);
void QT_PROFITDLL_CALL qt_profitdll_on_trade_v2(TConnectorAssetIdentifier asset, const void *trade,
                                      uint32_t flags);
void QT_PROFITDLL_CALL qt_profitdll_on_history_trade_v2(TConnectorAssetIdentifier asset, const void *trade,
                                              uint32_t flags);
void QT_PROFITDLL_CALL qt_profitdll_on_daily(TAssetID asset, qt_profitdll_str date, double open, double high,
                                   double low, double close, double volume, double adjust,
                                   double max_limit, double min_limit, double volume_buyer,
                                   double volume_seller, int32_t qty, int32_t trades,
                                   int32_t open_contracts, int32_t qty_buyer, int32_t qty_seller,
                                   int32_t trades_buyer, int32_t trades_seller);
void QT_PROFITDLL_CALL qt_profitdll_on_price_book(TAssetID asset, int32_t action, int32_t position,
                                        int32_t side, int32_t qty, int32_t count, double price,
                                        void *sell_array, void *buy_array);
void QT_PROFITDLL_CALL qt_profitdll_on_offer_book(TAssetID asset, int32_t action, int32_t position,
                                        int32_t side, int32_t qty, int32_t agent,
                                        int64_t offer_id, double price, qt_profitdll_wchar has_price,
                                        qt_profitdll_wchar has_qty, qt_profitdll_wchar has_date,
                                        qt_profitdll_wchar has_offer_id, qt_profitdll_wchar has_agent,
                                        qt_profitdll_str date, void *sell_array, void *buy_array);
void QT_PROFITDLL_CALL qt_profitdll_on_tiny_book(TAssetID asset, double price, int32_t qty, int32_t side);
void QT_PROFITDLL_CALL qt_profitdll_on_ticker_state(TAssetID asset, qt_profitdll_str date, int32_t state);
void QT_PROFITDLL_CALL qt_profitdll_on_progress(TAssetID asset, int32_t progress);
void QT_PROFITDLL_CALL qt_profitdll_on_order(TConnectorOrderIdentifier order);

#endif
