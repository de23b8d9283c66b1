/* The ProfitDLL ABI (Nelogica's ProfitDLL64.dll, 64-bit only): constants,
 * records, callback types and the signatures of the exported functions, in
 * one C header shared by the binding (which loads the real DLL or the
 * simulator) and the simulator (which implements the same exports).
 *
 * Sources: /work/shared/spec/profitdll.md (the contract), checked against
 * Nelogica's public Delphi units, C++ and Python examples.  Where they
 * disagree the spec decides; the Delphi units are the most precise and are
 * followed for record layouts.
 *
 * Conventions that matter for correctness:
 * - Strings are PWideChar: UTF-16LE, NUL-terminated.  They are uint16_t*
 *   here, never wchar_t* (32-bit on Linux).
 * - Every export and callback is stdcall (QT_PROFITDLL_CALL).  On x86-64 Windows
 *   that is the single native convention, so callbacks are plain C function
 *   pointers; the macro documents intent and keeps 32-bit builds honest.
 * - Records passed "by value" (TAssetID, TConnector*Identifier) are declared
 *   by value: Win64 passes any record not of size 1/2/4/8 through a hidden
 *   pointer, exactly as Delphi passes a `const` record; Linux (simulator
 *   tests) passes them in memory.  Binding and simulator use the same
 *   declarations, so both sides agree on either platform.
 * - Records use Win64 natural alignment unless the Delphi unit says
 *   `packed` (TAssetIDRec is packed: 20 bytes).  Offsets are asserted below.
 * - Pointers handed to a callback are valid only during the call.
 */
#ifndef QT_PROFITDLL_H
#define QT_PROFITDLL_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define QT_PROFITDLL_CALL __stdcall
#else
#define QT_PROFITDLL_CALL
#endif

/* For an implementation of the exports (the simulator). */
#if defined(_WIN32)
#define QT_PROFITDLL_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define QT_PROFITDLL_EXPORT __attribute__((visibility("default")))
#else
#define QT_PROFITDLL_EXPORT
#endif

_Static_assert(sizeof(void *) == 8, "ProfitDLL is supported only as a 64-bit library");
_Static_assert(sizeof(int) == 4, "Delphi Integer is 32-bit");
_Static_assert(sizeof(double) == 8, "Delphi Double is 64-bit");

/* Delphi Char / WideChar: one UTF-16 code unit. */
typedef uint16_t qt_profitdll_wchar;

/* ------------------------------------------------------------------------ */
/* NResult: every export returns int (or int64 for order ids); negative =  */
/* error.  Codes run from 0x80000001 upward as signed int32.               */

#define NL_OK 0
#define NL_INTERNAL_ERROR ((int32_t)0x80000001u)
#define NL_NOT_INITIALIZED ((int32_t)0x80000002u)
#define NL_INVALID_ARGS ((int32_t)0x80000003u)
#define NL_WAITING_SERVER ((int32_t)0x80000004u)
#define NL_NO_LOGIN ((int32_t)0x80000005u)
#define NL_NO_LICENSE ((int32_t)0x80000006u)
#define NL_PASSWORD_HASH_SHA1 ((int32_t)0x80000007u)
#define NL_PASSWORD_HASH_MD5 ((int32_t)0x80000008u)
#define NL_OUT_OF_RANGE ((int32_t)0x80000009u)
#define NL_MARKET_ONLY ((int32_t)0x8000000Au)
#define NL_NO_POSITION ((int32_t)0x8000000Bu)
#define NL_NOT_FOUND ((int32_t)0x8000000Cu)
#define NL_VERSION_NOT_SUPPORTED ((int32_t)0x8000000Du)
#define NL_OCO_NO_RULES ((int32_t)0x8000000Eu)
#define NL_EXCHANGE_UNKNOWN ((int32_t)0x8000000Fu)
#define NL_NO_OCO_DEFINED ((int32_t)0x80000010u)
#define NL_INVALID_SERIE ((int32_t)0x80000011u)
#define NL_LICENSE_NOT_ALLOWED ((int32_t)0x80000012u)
#define NL_NOT_HARD_LOGOUT ((int32_t)0x80000013u)
#define NL_SERIE_NO_HISTORY ((int32_t)0x80000014u)
#define NL_ASSET_NO_DATA ((int32_t)0x80000015u)
#define NL_SERIE_NO_DATA ((int32_t)0x80000016u)
#define NL_HAS_STRATEGY_RUNNING ((int32_t)0x80000017u)
#define NL_SERIE_NO_MORE_HISTORY ((int32_t)0x80000018u)
#define NL_SERIE_MAX_COUNT ((int32_t)0x80000019u)
#define NL_DUPLICATE_RESOURCE ((int32_t)0x8000001Au)
#define NL_UNSIGNED_CONTRACT ((int32_t)0x8000001Bu)
#define NL_NO_PASSWORD ((int32_t)0x8000001Cu)
#define NL_NO_USER ((int32_t)0x8000001Du)
#define NL_FILE_ALREADY_EXISTS ((int32_t)0x8000001Eu)
#define NL_INVALID_TICKER ((int32_t)0x8000001Fu)
#define NL_NOT_MASTER_ACCOUNT ((int32_t)0x80000020u)
#define NL_FIRST_ERROR NL_INTERNAL_ERROR
#define NL_LAST_ERROR NL_NOT_MASTER_ACCOUNT

/* Name of an NResult ("NL_INVALID_ARGS"), or NULL if not a known code. */
static inline const char *qt_profitdll_nresult_name(int64_t r) {
    static const char *const names[] = {
        "NL_INTERNAL_ERROR",     "NL_NOT_INITIALIZED",       "NL_INVALID_ARGS",
        "NL_WAITING_SERVER",     "NL_NO_LOGIN",              "NL_NO_LICENSE",
        "NL_PASSWORD_HASH_SHA1", "NL_PASSWORD_HASH_MD5",     "NL_OUT_OF_RANGE",
        "NL_MARKET_ONLY",        "NL_NO_POSITION",           "NL_NOT_FOUND",
        "NL_VERSION_NOT_SUPPORTED", "NL_OCO_NO_RULES",       "NL_EXCHANGE_UNKNOWN",
        "NL_NO_OCO_DEFINED",     "NL_INVALID_SERIE",         "NL_LICENSE_NOT_ALLOWED",
        "NL_NOT_HARD_LOGOUT",    "NL_SERIE_NO_HISTORY",      "NL_ASSET_NO_DATA",
        "NL_SERIE_NO_DATA",      "NL_HAS_STRATEGY_RUNNING",  "NL_SERIE_NO_MORE_HISTORY",
        "NL_SERIE_MAX_COUNT",    "NL_DUPLICATE_RESOURCE",    "NL_UNSIGNED_CONTRACT",
        "NL_NO_PASSWORD",        "NL_NO_USER",               "NL_FILE_ALREADY_EXISTS",
        "NL_INVALID_TICKER",     "NL_NOT_MASTER_ACCOUNT",
    };
    if (r == NL_OK) return "NL_OK";
    if (r >= NL_FIRST_ERROR && r <= NL_LAST_ERROR) return names[r - NL_FIRST_ERROR];
    return NULL;
}
_Static_assert(NL_NOT_MASTER_ACCOUNT - NL_INTERNAL_ERROR == 31, "NResult list is contiguous");

/* ------------------------------------------------------------------------ */
/* Connection state callback: (conn_type, result).                         */

