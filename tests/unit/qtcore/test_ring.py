"""The core's SPSC ring as seen from Python: counters, drop accounting,
the lossless policy used for order updates, waiting and closing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from quantumtrader.data.events import EVENT_DTYPE, EventType, empty_events
from quantumtrader.qtcore.ring import EVENT_SIZE, ORDER_UPDATE_SIZE, Ring


def _events(n: int, start: int = 0) -> np.ndarray:
    ev = empty_events(n)
    ev["type"] = EventType.TRADE
    ev["seq"] = np.arange(start, start + n)
    ev["price"] = np.arange(start, start + n) * 2
    return ev


def test_record_sizes_match_numpy() -> None:
    assert EVENT_SIZE == EVENT_DTYPE.itemsize == 64
    assert ORDER_UPDATE_SIZE == 256


def test_push_pop_round_trip_in_order() -> None:
    ring = Ring(1024)
    ev = _events(1000)
    assert ring.push_bytes(ev.view(np.uint8)) == 1000
    out = empty_events(1000)
    assert ring.pop_bytes(out.view(np.uint8)) == 1000
    assert np.array_equal(out, ev)
    assert ring.pushed == ring.popped == 1000
    assert ring.dropped == 0


def test_full_market_ring_drops_and_counts_without_blocking() -> None:
    ring = Ring(8)
    assert ring.capacity == 8
    assert ring.push_bytes(_events(20).view(np.uint8)) == 8
    assert ring.dropped == 12
    assert not ring.overflowed  # dropping is the market ring's normal overload behaviour
    out = empty_events(20)
    got = ring.pop_bytes(out.view(np.uint8))
    assert got == 8
    assert list(out["seq"][:8]) == list(range(8))  # the oldest survive; later ones were refused


def test_batched_push_is_all_or_nothing() -> None:
    ring = Ring(8)
    assert ring.push_bytes(_events(6).view(np.uint8), batch=6) == 6
    assert ring.push_bytes(_events(4, 6).view(np.uint8), batch=4) == 0
    assert ring.dropped == 4
    assert ring.available == 6


def test_batches_wrap_around_a_small_ring_in_order() -> None:
    ring = Ring(8)
    out = empty_events(8)
    for lap in range(100):  # 300 records through 8 slots: every slot reused many times
        assert ring.push_bytes(_events(3, 3 * lap).view(np.uint8), batch=3) == 3
        assert ring.available == 3  # a batch is published at once
        assert ring.pop_bytes(out.view(np.uint8)) == 3
        assert list(out["seq"][:3]) == [3 * lap, 3 * lap + 1, 3 * lap + 2]
        assert ring.available == 0
    assert ring.pushed == ring.popped == 300


def test_crc_bytes_belong_to_the_ring() -> None:
    """Bytes 4..7 of a slot (``crc`` of an event, ``reserved`` of an order
    update) carry the ring's per-slot stamp: a pushed value is not stored
    and a popped record has 0 there, as the header says."""
    ring = Ring(4)
    ev = _events(6)
    ev["crc"] = 0xDEADBEEF
    out = empty_events(4)
    for _ in range(3):
        assert ring.push_bytes(ev[:2].view(np.uint8)) == 2
        assert ring.pop_bytes(out.view(np.uint8)) == 2
        assert (out["crc"][:2] == 0).all()
        assert np.array_equal(out[["seq", "price", "type"]][:2], ev[["seq", "price", "type"]][:2])


def test_lossless_ring_marks_overflow() -> None:
    ring = Ring(4, slot_size=ORDER_UPDATE_SIZE, lossless=True)
    rec = np.zeros(ORDER_UPDATE_SIZE * 5, dtype=np.uint8)
    assert ring.push_bytes(rec) == 4
    assert ring.overflowed


@pytest.mark.parametrize(("cap", "slot"), [(0, 64), (1, 64), (16, 0), (16, 12)])
def test_bad_ring_arguments_raise(cap: int, slot: int) -> None:
    with pytest.raises(ValueError, match="cannot create ring"):
        Ring(cap, slot_size=slot)


def test_buffer_not_a_whole_number_of_records() -> None:
    ring = Ring(8)
    with pytest.raises(ValueError, match="not a multiple"):
        ring.push_bytes(np.zeros(65, dtype=np.uint8))


def test_wait_times_out_and_is_woken_by_producer_and_close() -> None:
    ring = Ring(64)
    t0 = time.perf_counter()
    assert ring.wait(timeout_s=0.05, spin=10) == 0
    assert time.perf_counter() - t0 >= 0.04

    def produce() -> None:
        time.sleep(0.05)
        ring.push_bytes(_events(3).view(np.uint8), batch=3)  # published at once: wait sees all 3

    th = threading.Thread(target=produce)
    th.start()
    t0 = time.perf_counter()
    assert ring.wait(timeout_s=5.0, spin=10) == 3  # woken by the push ...
    assert time.perf_counter() - t0 < 2.0  # ... not by the timeout
    th.join()

    closer = threading.Timer(0.05, ring.close)
    closer.start()
    out = empty_events(3)
    ring.pop_bytes(out.view(np.uint8))
    t0 = time.perf_counter()
    assert ring.wait(timeout_s=5.0, spin=10) == 0
    assert time.perf_counter() - t0 < 2.0
    assert ring.closed


def test_threads_no_loss_when_consumer_keeps_up() -> None:
    """Python producer thread, consumer in this thread; both release the GIL
    inside the ring calls."""
    n, chunk = 200_000, 500
    ring = Ring(1 << 16)
    src = _events(n)

    def produce() -> None:
        for i in range(0, n, chunk):
            view = src[i : i + chunk].view(np.uint8)
            while ring.push_bytes(view, batch=chunk) == 0:  # wait for room: this test wants no loss
                time.sleep(0)
        ring.close()

    th = threading.Thread(target=produce)
    th.start()
    out = empty_events(n)
    got = 0
    while True:
        ring.wait(timeout_s=1.0)
        k = ring.pop_bytes(out[got:].view(np.uint8))
        got += k
        if k == 0 and ring.closed and ring.available == 0:
            break
    th.join()
    assert got == n
    assert np.array_equal(out["seq"], np.arange(n))


def test_shipped_modules_carry_no_benchmark_code() -> None:
    """The benchmarks' C lives in bench/c (built by bench/run.py), not in the wheel."""
    from quantumtrader.qtcore import features, ring

    assert not hasattr(ring, "ring_throughput")
    assert not hasattr(features.FeatureEngine, "bench_ring")
