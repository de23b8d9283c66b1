"""A slow, readable model of the C price book (``src/qtcore/qt_book.h``).

It exists to check the core: the tests drive it and ``PriceBook`` with the
same records and compare everything after every record (levels, result
bits, counters), and the benchmark uses it as the pure-Python baseline.
It follows the same rules in the same order: a record is checked field by
field (flag, side, action, position, qty, price, tick, order, capacity) and
refused at the first problem, changing nothing but the counters."""

from __future__ import annotations

import operator
from bisect import bisect_left
from dataclasses import dataclass, field

from quantumtrader.data.events import PRICE_NONE, BookAction, EventFlag, EventType

APPLIED = 1
REJECTED = 2
BOOK_EVENT = 4
REASON_SHIFT = 8
REJECT_REASONS = ("", "flagged", "side", "action", "position", "qty", "price", "tick", "order", "capacity",
                  "sequence")
_REASON = {name: code for code, name in enumerate(REJECT_REASONS) if name}


@dataclass
class BookSide:
    """Parallel lists ordered worst-to-best: bids ascending, asks descending."""

    sell: bool
    prices: list[int] = field(default_factory=list)
    qtys: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.prices)

    def insertion_index(self, price: int) -> int:
        """First index whose level is not worse than ``price``."""
        if self.sell:
            return bisect_left(self.prices, -price, key=operator.neg)
        return bisect_left(self.prices, price)

    def worse(self, x: int, y: int) -> bool:
        return x > y if self.sell else x < y

    def insert(self, i: int, price: int, qty: int, count: int) -> None:
        self.prices.insert(i, price)
        self.qtys.insert(i, qty)
        self.counts.insert(i, count)

    def remove(self, i: int) -> None:
        del self.prices[i], self.qtys[i], self.counts[i]

    def truncate(self, n: int) -> None:
        del self.prices[n:], self.qtys[n:], self.counts[n:]

    def best_first(self) -> tuple[list[int], list[int], list[int]]:
        return self.prices[::-1], self.qtys[::-1], self.counts[::-1]

    def same_levels(self, other: BookSide) -> bool:
        return self.prices == other.prices and self.qtys == other.qtys and self.counts == other.counts


