/* Event records: the unit that flows from a venue (ProfitDLL callbacks, the
 * simulator, importers, the synthetic market) through the market ring into
 * the book, the feature engine and the on-disk event log.
 *
 * One record is one 64-byte cache line with a common header and a generic
 * payload whose fields are named per event type below.  A single layout (no
 * per-type structs) keeps the ring copy a fixed 64-byte move, lets numpy and
 * Parquet see every log as one flat table, and makes the log format one
 * record size.  Prices are integers in the instrument's price unit
 * (price_float = price * price_unit) so window sums are exact; quantities are
 * integers (importers of fractional venues scale them by a stated factor).
 *
 * Order updates do not fit here (ClOrdID is up to 40 UTF-16 units); they have
 * their own 256-byte record and their own lossless ring (qt_order_update).
 */
#ifndef QT_EVENTS_H
#define QT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define QT_EVENT_SIZE 64
#define QT_PRICE_NONE INT64_MIN /* no price: field absent, NaN or unrepresentable */
#define QT_TIME_NONE INT64_MIN  /* the venue gave no exchange time */

typedef enum qt_event_type {
    QT_EV_NONE = 0,
    /* price=price, qty=qty, ref=trade_number, a=buy_agent, b=sell_agent,
     * code=trade_type (ProfitDLL codes), flags: QT_F_EDIT, QT_F_HISTORY */
    QT_EV_TRADE = 1,
    /* ProfitDLL price-book action: code=action (qt_book_action), side,
     * a=position (counted from the end), price (add only), qty, b=count */
    QT_EV_PRICE_BOOK = 2,
    /* plain level update of imported data: side, price, qty (0 deletes),
     * b=order count (0 if unknown); QT_F_LAST closes one exchange message */
    QT_EV_L2_LEVEL = 3,
    /* ProfitDLL offer-book action: code=action, side, a=position, b=agent,
     * ref=offer_id, price, qty (a delta on edit), aux=QT_OB_HAS_* bits */
    QT_EV_OFFER_BOOK = 4,
    /* best price of one side: side, price, qty */
    QT_EV_TINY_BOOK = 5,
    /* daily summary, prices: price=close, ref=open, qty=contracts, a=trades,
     * b=open contracts */
    QT_EV_DAILY = 6,
    /* the day's range: price=high, ref=low (follows QT_EV_DAILY) */
    QT_EV_DAILY_RANGE = 7,
    /* the day's price limits: price=max_limit, ref=min_limit; orders outside
     * them are rejected by the exchange */
    QT_EV_DAILY_LIMITS = 8,
    /* ticker phase: code=qt_phase (ProfitDLL ticker-state numbers) */
    QT_EV_PHASE = 9,
    /* connection state: a=conn_type (0 login,1 routing,2 market,3 market
     * login), b=result (ProfitDLL numbers) */
    QT_EV_CONN_STATE = 10,
    /* the feed lost data: ref=first missing venue sequence (or -1),
     * qty=events lost (or -1 if unknown), a=qt_gap_reason */
    QT_EV_FEED_GAP = 11,
    /* a full book of one side follows as L2_LEVEL records (best first):
     * side, a=levels announced (or -1) */
    QT_EV_SNAPSHOT_BEGIN = 12,
    /* end of a full book; QT_F_LAST when its last packet has arrived */
    QT_EV_SNAPSHOT_END = 13,
    /* raw-bytes continuation of the preceding record (e.g. the UTF-16 date
     * string of a DLL callback, parsed by the consumer): bytes 8..63 */
    QT_EV_EXT = 14,
    /* session boundary marker written by replay/importers: ref=local date
     * as YYYYMMDD */
    QT_EV_SESSION = 15,
    QT_EV__COUNT
} qt_event_type;

