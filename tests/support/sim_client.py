"""A minimal ProfitDLL client over ctypes, for the simulator's tests.

It does what a client of the real DLL does, and no more: passes UTF-16
strings, receives callbacks on the DLL's thread, rebuilds the price book
from positional PriceBook actions and full-book arrays (freeing each array
with FreePointer inside the callback), reads V2 trades with TranslateTrade.
Everything received is recorded in order for the tests to compare with the
event log.  Tests only: the project's binding is its own module."""

from __future__ import annotations

import ctypes as C
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from quantumtrader.adapters.profitdll.simulator import library_path
from quantumtrader.calendar import EXCHANGE_UTC_OFFSET_MIN

NL_OK = 0


def nl(code: int) -> int:
    """NResult 0x8000000N as the signed int a call returns."""
    return code - (1 << 32)


NL_INTERNAL_ERROR = nl(0x80000001)
NL_NOT_INITIALIZED = nl(0x80000002)
NL_INVALID_ARGS = nl(0x80000003)
NL_WAITING_SERVER = nl(0x80000004)
NL_NO_LOGIN = nl(0x80000005)
NL_MARKET_ONLY = nl(0x8000000A)
NL_NO_POSITION = nl(0x8000000B)
NL_NOT_FOUND = nl(0x8000000C)
NL_VERSION_NOT_SUPPORTED = nl(0x8000000D)
NL_SERIE_NO_HISTORY = nl(0x80000014)
NL_DUPLICATE_RESOURCE = nl(0x8000001A)
NL_NO_PASSWORD = nl(0x8000001C)
NL_NO_USER = nl(0x8000001D)

OB_LAST_PACKET = 1
TC_IS_EDIT = 1
TC_LAST_PACKET = 2


class TAssetID(C.Structure):
    _pack_ = 1  # Delphi `packed record`: 20 bytes
    _fields_ = [("ticker", C.c_void_p), ("exchange", C.c_void_p), ("feed", C.c_int32)]


class TConnectorAssetIdentifier(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("Ticker", C.c_void_p), ("Exchange", C.c_void_p),
                ("FeedType", C.c_uint8)]


class SystemTime(C.Structure):
    _fields_ = [(n, C.c_uint16) for n in ("wYear", "wMonth", "wDayOfWeek", "wDay", "wHour", "wMinute",
                                          "wSecond", "wMilliseconds")]


class TConnectorTrade(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("TradeDate", SystemTime), ("TradeNumber", C.c_uint32),
                ("Price", C.c_double), ("Quantity", C.c_int64), ("Volume", C.c_double),
                ("BuyAgent", C.c_int32), ("SellAgent", C.c_int32), ("TradeType", C.c_uint8)]


class SimCounters(C.Structure):
    _fields_ = [(n, C.c_uint64) for n in (
        "records_replayed", "records_skipped", "records_invalid", "trades_delivered",
        "book_actions_delivered", "full_book_packets", "offer_book_delivered", "tiny_book_delivered",
        "daily_delivered", "phases_delivered", "history_trades_delivered", "drops", "records_lost_in_drops",
        "trades_lost_in_drops", "malformed_injected", "arrays_allocated", "arrays_freed",
        "free_pointer_errors", "forbidden_calls", "order_notifications", "replay_done", "state_callbacks",
        "early_order_callbacks", "early_callback_timeouts", "state_entries_written", "state_entries_restored",
        "state_write_errors", "state_restore_errors")]


class TConnectorAccountIdentifier(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("BrokerID", C.c_int32), ("AccountID", C.c_void_p),
                ("SubAccountID", C.c_void_p), ("Reserved", C.c_int64)]


class TConnectorAccountIdentifierOut(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("BrokerID", C.c_int32), ("AccountID", C.c_uint16 * 100),
                ("AccountIDLength", C.c_int32), ("SubAccountID", C.c_uint16 * 100),
                ("SubAccountIDLength", C.c_int32), ("Reserved", C.c_int64)]


class TConnectorAssetIdentifierOut(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("Ticker", C.c_void_p), ("TickerLength", C.c_int32),
                ("Exchange", C.c_void_p), ("ExchangeLength", C.c_int32), ("FeedType", C.c_uint8)]


class TConnectorOrderIdentifier(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("LocalOrderID", C.c_int64), ("ClOrderID", C.c_void_p)]


class TConnectorSendOrder(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("AssetID", TConnectorAssetIdentifier), ("Password", C.c_void_p), ("OrderType", C.c_uint8),
                ("OrderSide", C.c_uint8), ("Price", C.c_double), ("StopPrice", C.c_double),
                ("Quantity", C.c_int64)]