class ReferenceBook:
    def __init__(self, tick_units: int = 1, capacity: int = 4096) -> None:
        if tick_units < 1 or capacity < 1:
            raise ValueError("tick_units and capacity must be >= 1")
        self.tick = tick_units
        self.capacity = capacity
        self.sides = (BookSide(False), BookSide(True))
        self.stage = (BookSide(False), BookSide(True))
        self.snap_sides = 0
        self.msg_changed = False
        self.counters: dict[str, int] = dict(applied=0, rejected=0, ignored=0, book_events=0, snapshots=0,
                                             snapshots_abandoned=0)
        for name in REJECT_REASONS[1:]:
            self.counters["rejected_" + name] = 0

    # -- queries -------------------------------------------------------------
    def best(self, side: int) -> int:
        s = self.sides[side]
        return s.prices[-1] if s.prices else PRICE_NONE

    def best_qty(self, side: int) -> int:
        s = self.sides[side]
        return s.qtys[-1] if s.qtys else 0

    def depth(self, side: int, n: int) -> int:
        return sum(self.sides[side].qtys[::-1][:n])

    def state(self) -> str:
        """"valid", "locked", "crossed" or "" (a side is empty)."""
        if not self.sides[0].prices or not self.sides[1].prices:
            return ""
        bid, ask = self.best(0), self.best(1)
        return "valid" if bid < ask else ("locked" if bid == ask else "crossed")

    def clear(self) -> None:
        if self.snap_sides:
            self.counters["snapshots_abandoned"] += 1
        for s in (*self.sides, *self.stage):
            s.truncate(0)
        self.snap_sides = 0
        self.msg_changed = False

    # -- updates -------------------------------------------------------------
    def apply_record(self, rec) -> int:
        """Apply one EVENT_DTYPE record (numpy scalar or mapping)."""
        return self.apply(int(rec["type"]), int(rec["flags"]), int(rec["side"]), int(rec["code"]),
                          int(rec["price"]), int(rec["qty"]), int(rec["a"]), int(rec["b"]))

    def apply(self, type_: int, flags: int, side: int, code: int, price: int, qty: int, a: int,
              b: int) -> int:
        """Apply one record given by its fields; returns the result bits as
        ``qt_book_apply`` does."""
        if type_ == EventType.PRICE_BOOK:
            if flags & EventFlag.INVALID:
                return self._reject("flagged")
            return self._price_book(side, code, price, qty, a, b)
        if type_ == EventType.L2_LEVEL:
            return self._l2(flags, side, price, qty, b)
        if type_ == EventType.SNAPSHOT_BEGIN:
            if flags & EventFlag.INVALID:
                return self._reject("flagged")
            if side > 2:
                return self._reject("side")
            if self.snap_sides:
                self.counters["snapshots_abandoned"] += 1
            self.snap_sides = 3 if side == 2 else 1 << side
            for s in self.stage:
                s.truncate(0)
            self.counters["applied"] += 1
            return APPLIED
        if type_ == EventType.SNAPSHOT_END:
            if flags & EventFlag.INVALID:
                return self._reject("flagged")
            if not self.snap_sides:
                return self._reject("sequence")
            self.counters["applied"] += 1
            if not flags & EventFlag.LAST:
                return APPLIED
            changed = False
            for i in (0, 1):
                if self.snap_sides & (1 << i):
                    visible, staged = self.sides[i], self.stage[i]
                    changed |= not visible.same_levels(staged)
                    visible.prices, visible.qtys, visible.counts = staged.prices, staged.qtys, staged.counts
                    staged.prices, staged.qtys, staged.counts = [], [], []
            self.snap_sides = 0
            self.counters["snapshots"] += 1
            return APPLIED | self._event() if changed else APPLIED
        self.counters["ignored"] += 1
        return 0

    def _reject(self, why: str) -> int:
        self.counters["rejected"] += 1
        self.counters["rejected_" + why] += 1
        return REJECTED | (_REASON[why] << REASON_SHIFT)

    def _event(self) -> int:
        self.counters["book_events"] += 1
        return BOOK_EVENT

    def _price_book(self, side: int, action: int, price: int, qty: int, pos: int, count: int) -> int:
        if side > 1:
            return self._reject("side")
        if action > BookAction.DELETE_FROM:
            return self._reject("action")
        s = self.sides[side]
        n = len(s)
        if pos < 0 or pos > n or (pos == n and action != BookAction.ADD):
            return self._reject("position")
        if action == BookAction.DELETE:
            s.remove(n - pos - 1)
        elif action == BookAction.DELETE_FROM:
            s.truncate(n - pos - 1)
        else:
            if qty <= 0 or count < 0:
                return self._reject("qty")
            if action == BookAction.EDIT:
                i = n - pos - 1
                self.counters["applied"] += 1
                if s.qtys[i] == qty and s.counts[i] == count:
                    return APPLIED
                s.qtys[i], s.counts[i] = qty, count
                return APPLIED | self._event()
            if price == PRICE_NONE:
                return self._reject("price")
            if price % self.tick:
                return self._reject("tick")
            i = n - pos
            if (i > 0 and not s.worse(s.prices[i - 1], price)) or (i < n and not s.worse(price, s.prices[i])):
                return self._reject("order")
            if n >= self.capacity:
                return self._reject("capacity")
            s.insert(i, price, qty, count)
        self.counters["applied"] += 1
        return APPLIED | self._event()

    def _l2(self, flags: int, side: int, price: int, qty: int, count: int) -> int:
        in_snapshot = self.snap_sides != 0
        closes = not in_snapshot and flags & EventFlag.LAST
        if flags & EventFlag.INVALID:
            r = self._reject("flagged")
        elif side > 1:
            r = self._reject("side")
        elif in_snapshot and not self.snap_sides & (1 << side):
            r = self._reject("sequence")
        elif price == PRICE_NONE:
            r = self._reject("price")
        elif price % self.tick:
            r = self._reject("tick")
        elif qty < 0 or count < 0:
            r = self._reject("qty")
        else:
            s = (self.stage if in_snapshot else self.sides)[side]
            changed = self._set_level(s, price, qty, count)
            if changed is None:
                r = self._reject("capacity")
            else:
                self.counters["applied"] += 1
                if not in_snapshot:
                    self.msg_changed |= changed
                r = APPLIED
        if closes:
            if self.msg_changed:
                r |= self._event()
            self.msg_changed = False
        return r

    def _set_level(self, s: BookSide, price: int, qty: int, count: int) -> bool | None:
        """True if a level changed, False if not, None if the side is full."""
        i = s.insertion_index(price)
        if i < len(s) and s.prices[i] == price:
            if qty == 0:
                s.remove(i)
                return True
            if s.qtys[i] == qty and s.counts[i] == count:
                return False
            s.qtys[i], s.counts[i] = qty, count
            return True
        if qty == 0:
            return False
        if len(s) >= self.capacity:
            return None
        s.insert(i, price, qty, count)
        return True
