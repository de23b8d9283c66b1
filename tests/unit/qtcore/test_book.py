"""PriceBook (C core) against the pure-Python ReferenceBook, plus the wrapper's
API and bad input.  The fuzz test drives both with random record sequences,
valid and invalid, and compares the whole state after every record."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from reference.book_reference import ReferenceBook

from quantumtrader.data.events import PRICE_NONE, BookAction, EventFlag, EventType, empty_events
from quantumtrader.qtcore.book import (
    APPLIED,
    BOOK_EVENT,
    REJECT_REASONS,
    REJECTED,
    PriceBook,
    reject_reason,
)

PB, L2 = EventType.PRICE_BOOK, EventType.L2_LEVEL
BEGIN, END = EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END
LAST, INVALID = int(EventFlag.LAST), int(EventFlag.INVALID)


def record(type_, side=0, code=0, price=PRICE_NONE, qty=0, a=0, b=0, flags=0) -> np.ndarray:
    ev = empty_events(1)
    ev["type"], ev["side"], ev["code"], ev["price"] = type_, side, code, price
    ev["qty"], ev["a"], ev["b"], ev["flags"] = qty, a, b, flags
    return ev


def stream(*recs: np.ndarray) -> np.ndarray:
    return np.concatenate(recs)


def assert_same(book: PriceBook, ref: ReferenceBook) -> None:
    for side in (0, 1):
        prices, qtys, counts = book.levels(side)
        rp, rq, rc = ref.sides[side].best_first()
        assert prices.tolist() == rp and qtys.tolist() == rq and counts.tolist() == rc, f"side {side}"
        assert book.size(side) == len(rp)
        assert book.depth(side, 3) == ref.depth(side, 3)
    assert (book.best_bid, book.best_ask, book.bid_qty, book.ask_qty) == (
        ref.best(0), ref.best(1), ref.best_qty(0), ref.best_qty(1))
    state = ref.state()
    assert (book.is_valid, book.is_locked, book.is_crossed) == (
        state == "valid", state == "locked", state == "crossed")
    assert book.in_snapshot == ref.snap_sides
    assert book.counters == ref.counters
    book.check()


# ---------------------------------------------------------------- actions


def test_profitdll_actions_positions_count_from_the_end() -> None:
    book = PriceBook(tick_units=5, capacity=8)
    for pos, price in ((0, 100), (0, 110), (2, 90), (2, 95)):  # best, new best, new worst, between 100 and 90
        assert book.apply_one(record(PB, 0, BookAction.ADD, price, 10, pos, 1)) == APPLIED | BOOK_EVENT
    assert book.levels(0)[0].tolist() == [110, 100, 95, 90]
    assert book.apply_one(record(PB, 0, BookAction.EDIT, qty=7, a=1, b=2)) == APPLIED | BOOK_EVENT
    assert book.levels(0, 2)[1].tolist() == [10, 7] and book.levels(0, 2)[2].tolist() == [1, 2]
    assert book.apply_one(record(PB, 0, BookAction.EDIT, qty=7, a=1, b=2)) == APPLIED  # no change
    assert book.apply_one(record(PB, 0, BookAction.DELETE, a=3)) & BOOK_EVENT  # the worst
    assert book.levels(0)[0].tolist() == [110, 100, 95]
    assert book.apply_one(record(PB, 0, BookAction.DELETE_FROM, a=1)) & BOOK_EVENT  # keeps 3 - 1 - 1
    assert book.levels(0)[0].tolist() == [95]
    for pos, price in ((0, 120), (0, 115), (2, 130)):
        assert book.apply_one(record(PB, 1, BookAction.ADD, price, 4, pos, 1)) & APPLIED
    assert book.levels(1)[0].tolist() == [115, 120, 130]
    assert (book.best_bid, book.best_ask, book.bid_qty, book.ask_qty) == (95, 115, 10, 4)
    assert book.is_valid
    assert book.counters["book_events"] == 10 and book.counters["rejected"] == 0
    book.check()


def test_add_that_breaks_the_price_order_is_rejected() -> None:
    book = PriceBook(tick_units=1)
    book.apply(stream(record(PB, 1, BookAction.ADD, 101, 1, 0, 1),
                      record(PB, 1, BookAction.ADD, 100, 1, 0, 1)))
    for pos, price in ((0, 102), (0, 100), (2, 100), (1, 99)):
        r = book.apply_one(record(PB, 1, BookAction.ADD, price, 1, pos, 1))
        assert r & REJECTED and reject_reason(r) == "order", (pos, price)
    assert book.levels(1)[0].tolist() == [100, 101]
    assert book.counters["rejected_order"] == 4


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("rec", "reason"),
    [
        # a NaN or unrepresentable price: producers write PRICE_NONE (qt_price_from_double fails)
        (record(PB, 0, BookAction.ADD, PRICE_NONE, 5, 0, 1), "price"),
        (record(L2, 0, 0, PRICE_NONE, 5, 0, 1, LAST), "price"),
        (record(PB, 0, BookAction.ADD, 102, 5, 0, 1), "tick"),
        (record(L2, 1, 0, 97, 5, 0, 1, LAST), "tick"),
        (record(PB, 0, BookAction.ADD, 105, -5, 0, 1), "qty"),
        (record(PB, 0, BookAction.ADD, 105, 0, 0, 1), "qty"),
        (record(PB, 0, BookAction.EDIT, PRICE_NONE, -1, 0, 1), "qty"),
        (record(L2, 0, 0, 100, -3, 0, 1, LAST), "qty"),
        (record(L2, 0, 0, 100, 3, 0, -1, LAST), "qty"),
        (record(PB, 0, BookAction.ADD, 95, 5, 2, 1), "position"),  # size 1: position <= 1
        (record(PB, 0, BookAction.ADD, 105, 5, -1, 1), "position"),
        (record(PB, 0, BookAction.EDIT, PRICE_NONE, 5, 1, 1), "position"),
        (record(PB, 1, BookAction.DELETE, a=0), "position"),  # empty side
        (record(PB, 0, BookAction.DELETE_FROM, a=7), "position"),
        (record(PB, 0, BookAction.FULL_BOOK, 105, 5, 0, 1), "action"),
        (record(PB, 0, 9, 105, 5, 0, 1), "action"),
        (record(PB, 2, BookAction.ADD, 105, 5, 0, 1), "side"),
        (record(L2, 5, 0, 100, 5, 0, 1, LAST), "side"),
        (record(BEGIN, 3), "side"),
        (record(PB, 0, BookAction.ADD, 105, 5, 0, 1, INVALID), "flagged"),
        (record(L2, 0, 0, 100, 5, 0, 1, LAST | INVALID), "flagged"),
        (record(END, flags=LAST), "sequence"),
    ],
)
def test_bad_record_is_rejected_counted_and_changes_nothing(rec: np.ndarray, reason: str) -> None:
    book = PriceBook(tick_units=5, capacity=4)
    book.apply_one(record(PB, 0, BookAction.ADD, 100, 10, 0, 1))
    before = [book.levels(s) for s in (0, 1)]
    r = book.apply_one(rec)
    assert r & REJECTED and not r & APPLIED and reject_reason(r) == reason
    after = [book.levels(s) for s in (0, 1)]
    for x, y in zip(before, after, strict=True):
        for u, v in zip(x, y, strict=True):
            np.testing.assert_array_equal(u, v)
    c = book.counters
    assert c["rejected"] == 1 and c[f"rejected_{reason}"] == 1 and c["applied"] == 1
    book.check()


def test_capacity_is_fixed_and_refusals_are_counted() -> None:
    book = PriceBook(capacity=3)
    ev = stream(*(record(L2, 0, 0, 100 + i, 1, 0, 1, LAST) for i in range(5)))
    assert book.apply(ev) == 3
    assert book.size(0) == 3 and book.counters["rejected_capacity"] == 2
    assert book.apply_one(record(PB, 0, BookAction.ADD, 200, 1, 0, 1)) & REJECTED
    assert book.counters["rejected_capacity"] == 3
    assert book.apply_one(record(L2, 0, 0, 101, 0, 0, 0, LAST)) == APPLIED | BOOK_EVENT  # delete still works
    book.check()
    assert book.deepest == (3, 0)  # what was held, not what was refused


def test_deepest_is_the_high_water_mark_of_each_side_staging_included() -> None:
    book = PriceBook()
    book.apply(stream(*(record(L2, 1, 0, 200 + i, 1, 0, 1, LAST) for i in range(4))))
    book.apply(stream(*(record(L2, 1, 0, 200 + i, 0, 0, 0, LAST) for i in range(3))))
    assert book.size(1) == 1 and book.deepest == (0, 4)
    # a full book of 6 bids being built needs 6 levels even if it is abandoned
    book.apply(stream(record(BEGIN, 0), *(record(L2, 0, 0, 100 + i, 1, 0, 1) for i in range(6))))
    book.clear()
    assert book.size(0) == 0 and book.deepest == (6, 4)


def test_other_record_types_are_ignored() -> None:
    book = PriceBook()
    ev = empty_events(4)
    ev["type"] = [EventType.TRADE, EventType.TINY_BOOK, EventType.OFFER_BOOK, EventType.PHASE]
    ev["price"] = 100
    ev["qty"] = 1
    assert book.apply(ev) == 0
    assert book.counters["ignored"] == 4 and book.counters["rejected"] == 0 and book.size(0) == 0


def test_wrapper_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        PriceBook(tick_units=0)
    with pytest.raises(ValueError):
        PriceBook(capacity=0)
    book = PriceBook()
    with pytest.raises(TypeError):
        book.apply(np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError):
        book.apply_one(np.zeros(64, dtype=np.uint8))
    with pytest.raises(ValueError):
        book.apply_one(empty_events(2))
    with pytest.raises(ValueError):
        book.levels(2)
    with pytest.raises(ValueError):
        book.depth(-1, 5)
    with pytest.raises(ValueError):
        book.depth(0, -1)
    assert book.apply(empty_events(0)) == 0


# --------------------------------------------------- L2 path and snapshots


def test_l2_message_is_one_book_event_at_its_last_record() -> None:
    book = PriceBook()
    msg = stream(record(L2, 0, 0, 100, 5, 0, 1), record(L2, 1, 0, 102, 6, 0, 1),
                 record(L2, 0, 0, 101, 7, 0, 2, LAST))
    assert book.apply(msg) == 1
    assert book.apply(msg) == 0  # the same levels again: changes nothing
    assert book.apply(stream(record(L2, 0, 0, 101, 0, 0, 0, LAST))) == 1
    assert book.levels(0)[0].tolist() == [100]
    assert (book.best_bid, book.best_ask) == (100, 102)
    assert book.counters["book_events"] == 2 and book.counters["applied"] == 7


def test_full_book_is_staged_across_packets_and_swapped_at_the_last() -> None:
    book = PriceBook()
    book.apply(stream(record(L2, 0, 0, 90, 1, 0, 1), record(L2, 1, 0, 95, 1, 0, 1, LAST)))
    packet1 = stream(record(BEGIN, 2, a=-1), record(L2, 0, 0, 98, 8, 0, 1), record(L2, 1, 0, 103, 3, 0, 1),
                     record(L2, 0, 0, 100, 10, 0, 1), record(END))
    assert book.apply(packet1) == 0
    assert book.in_snapshot == 3
    assert (book.best_bid, book.best_ask) == (90, 95)  # visible book untouched
    packet2 = stream(record(L2, 1, 0, 101, 1, 0, 1), record(L2, 0, 0, 99, 9, 0, 1), record(END, flags=LAST))
    assert book.apply(packet2) == 1
    assert book.levels(0)[0].tolist() == [100, 99, 98] and book.levels(1)[0].tolist() == [101, 103]
    assert book.in_snapshot == 0 and book.counters["snapshots"] == 1
    # an identical full book changes no level
    same = stream(record(BEGIN, 2), record(L2, 1, 0, 103, 3, 0, 1), record(L2, 0, 0, 99, 9, 0, 1),
                  record(L2, 0, 0, 100, 10, 0, 1), record(L2, 1, 0, 101, 1, 0, 1),
                  record(L2, 0, 0, 98, 8, 0, 1), record(END, flags=LAST))
    assert book.apply(same) == 0
    book.check()


def test_clear_empties_the_book_and_keeps_counters() -> None:
    book = PriceBook()
    book.apply(stream(record(L2, 0, 0, 90, 1, 0, 1, LAST), record(BEGIN, 0)))
    book.clear()
    assert book.size(0) == 0 and book.best_bid == PRICE_NONE and book.bid_qty == 0 and book.in_snapshot == 0
    c = book.counters
    assert c["applied"] == 2 and c["book_events"] == 1 and c["snapshots_abandoned"] == 1


def test_queries_and_capsule() -> None:
    book = PriceBook(tick_units=5)
    book.apply(stream(*(record(L2, 0, 0, 1000 - 5 * i, 10 + i, 0, i, 0) for i in range(8)),
                      *(record(L2, 1, 0, 1005 + 5 * i, 20 + i, 0, i, 0) for i in range(8)),
                      record(L2, 1, 0, 1005, 20, 0, 0, LAST)))
    prices, qtys, counts = book.levels(1, 3)
    assert prices.dtype == np.int64 and qtys.dtype == np.int64 and counts.dtype == np.int32
    assert prices.tolist() == [1005, 1010, 1015] and qtys.tolist() == [20, 21, 22]
    assert book.depth(0, 5) == sum(10 + i for i in range(5)) and book.depth(0, 100) == sum(range(10, 18))
    assert len(book.levels(0, 100)[0]) == 8 and len(book.levels(0, 0)[0]) == 0
    assert book.is_valid and not book.is_locked and not book.is_crossed
    book.apply_one(record(L2, 1, 0, 1000, 1, 0, 1, LAST))
    assert book.is_locked and not book.is_valid
    book.apply_one(record(L2, 1, 0, 995, 1, 0, 1, LAST))
    assert book.is_crossed
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.argtypes, is_valid.restype = [ctypes.py_object, ctypes.c_char_p], ctypes.c_int
    assert is_valid(book.capsule(), b"qt_book") == 1
    assert set(REJECT_REASONS[1:]) <= {k.removeprefix("rejected_") for k in book.counters}


def test_bulk_apply_equals_the_reference_on_a_long_random_stream() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    ev = empty_events(n)
    kind = rng.integers(0, 10, n)
    ev["type"] = np.where(kind < 6, PB, np.where(kind < 9, L2, EventType.TRADE))
    ev["side"] = rng.integers(0, 2, n)
    ev["code"] = rng.choice([0, 0, 0, 1, 1, 2, 3], n)
    ev["a"] = np.minimum(rng.geometric(0.5, n) - 1, 30)
    ev["price"] = 2 * rng.integers(0, 60, n)
    ev["qty"] = rng.integers(0, 9, n)
    ev["b"] = rng.integers(0, 4, n)
    ev["flags"] = np.where(rng.random(n) < 0.5, LAST, 0)
    book, ref = PriceBook(tick_units=2, capacity=32), ReferenceBook(tick_units=2, capacity=32)
    events = book.apply(ev)
    ref_events = sum(bool(ref.apply_record(r) & BOOK_EVENT) for r in ev)
    assert events == ref_events > 1000
    assert_same(book, ref)


# ------------------------------------------------------------------ fuzz

TICK, GRID = 5, 16  # prices on a small grid so levels collide; some off the grid


def weighted(*pairs):
    """sampled_from with integer weights: weighted((value, weight), ...)."""
    return st.sampled_from([v for v, w in pairs for _ in range(w)])


@st.composite
def price_value(draw) -> int:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return PRICE_NONE
    if kind == 1:
        return TICK * draw(st.integers(0, GRID)) + draw(st.integers(1, TICK - 1))  # off tick
    return TICK * draw(st.integers(0, GRID))


def fitting_price(ref: ReferenceBook, side: int, pos: int) -> int | None:
    """A price an add at ``pos`` may take without breaking the order, if any."""
    s = ref.sides[side]
    i = len(s) - pos
    if not 0 <= i <= len(s):
        return None
    lo, hi = (s.prices[i - 1] if i > 0 else None), (s.prices[i] if i < len(s) else None)
    if side == 1:
        lo, hi = hi, lo  # asks: worse is higher
    lo = -TICK if lo is None else lo
    hi = TICK * (GRID + 2) if hi is None else hi
    choices = list(range(lo + TICK, hi, TICK))
    return choices[len(choices) // 2] if choices else None


FLAGS = weighted((0, 6), (LAST, 6), (INVALID, 1), (LAST | INVALID, 1))
SIDE = weighted((0, 8), (1, 8), (2, 1), (7, 1))
OPS = weighted(("pb", 8), ("l2", 7), ("begin", 1), ("end", 2), ("other", 1), ("clear", 1))
ACTIONS = weighted((0, 5), (1, 3), (2, 3), (3, 1), (4, 1), (11, 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), capacity=st.integers(1, 12))
def test_fuzz_against_reference(data, capacity: int) -> None:
    book = PriceBook(tick_units=TICK, capacity=capacity)
    ref = ReferenceBook(tick_units=TICK, capacity=capacity)
    # start from a book of some depth (built by valid L2 messages), so deep-side paths get exercised
    for side in (0, 1):
        for k in data.draw(st.lists(st.integers(0, GRID), max_size=capacity + 2), label=f"prefill {side}"):
            rec = record(L2, side, 0, TICK * k, 1 + k % 4, 0, 1, LAST)
            assert book.apply_one(rec) == ref.apply_record(rec[0])
    assert_same(book, ref)
    deepest = 0
    for _ in range(data.draw(st.integers(1, 80), label="steps")):
        op, flags, side = data.draw(OPS), data.draw(FLAGS), data.draw(SIDE)
        if op == "clear":
            book.clear()
            ref.clear()
            assert_same(book, ref)
            continue
        if op == "pb":
            action = data.draw(ACTIONS)
            size = len(ref.sides[side]) if side < 2 else 0
            pos = data.draw(st.one_of(st.integers(0, 2), st.integers(-1, size + 1)))
            price = data.draw(price_value())
            if action == 0 and side < 2 and data.draw(st.booleans()):
                price = fitting_price(ref, side, pos) or price
            rec = record(PB, side, action, price, data.draw(st.integers(-1, 6)), pos,
                         data.draw(st.integers(-1, 4)), flags)
        elif op == "l2":
            qty = data.draw(weighted((0, 2), (1, 2), (2, 1), (3, 1), (8, 1), (-1, 1)))
            rec = record(L2, side, 0, data.draw(price_value()), qty, 0, data.draw(st.integers(-1, 3)), flags)
        elif op == "begin":
            rec = record(BEGIN, data.draw(weighted((0, 1), (1, 1), (2, 2), (3, 1))), flags=flags)
        elif op == "end":
            rec = record(END, flags=flags)
        else:
            rec = record(EventType.TRADE, side, 2, TICK * 3, 1, flags=flags)
        got = book.apply_one(rec)
        want = ref.apply_record(rec[0])
        assert got == want, (op, rec, got, want)
        assert_same(book, ref)
        deepest = max(deepest, len(ref.sides[0]), len(ref.sides[1]), len(ref.stage[0]), len(ref.stage[1]))
    target(float(deepest))  # steer towards deep sides