class TConnectorChangeOrder(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("OrderID", TConnectorOrderIdentifier), ("Password", C.c_void_p), ("Price", C.c_double),
                ("StopPrice", C.c_double), ("Quantity", C.c_int64)]


class TConnectorCancelOrder(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("OrderID", TConnectorOrderIdentifier), ("Password", C.c_void_p)]


class TConnectorCancelOrders(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("AssetID", TConnectorAssetIdentifier), ("Password", C.c_void_p)]


class TConnectorCancelAllOrders(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("Password", C.c_void_p)]


class TConnectorZeroPosition(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("AssetID", TConnectorAssetIdentifier), ("Password", C.c_void_p), ("Price", C.c_double),
                ("PositionType", C.c_uint8)]


class TConnectorOrderOut(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("OrderID", TConnectorOrderIdentifier),
                ("AccountID", TConnectorAccountIdentifierOut), ("AssetID", TConnectorAssetIdentifierOut),
                ("Quantity", C.c_int64), ("TradedQuantity", C.c_int64), ("LeavesQuantity", C.c_int64),
                ("Price", C.c_double), ("StopPrice", C.c_double), ("AveragePrice", C.c_double),
                ("OrderSide", C.c_uint8), ("OrderType", C.c_uint8), ("OrderStatus", C.c_uint8),
                ("ValidityType", C.c_uint8), ("Date", SystemTime), ("LastUpdate", SystemTime),
                ("CloseDate", SystemTime), ("ValidityDate", SystemTime), ("TextMessage", C.c_void_p),
                ("TextMessageLength", C.c_int32), ("EventID", C.c_int64)]


class TConnectorTradingAccountPosition(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("AccountID", TConnectorAccountIdentifier),
                ("AssetID", TConnectorAssetIdentifier), ("OpenQuantity", C.c_int64),
                ("OpenAveragePrice", C.c_double), ("OpenSide", C.c_uint8),
                ("DailyAverageSellPrice", C.c_double), ("DailySellQuantity", C.c_int64),
                ("DailyAverageBuyPrice", C.c_double), ("DailyBuyQuantity", C.c_int64),
                *[(n, C.c_int64) for n in ("DailyQuantityD1", "DailyQuantityD2", "DailyQuantityD3",
                                           "DailyQuantityBlocked", "DailyQuantityPending",
                                           "DailyQuantityAlloc", "DailyQuantityProvision", "DailyQuantity",
                                           "DailyQuantityAvailable")],
                ("PositionType", C.c_uint8), ("EventID", C.c_int64)]


class TConnectorOrder(C.Structure):
    _fields_ = [("Version", C.c_uint8), ("OrderID", TConnectorOrderIdentifier),
                ("AccountID", TConnectorAccountIdentifier), ("AssetID", TConnectorAssetIdentifier),
                ("Quantity", C.c_int64), ("TradedQuantity", C.c_int64), ("LeavesQuantity", C.c_int64),
                ("Price", C.c_double), ("StopPrice", C.c_double), ("AveragePrice", C.c_double),
                ("OrderSide", C.c_uint8), ("OrderType", C.c_uint8), ("OrderStatus", C.c_uint8),
                ("ValidityType", C.c_uint8), ("Date", SystemTime), ("LastUpdate", SystemTime),
                ("CloseDate", SystemTime), ("ValidityDate", SystemTime), ("TextMessage", C.c_void_p),
                ("EventID", C.c_int64)]


class SimPositionStats(C.Structure):
    _fields_ = [("net_qty", C.c_int64), ("average_price", C.c_double), ("realized_pnl", C.c_double),
                ("fees", C.c_double), ("fills", C.c_int64)]


assert C.sizeof(TAssetID) == 20 and C.sizeof(TConnectorTrade) == 64
assert (C.sizeof(TConnectorSendOrder), C.sizeof(TConnectorChangeOrder), C.sizeof(TConnectorCancelOrder),
        C.sizeof(TConnectorCancelOrders), C.sizeof(TConnectorCancelAllOrders),
        C.sizeof(TConnectorZeroPosition), C.sizeof(TConnectorOrderOut),
        C.sizeof(TConnectorTradingAccountPosition), C.sizeof(TConnectorOrder)) == \
    (112, 96, 72, 80, 48, 96, 640, 216, 232)

STATE = C.CFUNCTYPE(None, C.c_int32, C.c_int32)
TRADE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_uint32, C.c_double, C.c_double, C.c_int32, C.c_int32,
                    C.c_int32, C.c_int32, C.c_uint16)
