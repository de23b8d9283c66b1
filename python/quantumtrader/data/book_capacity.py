"""How many levels per side a book needs to hold a whole recorded stream.

The C book's capacity is fixed when it is created (its apply path never
allocates: a bounded cost on the live path).  A level beyond it is refused,
and every book feature read after that is wrong.  A recorded stream is known
in full before it is played, so the commands that play one (``features``,
``replay``) size their book from it: one pass through a probe book records
the deepest each side gets (:attr:`PriceBook.deepest`), and the book that
does the work is created with at least that many levels.  The same log gives
the same book, and no valid record is refused, in both commands.

Capacity is not a filter: a book sized this way holds exactly what the
stream put into it, so features and replay figures do not depend on it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from quantumtrader.qtcore.book import DEFAULT_CAPACITY, MAX_CAPACITY, PriceBook

# The probe's first try: far above a B3 book (tens of levels) and the Binance
# capture (about 5,200 per side); memory is touched only where levels are.
PROBE_CAPACITY = 1 << 16
CHUNK_RECORDS = 1 << 18


def tick_units_of(tick_size: float, price_unit: float) -> int:
    """Price units per tick as the feature engine's book takes them: the
    ratio when it is a whole number, else 1 (qt_features.h)."""
    ratio = tick_size / price_unit
    units = round(ratio)
    return units if units >= 1 and abs(ratio - units) <= 1e-9 * max(1.0, ratio) else 1


def _chunks(events: np.ndarray) -> Iterable[np.ndarray]:
    for start in range(0, len(events), CHUNK_RECORDS):
        yield events[start : start + CHUNK_RECORDS]


def deepest_book(events: np.ndarray, tick_units: int) -> tuple[int, int]:
    """(bids, asks): the most levels each side holds while ``events`` are
    applied in order to one book.  Exact up to MAX_CAPACITY; beyond that
    the result is MAX_CAPACITY and the working book will refuse levels
    (which the commands report)."""
    for capacity in (PROBE_CAPACITY, MAX_CAPACITY):
        probe = PriceBook(tick_units, capacity)
        for chunk in _chunks(events):
            probe.apply(chunk)
        if probe.counters["rejected_capacity"] == 0:
            return probe.deepest
    return MAX_CAPACITY, MAX_CAPACITY


def book_capacity_for(events: np.ndarray, tick_units: int) -> int:
    """Levels per side for a book that plays ``events``: the deepest side,
    and never below the core's default (what the live engine gets)."""
    return max(DEFAULT_CAPACITY, *deepest_book(events, tick_units))
