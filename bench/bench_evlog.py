"""Event-log throughput: writing (C writer with per-record CRC, through the
Python API) against numpy's tofile of the same bytes, and validating
(CRC-32C + seq scan in C) against zlib's CRC-32 over the same bytes.  Files
go to the system temp directory, so write figures are mostly page cache."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import zlib

import numpy as np
from harness import Report, Result, median_time

from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter, read_event_log
from quantumtrader.data.events import empty_events
from quantumtrader.qtcore import evlog as cevlog

N = 2_000_000  # 128 MB of records


def _events(n: int) -> np.ndarray:
    ev = empty_events(n)
    ev["type"] = 1
    ev["seq"] = np.arange(1, n + 1)
    ev["recv_ns"] = np.arange(n) * 1000
    ev["price"] = 500_000 + np.arange(n) % 1000
    ev["qty"] = 1 + np.arange(n) % 7
    return ev


def run(report: Report) -> None:
    ev = _events(N)
    mb = ev.nbytes / 1e6
    with tempfile.TemporaryDirectory() as d:
        log_path, raw_path = os.path.join(d, "b.qtlog"), os.path.join(d, "b.raw")
        header = EventLogHeader("WDOFUT", 0.5, 0.5, agents=[f"agent {i}" for i in range(300)])

        def write_log() -> None:
            with EventLogWriter(log_path, header) as w:
                for part in np.array_split(ev, 64):
                    w.append(part)

        def write_raw() -> None:
            ev.tofile(raw_path)

        def append_only() -> None:
            w = EventLogWriter(log_path, header)
            t0 = time.perf_counter()
            for part in np.array_split(ev, 64):
                w.append(part)
            append_times.append(time.perf_counter() - t0)
            w.close()

        t_raw = median_time(write_raw, repeats=3)
        t_log = median_time(write_log, repeats=3)
        report.add(Result("event log write (CRC, 64 appends, fsync)", mb / t_log, "MB/s",
                          baseline=mb / t_raw, baseline_name="numpy tofile"))
        append_times: list[float] = []
        median_time(append_only, repeats=3)
        t_append = statistics.median(append_times)
        report.add(Result("event log append (CRC + page cache, no sync)", mb / t_append, "MB/s",
                          baseline=mb / t_raw, baseline_name="numpy tofile"))

        data = np.fromfile(log_path, dtype=np.uint8)[header_size_of(log_path):]
        t_val = median_time(lambda: cevlog.validate(data), repeats=5)
        t_zlib = median_time(lambda: zlib.crc32(data), repeats=3)
        hw = "sse4.2" if cevlog.crc32c_hardware() else "table"
        report.add(Result(f"event log validate ({hw})", mb / t_val, "MB/s",
                          baseline=mb / t_zlib, baseline_name="zlib.crc32"))
        t_port = median_time(lambda: cevlog.crc32c(data, portable=True), repeats=3)
        report.add(Result("crc32c portable slicing-by-8", mb / t_port, "MB/s",
                          baseline=mb / t_zlib, baseline_name="zlib.crc32"))

        def open_log() -> None:
            with read_event_log(log_path) as log:
                assert log.valid_records == N

        t_open = median_time(open_log, repeats=5)
        report.add(Result("read_event_log (map + validate)", mb / t_open, "MB/s"))


def header_size_of(path: str) -> int:
    with read_event_log(path, verify=False) as log:
        return log.header_size