enum qt_profitdll_conn_type {
    QT_PROFITDLL_CONN_LOGIN = 0,
    QT_PROFITDLL_CONN_ROUTING = 1,
    QT_PROFITDLL_CONN_MARKET_DATA = 2,
    QT_PROFITDLL_CONN_MARKET_LOGIN = 3,
};
enum qt_profitdll_login_result {
    QT_PROFITDLL_LOGIN_CONNECTED = 0, /* ready */
    QT_PROFITDLL_LOGIN_INVALID = 1,
    QT_PROFITDLL_LOGIN_INVALID_PASSWORD = 2,
    QT_PROFITDLL_LOGIN_PASSWORD_BLOCKED = 3,
    QT_PROFITDLL_LOGIN_PASSWORD_EXPIRED = 4,
    QT_PROFITDLL_LOGIN_INTERNAL_ERROR = 200,
};
enum qt_profitdll_routing_result {
    QT_PROFITDLL_ROUTING_DISCONNECTED = 0,
    QT_PROFITDLL_ROUTING_CONNECTING = 1,
    QT_PROFITDLL_ROUTING_CONNECTED = 2,
    QT_PROFITDLL_ROUTING_BROKER_DISCONNECTED = 3,
    QT_PROFITDLL_ROUTING_BROKER_CONNECTING = 4,
    QT_PROFITDLL_ROUTING_BROKER_CONNECTED = 5, /* ready */
};
enum qt_profitdll_market_result {
    QT_PROFITDLL_MARKET_DISCONNECTED = 0,
    QT_PROFITDLL_MARKET_CONNECTING = 1,
    QT_PROFITDLL_MARKET_WAITING = 2,
    QT_PROFITDLL_MARKET_NOT_LOGGED = 3,
    QT_PROFITDLL_MARKET_CONNECTED = 4, /* ready */
};
enum qt_profitdll_market_login_result {
    QT_PROFITDLL_MARKET_LOGIN_VALID = 0, /* ready */
    QT_PROFITDLL_MARKET_LOGIN_INVALID = 1,
};

/* ------------------------------------------------------------------------ */
/* Market data enums.                                                       */

enum qt_profitdll_trade_type {
    QT_PROFITDLL_TT_CROSS = 1,
    QT_PROFITDLL_TT_BUY_AGGRESSION = 2,
    QT_PROFITDLL_TT_SELL_AGGRESSION = 3,
    QT_PROFITDLL_TT_AUCTION = 4,
    QT_PROFITDLL_TT_SURVEILLANCE = 5,
    QT_PROFITDLL_TT_EXPIT = 6,
    QT_PROFITDLL_TT_OPTIONS_EXERCISE = 7,
    QT_PROFITDLL_TT_OVER_THE_COUNTER = 8,
    QT_PROFITDLL_TT_DERIVATIVE_TERM = 9,
    QT_PROFITDLL_TT_INDEX = 10,
    QT_PROFITDLL_TT_BTC = 11,
    QT_PROFITDLL_TT_ON_BEHALF = 12,
    QT_PROFITDLL_TT_RLP = 13,
    QT_PROFITDLL_TT_UNKNOWN = 32,
};

/* SetChangeStateTickerCallback states (same numbers as qt_phase). */
enum qt_profitdll_ticker_state {
    QT_PROFITDLL_TS_OPEN = 0,
    QT_PROFITDLL_TS_FROZEN = 2,
    QT_PROFITDLL_TS_INHIBITED = 3,
    QT_PROFITDLL_TS_AUCTION = 4,
    QT_PROFITDLL_TS_CLOSED = 6,
    QT_PROFITDLL_TS_PRE_CLOSING = 10,
    QT_PROFITDLL_TS_PRE_OPENING = 13,
};

/* PriceBook / OfferBook callback `action` (same numbers as qt_book_action). */
enum qt_profitdll_book_action {
    QT_PROFITDLL_BA_ADD = 0,
    QT_PROFITDLL_BA_EDIT = 1,
    QT_PROFITDLL_BA_DELETE = 2,
    QT_PROFITDLL_BA_DELETE_FROM = 3,
    QT_PROFITDLL_BA_FULL_BOOK = 4,
};
/* Book callbacks' `side` and TinyBook's side. */
enum qt_profitdll_book_side {
    QT_PROFITDLL_SIDE_BUY = 0,
    QT_PROFITDLL_SIDE_SELL = 1,
    QT_PROFITDLL_SIDE_BOTH = 254, /* price depth only */
    QT_PROFITDLL_SIDE_NONE = 255,
};
/* SetPriceDepthCallback update types (TConnectorUpdateType). */
enum qt_profitdll_depth_update {
    QT_PROFITDLL_DU_ADD = 0,
    QT_PROFITDLL_DU_EDIT = 1,
    QT_PROFITDLL_DU_DELETE = 2,
    QT_PROFITDLL_DU_INSERT = 3,
    QT_PROFITDLL_DU_FULL_BOOK = 4,
    QT_PROFITDLL_DU_PREPARE = 5,
    QT_PROFITDLL_DU_FLUSH = 6,
    QT_PROFITDLL_DU_THEORIC_PRICE = 7,
    QT_PROFITDLL_DU_DELETE_FROM = 8,
};

/* Flags. */
#define TC_IS_EDIT 1u        /* V2 trade: corrects an earlier trade */
#define TC_LAST_PACKET 2u    /* V2 trade: end of a history request (not a live boundary) */
#define OB_LAST_PACKET 1u    /* book array trailer: last packet of a full book */
#define PG_IS_THEORIC 1u     /* TConnectorPriceGroup.PriceGroupFlags */
#define CA_IS_SUB_ACCOUNT 1u /* TConnectorTradingAccountOut.AccountFlags */
#define CA_IS_ENABLED 2u
#define CM_IS_SHORT_NAME 1u  /* GetAgentName*: short name */

/* ------------------------------------------------------------------------ */
/* Orders.  Version 1 of TConnectorSendOrder (DLL 4.0.0.18+) numbers the    */
/* enums differently from Version 0: one slip turns a buy into a sell.      */

