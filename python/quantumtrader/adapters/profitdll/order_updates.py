"""Order updates as the order callback leaves them in the order ring: the
numpy mirror of ``qt_order_update`` (``src/qtcore/market/qt_events.h``) and a
reader.  The ring never drops silently: when it overflows its sticky flag is
set and the venue's order state must be treated as unknown (reconcile)."""

from __future__ import annotations

from enum import IntEnum, IntFlag

import numpy as np

__all__ = [
    "ORDER_UPDATE_DTYPE",
    "ORDER_UPDATE_SIZE",
    "OrderUpdateFlag",
    "OrderUpdateType",
    "cl_ord_id",
    "read_order_updates",
]

ORDER_UPDATE_SIZE = 256
ORDER_UPDATE_DTYPE = np.dtype([
    ("type", "u1"), ("flags", "u1"), ("instrument", "<u2"), ("reserved", "<u4"),
    ("seq", "<u8"), ("recv_ns", "<i8"), ("exch_ns", "<i8"),
    ("local_id", "<i8"), ("event_id", "<i8"), ("quantity", "<i8"), ("cum_qty", "<i8"),
    ("leaves_qty", "<i8"), ("avg_price", "<f8"), ("price", "<f8"), ("stop_price", "<f8"),
    ("last_price", "<f8"), ("last_qty", "<i8"), ("journal_id", "<i8"),
    ("status", "u1"), ("side", "u1"), ("order_type", "u1"), ("cl_ord_id_len", "u1"),
    ("error_code", "<i4"), ("cl_ord_id", "<u2", (40,)), ("_pad", "V48"),
])
assert ORDER_UPDATE_DTYPE.itemsize == ORDER_UPDATE_SIZE
assert ORDER_UPDATE_DTYPE.fields["status"][1] == 120
assert ORDER_UPDATE_DTYPE.fields["cl_ord_id"][1] == 128


class OrderUpdateType(IntEnum):
    ORDER = 1
    VENUE_LOST = 2  # the routing link dropped: order state unknown until reconciled


class OrderUpdateFlag(IntFlag):
    NO_DETAILS = 1  # GetOrderDetails failed; error_code holds its NResult
    CLORDID_TRUNCATED = 2


def cl_ord_id(update: np.void) -> str:
    """The ClOrdID of one update record."""
    n = int(update["cl_ord_id_len"])
    return update["cl_ord_id"][:n].astype("<u2").tobytes().decode("utf-16-le", "replace")


def read_order_updates(ring, max_records: int = 4096) -> np.ndarray:
    """Pop up to ``max_records`` updates from an order ring."""
    out = np.empty(max_records, dtype=ORDER_UPDATE_DTYPE)
    n = ring.pop_bytes(out.view(np.uint8))
    return out[:n]
