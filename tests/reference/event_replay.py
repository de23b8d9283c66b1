"""Feed event records (``EVENT_DTYPE``: an imported capture, a synthetic market,
a hand-made edge case) to the reference implementation, one reference call per
trade and per exchange message, and collect its rows.

Tests-only glue between the records the C engine reads and the reference's
plain inputs (float prices, real quantities, whole book states or level
changes).  It shares no code with the engine: the book is re-read from the
records here, level by level, as ``qt_events.h`` documents them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

import numpy as np

from quantumtrader.data.events import EventFlag, EventType, price_to_float
from reference.feature_reference import ReferenceFeatures

TRADE = int(EventType.TRADE)
L2_LEVEL = int(EventType.L2_LEVEL)
SNAPSHOT_BEGIN = int(EventType.SNAPSHOT_BEGIN)
SNAPSHOT_END = int(EventType.SNAPSHOT_END)
PRICE_BOOK = int(EventType.PRICE_BOOK)
LAST = int(EventFlag.LAST)
EDIT = int(EventFlag.EDIT)
INVALID = int(EventFlag.INVALID)
AFTER_HOURS = int(EventFlag.AFTER_HOURS)


@dataclass
class ReferenceRows:
    ts: list[int] = field(default_factory=list)
    trade_numbers: list[int] = field(default_factory=list)
    rows: list[list[float]] = field(default_factory=list)

    def matrix(self) -> np.ndarray:
        return np.array(self.rows, dtype=np.float64).reshape(len(self.rows), -1)


def replay_to_reference(
    events: np.ndarray,
    *,
    tick_size: float,
    price_unit: float,
    qty_scale: float = 1.0,
    session_open: time = time(9, 0),
    session_close: time = time(18, 0),
    feature_set: str = "qt77",
) -> tuple[ReferenceRows, ReferenceFeatures]:
    """Run ``events`` through a fresh reference engine.  Trades flagged
    after-hours or invalid are not part of the stream; edits reach the
    reference as edits (counted, no row)."""
    ref = ReferenceFeatures(tick_size, session_open, session_close, feature_set=feature_set)
    out = ReferenceRows()
    message: list[tuple[int, float, float]] = []  # (side, price, qty) of the open L2 message
    staged: dict[int, dict[float, float]] | None = None  # full book being received, per side
    staged_sides: tuple[int, ...] = ()
    typ = events["type"].tolist()
    flags = events["flags"].tolist()
    ts = events["exch_ns"].tolist()
    price = price_to_float(events["price"], price_unit).tolist()
    qty = (events["qty"] / qty_scale).tolist()
    code = events["code"].tolist()
    side = events["side"].tolist()
    ref_no = events["ref"].tolist()
    buyer = events["a"].tolist()
    seller = events["b"].tolist()
    for i, t in enumerate(typ):
        if t == TRADE:
            if flags[i] & (INVALID | AFTER_HOURS) or qty[i] <= 0:
                continue
            row = ref.on_trade(
                ts[i], price[i], qty[i], buyer[i], seller[i], code[i], is_edit=bool(flags[i] & EDIT)
            )
            if row is not None:
                out.ts.append(ref.latest_ts)
                out.trade_numbers.append(ref_no[i])
                out.rows.append(row)
        elif t == L2_LEVEL and staged is not None:
            staged[side[i]][price[i]] = qty[i]
        elif t == L2_LEVEL:
            message.append((side[i], price[i], qty[i]))
            if flags[i] & LAST:
                ref.on_book_levels(ts[i], message)
                message = []
        elif t == SNAPSHOT_BEGIN:
            staged = {0: {}, 1: {}}
            staged_sides = (0, 1) if side[i] == 2 else (side[i],)
        elif t == SNAPSHOT_END and staged is not None and flags[i] & LAST:
            current = {0: ref.session.bids, 1: ref.session.asks}
            book = {s: (staged[s] if s in staged_sides else dict(current[s])) for s in (0, 1)}
            ref.on_book(ts[i], book[0].items(), book[1].items())
            staged = None
        elif t == PRICE_BOOK:
            raise ValueError("ProfitDLL position actions are not replayed to the reference here")
    return out, ref
