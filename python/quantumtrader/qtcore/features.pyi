"""Type stub of quantumtrader.qtcore.features (src/qtcore/features/features.pyx)."""

from typing import Any

DRAIN_CLOSED: int
DRAIN_DONE: int
DRAIN_FULL: int
DRAIN_IDLE: int
DRAIN_STATUS_NAMES: dict[Any, Any]
DRAIN_STOPPED: int
EXCHANGE_TZ: str

class FeatureBatch:
    def __init__(self, capacity: int, every: int = ..., latencies: int = ..., hook=...) -> None: ...
    def set_hook(self, hook): ...
    @property
    def capacity(self) -> int: ...
    @property
    def every(self) -> int: ...
    @property
    def rows(self) -> int: ...
    @property
    def full(self) -> bool: ...
    @property
    def latencies_recorded(self) -> int: ...
    def take(self): ...
    def clear(self): ...
    def clear_latencies(self): ...
    matrix: Any
    ts: Any
    trade_number: Any
    price: Any
    latency_ns: Any

class FeatureEngine:
    def __init__(
        self,
        tick_size: float,
        price_unit: float,
        qty_scale: float = ...,
        tz_transitions=...,
        sessions=...,
        default_open=...,
        default_close=...,
        book_capacity: int = ...,
    ) -> None: ...
    def capsule(self): ...
    def reset(self): ...
    def on_event(self, record): ...
    def on_trade(
        self,
        ts_ns: int,
        price: int,
        qty: int,
        buy_agent: int,
        sell_agent: int,
        trade_type: int,
        trade_number: int = ...,
        flags: int = ...,
    ): ...
    def drain(self, events, batch: Any = ..., start: int = ...): ...
    def drain_ring(
        self,
        ring,
        batch: Any = ...,
        max_events: int = ...,
        timeout_s: float = ...,
        spin: int = ...,
    ): ...
    def run(self, events, every: int = ...): ...
    def book_quote(self): ...
    def book_levels(self, side: int, n: int = ...): ...
    @property
    def counters(self) -> dict: ...
    @property
    def memory_bytes(self) -> int: ...
    tick_size: float
    price_unit: float
    qty_scale: float

N_BOOK_FEATURES: int
N_FEATURES: int
N_MODEL_FEATURES: int

def seconds_of_day(value) -> int: ...
def tz_transitions(zone: str = ..., start_year: int = ..., end_year: int = ...): ...
