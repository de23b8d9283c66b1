/* Order-matching engine of the ProfitDLL simulator: our orders against a
 * replayed market.
 *
 * The replayed market (qt_event records: trades, L2 books, phases, daily
 * limits) is the truth and is never changed by our orders.  The engine keeps
 * its own L2 view per instrument (a qt_book), works out which of our orders
 * would have traded and reports every order state change through one
 * callback, with ProfitDLL's status codes.
 *
 * MODEL (deliberately conservative: when in doubt, fill later or less)
 * - Latency: every command (new order, change, cancel) reaches the exchange
 *   at now + latency, in market time.  Market time is the largest event time
 *   seen (exch_ns, or recv_ns with SIM_MATCH_CLOCK_RECV; events without a
 *   time do not move it).  Commands that fall due are executed before the
 *   event that carries the clock past them, in (due time, send order).
 * - Taking liquidity: a market order, or a limit order whose price reaches
 *   the other side, walks the opposite book best first and takes at most
 *   the displayed quantity of each level (a limit order stops at its
 *   price).  What we take is remembered per level and subtracted from what
 *   later orders of ours see, until the feed shows the level at or below
 *   what is left (our takes never change the replayed book).  The remainder
 *   of a limit order rests; the remainder of a market order is canceled
 *   (status 15 partially filled canceled, or 4 canceled when nothing
 *   filled; reason "no liquidity").
 * - Resting orders fill only from replayed trades:
 *   * trade-through: a trade at a price strictly worse for the other side
 *     than our limit (a sale below our bid, a purchase above our offer)
 *     fills us at our limit price;
 *   * at our price: the order joined behind the level's displayed quantity
 *     (the volume ahead) plus our own earlier orders at that price; a trade
 *     at our price reduces the volume ahead, and only what goes beyond the
 *     volume ahead fills us.  Only trades that hit our side count: a sale
 *     aggression (trade_type 3) for resting buys, a buy aggression (2) for
 *     resting sells, and auction prints (4) for both (queue_any_trade = 1
 *     counts every trade type).  Cancellations are assumed to be behind us,
 *     except that the volume ahead can never exceed the level's displayed
 *     quantity: when the level shrinks below it, the volume ahead is cut to
 *     the level.  Because a feed may show the shrink of a trade before the
 *     trade itself, a cut is remembered as credit for clamp_window_ns: trades
 *     at our price within the window first use up that credit, so the same
 *     volume is not counted twice (credit only ever delays fills).
 *   * one trade never fills more of our orders than its quantity, per side
 *     of our orders: it is shared out in price then time priority.
 *   Our orders never match each other (no self-trade).
 * - Stop-limit: triggers when the last replayed trade price reaches the stop
 *   (buy: last >= stop, sell: last <= stop), also at acceptance if the last
 *   price already does; it then acts as a limit order at its price (joins
 *   the back of the queue, takes liquidity if marketable).  Our own fills do
 *   not move the last price.
 * - Phases (QT_EV_PHASE codes, qt_phase): OPEN trades.  AUCTION,
 *   PRE_OPENING and PRE_CLOSING accept limit and stop-limit orders (market
 *   orders are rejected) without matching them; only auction prints
 *   (trade_type 4) fill resting orders then; on the switch to OPEN every
 *   working order takes liquidity if it is marketable, in time priority.
 *   FROZEN, INHIBITED and any unknown code are a halt: new orders and
 *   changes are rejected, cancels are accepted, nothing matches.  CLOSED
 *   rejects like a halt and expires every working order of the instrument
 *   (status 12, or 17 partially filled expired).  Before any phase event an
 *   instrument is in config.initial_phase.
 * - QT_EV_SESSION: a new trading day for that instrument: working orders
 *   expire, the book, the daily limits and the last price are cleared, the
 *   phase goes back to initial_phase.  Positions carry over.
 * - Rejections (status 8, reason text): quantity <= 0 (or above
 *   SIM_MATCH_MAX_QTY), missing, off-tick or absurd price or stop price, price or stop outside the day's limits
 *   (QT_EV_DAILY_LIMITS), market order outside OPEN, any order in a halt or
 *   closed phase.  Quantity and tick are checked when the order is sent (no
 *   latency); phase and limits when it reaches the exchange.
 * - Books: QT_EV_PRICE_BOOK, QT_EV_L2_LEVEL and QT_EV_SNAPSHOT_* feed the
 *   qt_book.  QT_EV_TINY_BOOK (best price of one side) replaces that side by
 *   one level, but only while the instrument has never had a depth event.
 *   QT_EV_OFFER_BOOK is ignored (qt_book does not aggregate offers).
 *   Trades flagged QT_F_EDIT, QT_F_HISTORY or QT_F_INVALID are ignored.
 *
 * ORDER UPDATES
 * Every state change of an order calls config.on_update once, synchronously,
 * from inside the engine call that caused it (send with zero latency,
 * on_event, advance, ...), after the engine's state is consistent: during the
 * callback sim_match_get_order() of that order returns exactly the update,
 * and sim_match_get_position() already includes the fill.  The update
 * pointer is valid only during the callback.  From inside the callback the
 * getters may be called; the commands (send, change, cancel, cancel_all,
 * zero_position, on_event, advance, set_latency) return
 * SIM_MATCH_E_REENTRANT, as ProfitDLL forbids requests from its callbacks.
 *
 * Status sequences (ProfitDLL codes, sim_match_status):
 *   send:   10 pending new -> 0 new -> [1 partially filled ...] -> 2 filled
 *           or 10 -> 8 rejected (or 8 straight away for quantity / tick)
 *   market: 10 -> 0 -> fills -> 2, or remainder 15 / 4 (no liquidity)
 *   change: 14 pending replace -> 5 replaced, or a CHANGE_REJECTED update
 *           that puts back the working status (0 or 1) with a reason
 *   cancel: 6 pending cancel -> 4 canceled (15 if partially filled), or a
 *           CANCEL_REJECTED update (order already done: status unchanged;
 *           cancel overtook its order after a latency cut: back to 10)
 *   stop-limit trigger: a TRIGGERED update, status unchanged
 *   close / session end: 12 expired (17 if partially filled)
 * `kind` (sim_match_update_kind) says what happened independently of the
 * status.  Fills come one update per fill (last_price, last_qty).
 *
 * Strings: cl_ord_id and reason are ASCII, NUL-terminated (the simulator
 * widens them to UTF-16LE for ProfitDLL).  ClOrdID = config.clordid_prefix
 * followed by the local id in decimal ("SIM17"); unique per engine.
 *
 * Prices are int64 in the instrument's price unit (as in qt_event);
 * doubles in sim_match_order are real prices (units * price_unit) for the
 * simulator's convenience, -1 where ProfitDLL uses -1 for "none".
 *
 * THREADS: an engine has no global state and no internal lock.  Calls on
 * one engine must not overlap: the simulator holds one lock around every
 * call.  Callbacks run on the calling thread, inside that lock; a getter
 * called from the callback must therefore not take the same (non-recursive)
 * lock again.  Different engines are independent.
 *
 * MEMORY: everything is allocated by sim_match_create (order pool, command
 * queue, books, scratch); no call allocates afterwards.  Orders live in a
 * ring of max_orders slots: a finished order is remembered until its slot is
 * reused max_orders orders later; a send that would reuse the slot of a
 * still-working order fails with SIM_MATCH_E_FULL.
 *
 * Determinism: the same configuration, commands and events give the same
 * updates, bit for bit.  Costs: a book event is O(levels) when the
 * instrument has resting orders (O(1) otherwise); a trade is O(working
 * orders of the instrument). */