enum qt_profitdll_order_type_v1 {
    QT_PROFITDLL_OT_MARKET = 1,
    QT_PROFITDLL_OT_LIMIT = 2,
    QT_PROFITDLL_OT_STOP_LIMIT = 4,
};
enum qt_profitdll_order_side_v1 {
    QT_PROFITDLL_OS_BUY = 1,
    QT_PROFITDLL_OS_SELL = 2,
};
enum qt_profitdll_order_type_v0 {
    QT_PROFITDLL_OT_V0_LIMIT = 0,
    QT_PROFITDLL_OT_V0_STOP = 1,
    QT_PROFITDLL_OT_V0_MARKET = 2,
};
enum qt_profitdll_order_side_v0 {
    QT_PROFITDLL_OS_V0_BUY = 0,
    QT_PROFITDLL_OS_V0_SELL = 1,
};
enum qt_profitdll_order_status {
    QT_PROFITDLL_ST_NEW = 0,
    QT_PROFITDLL_ST_PARTIALLY_FILLED = 1,
    QT_PROFITDLL_ST_FILLED = 2,
    QT_PROFITDLL_ST_DONE_FOR_DAY = 3,
    QT_PROFITDLL_ST_CANCELED = 4,
    QT_PROFITDLL_ST_REPLACED = 5,
    QT_PROFITDLL_ST_PENDING_CANCEL = 6,
    QT_PROFITDLL_ST_STOPPED = 7,
    QT_PROFITDLL_ST_REJECTED = 8,
    QT_PROFITDLL_ST_SUSPENDED = 9,
    QT_PROFITDLL_ST_PENDING_NEW = 10,
    QT_PROFITDLL_ST_CALCULATED = 11,
    QT_PROFITDLL_ST_EXPIRED = 12,
    QT_PROFITDLL_ST_ACCEPTED_FOR_BIDDING = 13,
    QT_PROFITDLL_ST_PENDING_REPLACE = 14,
    QT_PROFITDLL_ST_PARTIALLY_FILLED_CANCELED = 15,
    QT_PROFITDLL_ST_RECEIVED = 16,
    QT_PROFITDLL_ST_PARTIALLY_FILLED_EXPIRED = 17,
    QT_PROFITDLL_ST_PARTIALLY_FILLED_REJECTED = 18,
};
/* GetPositionV2 / SendZeroPositionV2 PositionType (Version 1 on). */
enum qt_profitdll_position_type {
    QT_PROFITDLL_POS_DAY_TRADE = 1,
    QT_PROFITDLL_POS_CONSOLIDATED = 2,
};
/* Versions this header describes. */
#define QT_PROFITDLL_SEND_ORDER_VERSION 1
#define QT_PROFITDLL_ZERO_POSITION_VERSION 1
#define QT_PROFITDLL_POSITION_VERSION 1 /* 2 adds EventID */
#define QT_PROFITDLL_ORDER_OUT_VERSION 1 /* 1 adds EventID */
#define QT_PROFITDLL_TRADE_VERSION 0

/* ------------------------------------------------------------------------ */
/* Records.                                                                 */

/* Windows SYSTEMTIME (Delphi TSystemTime): 8 x Word. */
typedef struct TSystemTime {
    uint16_t wYear;
    uint16_t wMonth;
    uint16_t wDayOfWeek; /* 0 = Sunday */
    uint16_t wDay;
    uint16_t wHour;
    uint16_t wMinute;
    uint16_t wSecond;
    uint16_t wMilliseconds;
} TSystemTime;

/* TAssetIDRec: a Delphi `packed record` (20 bytes). */
#pragma pack(push, 1)
typedef struct TAssetID {
    qt_profitdll_wchar *ticker;
    qt_profitdll_wchar *exchange; /* "F" BMF futures, "B" Bovespa */
    int32_t feed;
} TAssetID;
#pragma pack(pop)

typedef struct TConnectorAccountIdentifier {
    uint8_t Version;
    int32_t BrokerID;
    qt_profitdll_wchar *AccountID;
    qt_profitdll_wchar *SubAccountID;
    int64_t Reserved;
} TConnectorAccountIdentifier;

/* Out record: the DLL fills fixed buffers of 100 WideChars. */
#define QT_PROFITDLL_STRING0_LEN 100
typedef struct TConnectorAccountIdentifierOut {
    uint8_t Version;
    int32_t BrokerID;
    qt_profitdll_wchar AccountID[QT_PROFITDLL_STRING0_LEN];
    int32_t AccountIDLength;
    qt_profitdll_wchar SubAccountID[QT_PROFITDLL_STRING0_LEN];
    int32_t SubAccountIDLength;
    int64_t Reserved;
} TConnectorAccountIdentifierOut;

typedef struct TConnectorAssetIdentifier {
    uint8_t Version;
    qt_profitdll_wchar *Ticker;
    qt_profitdll_wchar *Exchange;
    uint8_t FeedType;
} TConnectorAssetIdentifier;

/* Out record: the caller provides Ticker/Exchange buffers of the lengths the
 * first call reported (GetOrderDetails protocol). */
typedef struct TConnectorAssetIdentifierOut {
    uint8_t Version;
    qt_profitdll_wchar *Ticker;
    int32_t TickerLength;
    qt_profitdll_wchar *Exchange;
    int32_t ExchangeLength;
    uint8_t FeedType;
} TConnectorAssetIdentifierOut;

typedef struct TConnectorPriceGroup {
    uint8_t Version;
    double Price;
    uint32_t Count;
    int64_t Quantity;
    uint32_t PriceGroupFlags; /* PG_IS_THEORIC */
} TConnectorPriceGroup;

typedef struct TConnectorOrderIdentifier {
    uint8_t Version;
    int64_t LocalOrderID; /* one session only */
    qt_profitdll_wchar *ClOrderID; /* permanent */
} TConnectorOrderIdentifier;

typedef struct TConnectorSendOrder {
    uint8_t Version; /* send 1; 0 numbers the enums differently */
    TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID;
    qt_profitdll_wchar *Password;
    uint8_t OrderType; /* qt_profitdll_order_type_v1 (v0 if Version 0) */
    uint8_t OrderSide; /* qt_profitdll_order_side_v1 (v0 if Version 0) */
    double Price;     /* -1 market */
    double StopPrice; /* -1 if none */
    int64_t Quantity;
} TConnectorSendOrder;

typedef struct TConnectorChangeOrder {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorOrderIdentifier OrderID;
    qt_profitdll_wchar *Password;
    double Price;
    double StopPrice;
    int64_t Quantity;
} TConnectorChangeOrder;

typedef struct TConnectorCancelOrder {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorOrderIdentifier OrderID;
    qt_profitdll_wchar *Password;
} TConnectorCancelOrder;

typedef struct TConnectorCancelOrders {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID;
    qt_profitdll_wchar *Password;
} TConnectorCancelOrders;

typedef struct TConnectorCancelAllOrders {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    qt_profitdll_wchar *Password;
} TConnectorCancelAllOrders;

typedef struct TConnectorZeroPosition {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID;
    qt_profitdll_wchar *Password;
    double Price;
    uint8_t PositionType; /* Version 1: qt_profitdll_position_type */
} TConnectorZeroPosition;

typedef struct TConnectorTradingAccountOut {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID; /* in */
    qt_profitdll_wchar *BrokerName;
    int32_t BrokerNameLength;
    qt_profitdll_wchar *OwnerName;
    int32_t OwnerNameLength;
    qt_profitdll_wchar *SubOwnerName;
    int32_t SubOwnerNameLength;
    uint32_t AccountFlags; /* CA_* */
    uint8_t AccountType;
} TConnectorTradingAccountOut;

typedef struct TConnectorTradingAccountPosition {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID; /* in */
    TConnectorAssetIdentifier AssetID;     /* in */
    int64_t OpenQuantity;
    double OpenAveragePrice;
    uint8_t OpenSide; /* 1 buy, 2 sell */
    double DailyAverageSellPrice;
    int64_t DailySellQuantity;
    double DailyAverageBuyPrice;
    int64_t DailyBuyQuantity;
    int64_t DailyQuantityD1;
    int64_t DailyQuantityD2;
    int64_t DailyQuantityD3;
    int64_t DailyQuantityBlocked;
    int64_t DailyQuantityPending;
    int64_t DailyQuantityAlloc;
    int64_t DailyQuantityProvision;
    int64_t DailyQuantity;
    int64_t DailyQuantityAvailable;
    uint8_t PositionType; /* Version 1: in, qt_profitdll_position_type */
    int64_t EventID;      /* Version 2 */
} TConnectorTradingAccountPosition;