enum qt_event_flags {
    QT_F_LAST = 1u << 0,    /* closes a message / last packet of a full book */
    QT_F_EDIT = 1u << 1,    /* corrected trade (bEdit / TC_IS_EDIT) */
    QT_F_HISTORY = 1u << 2, /* came from a history request, not the live stream */
    QT_F_RAW_DATE = 1u << 3, /* a QT_EV_EXT record with the raw date follows */
    QT_F_INVALID = 1u << 4, /* the producer saw bad input (NaN, negative ...): counted, not applied */
    QT_F_AFTER_HOURS = 1u << 5, /* after-market trade of an export */
};

typedef enum qt_book_action {
    QT_BA_ADD = 0,
    QT_BA_EDIT = 1,
    QT_BA_DELETE = 2,
    QT_BA_DELETE_FROM = 3,
    QT_BA_FULL_BOOK = 4,
} qt_book_action;

typedef enum qt_side { QT_SIDE_BUY = 0, QT_SIDE_SELL = 1 } qt_side;

/* ProfitDLL ticker states (SetChangeStateTickerCallback). */
typedef enum qt_phase {
    QT_PHASE_OPEN = 0,
    QT_PHASE_FROZEN = 2,
    QT_PHASE_INHIBITED = 3,
    QT_PHASE_AUCTION = 4,
    QT_PHASE_CLOSED = 6,
    QT_PHASE_PRE_CLOSING = 10,
    QT_PHASE_PRE_OPENING = 13,
} qt_phase;

typedef enum qt_gap_reason {
    QT_GAP_RING_FULL = 1,   /* the market ring was full: events dropped */
    QT_GAP_DISCONNECT = 2,  /* market-data connection dropped */
    QT_GAP_SEQUENCE = 3,    /* the venue's own sequence numbers jumped */
} qt_gap_reason;

enum qt_offer_book_has {
    QT_OB_HAS_PRICE = 1u << 0,
    QT_OB_HAS_QTY = 1u << 1,
    QT_OB_HAS_DATE = 1u << 2,
    QT_OB_HAS_OFFER_ID = 1u << 3,
    QT_OB_HAS_AGENT = 1u << 4,
};

typedef struct qt_event {
    uint8_t type;        /* qt_event_type */
    uint8_t flags;       /* qt_event_flags */
    uint16_t instrument; /* id in the process's instrument table */
    uint32_t crc;        /* CRC-32C of the record (this field 0) in logs; in a ring the
                          * ring's slot stamp (qt_ring.h): 0 once popped */
    uint64_t seq;        /* global sequence number, assigned by the producer */
    int64_t recv_ns;     /* monotonic receive time */
    int64_t exch_ns;     /* exchange time, UTC ns, or QT_TIME_NONE */
    int64_t price;       /* price units, or QT_PRICE_NONE */
    int32_t qty;         /* contracts / scaled units */
    uint8_t code;        /* trade type, book action, phase ... */
    uint8_t side;        /* qt_side */
    uint16_t aux;        /* small per-type extra (offer-book has-bits) */
    int64_t ref;         /* trade number, offer id, second price ... */
    int32_t a;           /* buy agent, position, conn type ... */
    int32_t b;           /* sell agent, count, result ... */
} qt_event;

_Static_assert(sizeof(qt_event) == QT_EVENT_SIZE, "qt_event must be one cache line");
_Static_assert(offsetof(qt_event, crc) == 4, "layout");
_Static_assert(offsetof(qt_event, seq) == 8, "layout");
_Static_assert(offsetof(qt_event, recv_ns) == 16, "layout");
_Static_assert(offsetof(qt_event, exch_ns) == 24, "layout");
_Static_assert(offsetof(qt_event, price) == 32, "layout");
_Static_assert(offsetof(qt_event, qty) == 40, "layout");
_Static_assert(offsetof(qt_event, code) == 44, "layout");
_Static_assert(offsetof(qt_event, side) == 45, "layout");
_Static_assert(offsetof(qt_event, aux) == 46, "layout");
_Static_assert(offsetof(qt_event, ref) == 48, "layout");
_Static_assert(offsetof(qt_event, a) == 56, "layout");
_Static_assert(offsetof(qt_event, b) == 60, "layout");

