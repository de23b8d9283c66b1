"""Price book update cost, in C (PriceBook.apply: a C loop over a pre-built
event array), per action type and on a realistic L2 stream, against the
pure-Python ReferenceBook on the same stream."""

from __future__ import annotations

import time

import numpy as np
from harness import Report, Result, median_time
from reference.book_reference import ReferenceBook

from quantumtrader.data.events import EventFlag, EventType, empty_events
from quantumtrader.qtcore.book import PriceBook

PB, L2 = EventType.PRICE_BOOK, EventType.L2_LEVEL
LAST = int(EventFlag.LAST)
ADD, EDIT, DELETE, DELETE_FROM = 0, 1, 2, 3
N = 400_000
DEPTH = 20
REPEATS = 7


def _events(n: int, type_: int, **fields) -> np.ndarray:
    ev = empty_events(n)
    ev["type"] = type_
    for name, value in fields.items():
        ev[name] = value
    return ev


def _book20() -> np.ndarray:
    """A full book of DEPTH levels per side around 10_000 (bids below, asks above), step 2."""
    levels = [(0, 10_000 - 2 * i, 10 + i) for i in range(DEPTH)] + [(1, 10_002 + 2 * i, 10 + i)
                                                                     for i in range(DEPTH)]
    ev = empty_events(len(levels) + 2)
    ev["type"][0], ev["side"][0] = EventType.SNAPSHOT_BEGIN, 2
    for k, (side, price, qty) in enumerate(levels, 1):
        ev["type"][k], ev["side"][k], ev["price"][k], ev["qty"][k], ev["b"][k] = L2, side, price, qty, 1
    ev["type"][-1], ev["flags"][-1] = EventType.SNAPSHOT_END, LAST
    return ev


def _near_top(rng: np.random.Generator, n: int) -> np.ndarray:
    """Level depths 0..DEPTH-1, mostly at the top (geometric)."""
    return np.minimum(rng.geometric(0.4, n) - 1, DEPTH - 1)


def _time_per_record(prepare, stream: np.ndarray) -> float:
    """Median ns per record of book.apply(stream) on a book made by prepare()."""
    times = []
    for _ in range(REPEATS):
        book = prepare()
        t0 = time.perf_counter()
        book.apply(stream)
        times.append(time.perf_counter() - t0)
        book.check()
    return float(np.median(times)) / len(stream) * 1e9