typedef struct TConnectorOrder {
    uint8_t Version;
    TConnectorOrderIdentifier OrderID;
    TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID;
    int64_t Quantity;
    int64_t TradedQuantity;
    int64_t LeavesQuantity;
    double Price;
    double StopPrice;
    double AveragePrice;
    uint8_t OrderSide;
    uint8_t OrderType;
    uint8_t OrderStatus;
    uint8_t ValidityType;
    TSystemTime Date;
    TSystemTime LastUpdate;
    TSystemTime CloseDate;
    TSystemTime ValidityDate;
    qt_profitdll_wchar *TextMessage;
    int64_t EventID; /* Version 1 */
} TConnectorOrder;

/* GetOrderDetails: set Version and OrderID, call once with NULL string
 * pointers to learn the lengths, again with buffers of those lengths. */
typedef struct TConnectorOrderOut {
    uint8_t Version;
    TConnectorOrderIdentifier OrderID; /* in */
    TConnectorAccountIdentifierOut AccountID;
    TConnectorAssetIdentifierOut AssetID;
    int64_t Quantity;
    int64_t TradedQuantity;
    int64_t LeavesQuantity;
    double Price;
    double StopPrice;
    double AveragePrice;
    uint8_t OrderSide;   /* V1 numbering */
    uint8_t OrderType;   /* V1 numbering */
    uint8_t OrderStatus; /* qt_profitdll_order_status */
    uint8_t ValidityType;
    TSystemTime Date;
    TSystemTime LastUpdate;
    TSystemTime CloseDate;
    TSystemTime ValidityDate;
    qt_profitdll_wchar *TextMessage;
    int32_t TextMessageLength;
    int64_t EventID; /* Version 1 */
} TConnectorOrderOut;

/* TranslateTrade output. */
typedef struct TConnectorTrade {
    uint8_t Version;
    TSystemTime TradeDate;
    uint32_t TradeNumber;
    double Price;
    int64_t Quantity;
    double Volume; /* BRL */
    int32_t BuyAgent;
    int32_t SellAgent;
    uint8_t TradeType; /* qt_profitdll_trade_type */
} TConnectorTrade;

/* ------------------------------------------------------------------------ */
/* Book arrays (pArraySell / pArrayBuy of full-book callbacks).  A byte     */
/* stream, no alignment: header, `count` entries, uint32 flags trailer     */
/* (OB_LAST_PACKET).  size_bytes covers the whole buffer, trailer included; */
/* the client copies what it needs and calls FreePointer(ptr, size_bytes)  */
/* inside the callback.  Read fields with memcpy (entries are unaligned).  */

#pragma pack(push, 1)
typedef struct qt_profitdll_book_array_header {
    int32_t count;
    int32_t size_bytes;
} qt_profitdll_book_array_header;

/* PriceBook V1 entry: one aggregated level. */
typedef struct qt_profitdll_price_book_entry {
    double price;
    int32_t qty;
    int32_t count;
} qt_profitdll_price_book_entry;

/* PriceBook V2 entry: quantity is Int64. */
typedef struct qt_profitdll_price_book_entry_v2 {
    double price;
    int64_t qty;
    int32_t count;
} qt_profitdll_price_book_entry_v2;

/* OfferBook entries are variable-length: this fixed part, then date_len
 * bytes of the offer's date as 8-bit text "DD/MM/YYYY HH:mm:SS.ZZZ". */
typedef struct qt_profitdll_offer_book_entry {
    double price;
    int32_t qty;
    int32_t agent;
    int64_t offer_id;
    int16_t date_len;
} qt_profitdll_offer_book_entry;

typedef struct qt_profitdll_offer_book_entry_v2 {
    double price;
    int64_t qty;
    int32_t agent;
    int64_t offer_id;
    uint16_t date_len;
} qt_profitdll_offer_book_entry_v2;
#pragma pack(pop)

#define QT_PROFITDLL_BOOK_TRAILER_SIZE 4

/* ------------------------------------------------------------------------ */
/* Layout checks (Win64 natural alignment; identical on Linux x86-64).     */

#define QT_PROFITDLL_LAYOUT(T, f, off) _Static_assert(offsetof(T, f) == (off), #T "." #f)
_Static_assert(sizeof(TSystemTime) == 16, "TSystemTime");
_Static_assert(sizeof(TAssetID) == 20, "TAssetIDRec is packed");
QT_PROFITDLL_LAYOUT(TAssetID, exchange, 8);
QT_PROFITDLL_LAYOUT(TAssetID, feed, 16);

_Static_assert(sizeof(TConnectorAccountIdentifier) == 32, "TConnectorAccountIdentifier");
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifier, BrokerID, 4);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifier, AccountID, 8);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifier, SubAccountID, 16);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifier, Reserved, 24);

_Static_assert(sizeof(TConnectorAccountIdentifierOut) == 424, "TConnectorAccountIdentifierOut");
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifierOut, AccountID, 8);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifierOut, AccountIDLength, 208);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifierOut, SubAccountID, 212);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifierOut, SubAccountIDLength, 412);
QT_PROFITDLL_LAYOUT(TConnectorAccountIdentifierOut, Reserved, 416);

_Static_assert(sizeof(TConnectorAssetIdentifier) == 32, "TConnectorAssetIdentifier");
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifier, Ticker, 8);
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifier, Exchange, 16);
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifier, FeedType, 24);

_Static_assert(sizeof(TConnectorAssetIdentifierOut) == 40, "TConnectorAssetIdentifierOut");
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifierOut, TickerLength, 16);
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifierOut, Exchange, 24);
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifierOut, ExchangeLength, 32);
QT_PROFITDLL_LAYOUT(TConnectorAssetIdentifierOut, FeedType, 36);

_Static_assert(sizeof(TConnectorPriceGroup) == 40, "TConnectorPriceGroup");
QT_PROFITDLL_LAYOUT(TConnectorPriceGroup, Price, 8);
QT_PROFITDLL_LAYOUT(TConnectorPriceGroup, Count, 16);
QT_PROFITDLL_LAYOUT(TConnectorPriceGroup, Quantity, 24);
QT_PROFITDLL_LAYOUT(TConnectorPriceGroup, PriceGroupFlags, 32);

_Static_assert(sizeof(TConnectorOrderIdentifier) == 24, "TConnectorOrderIdentifier");
QT_PROFITDLL_LAYOUT(TConnectorOrderIdentifier, LocalOrderID, 8);
QT_PROFITDLL_LAYOUT(TConnectorOrderIdentifier, ClOrderID, 16);

_Static_assert(sizeof(TConnectorSendOrder) == 112, "TConnectorSendOrder");
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, AccountID, 8);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, AssetID, 40);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, Password, 72);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, OrderType, 80);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, OrderSide, 81);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, Price, 88);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, StopPrice, 96);
QT_PROFITDLL_LAYOUT(TConnectorSendOrder, Quantity, 104);

_Static_assert(sizeof(TConnectorChangeOrder) == 96, "TConnectorChangeOrder");
QT_PROFITDLL_LAYOUT(TConnectorChangeOrder, OrderID, 40);
QT_PROFITDLL_LAYOUT(TConnectorChangeOrder, Password, 64);
QT_PROFITDLL_LAYOUT(TConnectorChangeOrder, Price, 72);
QT_PROFITDLL_LAYOUT(TConnectorChangeOrder, StopPrice, 80);
QT_PROFITDLL_LAYOUT(TConnectorChangeOrder, Quantity, 88);