HISTORY_TRADE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_uint32, C.c_double, C.c_double, C.c_int32,
                            C.c_int32, C.c_int32, C.c_int32)
TRADE_V2 = C.CFUNCTYPE(None, TConnectorAssetIdentifier, C.c_void_p, C.c_uint32)
DAILY = C.CFUNCTYPE(None, TAssetID, C.c_void_p, *([C.c_double] * 10), *([C.c_int32] * 7))
TINY = C.CFUNCTYPE(None, TAssetID, C.c_double, C.c_int32, C.c_int32)
PRICE_BOOK = C.CFUNCTYPE(None, TAssetID, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_double,
                         C.c_void_p, C.c_void_p)
PRICE_BOOK_V2 = C.CFUNCTYPE(None, TAssetID, C.c_int32, C.c_int32, C.c_int32, C.c_int64, C.c_int64,
                            C.c_double, C.c_void_p, C.c_void_p)
OFFER_BOOK = C.CFUNCTYPE(None, TAssetID, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_int32, C.c_int64,
                         C.c_double, C.c_uint16, C.c_uint16, C.c_uint16, C.c_uint16, C.c_uint16, C.c_void_p,
                         C.c_void_p, C.c_void_p)
PROGRESS = C.CFUNCTYPE(None, TAssetID, C.c_int32)
PHASE = C.CFUNCTYPE(None, TAssetID, C.c_void_p, C.c_int32)
INVALID_TICKER = C.CFUNCTYPE(None, TConnectorAssetIdentifier)
ORDER = C.CFUNCTYPE(None, TConnectorOrderIdentifier)
ENUMERATE_ORDERS = C.CFUNCTYPE(C.c_int32, C.POINTER(TConnectorOrder), C.c_ssize_t)


def wstr(text: str) -> C.Array:
    """A NUL-terminated UTF-16LE buffer (PWideChar)."""
    return C.create_string_buffer(text.encode("utf-16-le") + b"\0\0")


def read_wstr(ptr: int | None) -> str | None:
    if not ptr:
        return None
    n = 0
    while C.c_uint16.from_address(ptr + 2 * n).value:
        n += 1
    return C.string_at(ptr, 2 * n).decode("utf-16-le")


_lib: C.CDLL | None = None


def load() -> C.CDLL:
    global _lib
    if _lib is None:
        lib = C.CDLL(str(library_path()))
        lib.SimSetSpeed.argtypes = [C.c_double]
        lib.SimSetContractMultiplier.argtypes = [C.c_double]
        lib.SimSetDailyLimitPercent.argtypes = [C.c_double]
        lib.SendOrder.restype = C.c_int64
        lib.GetAgentNameByID.restype = C.c_void_p
        lib.FreePointer.argtypes = [C.c_void_p, C.c_int32]
        lib.TranslateTrade.argtypes = [C.c_void_p, C.POINTER(TConnectorTrade)]
        lib.SimSetEarlyOrderCallback.argtypes = [C.c_double]
        lib.SimRejectOrders.argtypes = [C.c_int, C.c_double, C.c_char_p]
        lib.SimSetOrderFees.argtypes = [C.c_double]
        lib.SimSetSeed.argtypes = [C.c_uint64]
        lib.SimGetOrderFees.argtypes = [C.c_int64, C.POINTER(C.c_double)]
        lib.GetOrderProfitID.argtypes = [C.c_int64]
        for name in ("SendBuyOrder", "SendSellOrder"):
            getattr(lib, name).argtypes = [C.c_void_p] * 5 + [C.c_double, C.c_int32]
        for name in ("SendStopBuyOrder", "SendStopSellOrder"):
            getattr(lib, name).argtypes = [C.c_void_p] * 5 + [C.c_double, C.c_double, C.c_int32]
        for name in ("SendMarketBuyOrder", "SendMarketSellOrder"):
            getattr(lib, name).argtypes = [C.c_void_p] * 5 + [C.c_int32]
        lib.SendChangeOrder.argtypes = [C.c_void_p] * 4 + [C.c_double, C.c_int32]
        lib.SendZeroPosition.argtypes = [C.c_void_p] * 5 + [C.c_double]
        for name in ("SendBuyOrder", "SendSellOrder", "SendStopBuyOrder", "SendStopSellOrder",
                     "SendMarketBuyOrder", "SendMarketSellOrder", "SendZeroPosition",
                     "SendZeroPositionAtMarket", "SendZeroPositionV2"):
            getattr(lib, name).restype = C.c_int64
        _lib = lib
    return _lib