#ifndef SIM_MATCHING_H
#define SIM_MATCHING_H

#include <stdint.h>

#include "market/qt_book.h"
#include "market/qt_events.h"

#define SIM_MATCH_CLORDID_LEN 32 /* bytes incl. NUL */
#define SIM_MATCH_REASON_LEN 64  /* bytes incl. NUL */
#define SIM_MATCH_PREFIX_MAX 12  /* clordid_prefix characters */
#define SIM_MATCH_KEEP INT64_MIN /* sim_match_change: leave this field as it is */
/* Bounds that keep price * quantity sums inside int64: larger order
 * quantities are rejected (SIM_MATCH_R_QTY), larger prices rejected
 * (SIM_MATCH_R_PRICE) and trades / book levels beyond them ignored. */
#define SIM_MATCH_MAX_QTY 1000000LL
#define SIM_MATCH_MAX_PRICE 1000000000000LL /* |price| in units */

/* Return codes.  Commands return 0 (or a positive id/count) on success. */
typedef enum sim_match_rc {
    SIM_MATCH_OK = 0,
    SIM_MATCH_REFUSED = 1,        /* change/cancel refused at once; an update says why */
    SIM_MATCH_E_ARGS = -1,        /* NULL pointer, bad side / order type, bad config */
    SIM_MATCH_E_INSTRUMENT = -2,  /* instrument id not configured */
    SIM_MATCH_E_ACCOUNT = -3,     /* account >= max_accounts */
    SIM_MATCH_E_NOT_FOUND = -4,   /* no such local id (or forgotten: slot reused) */
    SIM_MATCH_E_NOT_WORKING = -5, /* the order is already finished */
    SIM_MATCH_E_FULL = -6,        /* order ring slot busy or command queue full */
    SIM_MATCH_E_REENTRANT = -7,   /* command called from inside the update callback */
} sim_match_rc;