/* Integer price units -> float price.  When 1/unit is a whole number (0.5,
 * 0.1, 0.0001) divide by it: the result is then the correctly rounded value
 * of the decimal the venue sent (61799.8, not 61799.80000000001).  Otherwise
 * (units of 1, 5 points) multiply, which is exact. */
static inline double qt_price_to_double(int64_t price, double unit) {
    double inv = 1.0 / unit;
    double r = (double)(int64_t)(inv + 0.5);
    if (unit < 1.0 && r == inv) return (double)price / inv;
    return (double)price * unit;
}

/* Float price -> integer units.  Returns 0 and leaves *out untouched when
 * the price is NaN, infinite, not positive-representable or not within
 * 1e-6 of a whole number of units (off the unit grid). */
static inline int qt_price_from_double(double price, double unit, int64_t *out) {
    if (!(price == price) || price > 9.0e15 || price < -9.0e15) return 0;
    double inv = 1.0 / unit;
    double r = (double)(int64_t)(inv + 0.5);
    double x = (unit < 1.0 && r == inv) ? price * inv : price / unit;
    double k = x < 0 ? -(double)(int64_t)(-x + 0.5) : (double)(int64_t)(x + 0.5);
    double d = x - k;
    if (d > 1e-6 || d < -1e-6) return 0;
    *out = (int64_t)k;
    return 1;
}

/* Order update: what the order manager needs after an order callback and
 * GetOrderDetails, copied on the DLL thread.  Travels through the order ring,
 * which never drops (overflow marks the venue state unknown). */
#define QT_CLORDID_LEN 40
#define QT_ORDER_UPDATE_SIZE 256

typedef struct qt_order_update {
    uint8_t type;        /* QT_OU_* */
    uint8_t flags;
    uint16_t instrument;
    uint32_t reserved;   /* the order ring's slot stamp (qt_ring.h): 0 once popped */
    uint64_t seq;
    int64_t recv_ns;
    int64_t exch_ns;
    int64_t local_id;     /* DLL local order id (one session only) */
    int64_t event_id;     /* DLL message/event id of this update */
    int64_t quantity;     /* order quantity */
    int64_t cum_qty;      /* cumulative filled */
    int64_t leaves_qty;   /* still working */
    double avg_price;     /* average fill price */
    double price;         /* limit price (-1 market) */
    double stop_price;    /* stop price (-1 none) */
    double last_price;    /* price of the last fill in this update */
    int64_t last_qty;     /* quantity of the last fill in this update */
    int64_t journal_id;   /* our own id, bound when known (0 = unknown) */
    uint8_t status;       /* ProfitDLL order status */
    uint8_t side;         /* 1 buy, 2 sell (V1 numbering) */
    uint8_t order_type;   /* 1 market, 2 limit, 4 stop-limit */
    uint8_t cl_ord_id_len;
    int32_t error_code;   /* NResult or text-less reject code */
    uint16_t cl_ord_id[QT_CLORDID_LEN]; /* UTF-16LE, not NUL-terminated */
    uint8_t _pad[QT_ORDER_UPDATE_SIZE - 128 - 2 * QT_CLORDID_LEN];
} qt_order_update;

enum qt_order_update_type {
    QT_OU_ORDER = 1,     /* an order's state changed */
    QT_OU_VENUE_LOST = 2 /* the order ring overflowed or the routing link dropped */
};

_Static_assert(sizeof(qt_order_update) == QT_ORDER_UPDATE_SIZE, "order update size");
_Static_assert(offsetof(qt_order_update, local_id) == 32, "layout");
_Static_assert(offsetof(qt_order_update, status) == 120, "layout");
_Static_assert(offsetof(qt_order_update, cl_ord_id) == 128, "layout");

#endif
