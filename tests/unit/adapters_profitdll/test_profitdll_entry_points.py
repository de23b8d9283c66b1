"""The C callback entry points called directly, from threads, through
ctypes, as the DLL would call them: records in the ring, raw dates decoded
by the reader, invalid values flagged, other threads counted."""

from __future__ import annotations

import ctypes as C
import math
import threading

import numpy as np
import pytest

from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN
from quantumtrader.data.events import EventFlag, EventType
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.ring import Ring


class TAssetID(C.Structure):
    _pack_ = 1  # Delphi packed record: 20 bytes
    _fields_ = [("ticker", C.c_void_p), ("exchange", C.c_void_p), ("feed", C.c_int32)]


TRADE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_uint32, C.c_double, C.c_double, C.c_int32, C.c_int32,
                    C.c_int32, C.c_int32, C.c_uint16)
TINY = C.CFUNCTYPE(None, TAssetID, C.c_double, C.c_int32, C.c_int32)
STATE = C.CFUNCTYPE(None, C.c_int32, C.c_int32)


def wide(s: str) -> C.Array:
    return C.create_string_buffer((s + "\0").encode("utf-16-le"))


@pytest.fixture
def feed():
    profitdll.detach_rings()
    profitdll.feed_reset()
    market = Ring(4096)
    profitdll.register_instrument("WINZ26", 7, 5.0)
    profitdll.attach_rings(market)
    yield market
    profitdll.detach_rings()
    profitdll.feed_reset()


def run_in_thread(fn) -> None:
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def test_entry_points_from_a_dll_thread(feed: Ring) -> None:
    ticker, exch, date = wide("WINZ26"), wide("F"), wide("03/11/2026 10:15:30.125")
    asset = TAssetID(C.addressof(ticker), C.addressof(exch), 0)
    on_trade = TRADE(profitdll.callback_address("trade"))
    on_tiny = TINY(profitdll.callback_address("tiny_book"))
    on_state = STATE(profitdll.callback_address("state"))

    def dll_thread() -> None:
        on_state(2, 4)
        on_trade(asset, C.addressof(date), 77, 130255.0, 0.0, 3, 10, 20, 2, 0)
        on_trade(asset, C.addressof(date), 78, math.nan, 0.0, 3, 10, 20, 2, 0)
        on_tiny(asset, 130250.0, 12, 0)

    run_in_thread(dll_thread)
    reader = profitdll.MarketReader(feed, utc_offset_min=EXCHANGE_UTC_OFFSET_MIN)
    ev = reader.read()
    assert [int(t) for t in ev["type"]] == [EventType.CONN_STATE, EventType.TRADE, EventType.TRADE,
                                            EventType.TINY_BOOK]
    t = ev[1]
    assert (t["instrument"], t["price"], t["qty"], t["ref"], t["a"], t["b"], t["code"]) == (
        7, 26051, 3, 77, 10, 20, 2)
    # 10:15:30.125 in Sao Paulo (UTC-3) is 13:15:30.125 UTC
    assert t["exch_ns"] == int(np.datetime64("2026-11-03T13:15:30.125", "ns").astype(np.int64))
    assert ev[2]["flags"] & EventFlag.INVALID and not ev[1]["flags"]
    assert ev[3]["price"] == 26050
    c = profitdll.feed_counters()
    assert c["invalid"] == 1 and c["foreign_thread_calls"] == 0 and c["callback_thread"] != 0
    assert reader.counters["dates"] == 2

    run_in_thread(lambda: on_tiny(asset, 130260.0, 1, 1))  # a second DLL thread
    assert profitdll.feed_counters()["foreign_thread_calls"] == 1
    assert len(reader.read()) == 1  # still delivered, in order

    profitdll.detach_rings()
    run_in_thread(lambda: on_tiny(asset, 130260.0, 1, 1))
    assert profitdll.feed_counters()["detached_calls"] == 1 and len(reader.read()) == 0


def test_registration_rules() -> None:
    profitdll.detach_rings()
    profitdll.feed_reset()
    try:
        profitdll.register_instrument("WDOZ26", 1, 0.5)
        profitdll.register_instrument("WDOZ26", 1, 0.5)  # again, same: fine
        with pytest.raises(ValueError):
            profitdll.register_instrument("WDOZ26", 2, 0.5)
        with pytest.raises(ValueError):
            profitdll.register_instrument("WINZ26", 3, 0.0)
        with pytest.raises(ValueError):
            profitdll.register_instrument("X" * 40, 4, 1.0)
        with pytest.raises(ValueError):
            profitdll.register_instrument("WINZ26", profitdll.ALL_INSTRUMENTS, 5.0)
        assert profitdll.registered_instruments() == 1
        assert profitdll.parse_date("03/11/2026 10:15:30.125", EXCHANGE_UTC_OFFSET_MIN) == int(
            np.datetime64("2026-11-03T13:15:30.125", "ns").astype(np.int64))
        assert profitdll.parse_date("31/02/2026 10:00:00") is None
    finally:
        profitdll.feed_reset()