_Static_assert(sizeof(TConnectorCancelOrder) == 72, "TConnectorCancelOrder");
QT_PROFITDLL_LAYOUT(TConnectorCancelOrder, OrderID, 40);
QT_PROFITDLL_LAYOUT(TConnectorCancelOrder, Password, 64);

_Static_assert(sizeof(TConnectorCancelOrders) == 80, "TConnectorCancelOrders");
QT_PROFITDLL_LAYOUT(TConnectorCancelOrders, AssetID, 40);
QT_PROFITDLL_LAYOUT(TConnectorCancelOrders, Password, 72);

_Static_assert(sizeof(TConnectorCancelAllOrders) == 48, "TConnectorCancelAllOrders");
QT_PROFITDLL_LAYOUT(TConnectorCancelAllOrders, Password, 40);

_Static_assert(sizeof(TConnectorZeroPosition) == 96, "TConnectorZeroPosition");
QT_PROFITDLL_LAYOUT(TConnectorZeroPosition, AssetID, 40);
QT_PROFITDLL_LAYOUT(TConnectorZeroPosition, Password, 72);
QT_PROFITDLL_LAYOUT(TConnectorZeroPosition, Price, 80);
QT_PROFITDLL_LAYOUT(TConnectorZeroPosition, PositionType, 88);

_Static_assert(sizeof(TConnectorTradingAccountOut) == 96, "TConnectorTradingAccountOut");
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, BrokerName, 40);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, BrokerNameLength, 48);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, OwnerName, 56);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, SubOwnerName, 72);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, SubOwnerNameLength, 80);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, AccountFlags, 84);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountOut, AccountType, 88);

_Static_assert(sizeof(TConnectorTradingAccountPosition) == 216, "TConnectorTradingAccountPosition");
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, AssetID, 40);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, OpenQuantity, 72);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, OpenAveragePrice, 80);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, OpenSide, 88);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, DailyAverageSellPrice, 96);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, DailyBuyQuantity, 120);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, DailyQuantity, 184);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, DailyQuantityAvailable, 192);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, PositionType, 200);
QT_PROFITDLL_LAYOUT(TConnectorTradingAccountPosition, EventID, 208);

_Static_assert(sizeof(TConnectorOrder) == 232, "TConnectorOrder");
QT_PROFITDLL_LAYOUT(TConnectorOrder, AccountID, 32);
QT_PROFITDLL_LAYOUT(TConnectorOrder, AssetID, 64);
QT_PROFITDLL_LAYOUT(TConnectorOrder, Quantity, 96);
QT_PROFITDLL_LAYOUT(TConnectorOrder, AveragePrice, 136);
QT_PROFITDLL_LAYOUT(TConnectorOrder, OrderSide, 144);
QT_PROFITDLL_LAYOUT(TConnectorOrder, OrderStatus, 146);
QT_PROFITDLL_LAYOUT(TConnectorOrder, Date, 148);
QT_PROFITDLL_LAYOUT(TConnectorOrder, ValidityDate, 196);
QT_PROFITDLL_LAYOUT(TConnectorOrder, TextMessage, 216);
QT_PROFITDLL_LAYOUT(TConnectorOrder, EventID, 224);

_Static_assert(sizeof(TConnectorOrderOut) == 640, "TConnectorOrderOut");
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, OrderID, 8);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, AccountID, 32);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, AssetID, 456);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, Quantity, 496);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, TradedQuantity, 504);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, LeavesQuantity, 512);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, Price, 520);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, AveragePrice, 536);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, OrderSide, 544);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, OrderType, 545);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, OrderStatus, 546);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, ValidityType, 547);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, Date, 548);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, LastUpdate, 564);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, ValidityDate, 596);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, TextMessage, 616);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, TextMessageLength, 624);
QT_PROFITDLL_LAYOUT(TConnectorOrderOut, EventID, 632);

_Static_assert(sizeof(TConnectorTrade) == 64, "TConnectorTrade");
QT_PROFITDLL_LAYOUT(TConnectorTrade, TradeDate, 2);
QT_PROFITDLL_LAYOUT(TConnectorTrade, TradeNumber, 20);
QT_PROFITDLL_LAYOUT(TConnectorTrade, Price, 24);
QT_PROFITDLL_LAYOUT(TConnectorTrade, Quantity, 32);
QT_PROFITDLL_LAYOUT(TConnectorTrade, Volume, 40);
QT_PROFITDLL_LAYOUT(TConnectorTrade, BuyAgent, 48);
QT_PROFITDLL_LAYOUT(TConnectorTrade, SellAgent, 52);
QT_PROFITDLL_LAYOUT(TConnectorTrade, TradeType, 56);

_Static_assert(sizeof(qt_profitdll_book_array_header) == 8, "book array header");
_Static_assert(sizeof(qt_profitdll_price_book_entry) == 16, "price book entry");
_Static_assert(sizeof(qt_profitdll_price_book_entry_v2) == 20, "price book entry v2");
_Static_assert(sizeof(qt_profitdll_offer_book_entry) == 26, "offer book entry (fixed part)");
_Static_assert(sizeof(qt_profitdll_offer_book_entry_v2) == 30, "offer book entry v2 (fixed part)");
#undef QT_PROFITDLL_LAYOUT

/* ------------------------------------------------------------------------ */
/* Callbacks.  All run on the DLL's one ConnectorThread; none may call a    */
/* request function; pointer arguments live only during the call.          */

typedef qt_profitdll_wchar *qt_profitdll_str; /* PWideChar argument */

typedef void(QT_PROFITDLL_CALL *TStateCallback)(int32_t conn_type, int32_t result);

typedef void(QT_PROFITDLL_CALL *TNewTradeCallback)(TAssetID asset, qt_profitdll_str date,
                                              uint32_t trade_number, double price,
                                              double volume, int32_t qty, int32_t buy_agent,
                                              int32_t sell_agent, int32_t trade_type,
                                              qt_profitdll_wchar is_edit /* Char: low 16 bits */);
typedef void(QT_PROFITDLL_CALL *THistoryTradeCallback)(TAssetID asset, qt_profitdll_str date,
                                                  uint32_t trade_number, double price,
                                                  double volume, int32_t qty, int32_t buy_agent,
                                                  int32_t sell_agent, int32_t trade_type);
/* V2 trades (SetTradeCallbackV2 / SetHistoryTradeCallbackV2): read `trade`
 * with TranslateTrade; flags TC_IS_EDIT, TC_LAST_PACKET. */
typedef void(QT_PROFITDLL_CALL *TConnectorTradeCallback)(TConnectorAssetIdentifier asset,
                                                    const void *trade, uint32_t flags);

typedef void(QT_PROFITDLL_CALL *TNewDailyCallback)(
    TAssetID asset, qt_profitdll_str date, double open, double high, double low, double close,
    double volume, double adjust, double max_limit, double min_limit, double volume_buyer,
    double volume_seller, int32_t qty, int32_t trades, int32_t open_contracts,
    int32_t qty_buyer, int32_t qty_seller, int32_t trades_buyer, int32_t trades_seller);

typedef void(QT_PROFITDLL_CALL *TTinyBookCallback)(TAssetID asset, double price, int32_t qty,
                                              int32_t side);

typedef void(QT_PROFITDLL_CALL *TPriceBookCallback)(TAssetID asset, int32_t action, int32_t position,
                                               int32_t side, int32_t qty, int32_t count,
                                               double price, void *sell_array,
                                               void *buy_array);
