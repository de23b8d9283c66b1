"""The recorder: every callback's records, as the connection delivers them,
into daily event logs (one per instrument and exchange-local day).

The DLL's thread only runs the C callbacks, which never wait: the recorder
drains the market ring on its own thread and appends to
:class:`quantumtrader.data.eventlog.EventLogWriter`.  If the disk is slower than
the feed the ring fills, the callbacks drop and count, and the stream
carries a FEED_GAP where records were lost; the recorder reports those drops
at the end (and as they happen).  The feed itself never stalls.

Layout: ``OUT/<TICKER>/<YYYY-MM-DD>.qtlog`` (``.1.qtlog``, ``.2.qtlog`` ...
when a recording of that day exists already: a restart never overwrites).
A record's day is the exchange-local date of its ``exch_ns``; records
without one (book actions, tiny book) belong to the day of the dated record
before them, and days never go backwards.  Records for all instruments
(CONN_STATE, FEED_GAP) go into every instrument's log.  History trades
(backfill) are recorded like live ones, flagged HISTORY.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from quantumtrader.adapters.profitdll.connection import ALL_INSTRUMENTS, ProfitConnection, Subscription
from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter
from quantumtrader.data.events import TIME_NONE, EventFlag, EventType

__all__ = ["InstrumentRecording", "Recorder", "RecordingSummary"]

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 10**9


@dataclasses.dataclass
class InstrumentRecording:
    ticker: str
    files: list[str] = dataclasses.field(default_factory=list)
    records: int = 0


@dataclasses.dataclass
class RecordingSummary:
    instruments: dict[int, InstrumentRecording]
    records_read: int
    by_type: dict[str, int]
    ring_dropped: int          # records the full ring refused (the disk was behind)
    gaps: int                  # FEED_GAP records seen (ring full or disconnect)
    invalid: int               # records the callbacks flagged invalid (kept in the log)
    seconds: float

    @property
    def files(self) -> list[str]:
        return [f for r in self.instruments.values() for f in r.files]


class _DailyStream:
    """One instrument's records, split into daily logs."""

    def __init__(self, out_dir: Path, sub: Subscription, header: EventLogHeader, utc_offset_min: int) -> None:
        self.sub = sub
        self.dir = out_dir / sub.ticker
        self.header = header
        self.offset_ns = utc_offset_min * 60 * 10**9
        self.day = -1  # days since the epoch, local; -1 before the first dated record
        self.writer: EventLogWriter | None = None
        self.undated: list[np.ndarray] = []  # records before the first dated one
        self.rec = InstrumentRecording(sub.ticker)

    def _path(self, day: int) -> Path:
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        self.dir.mkdir(parents=True, exist_ok=True)
        p = self.dir / f"{date.isoformat()}.qtlog"
        k = 1
        while p.exists():
            p = self.dir / f"{date.isoformat()}.{k}.qtlog"
            k += 1
        return p

    def _open(self, day: int) -> None:
        self._close_writer()
        path = self._path(day)
        self.writer = EventLogWriter(path, dataclasses.replace(self.header, agents=list(self.header.agents)))
        self.rec.files.append(str(path))
        self.day = day
        log.info("recording %s into %s", self.sub.ticker, path)

    def _append(self, recs: np.ndarray) -> None:
        assert self.writer is not None
        self.writer.append(recs)
        self.rec.records += len(recs)

    def add(self, recs: np.ndarray) -> None:
        if len(recs) == 0:
            return
        ex = recs["exch_ns"]
        dated = ex != TIME_NONE
        day = np.where(dated, (ex + self.offset_ns) // _DAY_NS, -1)
        # undated records take the day of the record before them; days never go back
        day = np.maximum.accumulate(np.maximum(day, self.day))
        if day[-1] < 0:
            self.undated.append(recs)
            return
        cuts = np.flatnonzero(np.diff(day)) + 1
        for part, d in zip(np.split(recs, cuts), day[np.r_[0, cuts]], strict=True):
            if d < 0:
                self.undated.append(part)
                continue
            if d != self.day or self.writer is None:
                self._open(int(d))
                if self.undated:
                    self._append(np.concatenate(self.undated))
                    self.undated.clear()
            self._append(part)

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def _close_writer(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def close(self, fallback_day: int) -> None:
        if self.undated:  # nothing dated ever came: the day the recording ran
            if self.writer is None:
                self._open(fallback_day)
            self._append(np.concatenate(self.undated))
            self.undated.clear()
        self._close_writer()


class Recorder:
    """Writes what a connected :class:`ProfitConnection` delivers.  Call
    :meth:`run` (or :meth:`step` in a loop) on the writer thread; the
    connection must keep ``drop_invalid=False`` so flagged records are kept."""

    def __init__(self, connection: ProfitConnection, out_dir: str | os.PathLike[str], *, source: str,
                 flush_interval: float = 5.0) -> None:
        self.conn = connection
        self.out_dir = Path(out_dir)
        self.source = source
        self.flush_interval = flush_interval
        self._streams: dict[int, _DailyStream] = {}
        self.records_read = 0
        self.by_type = np.zeros(256, dtype=np.int64)
        self.gaps = 0
        self.invalid = 0
        self._t0 = time.monotonic()
        self._last_flush = self._t0
        self._last_dropped = 0

    def _stream(self, sub: Subscription) -> _DailyStream:
        s = self._streams.get(sub.instrument_id)
        if s is None:
            cal = self.conn.calendar
            header = EventLogHeader(instrument=sub.ticker, price_unit=sub.price_unit, tick_size=sub.tick_size,
                                    calendar_version=cal.version, source=self.source)
            s = _DailyStream(self.out_dir, sub, header, self.conn.utc_offset_min)
            self._streams[sub.instrument_id] = s
        return s

    def write(self, recs: np.ndarray) -> None:
        if len(recs) == 0:
            return
        self.records_read += len(recs)
        self.by_type += np.bincount(recs["type"], minlength=256)
        self.gaps += int(np.count_nonzero(recs["type"] == EventType.FEED_GAP))
        self.invalid += int(np.count_nonzero(recs["flags"] & EventFlag.INVALID))
        inst = recs["instrument"]
        for iid, sub in self.conn.subscriptions.items():
            sel = (inst == iid) | (inst == ALL_INSTRUMENTS)
            if sel.any():
                self._stream(sub).add(recs[sel])

    def step(self, timeout: float = 0.05) -> int:
        """Drain what is ready (waiting up to ``timeout``); returns records written."""
        recs = self.conn.poll(timeout)
        self.write(recs)
        now = time.monotonic()
        if now - self._last_flush >= self.flush_interval:
            for s in self._streams.values():
                s.flush()
            self._last_flush = now
            dropped = self.conn.counters["records_dropped"]
            if dropped > self._last_dropped:
                log.warning("ring full: %d records dropped so far (the writer is behind the feed)", dropped)
                self._last_dropped = dropped
        return len(recs)

    def run(self, stop: Callable[[], bool], timeout: float = 0.05) -> None:
        """Record until ``stop()`` is true, then drain the ring."""
        while not stop():
            self.step(timeout)
        self.drain()

    def drain(self) -> None:
        while self.step(0.0):
            pass

    def close(self) -> RecordingSummary:
        """Close every log (records still in the ring are written first)."""
        self.drain()
        today = (time.time_ns() + self.conn.utc_offset_min * 60 * 10**9) // _DAY_NS
        for s in self._streams.values():
            s.close(int(today))
        names = {int(t): EventType(t).name for t in range(len(EventType))}
        by_type = {names.get(t, str(t)): int(n) for t, n in enumerate(self.by_type) if n}
        c = self.conn.counters
        return RecordingSummary(
            instruments={iid: s.rec for iid, s in self._streams.items()}, records_read=self.records_read,
            by_type=by_type, ring_dropped=int(c["records_dropped"]), gaps=self.gaps, invalid=self.invalid,
            seconds=time.monotonic() - self._t0)