/* ProfitDLL V1 numbering (TConnectorSendOrder Version 1, qt_order_update). */
enum sim_match_side { SIM_MATCH_BUY = 1, SIM_MATCH_SELL = 2 };
enum sim_match_order_type { SIM_MATCH_MARKET = 1, SIM_MATCH_LIMIT = 2, SIM_MATCH_STOP_LIMIT = 4 };

/* ProfitDLL order status codes (the subset the engine emits). */
enum sim_match_status {
    SIM_MATCH_ST_NEW = 0,
    SIM_MATCH_ST_PARTIALLY_FILLED = 1,
    SIM_MATCH_ST_FILLED = 2,
    SIM_MATCH_ST_CANCELED = 4,
    SIM_MATCH_ST_REPLACED = 5,
    SIM_MATCH_ST_PENDING_CANCEL = 6,
    SIM_MATCH_ST_REJECTED = 8,
    SIM_MATCH_ST_PENDING_NEW = 10,
    SIM_MATCH_ST_EXPIRED = 12,
    SIM_MATCH_ST_PENDING_REPLACE = 14,
    SIM_MATCH_ST_PARTIALLY_FILLED_CANCELED = 15,
    SIM_MATCH_ST_PARTIALLY_FILLED_EXPIRED = 17,
};

/* What an update reports. */
typedef enum sim_match_update_kind {
    SIM_MATCH_UPD_PENDING_NEW = 1,
    SIM_MATCH_UPD_ACCEPTED = 2,
    SIM_MATCH_UPD_REJECTED = 3,
    SIM_MATCH_UPD_FILL = 4,
    SIM_MATCH_UPD_PENDING_CANCEL = 5,
    SIM_MATCH_UPD_CANCELED = 6,
    SIM_MATCH_UPD_CANCEL_REJECTED = 7,
    SIM_MATCH_UPD_PENDING_REPLACE = 8,
    SIM_MATCH_UPD_REPLACED = 9,
    SIM_MATCH_UPD_CHANGE_REJECTED = 10,
    SIM_MATCH_UPD_TRIGGERED = 11,
    SIM_MATCH_UPD_EXPIRED = 12,
} sim_match_update_kind;