/* V2: quantity Int64; count is Int64 in Delphi, Integer elsewhere: on Win64
 * each argument has its own 8-byte slot, so use the low 32 bits. */
typedef void(QT_PROFITDLL_CALL *TPriceBookCallbackV2)(TAssetID asset, int32_t action,
                                                 int32_t position, int32_t side, int64_t qty,
                                                 int64_t count, double price, void *sell_array,
                                                 void *buy_array);

/* has_* flags are Delphi Char (16-bit). */
typedef void(QT_PROFITDLL_CALL *TOfferBookCallback)(
    TAssetID asset, int32_t action, int32_t position, int32_t side, int32_t qty, int32_t agent,
    int64_t offer_id, double price, qt_profitdll_wchar has_price, qt_profitdll_wchar has_qty,
    qt_profitdll_wchar has_date, qt_profitdll_wchar has_offer_id, qt_profitdll_wchar has_agent,
    qt_profitdll_str date, void *sell_array, void *buy_array);
typedef void(QT_PROFITDLL_CALL *TOfferBookCallbackV2)(
    TAssetID asset, int32_t action, int32_t position, int32_t side, int64_t qty, int32_t agent,
    int64_t offer_id, double price, qt_profitdll_wchar has_price, qt_profitdll_wchar has_qty,
    qt_profitdll_wchar has_date, qt_profitdll_wchar has_offer_id, qt_profitdll_wchar has_agent,
    qt_profitdll_str date, void *sell_array, void *buy_array);

typedef void(QT_PROFITDLL_CALL *TProgressCallback)(TAssetID asset, int32_t progress /* 0..100 */);

typedef void(QT_PROFITDLL_CALL *TChangeStateTicker)(TAssetID asset, qt_profitdll_str date,
                                               int32_t state /* qt_profitdll_ticker_state */);
typedef void(QT_PROFITDLL_CALL *TChangeCotation)(TAssetID asset, qt_profitdll_str date,
                                            uint32_t trade_number, double price);
typedef void(QT_PROFITDLL_CALL *TTheoreticalPriceCallback)(TAssetID asset, double price,
                                                      int64_t qty);

typedef void(QT_PROFITDLL_CALL *TAssetListCallback)(TAssetID asset, qt_profitdll_str name);
typedef void(QT_PROFITDLL_CALL *TAssetListInfoCallback)(
    TAssetID asset, qt_profitdll_str name, qt_profitdll_str description, int32_t min_order_qty,
    int32_t max_order_qty, int32_t lot, int32_t security_type, int32_t security_subtype,
    double min_price_increment, double contract_multiplier, qt_profitdll_str date,
    qt_profitdll_str isin);
typedef void(QT_PROFITDLL_CALL *TAssetListInfoCallbackV2)(
    TAssetID asset, qt_profitdll_str name, qt_profitdll_str description, int32_t min_order_qty,
    int32_t max_order_qty, int32_t lot, int32_t security_type, int32_t security_subtype,
    double min_price_increment, double contract_multiplier, qt_profitdll_str date,
    qt_profitdll_str isin, qt_profitdll_str sector, qt_profitdll_str subsector, qt_profitdll_str segment);
/* Delphi declares it with TConnectorAssetIdentifier (the C++ example with
 * TAssetID); the Delphi unit is followed. */
typedef void(QT_PROFITDLL_CALL *TInvalidTickerCallback)(TConnectorAssetIdentifier asset);

typedef void(QT_PROFITDLL_CALL *TAdjustHistoryCallback)(TAssetID asset, double value,
                                                   qt_profitdll_str adjust_type, qt_profitdll_str note,
                                                   qt_profitdll_str adjust_date,
                                                   qt_profitdll_str deliberation_date,
                                                   qt_profitdll_str payment_date,
                                                   int32_t affects_price);
typedef void(QT_PROFITDLL_CALL *TAdjustHistoryCallbackV2)(TAssetID asset, double value,
                                                     qt_profitdll_str adjust_type, qt_profitdll_str note,
                                                     qt_profitdll_str adjust_date,
                                                     qt_profitdll_str deliberation_date,
                                                     qt_profitdll_str payment_date, uint32_t flags,
                                                     double multiplier);

typedef void(QT_PROFITDLL_CALL *TConnectorPriceDepthCallback)(TConnectorAssetIdentifier asset,
                                                         uint8_t side, int32_t position,
                                                         uint8_t update_type);

/* Routing (legacy order callbacks: strings are the DLL's text forms). */
typedef void(QT_PROFITDLL_CALL *TAccountCallback)(int32_t broker_id, qt_profitdll_str broker_name,
                                             qt_profitdll_str account_id, qt_profitdll_str owner_name);
typedef void(QT_PROFITDLL_CALL *THistoryCallback)(
    TAssetID asset, int32_t broker_id, int32_t qty, int32_t traded_qty, int32_t leaves_qty,
    int32_t side, double price, double stop_price, double avg_price, int64_t profit_id,
    qt_profitdll_str order_type, qt_profitdll_str account, qt_profitdll_str owner, qt_profitdll_str cl_ord_id,
    qt_profitdll_str status, qt_profitdll_str date);
typedef void(QT_PROFITDLL_CALL *THistoryCallbackV2)(
    TAssetID asset, int32_t broker_id, int32_t qty, int32_t traded_qty, int32_t leaves_qty,
    int32_t side, int32_t validity, double price, double stop_price, double avg_price,
    int64_t profit_id, qt_profitdll_str order_type, qt_profitdll_str account, qt_profitdll_str owner,
    qt_profitdll_str cl_ord_id, qt_profitdll_str status, qt_profitdll_str date, qt_profitdll_str last_update,
    qt_profitdll_str close_date, qt_profitdll_str validity_date);
typedef void(QT_PROFITDLL_CALL *TOrderChangeCallback)(
    TAssetID asset, int32_t broker_id, int32_t qty, int32_t traded_qty, int32_t leaves_qty,
    int32_t side, double price, double stop_price, double avg_price, int64_t profit_id,
    qt_profitdll_str order_type, qt_profitdll_str account, qt_profitdll_str owner, qt_profitdll_str cl_ord_id,
    qt_profitdll_str status, qt_profitdll_str date, qt_profitdll_str text_message);
typedef void(QT_PROFITDLL_CALL *TOrderChangeCallbackV2)(
    TAssetID asset, int32_t broker_id, int32_t qty, int32_t traded_qty, int32_t leaves_qty,
    int32_t side, int32_t validity, double price, double stop_price, double avg_price,
    int64_t profit_id, qt_profitdll_str order_type, qt_profitdll_str account, qt_profitdll_str owner,
    qt_profitdll_str cl_ord_id, qt_profitdll_str status, qt_profitdll_str date, qt_profitdll_str last_update,
    qt_profitdll_str close_date, qt_profitdll_str validity_date, qt_profitdll_str text_message);

/* Routing V2: the order callback carries only the identifier; details come
 * from GetOrderDetails (callable inside the callback). */
typedef void(QT_PROFITDLL_CALL *TConnectorOrderCallback)(TConnectorOrderIdentifier order);
typedef void(QT_PROFITDLL_CALL *TConnectorAccountCallback)(TConnectorAccountIdentifier account);
typedef void(QT_PROFITDLL_CALL *TConnectorAssetPositionListCallback)(
    TConnectorAccountIdentifier account, TConnectorAssetIdentifier asset, int64_t event_id);
typedef void(QT_PROFITDLL_CALL *TConnectorBrokerAccountListCallback)(int32_t broker_id,
                                                                uint32_t changed);
