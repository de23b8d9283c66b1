"""The event record of the C core (``src/qtcore/market/qt_events.h``) as a numpy
dtype, with its type codes and flags.

One flat 64-byte record for every event type: the payload fields
(``price``, ``qty``, ``code``, ``side``, ``aux``, ``ref``, ``a``, ``b``) mean
different things per type, as documented in ``qt_events.h``.  Keeping a
single layout lets a whole event log be one numpy array and one Parquet
table."""

from __future__ import annotations

from enum import IntEnum, IntFlag

import numpy as np

EVENT_SIZE = 64
PRICE_NONE = np.iinfo(np.int64).min
TIME_NONE = np.iinfo(np.int64).min

EVENT_DTYPE = np.dtype(
    [
        ("type", "u1"),
        ("flags", "u1"),
        ("instrument", "<u2"),
        ("crc", "<u4"),
        ("seq", "<u8"),
        ("recv_ns", "<i8"),
        ("exch_ns", "<i8"),
        ("price", "<i8"),
        ("qty", "<i4"),
        ("code", "u1"),
        ("side", "u1"),
        ("aux", "<u2"),
        ("ref", "<i8"),
        ("a", "<i4"),
        ("b", "<i4"),
    ],
    align=False,
)
assert EVENT_DTYPE.itemsize == EVENT_SIZE


class EventType(IntEnum):
    NONE = 0
    TRADE = 1
    PRICE_BOOK = 2
    L2_LEVEL = 3
    OFFER_BOOK = 4
    TINY_BOOK = 5
    DAILY = 6
    DAILY_RANGE = 7
    DAILY_LIMITS = 8
    PHASE = 9
    CONN_STATE = 10
    FEED_GAP = 11
    SNAPSHOT_BEGIN = 12
    SNAPSHOT_END = 13
    EXT = 14
    SESSION = 15


class EventFlag(IntFlag):
    LAST = 1 << 0
    EDIT = 1 << 1
    HISTORY = 1 << 2
    RAW_DATE = 1 << 3
    INVALID = 1 << 4
    AFTER_HOURS = 1 << 5


class BookAction(IntEnum):
    ADD = 0
    EDIT = 1
    DELETE = 2
    DELETE_FROM = 3
    FULL_BOOK = 4


class Side(IntEnum):
    BUY = 0
    SELL = 1


class TradeType(IntEnum):
    """ProfitDLL trade-type codes."""

    CROSS = 1
    BUY_AGGRESSION = 2
    SELL_AGGRESSION = 3
    AUCTION = 4
    SURVEILLANCE = 5
    EXPIT = 6
    OPTIONS_EXERCISE = 7
    OVER_THE_COUNTER = 8
    DERIVATIVE_TERM = 9
    INDEX = 10
    BTC = 11
    ON_BEHALF = 12
    RLP = 13
    UNKNOWN = 32


class Phase(IntEnum):
    """ProfitDLL ticker states."""

    OPEN = 0
    FROZEN = 2
    INHIBITED = 3
    AUCTION = 4
    CLOSED = 6
    PRE_CLOSING = 10
    PRE_OPENING = 13


class GapReason(IntEnum):
    RING_FULL = 1
    DISCONNECT = 2
    SEQUENCE = 3


def empty_events(n: int) -> np.ndarray:
    """``n`` zeroed records with no price and no exchange time."""
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["price"] = PRICE_NONE
    ev["exch_ns"] = TIME_NONE
    return ev


def price_to_float(price: np.ndarray | int, unit: float) -> np.ndarray | float:
    """Integer price units to float prices, exactly as the C core does
    (``qt_price_to_double``): divide by ``1/unit`` when that is a whole
    number, so ``617998`` at unit 0.1 gives the double nearest 61799.8."""
    inv = 1.0 / unit
    if unit < 1.0 and float(int(inv + 0.5)) == inv:
        return np.asarray(price, dtype=np.float64) / inv
    return np.asarray(price, dtype=np.float64) * unit