/* Why an order, change or cancel was refused, or an order canceled. */
typedef enum sim_match_reason {
    SIM_MATCH_R_NONE = 0,
    SIM_MATCH_R_QTY = 1,          /* quantity <= 0, or a change to <= the filled quantity */
    SIM_MATCH_R_PRICE = 2,        /* limit / stop price missing */
    SIM_MATCH_R_TICK = 3,         /* price or stop price not a multiple of the tick */
    SIM_MATCH_R_LIMITS = 4,       /* price or stop price outside the day's limits */
    SIM_MATCH_R_HALTED = 5,       /* instrument frozen / inhibited (or unknown phase) */
    SIM_MATCH_R_CLOSED = 6,       /* instrument closed */
    SIM_MATCH_R_AUCTION = 7,      /* market order during an auction phase */
    SIM_MATCH_R_NOT_WORKING = 8,  /* change/cancel reached the exchange after the order ended */
    SIM_MATCH_R_NO_LIQUIDITY = 9, /* market order remainder canceled */
    SIM_MATCH_R_USER = 10,        /* canceled on request (cancel, cancel-all, zero position) */
    SIM_MATCH_R_EXPIRED = 11,     /* end of session */
    SIM_MATCH_R__COUNT
} sim_match_reason;

/* An order's current state, and the record each update carries. */
typedef struct sim_match_order {
    int64_t local_id;   /* > 0, increasing from 1 */
    int64_t event_id;   /* id of this update: engine-wide, +1 per update, from 1 */
    int64_t time_ns;    /* market time of this update */
    int64_t sent_ns;    /* market time the order was sent */
    uint32_t account;
    uint16_t instrument; /* qt_event.instrument */
    uint8_t order_type;  /* sim_match_order_type */
    uint8_t side;        /* sim_match_side */
    uint8_t status;      /* sim_match_status (ProfitDLL code) */
    uint8_t kind;        /* sim_match_update_kind of this update */
    uint8_t reason;      /* sim_match_reason of this update (0 if none) */
    uint8_t triggered;   /* stop-limit: 1 once triggered; limit: 1; market: 0 */
    int64_t price;       /* limit price, units; QT_PRICE_NONE for market */
    int64_t stop_price;  /* units; QT_PRICE_NONE unless stop-limit */
    int64_t quantity;    /* order quantity (after changes) */
    int64_t cum_qty;     /* filled so far */
    int64_t leaves_qty;  /* still working (0 once finished) */
    int64_t last_price;  /* fill of this update, units; QT_PRICE_NONE if not a fill */
    int64_t last_qty;    /* fill of this update; 0 if not a fill */
    double price_f;      /* real prices: -1 for none (ProfitDLL convention) */
    double stop_price_f;
    double avg_price;    /* average fill price, real; 0 before the first fill */
    double last_price_f; /* real; 0 if not a fill */
    double fees;         /* fees of this order's fills so far, BRL */
    char cl_ord_id[SIM_MATCH_CLORDID_LEN];
    char reason_text[SIM_MATCH_REASON_LEN]; /* "" if none */
} sim_match_order;

typedef void (*sim_match_update_fn)(void *user, const sim_match_order *update);

/* Net position of one account in one instrument (average-cost method). */
typedef struct sim_match_position {
    uint32_t account;
    uint16_t instrument;
    int64_t net_qty;     /* > 0 long, < 0 short */
    double avg_price;    /* real average price of the open position; 0 when flat */
    double realized_pnl; /* BRL, before fees */
    double fees;         /* BRL */
    int64_t buy_qty;     /* contracts bought */
    int64_t sell_qty;    /* contracts sold */
    int64_t fills;       /* number of fills */
} sim_match_position;