typedef void(QT_PROFITDLL_CALL *TConnectorBrokerSubAccountListCallback)(
    TConnectorAccountIdentifier account);
/* Enumerators return BOOL (32-bit): nonzero continues. */
typedef int32_t(QT_PROFITDLL_CALL *TConnectorEnumerateOrdersProc)(const TConnectorOrder *order,
                                                             intptr_t param);
typedef int32_t(QT_PROFITDLL_CALL *TConnectorEnumerateAssetProc)(TConnectorAssetIdentifier asset,
                                                            intptr_t param);

/* ------------------------------------------------------------------------ */
/* Exported functions: pointer types qt_profitdll_<ExportName>_fn, resolved by    */
/* name (GetProcAddress / dlsym).  Input strings are const (the DLL does    */
/* not write them; the ABI is the same either way).                         */

typedef const qt_profitdll_wchar *qt_profitdll_cstr;

/* Start-up and shutdown */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_DLLInitializeLogin_fn)(
    qt_profitdll_cstr activation_key, qt_profitdll_cstr user, qt_profitdll_cstr password,
    TStateCallback state, THistoryCallback history, TOrderChangeCallback order_change,
    TAccountCallback account, TNewTradeCallback new_trade, TNewDailyCallback new_daily,
    TPriceBookCallback price_book, TOfferBookCallback offer_book,
    THistoryTradeCallback history_trade, TProgressCallback progress,
    TTinyBookCallback tiny_book);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_DLLInitializeMarketLogin_fn)(
    qt_profitdll_cstr activation_key, qt_profitdll_cstr user, qt_profitdll_cstr password,
    TStateCallback state, TNewTradeCallback new_trade, TNewDailyCallback new_daily,
    TPriceBookCallback price_book, TOfferBookCallback offer_book,
    THistoryTradeCallback history_trade, TProgressCallback progress,
    TTinyBookCallback tiny_book);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_DLLFinalize_fn)(void);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SetServerAndPort_fn)(qt_profitdll_cstr server, qt_profitdll_cstr port);
/* server_clock: Delphi TDateTime (days since 1899-12-30, local time). */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetServerClock_fn)(double *server_clock, int32_t *year,
                                                         int32_t *month, int32_t *day,
                                                         int32_t *hour, int32_t *minute,
                                                         int32_t *second, int32_t *millisecond);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SetEnabledLogToDebug_fn)(int32_t enabled);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SetEnabledHistOrder_fn)(int32_t enabled);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SetDayTrade_fn)(int32_t use_day_trade);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_FreePointer_fn)(void *pointer, int32_t size);

/* Market data requests: (ticker, exchange) */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_ticker_request_fn)(qt_profitdll_cstr ticker,
                                                         qt_profitdll_cstr exchange);
typedef qt_profitdll_ticker_request_fn qt_profitdll_SubscribeTicker_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_UnsubscribeTicker_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_SubscribePriceBook_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_UnsubscribePriceBook_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_SubscribeOfferBook_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_UnsubscribeOfferBook_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_SubscribeAdjustHistory_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_UnsubscribeAdjustHistory_fn;
typedef qt_profitdll_ticker_request_fn qt_profitdll_RequestTickerInfo_fn;
/* dates "DD/MM/YYYY HH:mm:SS" (or "DD/MM/YYYY") */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetHistoryTrades_fn)(qt_profitdll_cstr ticker,
                                                           qt_profitdll_cstr exchange,
                                                           qt_profitdll_cstr date_start,
                                                           qt_profitdll_cstr date_end);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetSerieHistory_fn)(qt_profitdll_cstr ticker,
                                                          qt_profitdll_cstr exchange,
                                                          qt_profitdll_cstr date_start,
                                                          qt_profitdll_cstr date_end,
                                                          uint32_t quote_number_start,
                                                          uint32_t quote_number_end);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetLastDailyClose_fn)(qt_profitdll_cstr ticker,
                                                            qt_profitdll_cstr exchange,
                                                            double *close, int32_t adjusted);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_TranslateTrade_fn)(const void *trade,
                                                         TConnectorTrade *out);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetTheoreticalValues_fn)(
    const TConnectorAssetIdentifier *asset, double *price, int64_t *qty);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SubscribePriceDepth_fn)(
    const TConnectorAssetIdentifier *asset);
typedef qt_profitdll_SubscribePriceDepth_fn qt_profitdll_UnsubscribePriceDepth_fn;
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetPriceDepthSideCount_fn)(
    const TConnectorAssetIdentifier *asset, uint8_t side);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetPriceGroup_fn)(const TConnectorAssetIdentifier *asset,
                                                        uint8_t side, int32_t position,
                                                        TConnectorPriceGroup *out);
/* Agent names: the returned string belongs to the DLL. */
typedef qt_profitdll_wchar *(QT_PROFITDLL_CALL *qt_profitdll_GetAgentNameByID_fn)(int32_t agent_id);
typedef qt_profitdll_GetAgentNameByID_fn qt_profitdll_GetAgentShortNameByID_fn;
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAgentNameLength_fn)(int32_t agent_id,
                                                             uint32_t short_name);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAgentName_fn)(int32_t length, int32_t agent_id,
                                                       qt_profitdll_wchar *out, uint32_t short_name);

/* Callback setters: each replaces the callback given at start-up. */
#define QT_PROFITDLL_SETTER(Name, CbType) \
    typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_##Name##_fn)(CbType callback)
QT_PROFITDLL_SETTER(SetStateCallback, TStateCallback);
QT_PROFITDLL_SETTER(SetTradeCallback, TNewTradeCallback);
QT_PROFITDLL_SETTER(SetTradeCallbackV2, TConnectorTradeCallback);
QT_PROFITDLL_SETTER(SetHistoryTradeCallback, THistoryTradeCallback);
QT_PROFITDLL_SETTER(SetHistoryTradeCallbackV2, TConnectorTradeCallback);
QT_PROFITDLL_SETTER(SetDailyCallback, TNewDailyCallback);
QT_PROFITDLL_SETTER(SetTinyBookCallback, TTinyBookCallback);
QT_PROFITDLL_SETTER(SetPriceBookCallback, TPriceBookCallback);
QT_PROFITDLL_SETTER(SetPriceBookCallbackV2, TPriceBookCallbackV2);
QT_PROFITDLL_SETTER(SetOfferBookCallback, TOfferBookCallback);
QT_PROFITDLL_SETTER(SetOfferBookCallbackV2, TOfferBookCallbackV2);
QT_PROFITDLL_SETTER(SetSerieProgressCallback, TProgressCallback);
QT_PROFITDLL_SETTER(SetChangeStateTickerCallback, TChangeStateTicker);
QT_PROFITDLL_SETTER(SetChangeCotationCallback, TChangeCotation);
QT_PROFITDLL_SETTER(SetTheoreticalPriceCallback, TTheoreticalPriceCallback);
QT_PROFITDLL_SETTER(SetAssetListCallback, TAssetListCallback);
QT_PROFITDLL_SETTER(SetAssetListInfoCallback, TAssetListInfoCallback);
QT_PROFITDLL_SETTER(SetAssetListInfoCallbackV2, TAssetListInfoCallbackV2);
QT_PROFITDLL_SETTER(SetInvalidTickerCallback, TInvalidTickerCallback);
QT_PROFITDLL_SETTER(SetAdjustHistoryCallback, TAdjustHistoryCallback);
QT_PROFITDLL_SETTER(SetAdjustHistoryCallbackV2, TAdjustHistoryCallbackV2);
QT_PROFITDLL_SETTER(SetPriceDepthCallback, TConnectorPriceDepthCallback);
QT_PROFITDLL_SETTER(SetAccountCallback, TAccountCallback);
QT_PROFITDLL_SETTER(SetHistoryCallback, THistoryCallback);
QT_PROFITDLL_SETTER(SetHistoryCallbackV2, THistoryCallbackV2);
QT_PROFITDLL_SETTER(SetOrderChangeCallback, TOrderChangeCallback);
QT_PROFITDLL_SETTER(SetOrderChangeCallbackV2, TOrderChangeCallbackV2);
QT_PROFITDLL_SETTER(SetOrderCallback, TConnectorOrderCallback);
QT_PROFITDLL_SETTER(SetOrderHistoryCallback, TConnectorAccountCallback);
QT_PROFITDLL_SETTER(SetAssetPositionListCallback, TConnectorAssetPositionListCallback);
QT_PROFITDLL_SETTER(SetBrokerAccountListChangedCallback, TConnectorBrokerAccountListCallback);
QT_PROFITDLL_SETTER(SetBrokerSubAccountListChangedCallback, TConnectorBrokerSubAccountListCallback);
#undef QT_PROFITDLL_SETTER