def _action_streams(rng: np.random.Generator):
    """(name, prepare, stream) per action type.  The book stays consistent in
    each stream; the checks in _time_per_record prove nothing was refused by
    accident."""
    def fresh(capacity: int = 4096):
        return lambda: PriceBook(capacity=capacity)

    def with_book20():
        b = PriceBook()
        b.apply(_book20())
        return b

    grow = N + 16
    # add on top of the bids, each a new best (a rising market), into an empty deep book
    add_top = _events(N, PB, code=ADD, side=0, a=0, price=np.arange(N) * 2 + 2, qty=5, b=1)
    # add at the bottom (position == size): O(1) too, the side has room below
    add_bottom = _events(N, PB, code=ADD, side=0, a=np.arange(N), price=-np.arange(N) * 2, qty=5, b=1)

    def built(stream, then_clear: bool = False):
        def prepare():
            b = PriceBook(capacity=grow)
            b.apply(stream)
            if then_clear:  # the pages are touched: time the adds, not the page faults
                b.clear()
            return b
        return prepare

    delete_top = _events(N, PB, code=DELETE, side=0, a=0)
    delete_from_top = _events(N, PB, code=DELETE_FROM, side=0, a=0)
    pos = _near_top(rng, N)
    edit = _events(N, PB, code=EDIT, side=rng.integers(0, 2, N), a=pos, qty=rng.integers(1, 50, N), b=1)
    # an add between two levels near the top (odd price in the even-price book) and its delete
    half = N // 2
    side = rng.integers(0, 2, half)
    p = np.minimum(_near_top(rng, half), DEPTH - 2)
    gap_price = np.where(side == 0, 10_000 - 2 * p - 1, 10_002 + 2 * p + 1)
    pair = empty_events(N)
    pair["type"] = PB
    pair["side"] = np.repeat(side, 2)
    pair["code"][0::2], pair["code"][1::2] = ADD, DELETE
    pair["a"] = np.repeat(p + 1, 2)  # just below level p, counted from the top
    pair["price"][0::2] = gap_price
    pair["qty"][0::2], pair["b"][0::2] = 7, 1
    l2_update = _events(N, L2, side=rng.integers(0, 2, N), qty=rng.integers(1, 50, N), b=1, flags=LAST)
    s = l2_update["side"]
    l2_update["price"] = np.where(s == 0, 10_000 - 2 * pos, 10_002 + 2 * pos)
    l2_pair = _events(N, L2, flags=LAST, b=1)
    l2_pair["side"] = pair["side"]
    l2_pair["price"] = np.repeat(gap_price, 2)
    l2_pair["qty"][0::2], l2_pair["qty"][1::2] = 7, 0
    snapshot = np.tile(_book20(), N // (2 * DEPTH + 2))
    rejected = _events(N, PB, code=ADD, side=0, a=0, price=3, qty=5, b=1)  # off tick 2
    ignored = _events(N, EventType.TRADE, price=10_000, qty=1)

    def tick2():
        return PriceBook(tick_units=2)

    return [
        ("PRICE_BOOK add at top (new best)", built(add_top, then_clear=True), add_top),
        ("PRICE_BOOK add at bottom (new worst)", built(add_bottom, then_clear=True), add_bottom),
        ("PRICE_BOOK delete at top", built(add_top), delete_top),
        ("PRICE_BOOK delete-from top", built(add_top), delete_from_top),
        ("PRICE_BOOK edit near top (20 levels)", with_book20, edit),
        ("PRICE_BOOK add+delete near top (20 levels)", with_book20, pair),
        ("L2 update existing level near top", with_book20, l2_update),
        ("L2 insert+delete near top", with_book20, l2_pair),
        ("full book 20+20 levels, per record", with_book20, snapshot),
        ("rejected record (off tick)", tick2, rejected),
        ("ignored record (trade)", fresh(), ignored),
    ]


def realistic_l2_stream(n: int, seed: int = 1) -> np.ndarray:
    """Imported-capture style L2 diffs on a 20-level book: messages of 1-4
    level changes, mostly quantity changes near the top, and now and then
    the mid moves one tick (the best level of one side goes, the other side
    gains a new best, both sides' far ends follow to keep 20 levels)."""
    rng = np.random.default_rng(seed)
    ev = empty_events(n)
    ev["type"] = L2
    ev["b"] = 1
    bid, ask = 10_000, 10_002  # best prices; levels every 2 units, DEPTH per side
    sides, prices, qtys, flags = ev["side"], ev["price"], ev["qty"], ev["flags"]
    k = 0
    for level in range(DEPTH):  # the initial book as one message
        for side, price in ((0, bid - 2 * level), (1, ask + 2 * level)):
            sides[k], prices[k], qtys[k] = side, price, 10 + level
            k += 1
    flags[k - 1] = LAST
    depth = _near_top(rng, n)
    qty = rng.integers(1, 60, n)
    coin = rng.random(n)
    msg_len = rng.integers(1, 5, n)
    j = 0
    while k < n - 4:
        if coin[j] < 0.06 and k < n - 8:  # the mid moves: 4 level changes, one message
            up = coin[j] < 0.03
            if up:  # best ask taken out, bids step up
                recs = [(1, ask, 0), (0, bid - 2 * (DEPTH - 1), 0), (0, ask, qty[j]),
                        (1, ask + 2 * DEPTH, qty[j])]
                bid, ask = bid + 2, ask + 2
            else:
                recs = [(0, bid, 0), (1, ask + 2 * (DEPTH - 1), 0), (1, bid, qty[j]),
                        (0, bid - 2 * DEPTH, qty[j])]
                bid, ask = bid - 2, ask - 2
        else:  # quantity changes near the top
            recs = []
            for i in range(int(msg_len[j])):
                t = (j + i) % n
                side = int(coin[t] * 1000) & 1
                recs.append((side, bid - 2 * depth[t] if side == 0 else ask + 2 * depth[t], qty[t]))
        for side, price, q in recs:
            sides[k], prices[k], qtys[k] = side, price, q
            k += 1
        flags[k - 1] = LAST
        j += 1
    return ev[:k]


def run(report: Report) -> None:
    rng = np.random.default_rng(3)
    for name, prepare, stream in _action_streams(rng):
        report.add(Result(f"book {name}", _time_per_record(prepare, stream), "ns/rec",
                          higher_is_better=False))

    stream = realistic_l2_stream(1_000_000)
    book = PriceBook()
    messages = book.apply(stream)
    book.check()
    assert book.size(0) == DEPTH and book.size(1) == DEPTH and book.counters["rejected"] == 0

    def c_run():
        PriceBook().apply(stream)

    rate = len(stream) / median_time(c_run, repeats=REPEATS)

    # baseline: the Python model on a prefix of the same stream (fields unpacked beforehand)
    prefix = stream[:100_000]
    fields = list(zip(*(prefix[f].tolist() for f in ("type", "flags", "side", "code", "price", "qty", "a",
                                                     "b")), strict=True))

    def py_run():
        ref = ReferenceBook()
        apply = ref.apply
        for rec in fields:
            apply(*rec)
        return ref

    py_rate = len(prefix) / median_time(py_run, repeats=3, warmup=0)
    ref, check = py_run(), PriceBook()
    check.apply(prefix)
    for side in (0, 1):  # the two books agree, so the comparison is like for like
        assert check.levels(side)[0].tolist() == ref.sides[side].best_first()[0]
    report.add(Result(f"book L2 level updates/s (20 levels, {messages:,} msgs)", rate, "upd/s",
                      budget=10e6, baseline=py_rate, baseline_name="Python ReferenceBook"))