/* Per-instrument parameters. */
typedef struct sim_match_instrument {
    uint16_t instrument;     /* qt_event.instrument id */
    int64_t tick_units;      /* order prices must be multiples of it, >= 1 */
    double price_unit;       /* real price of one unit, > 0 */
    double point_value;      /* BRL per 1.0 of real price per contract, > 0 */
    double fee_per_contract; /* BRL per contract per fill (each side), >= 0 */
} sim_match_instrument;

enum sim_match_clock { SIM_MATCH_CLOCK_EXCH = 0, SIM_MATCH_CLOCK_RECV = 1 };

typedef struct sim_match_config {
    const sim_match_instrument *instruments; /* copied; ids must be distinct */
    uint32_t n_instruments;                  /* 1..256 */
    uint32_t max_accounts;                   /* accounts are 0..max_accounts-1; 0 -> 1 */
    uint32_t max_orders;                     /* order ring slots; 0 -> 65536 */
    uint32_t max_pending;                    /* commands in flight; 0 -> 4096 */
    uint32_t book_capacity;                  /* levels per side; 0 -> QT_BOOK_DEFAULT_CAPACITY */
    int64_t latency_ns;                      /* >= 0 */
    int clock;                               /* sim_match_clock */
    int initial_phase;                       /* qt_phase before any phase event (0 = OPEN) */
    int queue_any_trade;                     /* 1: every trade at our price depletes the queue */
    int64_t clamp_window_ns;                 /* < 0 -> 1 s; 0 = no credit */
    const char *clordid_prefix;              /* NULL -> "SIM"; at most SIM_MATCH_PREFIX_MAX chars */
    sim_match_update_fn on_update;           /* may be NULL (updates are then only readable) */
    void *user;                              /* passed to on_update */
} sim_match_config;

typedef struct sim_match_counters {
    uint64_t events;          /* records given to sim_match_on_event */
    uint64_t events_ignored;  /* other instruments, unused types, flagged trades */
    uint64_t events_bad;      /* trades without price / with qty <= 0, bad phase/limit records */
    uint64_t book_rejected;   /* records qt_book refused */
    uint64_t orders;          /* orders sent */
    uint64_t rejected;        /* orders rejected */
    uint64_t fills;           /* fill updates */
    uint64_t filled_qty;      /* contracts filled */
    uint64_t updates;         /* updates emitted (== last event_id) */
    uint64_t take_untracked;  /* takes not remembered (per-instrument take table full) */
} sim_match_counters;

typedef struct sim_match sim_match;

/* Fill *out with the defaults of a WDO or WIN ticker ("WDO", "WDOFUT",
 * "WDOZ26", "WIN", ...): tick 1 unit, price unit = tick (0.5 / 5 points),
 * point value BRL 10 / 0.20, fee per contract per fill BRL 1.10 / 0.26 (see
 * sim_fees.c for the derivation: B3 emolumentos, first volume tier,
 * day trade; approximations).  Returns SIM_MATCH_OK, or
 * SIM_MATCH_E_INSTRUMENT for any other root (then *out is untouched). */
int sim_match_instrument_defaults(const char *ticker, uint16_t instrument, sim_match_instrument *out);

/* NULL on bad configuration or no memory. */
sim_match *sim_match_create(const sim_match_config *cfg);
void sim_match_destroy(sim_match *e);

/* ---- commands ---------------------------------------------------------- */

/* Send a new order.  price / stop_price in units (ignored where the type has
 * none).  Returns the local id (> 0) -- also for an order rejected at once
 * for its quantity, price or tick, whose REJECTED update has then been
 * delivered -- or
 * a negative sim_match_rc when no order could be formed (bad side / type:
 * E_ARGS, E_INSTRUMENT, E_ACCOUNT, E_FULL, E_REENTRANT). */
int64_t sim_match_send(sim_match *e, uint32_t account, uint16_t instrument, int order_type, int side,
                       int64_t price, int64_t stop_price, int64_t quantity);

