"""Event logs on disk: append-only files of 64-byte event records behind a
versioned header, read back as memory-mapped numpy arrays, converted to and
from Parquet.

The format and the writer live in C (``src/qtcore/market/qt_evlog.h``) so the
recorder's writer thread can use them without Python; this module is the
Python face of the same code.  A log that ends in a torn or zero-filled tail
(a crash while writing) reads as its valid prefix: every record up to the
first one whose checksum fails or whose ``seq`` does not increase.

>>> with EventLogWriter("day.qtlog", EventLogHeader("WDOFUT", 0.5, 0.5)) as w:
...     w.append(events)
>>> with read_event_log("day.qtlog") as log:
...     log.events["price"]
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import mmap
import operator
import os
import threading
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.data.events import EVENT_DTYPE, EVENT_SIZE
from quantumtrader.qtcore import evlog as _c

__all__ = [
    "DEFAULT_HEADER_SIZE",
    "FORMAT_VERSION",
    "EventLog",
    "EventLogError",
    "EventLogHeader",
    "EventLogWriter",
    "event_log_from_parquet",
    "event_log_to_parquet",
    "read_event_log",
]

FORMAT_VERSION: int = _c.VERSION
DEFAULT_HEADER_SIZE: int = _c.DEFAULT_HEADER_SIZE
PARQUET_METADATA_KEY = b"quantumtrader.event_log"
_PARQUET_CHUNK = 1 << 20  # rows per conversion step: bounded memory for any log size


class EventLogError(ValueError):
    """A file that is not a readable event log (wrong magic, unsupported
    version, damaged or truncated header, Parquet without log metadata)."""


@dataclass
class EventLogHeader:
    instrument: str  # e.g. "WDOFUT", "BTCUSDT"
    price_unit: float  # float price = price_to_float(price, price_unit)
    tick_size: float
    qty_scale: float = 1.0  # integer qty = real qty * qty_scale (Binance BTC: 1000)
    calendar_version: str = ""  # trading-calendar version the log was made with
    source: str = ""  # free text: "profit-csv:FILE", "synth seed=1 signal=0.3", ...
    agents: list[str] = field(default_factory=list)  # agent id i -> name (index = id)
    created_ns: int = 0  # UTC ns, set by the writer if 0


def _encode_field(value: object, name: str, limit: int) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"EventLogHeader.{name} must be str, got {type(value).__name__}")
    raw = value.encode("utf-8")
    if len(raw) > limit:
        raise ValueError(
            f"EventLogHeader.{name} is {len(raw)} bytes of UTF-8; the log stores at most {limit}")
    if b"\0" in raw:
        raise ValueError(f"EventLogHeader.{name} contains a NUL character")
    return raw


def _check_positive(value: object, name: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"EventLogHeader.{name} must be a number, got {value!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"EventLogHeader.{name} must be finite and > 0, got {value!r}")
    return x


def _encode_agents(agents: list[str]) -> list[bytes]:
    out = []
    for i, name in enumerate(agents):
        if not isinstance(name, str):
            raise TypeError(f"agent {i}: name must be str, got {type(name).__name__}")
        out.append(name.encode("utf-8"))
    return out


class EventLogWriter:
    """Writes a new event log (an existing file at ``path`` is replaced).

    Records are buffered in C and written in large blocks; :meth:`flush`
    makes everything appended so far, and the agent dictionary, durable.
    ``header_size`` reserves room for the dictionary (two copies of up to
    about half of it); the default holds thousands of agent names.
    Thread-safe: calls are serialised, and C work runs without the GIL."""

    def __init__(self, path: str | os.PathLike[str], header: EventLogHeader, *,
                 header_size: int = DEFAULT_HEADER_SIZE) -> None:
        self.path = os.fspath(path)
        fields = dict(
            instrument=_encode_field(header.instrument, "instrument", _c.INSTRUMENT_MAX_BYTES),
            price_unit=_check_positive(header.price_unit, "price_unit"),
            tick_size=_check_positive(header.tick_size, "tick_size"),
            qty_scale=_check_positive(header.qty_scale, "qty_scale"),
            calendar_version=_encode_field(header.calendar_version, "calendar_version",
                                           _c.CALENDAR_MAX_BYTES),
            source=_encode_field(header.source, "source", _c.SOURCE_MAX_BYTES),
        )
        try:
            created_ns = operator.index(header.created_ns)  # numpy integers too
        except TypeError:
            raise TypeError(f"EventLogHeader.created_ns must be an int, got {header.created_ns!r}") from None
        if created_ns < 0:
            raise ValueError(f"EventLogHeader.created_ns must be >= 0, got {created_ns}")
        agents = list(header.agents)
        encoded_agents = _encode_agents(agents)
        self._lock = threading.Lock()
        self._w = _c.Writer(os.fsencode(self.path), created_ns=created_ns,
                            header_size=header_size, **fields)
        try:
            if agents:
                self._w.set_agents(encoded_agents)
                self._w.flush(False)  # the names given up front survive even an early crash
        except BaseException:
            self._w.close()
            with contextlib.suppress(OSError):
                os.remove(self.path)  # no log rather than one without the names asked for
            raise
        self.header = dataclasses.replace(header, agents=agents, created_ns=self._w.created_ns)
        self.header_size: int = self._w.header_size

    def append(self, events: np.ndarray) -> None:
        """Append records of ``EVENT_DTYPE`` (their ``crc`` field is ignored
        and computed here).  ``seq`` must strictly increase across the whole
        log; otherwise ValueError and nothing of this batch is written."""
        ev = np.asarray(events)
        if ev.dtype != EVENT_DTYPE:
            raise TypeError(f"events must have EVENT_DTYPE, got {ev.dtype}")
        if ev.ndim == 0:
            ev = ev.reshape(1)
        elif ev.ndim != 1:
            raise ValueError(f"events must be one-dimensional, got shape {ev.shape}")
        ev = np.ascontiguousarray(ev)
        with self._lock:
            self._w.append(ev.view(np.uint8))

    def set_agents(self, agents: list[str]) -> None:
        """Replace the agent dictionary (index = agent id); written at the
        next :meth:`flush` or :meth:`close`."""
        names = list(agents)
        encoded = _encode_agents(names)
        with self._lock:
            self._w.set_agents(encoded)
            self.header.agents = names

    def flush(self) -> None:
        """Write buffered records and the dictionary and sync them to disk."""
        with self._lock:
            self._w.flush(True)

    def close(self) -> None:
        """Flush and close; closing twice is harmless."""
        with self._lock:
            self._w.close()

    @property
    def closed(self) -> bool:
        return bool(self._w.closed)

    @property
    def records_written(self) -> int:
        """Records appended so far (buffered ones included)."""
        with self._lock:
            return int(self._w.records_written)

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Close even when the block raised: what was appended is kept.
        self.close()


class EventLog:
    """An event log opened for reading: ``events`` is a read-only
    memory-mapped view of its valid prefix.  Keep the object (or the array)
    alive while using the array; :meth:`close` unmaps once no view is left."""

    def __init__(self, path: str, header: EventLogHeader, header_size: int, events: np.ndarray,
                 file_records: int, tail_bytes_ignored: int, tail_reason: str,
                 dictionary_generation: int, mapping: mmap.mmap | None) -> None:
        self.path = path
        self.header = header
        self.header_size = header_size
        self.events = events
        self.valid_records = len(events)
        self.file_records = file_records  # whole records in the file, valid or not
        self.tail_bytes_ignored = tail_bytes_ignored
        self.tail_reason = tail_reason
        self.dictionary_generation = dictionary_generation
        self._mapping = mapping

    def close(self) -> None:
        self.events = _empty_readonly()
        mapping, self._mapping = self._mapping, None
        if mapping is not None:
            # Arrays the caller still holds keep the mapping alive; it goes
            # when they do.
            with contextlib.suppress(BufferError):
                mapping.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        tail = ""
        if self.tail_reason:
            tail = f", tail {self.tail_bytes_ignored} bytes ignored ({self.tail_reason})"
        return f"EventLog({self.path!r}, {self.header.instrument}, {self.valid_records} records{tail})"


def _empty_readonly() -> np.ndarray:
    ev = np.zeros(0, dtype=EVENT_DTYPE)
    ev.flags.writeable = False
    return ev


def _decode(raw: bytes, what: str, path: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EventLogError(f"{path}: corrupt header: {what} is not UTF-8") from None


def read_event_log(path: str | os.PathLike[str], *, verify: bool = True) -> EventLog:
    """Open a log and map its records.  With ``verify`` (the default) every
    record's checksum and the ``seq`` order are checked in C and only the
    valid prefix is exposed, the reason for any ignored tail in
    ``tail_reason``.  ``verify=False`` trusts the file and exposes every
    whole record (only a partial last record is cut off)."""
    spath = os.fspath(path)
    with open(spath, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            fixed = _c.parse_header(f.read(_c.FIXED_SIZE))
            header_size = int(fixed["header_size"])
            if size < header_size:
                raise ValueError(
                    f"truncated header: the file has {size} bytes, the header needs {header_size}")
            f.seek(0)
            names, generation = _c.read_dictionary(f.read(header_size))
        except ValueError as e:
            raise EventLogError(f"{spath}: {e}") from None
        header = EventLogHeader(
            instrument=_decode(fixed["instrument"], "instrument", spath),
            price_unit=fixed["price_unit"],
            tick_size=fixed["tick_size"],
            qty_scale=fixed["qty_scale"],
            calendar_version=_decode(fixed["calendar_version"], "calendar_version", spath),
            source=_decode(fixed["source"], "source", spath),
            agents=[_decode(n, f"agent name {i}", spath) for i, n in enumerate(names)],
            created_ns=int(fixed["created_ns"]),
        )
        data_bytes = size - header_size
        file_records = data_bytes // EVENT_SIZE
        if file_records == 0:
            reason = "" if data_bytes == 0 else _c.validate(f.read(data_bytes))[1]
            return EventLog(spath, header, header_size, _empty_readonly(), 0, data_bytes, reason,
                            generation, None)
        # Map exactly the size seen: a writer may still be appending.
        mapping = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ)
    try:
        if verify:
            with memoryview(mapping) as view:
                valid, reason = _c.validate(view[header_size:])
        else:
            valid = file_records
            reason = "partial record" if data_bytes % EVENT_SIZE else ""
        events = np.frombuffer(mapping, dtype=EVENT_DTYPE, count=valid, offset=header_size)
    except BaseException:
        mapping.close()
        raise
    return EventLog(spath, header, header_size, events, file_records, data_bytes - valid * EVENT_SIZE,
                    reason, generation, mapping)


# ---- Parquet ----


def _parquet_schema(metadata: dict[str, object]) -> pa.Schema:
    return pa.schema(
        [(name, pa.from_numpy_dtype(EVENT_DTYPE[name])) for name in EVENT_DTYPE.names],
        metadata={PARQUET_METADATA_KEY: json.dumps(metadata).encode("utf-8")},
    )


def _compression() -> str:
    return "zstd" if pa.Codec.is_available("zstd") else "snappy"


def event_log_to_parquet(log_path: str | os.PathLike[str], parquet_path: str | os.PathLike[str]) -> int:
    """Write the valid records of a log as one flat Parquet table (a column
    per EVENT_DTYPE field, same names and types) with the header as JSON in
    the schema metadata.  Returns the number of rows.  A failed conversion
    leaves no Parquet file behind."""
    out = os.fspath(parquet_path)
    with read_event_log(log_path) as log:
        meta = {
            "format_version": FORMAT_VERSION,
            "header_size": log.header_size,
            **dataclasses.asdict(log.header),
            "records": log.valid_records,
        }
        schema = _parquet_schema(meta)
        try:
            with pq.ParquetWriter(out, schema, compression=_compression()) as pw:
                n = log.valid_records
                for start in range(0, max(n, 1), _PARQUET_CHUNK):
                    chunk = log.events[start:start + _PARQUET_CHUNK]
                    cols = [pa.array(np.ascontiguousarray(chunk[name])) for name in EVENT_DTYPE.names]
                    pw.write_table(pa.Table.from_arrays(cols, schema=schema))
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(out)
            raise
        return log.valid_records


def _header_from_parquet(pf: pq.ParquetFile, path: str) -> tuple[EventLogHeader, int]:
    meta = pf.schema_arrow.metadata or {}
    raw = meta.get(PARQUET_METADATA_KEY)
    if raw is None:
        raise EventLogError(f"{path}: not an event-log Parquet file (no {PARQUET_METADATA_KEY.decode()} "
                            "metadata in its schema)")
    try:
        m = json.loads(raw)
        version = m["format_version"]
        if version != FORMAT_VERSION:
            raise EventLogError(f"{path}: event-log metadata of format version {version}, "
                                f"this build reads {FORMAT_VERSION}")
        names = {f.name for f in dataclasses.fields(EventLogHeader)}
        header = EventLogHeader(**{k: m[k] for k in names})
        header_size = int(m["header_size"])
    except EventLogError:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise EventLogError(f"{path}: damaged event-log metadata in the Parquet schema: {e!r}") from None
    return header, header_size


def event_log_from_parquet(parquet_path: str | os.PathLike[str], log_path: str | os.PathLike[str]) -> int:
    """Rebuild a log from a Parquet file made by :func:`event_log_to_parquet`
    (or any table with those columns and that metadata).  Returns the number
    of records.  A failed conversion leaves no log behind."""
    src, out = os.fspath(parquet_path), os.fspath(log_path)
    try:
        pf = pq.ParquetFile(src)
    except pa.ArrowInvalid as e:
        raise EventLogError(f"{src}: not a Parquet file: {e}") from None
    header, header_size = _header_from_parquet(pf, src)
    have = {f.name: f.type for f in pf.schema_arrow}
    missing = [name for name in EVENT_DTYPE.names if name not in have]
    if missing:
        raise EventLogError(f"{src}: missing event columns {missing}")
    types = {name: pa.from_numpy_dtype(EVENT_DTYPE[name]) for name in EVENT_DTYPE.names}
    total = 0
    try:
        with EventLogWriter(out, header, header_size=header_size) as w:
            for batch in pf.iter_batches(batch_size=_PARQUET_CHUNK, columns=list(EVENT_DTYPE.names)):
                ev = np.empty(batch.num_rows, dtype=EVENT_DTYPE)
                for name in EVENT_DTYPE.names:
                    col = batch.column(name)
                    if col.null_count:
                        raise EventLogError(f"{src}: column {name} has {col.null_count} nulls")
                    try:
                        col = col.cast(types[name])  # safe cast: out-of-range values raise
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                        raise EventLogError(f"{src}: column {name} does not fit {types[name]}: {e}") from None
                    ev[name] = col.to_numpy(zero_copy_only=False)
                w.append(ev)
                total += batch.num_rows
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(out)
        raise
    return total
