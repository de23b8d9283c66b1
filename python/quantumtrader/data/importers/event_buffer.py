"""Builds event chunks from records appended one by one (the importers
written in Python), assigning seq from 0 in append order."""

from __future__ import annotations

import numpy as np

from quantumtrader.data.events import EVENT_DTYPE, PRICE_NONE


class EventBuffer:
    def __init__(self, chunk_records: int = 1 << 16) -> None:
        self.chunk_records = chunk_records
        self.next_seq = 0
        self._rows: list[tuple[int, ...]] = []

    def add(
        self,
        type_: int,
        *,
        recv_ns: int,
        exch_ns: int,
        price: int = PRICE_NONE,
        qty: int = 0,
        code: int = 0,
        side: int = 0,
        ref: int = 0,
        a: int = 0,
        b: int = 0,
        flags: int = 0,
    ) -> None:
        # field order of EVENT_DTYPE: type, flags, instrument, crc, seq, recv_ns, exch_ns, price, qty,
        # code, side, aux, ref, a, b
        self._rows.append(
            (type_, flags, 0, 0, self.next_seq, recv_ns, exch_ns, price, qty, code, side, 0, ref, a, b)
        )
        self.next_seq += 1

    def set_last_flag(self, flag: int) -> None:
        """OR ``flag`` into the most recent record."""
        r = self._rows[-1]
        self._rows[-1] = (r[0], r[1] | flag, *r[2:])

    @property
    def full(self) -> bool:
        return len(self._rows) >= self.chunk_records

    def __len__(self) -> int:
        return len(self._rows)

    def take(self) -> np.ndarray:
        """The buffered records as an EVENT_DTYPE array; the buffer empties."""
        out = np.array(self._rows, dtype=EVENT_DTYPE)
        self._rows = []
        return out