/* Orders, V2 (preferred).  SendOrder and SendZeroPositionV2 return the local
 * order id (int64; negative = NResult).  The order callback may fire before
 * SendOrder returns. */
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendOrder_fn)(const TConnectorSendOrder *order);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendChangeOrderV2_fn)(const TConnectorChangeOrder *change);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelOrderV2_fn)(const TConnectorCancelOrder *cancel);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelOrdersV2_fn)(
    const TConnectorCancelOrders *cancel);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelAllOrdersV2_fn)(
    const TConnectorCancelAllOrders *cancel);
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendZeroPositionV2_fn)(const TConnectorZeroPosition *zero);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetOrderDetails_fn)(TConnectorOrderOut *order);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetPositionV2_fn)(TConnectorTradingAccountPosition *pos);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_HasOrdersInInterval_fn)(
    const TConnectorAccountIdentifier *account, TSystemTime start, TSystemTime end);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_EnumerateOrdersByInterval_fn)(
    const TConnectorAccountIdentifier *account, uint8_t order_version, TSystemTime start,
    TSystemTime end, intptr_t param, TConnectorEnumerateOrdersProc callback);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_EnumerateAllOrders_fn)(
    const TConnectorAccountIdentifier *account, uint8_t order_version, intptr_t param,
    TConnectorEnumerateOrdersProc callback);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_EnumerateAllPositionAssets_fn)(
    const TConnectorAccountIdentifier *account, uint8_t asset_version, intptr_t param,
    TConnectorEnumerateAssetProc callback);

/* Accounts */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccount_fn)(void); /* answers via TAccountCallback */
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccountCount_fn)(void);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccounts_fn)(int32_t start_source, int32_t start_dest,
                                                      int32_t count,
                                                      TConnectorAccountIdentifierOut *out);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccountDetails_fn)(TConnectorTradingAccountOut *account);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccountCountByBroker_fn)(int32_t broker_id);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetAccountsByBroker_fn)(
    int32_t broker_id, int32_t start_source, int32_t start_dest, int32_t count,
    TConnectorAccountIdentifierOut *out);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetSubAccountCount_fn)(
    const TConnectorAccountIdentifier *master);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetSubAccounts_fn)(
    const TConnectorAccountIdentifier *master, int32_t start_source, int32_t start_dest,
    int32_t count, TConnectorAccountIdentifierOut *out);

/* Orders, legacy (obsolete, still exported).  Version-0 semantics; results
 * come through TOrderChangeCallback.  Note SendCancelOrder takes the
 * password LAST and SendZeroPosition takes it after the exchange. */
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendBuyOrder_fn)(qt_profitdll_cstr account_id,
                                                       qt_profitdll_cstr broker_id,
                                                       qt_profitdll_cstr password,
                                                       qt_profitdll_cstr ticker,
                                                       qt_profitdll_cstr exchange, double price,
                                                       int32_t qty);
typedef qt_profitdll_SendBuyOrder_fn qt_profitdll_SendSellOrder_fn;
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendStopBuyOrder_fn)(
    qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password, qt_profitdll_cstr ticker,
    qt_profitdll_cstr exchange, double price, double stop_price, int32_t qty);
typedef qt_profitdll_SendStopBuyOrder_fn qt_profitdll_SendStopSellOrder_fn;
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendMarketBuyOrder_fn)(
    qt_profitdll_cstr account_id, qt_profitdll_cstr broker_id, qt_profitdll_cstr password, qt_profitdll_cstr ticker,
    qt_profitdll_cstr exchange, int32_t qty);
typedef qt_profitdll_SendMarketBuyOrder_fn qt_profitdll_SendMarketSellOrder_fn;
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendChangeOrder_fn)(qt_profitdll_cstr account_id,
                                                          qt_profitdll_cstr broker_id,
                                                          qt_profitdll_cstr password,
                                                          qt_profitdll_cstr cl_ord_id, double price,
                                                          int32_t qty);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelOrder_fn)(qt_profitdll_cstr account_id,
                                                          qt_profitdll_cstr broker_id,
                                                          qt_profitdll_cstr cl_ord_id,
                                                          qt_profitdll_cstr password);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelOrders_fn)(qt_profitdll_cstr account_id,
                                                           qt_profitdll_cstr broker_id,
                                                           qt_profitdll_cstr password,
                                                           qt_profitdll_cstr ticker,
                                                           qt_profitdll_cstr exchange);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_SendCancelAllOrders_fn)(qt_profitdll_cstr account_id,
                                                              qt_profitdll_cstr broker_id,
                                                              qt_profitdll_cstr password);
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendZeroPosition_fn)(qt_profitdll_cstr account_id,
                                                           qt_profitdll_cstr broker_id,
                                                           qt_profitdll_cstr ticker,
                                                           qt_profitdll_cstr exchange,
                                                           qt_profitdll_cstr password, double price);
typedef int64_t(QT_PROFITDLL_CALL *qt_profitdll_SendZeroPositionAtMarket_fn)(qt_profitdll_cstr account_id,
                                                                   qt_profitdll_cstr broker_id,
                                                                   qt_profitdll_cstr ticker,
                                                                   qt_profitdll_cstr exchange,
                                                                   qt_profitdll_cstr password);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetOrders_fn)(qt_profitdll_cstr account_id,
                                                    qt_profitdll_cstr broker_id,
                                                    qt_profitdll_cstr date_start,
                                                    qt_profitdll_cstr date_end);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetOrder_fn)(qt_profitdll_cstr cl_ord_id);
typedef int32_t(QT_PROFITDLL_CALL *qt_profitdll_GetOrderProfitID_fn)(int64_t profit_id);
/* Returns a DLL-allocated buffer (int32 count, int32 size, records), freed
 * with FreePointer(ptr, size); NULL when there is nothing. */
typedef void *(QT_PROFITDLL_CALL *qt_profitdll_GetPosition_fn)(qt_profitdll_cstr account_id,
                                                     qt_profitdll_cstr broker_id,
                                                     qt_profitdll_cstr ticker,
                                                     qt_profitdll_cstr exchange);

#endif