def configure(lib: C.CDLL, log: str | None, *, speed: float = 0.0, auto_start: bool = False,
              packet_levels: int = 32, schedule: str = "", max_gap_ms: int = 2000,
              login_result: int = 0, delay_us: int = 0, latency_us: int = 5000, early: float = 0.0,
              fees: float = -1.0, seed: int = 1) -> None:
    """Set every Sim* option the tests use (the configuration is process-wide)."""
    assert lib.SimSetOrderLatencyUs(latency_us) == NL_OK
    assert lib.SimSetEarlyOrderCallback(early) == NL_OK
    assert lib.SimRejectOrders(0, 0.0, None) == NL_OK
    assert lib.SimSetOrderFees(fees) == NL_OK
    assert lib.SimSetSeed(seed) == NL_OK
    assert lib.SimSetReplayLog(log.encode() if log else None) == NL_OK
    assert lib.SimSetSpeed(speed) == NL_OK
    assert lib.SimSetAutoStart(int(auto_start)) == NL_OK
    assert lib.SimSetBookPacketLevels(packet_levels) == NL_OK
    assert lib.SimSetPhaseSchedule(schedule.encode()) == NL_OK
    assert lib.SimSetMaxGapMs(max_gap_ms) == NL_OK
    assert lib.SimSetLoginResult(login_result) == NL_OK
    assert lib.SimSetTicker(None, None) == NL_OK
    assert lib.SimSetUtcOffsetMinutes(EXCHANGE_UTC_OFFSET_MIN) == NL_OK
    assert lib.SimSetContractMultiplier(0.0) == NL_OK
    assert lib.SimSetCallbackDelayUs(delay_us) == NL_OK


@dataclass
class Trade:
    ticker: str
    date: str
    number: int
    price: float
    volume: float
    qty: int
    buy: int
    sell: int
    type: int
    edit: int


