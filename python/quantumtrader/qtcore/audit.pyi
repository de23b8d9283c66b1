"""Type stub of quantumtrader.qtcore.audit (src/qtcore/market/audit.pyx)."""

import enum

import numpy as np

EVENT_DTYPE: np.dtype
EventType: type[enum.IntEnum]

class BookAudit:
    def __init__(self, tick_units: int = ..., capacity: int = ...) -> None: ...
    def feed(self, events) -> None: ...
    @property
    def deepest(self) -> tuple[int, int]: ...
    @property
    def stats(self) -> dict: ...