/* Change a working order: new limit price, stop price (stop-limit not yet
 * triggered; ignored once triggered) and total quantity (must exceed the
 * filled quantity), each SIM_MATCH_KEEP to leave it.  A new price or a larger quantity loses queue
 * priority; a smaller one keeps it.  Returns SIM_MATCH_OK (queued; a
 * PENDING_REPLACE update was delivered), SIM_MATCH_REFUSED (quantity, price
 * or tick wrong: a CHANGE_REJECTED update was delivered), E_NOT_FOUND,
 * E_NOT_WORKING, E_FULL or E_REENTRANT. */
int sim_match_change(sim_match *e, int64_t local_id, int64_t price, int64_t stop_price, int64_t quantity);

/* Cancel a working order.  SIM_MATCH_OK (queued, PENDING_CANCEL update),
 * E_NOT_FOUND, E_NOT_WORKING, E_FULL, E_REENTRANT. */
int sim_match_cancel(sim_match *e, int64_t local_id);

/* Cancel every working order of the account, in one instrument or, with
 * instrument < 0, in all.  Returns how many cancels were queued (>= 0) or a
 * negative sim_match_rc (E_FULL when the queue filled part way: the cancels
 * queued so far stand). */
int sim_match_cancel_all(sim_match *e, uint32_t account, int instrument);

/* Cancel the account's working orders in the instrument and send a market
 * order for the opposite of its net position (as of now, not counting fills
 * still to come).  Returns the market order's local id, 0 when the position
 * is flat (only the cancels), or a negative sim_match_rc. */
int64_t sim_match_zero_position(sim_match *e, uint32_t account, uint16_t instrument);

/* Change the latency of commands sent from now on (>= 0). */
int sim_match_set_latency(sim_match *e, int64_t latency_ns);

/* ---- market ------------------------------------------------------------ */

/* Feed one replayed record: commands due by its time run first, then the
 * record is applied.  Returns SIM_MATCH_OK (also for ignored or bad
 * records, which are counted), E_ARGS for NULL, E_REENTRANT. */
int sim_match_on_event(sim_match *e, const qt_event *ev);

/* Move market time to t_ns (never back) and run the commands due by then. */
int sim_match_advance(sim_match *e, int64_t t_ns);

/* ---- getters (allowed inside the update callback) ---------------------- */

int sim_match_get_order(const sim_match *e, int64_t local_id, sim_match_order *out);
/* By ClOrdID (linear in max_orders). */
int sim_match_find_order(const sim_match *e, const char *cl_ord_id, sim_match_order *out);
int sim_match_get_position(const sim_match *e, uint32_t account, uint16_t instrument, sim_match_position *out);
int64_t sim_match_now(const sim_match *e);
int64_t sim_match_latency(const sim_match *e);
/* Due time (market ns) of the earliest command still in flight, INT64_MAX
 * when none: a caller pacing market time against the wall clock (the
 * simulator at speed > 0) advances to it so an order is acknowledged when
 * its latency has passed, not at the next replayed record. */
int64_t sim_match_next_due(const sim_match *e);
/* The engine's book of an instrument (NULL if not configured): read only. */
const qt_book *sim_match_book(const sim_match *e, uint16_t instrument);
/* Current phase (qt_phase code), daily limits (QT_PRICE_NONE when unknown)
 * and last trade price of an instrument. */
int sim_match_get_market(const sim_match *e, uint16_t instrument, int *phase, int64_t *max_limit,
                         int64_t *min_limit, int64_t *last_price);
/* Orders still working (accepted and not finished, or pending new). */
uint32_t sim_match_working_count(const sim_match *e);
void sim_match_get_counters(const sim_match *e, sim_match_counters *out);
const char *sim_match_reason_text(int reason); /* "" if unknown */
const char *sim_match_rc_name(int rc);         /* "ok", "args", ...; "" if unknown */

#endif