@dataclass
class ClientBook:
    """A side list kept as the DLL keeps it: worst-to-best, position from the end."""

    sides: tuple[list[list[float]], list[list[float]]] = field(default_factory=lambda: ([], []))
    pending: dict[int, list[list[float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def action(self, action: int, position: int, side: int, qty: int, count: int, price: float) -> None:
        if side not in (0, 1):
            self.errors.append(f"side {side}")
            return
        s = self.sides[side]
        n = len(s)
        if action == 0:
            if not 0 <= position <= n:
                self.errors.append(f"add at {position} of {n}")
                return
            s.insert(n - position, [price, qty, count])
        elif action in (1, 2, 3):
            if not 0 <= position < n:
                self.errors.append(f"action {action} at {position} of {n}")
                return
            i = n - position - 1
            if action == 1:
                s[i][1], s[i][2] = qty, count
            elif action == 2:
                del s[i]
            else:
                del s[i:]
        else:
            self.errors.append(f"action {action}")

    def full_book_array(self, side: int, entries: list[list[float]], last: bool) -> None:
        self.pending.setdefault(side, []).extend(entries)
        if last:
            self.sides[side][:] = self.pending.pop(side)

    def top(self, side: int) -> float | None:
        s = self.sides[side]
        return s[-1][0] if s else None


class SimClient:
    """Logs in to the simulator with every market callback set, records what comes."""

    def __init__(self, lib: C.CDLL, *, routing: bool = False, v2: bool = True,
                 on_trade: Any = None) -> None:
        self.lib = lib
        self.lock = threading.Lock()
        self.states: list[tuple[int, int]] = []
        self.trades: list[Trade] = []
        self.trades_v2: list[tuple[TConnectorTrade, int]] = []
        self.history: list[Trade] = []
        self.history_v2_flags: list[int] = []
        self.progress: list[int] = []
        self.phases: list[tuple[str, int]] = []
        self.dailies: list[tuple[float, ...]] = []
        self.tiny: list[tuple[int, float, int]] = []
        self.invalid: list[str] = []
        self.offers: list[tuple] = []
        self.book = ClientBook()
        self.book_v2 = ClientBook()
        self.book_at_trade: list[tuple[list, list]] = []
        self.callback_threads: set[int] = set()
        self.events: list[str] = []  # kinds in arrival order
        self.user_on_trade = on_trade
        self._cbs = self._make_callbacks()
        k, u, p = wstr("key"), wstr("user"), wstr("password")
        c = self._cbs
        if routing:
            rc = lib.DLLInitializeLogin(k, u, p, c["state"], None, None, None, c["trade"], c["daily"],
                                        c["book"], None, c["history"], c["progress"], c["tiny"])
        else:
            rc = lib.DLLInitializeMarketLogin(k, u, p, c["state"], c["trade"], c["daily"], c["book"],
                                              c["offer"], c["history"], c["progress"], c["tiny"])
        self.init_result = rc
        if rc == NL_OK:
            assert lib.SetChangeStateTickerCallback(c["phase"]) == NL_OK
            assert lib.SetInvalidTickerCallback(c["invalid"]) == NL_OK
            if v2:
                assert lib.SetTradeCallbackV2(c["trade_v2"]) == NL_OK
                assert lib.SetPriceBookCallbackV2(c["book_v2"]) == NL_OK
                assert lib.SetHistoryTradeCallbackV2(c["history_v2"]) == NL_OK

    # -- callbacks (the DLL's thread) -----------------------------------------
    def _note(self, kind: str) -> None:
        self.callback_threads.add(threading.get_ident())
        self.events.append(kind)

    def _read_array(self, ptr: int, v2: bool) -> tuple[list[list[float]], bool, bool]:
        count, size = struct.unpack("<ii", C.string_at(ptr, 8))
        raw = C.string_at(ptr, size)
        fmt, width = ("<dqi", 20) if v2 else ("<dii", 16)
        entries = [list(struct.unpack_from(fmt, raw, 8 + i * width)) for i in range(count)]
        (flags,) = struct.unpack_from("<I", raw, 8 + count * width)
        size_ok = 8 + count * width + 4 == size
        assert self.lib.FreePointer(ptr, size) == NL_OK
        return entries, bool(flags & OB_LAST_PACKET), size_ok

    def _book(self, book: ClientBook, v2: bool, action: int, position: int, side: int, qty: int, count: int,
              price: float, sell: int | None, buy: int | None) -> None:
        with self.lock:
            self._note("book")
            if action == 4:
                for sd, ptr in ((0, buy), (1, sell)):
                    if ptr:
                        entries, last, size_ok = self._read_array(ptr, v2)
                        if not size_ok:
                            book.errors.append("array size")
                        book.full_book_array(sd, entries, last)
            else:
                book.action(action, position, side, qty, count, price)

    def _make_callbacks(self) -> dict[str, Any]:
        lib = self.lib

        @STATE
        def state(t: int, r: int) -> None:
            with self.lock:
                self._note("state")
                self.states.append((t, r))

        @TRADE
        def trade(a: TAssetID, date: int, number: int, price: float, volume: float, qty: int, buy: int,
                  sell: int, type_: int, edit: int) -> None:
            with self.lock:
                self._note("trade")
                self.trades.append(Trade(read_wstr(a.ticker) or "", read_wstr(date) or "", number, price,
                                         volume, qty, buy, sell, type_, edit))
                bids, asks = self.book.sides
                self.book_at_trade.append(([x[:] for x in bids], [x[:] for x in asks]))
            if self.user_on_trade:
                self.user_on_trade(self, number)

        @TRADE_V2
        def trade_v2(a: TConnectorAssetIdentifier, ptr: int, flags: int) -> None:
            t = TConnectorTrade()
            rc = lib.TranslateTrade(ptr, C.byref(t))
            with self.lock:
                self._note("trade_v2")
                assert rc == NL_OK, rc
                self.trades_v2.append((t, flags))

        @HISTORY_TRADE
        def history(a: TAssetID, date: int, number: int, price: float, volume: float, qty: int, buy: int,
                    sell: int, type_: int) -> None:
            with self.lock:
                self._note("history")
                self.history.append(Trade(read_wstr(a.ticker) or "", read_wstr(date) or "", number, price,
                                          volume, qty, buy, sell, type_, 0))

        @TRADE_V2
        def history_v2(a: TConnectorAssetIdentifier, ptr: int, flags: int) -> None:
            t = TConnectorTrade()
            assert lib.TranslateTrade(ptr, C.byref(t)) == NL_OK
            with self.lock:
                self.history_v2_flags.append(flags)

        @PROGRESS
        def progress(a: TAssetID, pct: int) -> None:
            with self.lock:
                self.progress.append(pct)

        @PHASE
        def phase(a: TAssetID, date: int, state: int) -> None:
            with self.lock:
                self._note("phase")
                self.phases.append((read_wstr(date) or "", state))

        @DAILY
        def daily(a: TAssetID, date: int, *values: float) -> None:
            with self.lock:
                self._note("daily")
                self.dailies.append(values)

        @TINY
        def tiny(a: TAssetID, price: float, qty: int, side: int) -> None:
            with self.lock:
                self._note("tiny")
                self.tiny.append((side, price, qty))

        @PRICE_BOOK
        def book(a: TAssetID, action: int, position: int, side: int, qty: int, count: int, price: float,
                 sell: int | None, buy: int | None) -> None:
            self._book(self.book, False, action, position, side, qty, count, price, sell, buy)

        @PRICE_BOOK_V2
        def book_v2(a: TAssetID, action: int, position: int, side: int, qty: int, count: int, price: float,
                    sell: int | None, buy: int | None) -> None:
            self._book(self.book_v2, True, action, position, side, qty, count, price, sell, buy)

        @OFFER_BOOK
        def offer(a: TAssetID, action: int, position: int, side: int, qty: int, agent: int, offer_id: int,
                  price: float, *rest: Any) -> None:
            *flags, date, _sell, _buy = rest  # has_price, has_qty, has_date, has_offer_id, has_agent
            with self.lock:
                self._note("offer")
                self.offers.append((action, position, side, qty, agent, offer_id, price, tuple(flags),
                                    read_wstr(date)))

        @INVALID_TICKER
        def invalid(a: TConnectorAssetIdentifier) -> None:
            with self.lock:
                self.invalid.append(read_wstr(a.Ticker) or "")

        return dict(state=state, trade=trade, trade_v2=trade_v2, history=history, history_v2=history_v2,
                    progress=progress, phase=phase, daily=daily, tiny=tiny, book=book, book_v2=book_v2,
                    offer=offer, invalid=invalid)

    # -- requests (the caller's thread) ---------------------------------------
    def wait_state(self, state: tuple[int, int], timeout: float = 5.0) -> None:
        self.wait(lambda: state in self.states, timeout, f"state {state}")

    def wait(self, predicate: Any, timeout: float = 5.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.002)
        raise AssertionError(f"timed out waiting for {what}")

    def subscribe(self, ticker: str = "WDOFUT", exchange: str = "F", book: bool = True) -> None:
        assert self.lib.SubscribeTicker(wstr(ticker), wstr(exchange)) == NL_OK
        if book:
            assert self.lib.SubscribePriceBook(wstr(ticker), wstr(exchange)) == NL_OK

    def counters(self) -> SimCounters:
        c = SimCounters()
        assert self.lib.SimGetCounters(C.byref(c), C.sizeof(c)) == NL_OK
        return c

    def finalize(self) -> None:
        assert self.lib.DLLFinalize() == NL_OK


# ---- orders ------------------------------------------------------------------

MARKET, LIMIT, STOP_LIMIT = 1, 2, 4  # TConnectorSendOrder Version 1 numbering
BUY, SELL = 1, 2
V0_LIMIT, V0_STOP, V0_MARKET = 0, 1, 2  # Version 0 numbering
V0_BUY, V0_SELL = 0, 1
DAY_TRADE, CONSOLIDATED = 1, 2


class Status:
    NEW, PARTIALLY_FILLED, FILLED, CANCELED, REPLACED = 0, 1, 2, 4, 5
    PENDING_CANCEL, REJECTED, PENDING_NEW, EXPIRED, PENDING_REPLACE = 6, 8, 10, 12, 14
    PARTIALLY_FILLED_CANCELED = 15


@dataclass
class OrderReport:
    """GetOrderDetails of one order, as read (in a callback or on demand)."""

    local_id: int
    cl_ord_id: str
    status: int
    side: int
    type: int
    quantity: int
    traded: int
    leaves: int
    price: float
    stop_price: float
    average_price: float
    text: str
    event_id: int
    ticker: str
    date: tuple[int, ...]
    last_update: tuple[int, ...]
    known: bool = True  # in a callback: SendOrder had already returned this id


def systemtime_ms(t: SystemTime) -> tuple[int, ...]:
    return (t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, t.wMilliseconds)


class OrderDesk:
    """A routing client's order side: the V2 order exports with the simulated
    account, and a journal of the order callbacks (each read back with
    GetOrderDetails, as a client of the DLL does).  A callback may name an
    order whose SendOrder has not returned yet: it is journalled all the
    same, flagged known=False, and bound when SendOrder returns."""

    def __init__(self, client: SimClient, account: str = "SIM0001", broker: int = 1,
                 ticker: str = "WDOFUT", exchange: str = "F") -> None:
        self.client = client
        self.lib = client.lib
        self.lock = threading.Lock()
        self.reports: list[OrderReport] = []
        self.errors: list[str] = []
        self.sent: set[int] = set()
        self._keep: list[Any] = []
        self._account, self._sub, self._pass = wstr(account), wstr(""), wstr("secret")
        self._broker = broker
        self._ticker, self._exchange = wstr(ticker), wstr(exchange)
        self._broker_text = wstr(str(broker))
        self._cb = ORDER(self._on_order)
        assert self.lib.SetOrderCallback(self._cb) == NL_OK

    # -- records ------------------------------------------------------------
    def account(self) -> TConnectorAccountIdentifier:
        return TConnectorAccountIdentifier(0, self._broker, C.cast(self._account, C.c_void_p),
                                           C.cast(self._sub, C.c_void_p), 0)

    def asset(self, ticker: str | None = None) -> TConnectorAssetIdentifier:
        t = self._ticker if ticker is None else wstr(ticker)
        self._keep.append(t)
        return TConnectorAssetIdentifier(0, C.cast(t, C.c_void_p), C.cast(self._exchange, C.c_void_p), 0)

    def order_id(self, local_id: int = 0, cl_ord_id: str | None = None) -> TConnectorOrderIdentifier:
        cl = None
        if cl_ord_id is not None:
            buf = wstr(cl_ord_id)
            self._keep.append(buf)
            cl = C.cast(buf, C.c_void_p)
        return TConnectorOrderIdentifier(0, local_id, cl)

    # -- callbacks (the DLL's thread) -----------------------------------------
    def _on_order(self, oid: TConnectorOrderIdentifier) -> None:
        try:
            report = self.details(oid.LocalOrderID)
        except AssertionError as e:  # an exception cannot leave a ctypes callback: record it
            with self.lock:
                self.errors.append(f"order {oid.LocalOrderID}: {e}")
            return
        report.cl_ord_id = read_wstr(oid.ClOrderID) or ""
        with self.lock:
            report.known = report.local_id in self.sent
            self.reports.append(report)

    # -- requests -------------------------------------------------------------
    def send(self, order_type: int, side: int, price: float, qty: int, stop: float = -1.0, version: int = 1,
             ticker: str | None = None) -> int:
        o = TConnectorSendOrder(version, self.account(), self.asset(ticker), C.cast(self._pass, C.c_void_p),
                                order_type, side, price, stop, qty)
        rc = self.lib.SendOrder(C.byref(o))
        with self.lock:
            if rc > 0:
                self.sent.add(rc)
        return rc

    def limit(self, side: int, price: float, qty: int) -> int:
        return self.send(LIMIT, side, price, qty)

    def market(self, side: int, qty: int) -> int:
        return self.send(MARKET, side, -1.0, qty)

    def change(self, local_id: int, price: float, qty: int, stop: float = -1.0) -> int:
        c = TConnectorChangeOrder(0, self.account(), self.order_id(local_id), C.cast(self._pass, C.c_void_p),
                                  price, stop, qty)
        return self.lib.SendChangeOrderV2(C.byref(c))

    def cancel(self, local_id: int = 0, cl_ord_id: str | None = None) -> int:
        c = TConnectorCancelOrder(0, self.account(), self.order_id(local_id, cl_ord_id),
                                  C.cast(self._pass, C.c_void_p))
        return self.lib.SendCancelOrderV2(C.byref(c))

    def cancel_all(self) -> int:
        c = TConnectorCancelAllOrders(0, self.account(), C.cast(self._pass, C.c_void_p))
        return self.lib.SendCancelAllOrdersV2(C.byref(c))

    def cancel_instrument(self, ticker: str | None = None) -> int:
        c = TConnectorCancelOrders(0, self.account(), self.asset(ticker), C.cast(self._pass, C.c_void_p))
        return self.lib.SendCancelOrdersV2(C.byref(c))

    def zero(self, position_type: int = CONSOLIDATED, price: float = -1.0) -> int:
        z = TConnectorZeroPosition(1, self.account(), self.asset(), C.cast(self._pass, C.c_void_p), price,
                                   position_type)
        rc = self.lib.SendZeroPositionV2(C.byref(z))
        with self.lock:
            if rc > 0:
                self.sent.add(rc)
        return rc

    def legacy(self, name: str, *args: Any) -> int:
        """SendBuyOrder & co.: account, broker, password, ticker, exchange, then the numbers."""
        rc = getattr(self.lib, name)(self._account, self._broker_text, self._pass, self._ticker,
                                     self._exchange, *args)
        with self.lock:
            if rc > 0:
                self.sent.add(rc)
        return rc

    def legacy_change(self, cl_ord_id: str, price: float, qty: int) -> int:
        """SendChangeOrder: account, broker, password, ClOrdID, price, quantity."""
        return self.lib.SendChangeOrder(self._account, self._broker_text, self._pass, wstr(cl_ord_id), price,
                                        qty)

    def legacy_cancel(self, cl_ord_id: str) -> int:
        """SendCancelOrder: account, broker, ClOrdID, then the password (the DLL's order)."""
        return self.lib.SendCancelOrder(self._account, self._broker_text, wstr(cl_ord_id), self._pass)

    def legacy_zero(self, price: float | None = None) -> int:
        """SendZeroPosition(AtMarket): account, broker, ticker, exchange, password (, price)."""
        args = [self._account, self._broker_text, self._ticker, self._exchange, self._pass]
        rc = (self.lib.SendZeroPositionAtMarket(*args) if price is None
              else self.lib.SendZeroPosition(*args, price))
        with self.lock:
            if rc > 0:
                self.sent.add(rc)
        return rc

    # -- queries --------------------------------------------------------------
    def details(self, local_id: int = 0, cl_ord_id: str | None = None) -> OrderReport:
        """GetOrderDetails, Version 1: once for the lengths, again with buffers."""
        o = TConnectorOrderOut()
        o.Version = 1
        o.OrderID = self.order_id(local_id, cl_ord_id)
        rc = self.lib.GetOrderDetails(C.byref(o))
        assert rc == NL_OK, rc
        ticker = C.create_string_buffer(2 * (o.AssetID.TickerLength + 1))
        exch = C.create_string_buffer(2 * (o.AssetID.ExchangeLength + 1))
        text = C.create_string_buffer(2 * (o.TextMessageLength + 1))
        o.AssetID.Ticker = C.cast(ticker, C.c_void_p)
        o.AssetID.Exchange = C.cast(exch, C.c_void_p)
        o.TextMessage = C.cast(text, C.c_void_p)
        assert self.lib.GetOrderDetails(C.byref(o)) == NL_OK
        # the record carries the ClOrdID only as asked (the callback's identifier has it)
        return OrderReport(o.OrderID.LocalOrderID, cl_ord_id or "", o.OrderStatus, o.OrderSide, o.OrderType,
                           o.Quantity, o.TradedQuantity, o.LeavesQuantity, o.Price, o.StopPrice,
                           o.AveragePrice, read_wstr(C.addressof(text)) or "", o.EventID,
                           read_wstr(C.addressof(ticker)) or "", systemtime_ms(o.Date),
                           systemtime_ms(o.LastUpdate))

    def position(self, position_type: int = CONSOLIDATED, version: int = 2
                 ) -> tuple[int, TConnectorTradingAccountPosition]:
        p = TConnectorTradingAccountPosition()
        p.Version = version
        p.AccountID = self.account()
        p.AssetID = self.asset()
        p.PositionType = position_type
        return self.lib.GetPositionV2(C.byref(p)), p

    def enumerate(self) -> list[tuple[int, str, int, int, int, str]]:
        """EnumerateAllOrders (TConnectorOrder Version 1): (local id, ClOrdID, status, side, traded, text)."""
        out: list[tuple[int, str, int, int, int, str]] = []

        @ENUMERATE_ORDERS
        def each(o: Any, param: int) -> int:
            r = o.contents
            out.append((r.OrderID.LocalOrderID, read_wstr(r.OrderID.ClOrderID) or "", r.OrderStatus,
                        r.OrderSide, r.TradedQuantity, read_wstr(r.TextMessage) or ""))
            return 1

        assert self.lib.EnumerateAllOrders(C.byref(self.account()), 1, 0, each) == NL_OK
        return out

    def stats(self) -> tuple[int, SimPositionStats]:
        s = SimPositionStats()
        return self.lib.SimGetPositionStats(C.byref(s), C.sizeof(s)), s

    def fees(self, local_id: int) -> float:
        f = C.c_double()
        assert self.lib.SimGetOrderFees(local_id, C.byref(f)) == NL_OK
        return f.value

    def of(self, local_id: int) -> list[OrderReport]:
        with self.lock:
            return [r for r in self.reports if r.local_id == local_id]

    def wait_for(self, local_id: int, status: int, timeout: float = 5.0) -> OrderReport:
        """The first journalled callback of the order that reports `status`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for r in self.of(local_id):
                if r.status == status:
                    return r
            time.sleep(0.002)
        raise AssertionError(f"order {local_id}: no callback with status {status}; got "
                             f"{[r.status for r in self.of(local_id)]}")
