"""Event log: write -> memory-mapped read, damaged tails and headers, the
agent dictionary across flushes, crash copies, Parquet round trips."""

from __future__ import annotations

import json
import mmap
import os
import shutil
import struct
import threading

import numpy as np
import pyarrow.parquet as pq
import pytest

from quantumtrader.data.eventlog import (
    DEFAULT_HEADER_SIZE,
    PARQUET_METADATA_KEY,
    EventLogError,
    EventLogHeader,
    EventLogWriter,
    event_log_from_parquet,
    event_log_to_parquet,
    read_event_log,
)
from quantumtrader.data.events import EVENT_DTYPE, EventType, empty_events
from quantumtrader.qtcore import evlog as cevlog

REC = EVENT_DTYPE.itemsize


def make_events(n: int, seed: int = 0, first_seq: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = empty_events(n)
    ev["type"] = rng.integers(1, 16, n)
    ev["flags"] = rng.integers(0, 64, n)
    ev["instrument"] = rng.integers(0, 3, n)
    ev["crc"] = 0xDEADBEEF  # must be ignored and recomputed by the writer
    ev["seq"] = first_seq + np.cumsum(rng.integers(1, 4, n, dtype=np.uint64)) - 1
    ev["recv_ns"] = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 1000
    ev["exch_ns"][::3] = ev["recv_ns"][::3] - 5000
    ev["price"][n // 4:] = rng.integers(-(1 << 62), 1 << 62, n - n // 4)
    ev["qty"] = rng.integers(-(1 << 31), (1 << 31) - 1, n)
    ev["code"] = rng.integers(0, 256, n)
    ev["side"] = rng.integers(0, 2, n)
    ev["aux"] = rng.integers(0, 1 << 16, n)
    ev["ref"] = rng.integers(-(1 << 63), (1 << 63) - 1, n, dtype=np.int64)
    ev["a"] = rng.integers(-5, 500, n)
    ev["b"] = rng.integers(-5, 500, n)
    return ev


def header(**kw) -> EventLogHeader:
    base = dict(instrument="WDOFUT", price_unit=0.5, tick_size=0.5, qty_scale=1.0,
                calendar_version="b3-2024.1", source="test", agents=["XP", "BTG Pactual", "Itaú"])
    base.update(kw)
    return EventLogHeader(**base)


def write_log(path, ev: np.ndarray, hdr: EventLogHeader | None = None, batches: int = 3) -> None:
    with EventLogWriter(path, hdr or header()) as w:
        for part in np.array_split(ev, batches):
            w.append(part)


def crc32c_reference(data: bytes) -> int:
    c = 0xFFFFFFFF
    for byte in data:
        c ^= byte
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def record_crc(rec: np.ndarray) -> int:
    r = rec.copy()
    r["crc"] = 0
    return crc32c_reference(r.tobytes())


def same_payload(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal in every field but crc."""
    return all(np.array_equal(a[f], b[f]) for f in EVENT_DTYPE.names if f != "crc")


# ---- round trip ----


def test_round_trip_fields_header_and_crc(tmp_path):
    ev = make_events(5000, seed=1)
    p = tmp_path / "a.qtlog"
    hdr = header(qty_scale=1000.0, source="synth seed=1 signal=0.3 ç")
    write_log(p, ev, hdr)
    assert p.stat().st_size == DEFAULT_HEADER_SIZE + len(ev) * REC
    with read_event_log(p) as log:
        assert log.valid_records == 5000 and log.tail_bytes_ignored == 0 and log.tail_reason == ""
        assert same_payload(log.events, ev)
        # crc is the CRC-32C of the record with crc zeroed (bitwise reference, not the C code)
        for i in (0, 1, 2499, 4999):
            assert log.events["crc"][i] == record_crc(log.events[i:i + 1])
        h = log.header
        assert (h.instrument, h.price_unit, h.tick_size, h.qty_scale) == ("WDOFUT", 0.5, 0.5, 1000.0)
        assert (h.calendar_version, h.source) == ("b3-2024.1", "synth seed=1 signal=0.3 ç")
        assert h.agents == ["XP", "BTG Pactual", "Itaú"]
        assert h.created_ns > 1_600_000_000 * 10**9
        assert not log.events.flags.writeable
        with pytest.raises(ValueError):
            log.events["price"][0] = 1


def test_created_ns_kept_when_given_and_writer_header(tmp_path):
    p = tmp_path / "a.qtlog"
    with EventLogWriter(p, header(created_ns=np.int64(123456789))) as w:
        assert w.header.created_ns == 123456789
        w.append(make_events(3))
        assert w.records_written == 3
    assert read_event_log(p).header.created_ns == 123456789
    with EventLogWriter(p, header()) as w:  # replaces the file; created_ns filled in
        assert w.header.created_ns > 0
    with read_event_log(p) as log:
        assert log.valid_records == 0 and log.tail_reason == "" and len(log.events) == 0


def test_crc32c_known_value_and_paths():
    assert cevlog.crc32c(b"123456789") == 0xE3069283
    data = bytes(range(256)) * 5
    ref = crc32c_reference(data)
    assert cevlog.crc32c(data) == ref and cevlog.crc32c(data, portable=True) == ref
    assert cevlog.crc32c(data[100:], cevlog.crc32c(data[:100])) == ref


def test_portable_and_hardware_crc_paths_agree(tmp_path):
    ev = make_events(1001, seed=11)
    files = []
    for hw in (True, False):
        cevlog.crc32c_use_hardware(hw)
        try:
            p = tmp_path / f"hw{hw}.qtlog"
            write_log(p, ev, header(created_ns=5))
            data = bytearray(p.read_bytes())
            data[DEFAULT_HEADER_SIZE + 700 * REC + 50] ^= 1
            assert cevlog.validate(bytes(data[DEFAULT_HEADER_SIZE:])) == (700, "checksum")
            files.append(p.read_bytes())
            with read_event_log(p) as log:
                assert log.valid_records == 1001
        finally:
            cevlog.crc32c_use_hardware(True)
    assert files[0] == files[1]


def test_large_log_is_memory_mapped(tmp_path):
    n = 1_000_000
    ev = empty_events(n)
    ev["type"] = EventType.TRADE
    ev["seq"] = np.arange(1, n + 1)
    ev["price"] = 100_000 + (np.arange(n) % 977)
    p = tmp_path / "big.qtlog"
    write_log(p, ev, batches=7)
    with read_event_log(p) as log:
        assert log.valid_records == n and log.tail_reason == ""
        base = log.events
        while isinstance(base, np.ndarray):
            base = base.base
        assert isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)  # no copy
        assert np.array_equal(log.events["seq"], ev["seq"])
        assert np.array_equal(log.events["price"], ev["price"])


# ---- damaged tails ----


def test_torn_tail_mid_record(tmp_path):
    ev = make_events(1000, seed=2)
    p = tmp_path / "a.qtlog"
    write_log(p, ev)
    size = p.stat().st_size
    with open(p, "r+b") as f:
        f.truncate(size - REC + 23)  # the last record keeps 23 of its 64 bytes
    with read_event_log(p) as log:
        assert log.valid_records == 999 and log.tail_reason == "partial record"
        assert log.tail_bytes_ignored == 23
        assert same_payload(log.events, ev[:999])


def test_zero_filled_tail(tmp_path):
    ev = make_events(1000, seed=3)
    p = tmp_path / "a.qtlog"
    write_log(p, ev)
    with open(p, "ab") as f:
        f.write(bytes(10 * REC))
    with read_event_log(p) as log:
        assert log.valid_records == 1000 and log.tail_reason == "zero-filled"
        assert log.tail_bytes_ignored == 10 * REC
        assert log.file_records == 1010
    with open(p, "ab") as f:
        f.write(b"\x00" * 17)  # zeros ending mid-record are still a zero fill
    with read_event_log(p) as log:
        assert log.valid_records == 1000 and log.tail_reason == "zero-filled"
        assert log.tail_bytes_ignored == 10 * REC + 17


def test_garbage_tail_is_checksum(tmp_path):
    ev = make_events(100, seed=4)
    p = tmp_path / "a.qtlog"
    write_log(p, ev)
    with open(p, "ab") as f:
        f.write(bytes(3 * REC) + b"\x01" + bytes(REC - 1))
    with read_event_log(p) as log:
        assert log.valid_records == 100 and log.tail_reason == "checksum"


@pytest.mark.parametrize("offset_in_record", [0, 4, 8, 33, 63])
def test_flipped_byte_keeps_everything_before(tmp_path, offset_in_record):
    ev = make_events(2000, seed=5)
    p = tmp_path / "a.qtlog"
    write_log(p, ev)
    k = 1234
    with open(p, "r+b") as f:
        f.seek(DEFAULT_HEADER_SIZE + k * REC + offset_in_record)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x20]))
    with read_event_log(p) as log:
        assert log.valid_records == k and log.tail_reason == "checksum"
        assert log.tail_bytes_ignored == (2000 - k) * REC
        assert same_payload(log.events, ev[:k])
    with read_event_log(p, verify=False) as log:  # trusting the file exposes every record
        assert log.valid_records == 2000 and log.tail_reason == ""


def test_non_monotonic_seq_stops_there(tmp_path):
    ev = make_events(500, seed=6)
    p = tmp_path / "a.qtlog"
    write_log(p, ev)
    k = 321
    rec = read_event_log(p).events[k:k + 1].copy()
    rec["seq"] = ev["seq"][k - 1]  # equal to the previous: not strictly increasing
    rec["crc"] = record_crc(rec)  # a well-formed record, only the order is wrong
    with open(p, "r+b") as f:
        f.seek(DEFAULT_HEADER_SIZE + k * REC)
        f.write(rec.tobytes())
    with read_event_log(p) as log:
        assert log.valid_records == k and log.tail_reason == "sequence"


# ---- the writer refuses bad input ----


def test_append_rejects_non_increasing_seq_and_writes_nothing(tmp_path):
    p = tmp_path / "a.qtlog"
    ev = make_events(10)
    with EventLogWriter(p, header()) as w:
        w.append(ev[:5])
        with pytest.raises(ValueError, match="strictly increase"):
            w.append(ev[4:8])  # repeats seq of the last record written
        bad = ev[5:8].copy()
        bad["seq"][2] = bad["seq"][0]
        with pytest.raises(ValueError, match="record 2 of the batch"):
            w.append(bad)
        assert w.records_written == 5
        w.append(ev[5:])
        assert w.records_written == 10
    with read_event_log(p) as log:
        assert log.valid_records == 10 and same_payload(log.events, ev)


def test_append_input_checks(tmp_path):
    with EventLogWriter(tmp_path / "a.qtlog", header()) as w:
        with pytest.raises(TypeError, match="EVENT_DTYPE"):
            w.append(np.zeros(3, dtype=np.int64))
        with pytest.raises(ValueError, match="one-dimensional"):
            w.append(make_events(4).reshape(2, 2))
        w.append(make_events(1)[0])  # a single record
        w.append(make_events(0))
        w.append(make_events(20, first_seq=100)[::2])  # non-contiguous view
        assert w.records_written == 11
    assert w.records_written == 11 and w.closed
    with pytest.raises(ValueError, match="closed"):
        w.append(make_events(1, first_seq=10**6))
    w.close()  # twice is harmless


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        (dict(instrument="X" * 64), ValueError, "instrument is 64 bytes"),
        (dict(source="é" * 400), ValueError, "source is 800 bytes"),
        (dict(calendar_version="a\0b"), ValueError, "NUL"),
        (dict(price_unit=0.0), ValueError, "price_unit"),
        (dict(tick_size=float("nan")), ValueError, "tick_size"),
        (dict(qty_scale="x"), TypeError, "qty_scale"),
        (dict(instrument=5), TypeError, "instrument must be str"),
        (dict(agents=["ok", 3]), TypeError, "agent 1"),
        (dict(created_ns=-1), ValueError, "created_ns"),
        (dict(created_ns=1.5), TypeError, "created_ns"),
    ],
)
def test_header_field_checks(tmp_path, kw, exc, match):
    with pytest.raises(exc, match=match):
        EventLogWriter(tmp_path / "a.qtlog", header(**kw))


def test_unwritable_path_is_oserror(tmp_path):
    with pytest.raises(OSError) as ei:
        EventLogWriter(tmp_path / "missing-dir" / "a.qtlog", header())
    assert ei.value.errno is not None and "missing-dir" in str(ei.value)


def test_unicode_path(tmp_path):
    p = tmp_path / "João ação.qtlog"
    write_log(p, make_events(7))
    assert read_event_log(p).valid_records == 7


# ---- headers that are not (or no longer) a log ----


def _patched(tmp_path, name: str, patch) -> str:
    p = tmp_path / name
    write_log(p, make_events(10))
    data = bytearray(p.read_bytes())
    patch(data)
    p.write_bytes(bytes(data))
    return str(p)


def test_wrong_magic(tmp_path):
    p = _patched(tmp_path, "magic.qtlog", lambda d: d.__setitem__(slice(0, 4), b"PAR1"))
    with pytest.raises(EventLogError, match=r"magic\.qtlog: not an event log"):
        read_event_log(p)


def test_text_and_empty_files(tmp_path):
    t = tmp_path / "notes.txt"
    t.write_text("date;price;qty\n2024-01-02;5000.5;1\n")
    with pytest.raises(EventLogError, match=r"notes\.txt: not an event log"):
        read_event_log(t)
    e = tmp_path / "empty.qtlog"
    e.write_bytes(b"")
    with pytest.raises(EventLogError, match="empty"):
        read_event_log(e)


def test_wrong_version(tmp_path):
    p = _patched(tmp_path, "v.qtlog", lambda d: d.__setitem__(slice(8, 12), struct.pack("<I", 2)))
    with pytest.raises(EventLogError, match="unsupported format version 2"):
        read_event_log(p)


def test_corrupt_header_checksum(tmp_path):
    def patch(d):
        d[130] ^= 1  # inside the instrument name

    p = _patched(tmp_path, "c.qtlog", patch)
    with pytest.raises(EventLogError, match="corrupt header: checksum"):
        read_event_log(p)


@pytest.mark.parametrize("keep", [3, 11, 500, 1024, 4000, DEFAULT_HEADER_SIZE - 1])
def test_truncated_header(tmp_path, keep):
    p = tmp_path / "t.qtlog"
    write_log(p, make_events(10))
    with open(p, "r+b") as f:
        f.truncate(keep)
    with pytest.raises(EventLogError, match=r"t\.qtlog: truncated header"):
        read_event_log(p)


def test_missing_file_is_filenotfound(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_event_log(tmp_path / "nope.qtlog")


# ---- the agent dictionary ----


def test_dictionary_rewritten_at_flush(tmp_path):
    p = tmp_path / "a.qtlog"
    snap = tmp_path / "snap.qtlog"
    w = EventLogWriter(p, header(agents=["A"]))
    shutil.copyfile(p, snap)
    assert read_event_log(snap).header.agents == ["A"]  # given up front: on disk at once
    w.append(make_events(100))
    w.set_agents(["A", "B"])
    w.flush()
    shutil.copyfile(p, snap)
    with read_event_log(snap) as log:
        assert log.header.agents == ["A", "B"] and log.valid_records == 100
        gen = log.dictionary_generation
    w.set_agents(["A", "B", "Cé"])  # not flushed: a copy still has the previous one
    shutil.copyfile(p, snap)
    assert read_event_log(snap).header.agents == ["A", "B"]
    w.close()
    with read_event_log(p) as log:
        assert log.header.agents == ["A", "B", "Cé"]
        assert log.dictionary_generation == gen + 1
    assert w.header.agents == ["A", "B", "Cé"]


def test_torn_dictionary_falls_back_to_previous(tmp_path):
    p = tmp_path / "a.qtlog"
    with EventLogWriter(p, header(agents=[])) as w:
        w.set_agents(["old"])
        w.flush()
        w.set_agents(["old", "new"])
    with read_event_log(p) as log:
        gen = log.dictionary_generation
        assert log.header.agents == ["old", "new"]
    slot_size = (DEFAULT_HEADER_SIZE - 1024) // 2
    newest = 1024 + ((gen - 1) & 1) * slot_size
    data = bytearray(p.read_bytes())
    data[newest + 24 + 3] ^= 0xFF  # tear the newest slot's entries
    p.write_bytes(bytes(data))
    with read_event_log(p) as log:
        assert log.header.agents == ["old"] and log.dictionary_generation == gen - 1
        assert log.valid_records == 0
    other = 1024 + (gen & 1) * slot_size
    data[other + 5] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(EventLogError, match="no valid agent dictionary"):
        read_event_log(p)


def test_dictionary_too_large_is_a_clear_error(tmp_path):
    p = tmp_path / "a.qtlog"
    with EventLogWriter(p, header(agents=[]), header_size=4096) as w:
        w.set_agents([f"agent {i:04d}" for i in range(100)])  # 1200 bytes: fits 1512
        with pytest.raises(ValueError, match="header_size"):
            w.set_agents([f"agent {i:04d}" for i in range(200)])
        w.append(make_events(5))
    with read_event_log(p) as log:
        assert len(log.header.agents) == 100 and log.header_size == 4096
        assert log.valid_records == 5
    too_many = [f"agent {i:04d}" for i in range(200)]
    with pytest.raises(ValueError, match="header_size"):
        EventLogWriter(tmp_path / "b.qtlog", header(agents=too_many), header_size=4096)
    assert not (tmp_path / "b.qtlog").exists()
    with EventLogWriter(p, header(agents=[])) as w:  # the default holds thousands of names
        w.set_agents([f"corretora número {i}" for i in range(1000)])
    assert len(read_event_log(p).header.agents) == 1000


# ---- crashes ----


def test_crash_copy_keeps_flushed_and_written_prefix(tmp_path):
    p = tmp_path / "live.qtlog"
    crash = tmp_path / "crash.qtlog"
    ev = make_events(60_000, seed=7)
    w = EventLogWriter(p, header())
    w.append(ev[:1000])
    w.set_agents(["A", "B", "C", "D"])
    w.flush()
    w.append(ev[1000:1100])  # stays in the writer's buffer
    w.set_agents(["A", "B", "C", "D", "E"])
    w.append(ev[1100:])  # more than the buffer: part reaches the file
    shutil.copyfile(p, crash)  # the process "dies" here; the copy is what the disk holds
    with read_event_log(crash) as log:
        n = log.valid_records
        assert 1100 <= n < 60_000
        assert log.tail_reason == "" and log.tail_bytes_ignored == 0
        assert same_payload(log.events, ev[:n])
        assert log.header.agents == ["A", "B", "C", "D"]
    # the OS wrote part of a block and the filesystem zero-filled the rest
    with open(crash, "r+b") as f:
        f.truncate(DEFAULT_HEADER_SIZE + (n - 3) * REC + 40)
        f.seek(0, os.SEEK_END)
        f.write(bytes(4096))
    with read_event_log(crash) as log:
        assert log.valid_records == n - 3 and log.tail_reason == "checksum"
        assert same_payload(log.events, ev[:n - 3])
    w.close()
    with read_event_log(p) as log:
        assert log.valid_records == 60_000 and log.tail_reason == ""
        assert log.header.agents == ["A", "B", "C", "D", "E"]


def test_exception_inside_with_still_closes(tmp_path):
    p = tmp_path / "a.qtlog"
    ev = make_events(10)
    with pytest.raises(RuntimeError), EventLogWriter(p, header()) as w:
        w.append(ev)
        raise RuntimeError("importer failed")
    assert w.closed
    assert read_event_log(p).valid_records == 10


def test_concurrent_appends_are_serialised(tmp_path):
    p = tmp_path / "a.qtlog"
    errors = []
    with EventLogWriter(p, header()) as w:
        def worker(k):
            # each batch's seq range is disjoint and increasing per thread,
            # so some appends are refused; none may corrupt the log
            for j in range(50):
                try:
                    w.append(make_events(100, seed=k, first_seq=1 + (j * 4 + k) * 10_000))
                except ValueError:
                    errors.append(1)
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        written = w.records_written
    with read_event_log(p) as log:
        assert log.valid_records == written and log.tail_reason == ""
        assert written + 100 * len(errors) == 4 * 50 * 100


def test_closed_reader_views_stay_valid(tmp_path):
    p = tmp_path / "a.qtlog"
    ev = make_events(50)
    write_log(p, ev)
    log = read_event_log(p)
    prices = log.events["price"]
    log.close()  # the caller still holds a view: the mapping lives on until it goes
    assert np.array_equal(prices, ev["price"])
    assert len(log.events) == 0


# ---- Parquet ----


def test_parquet_round_trip_is_byte_identical(tmp_path):
    ev = make_events(30_000, seed=8)
    src, pqf, back = tmp_path / "a.qtlog", tmp_path / "a.parquet", tmp_path / "b.qtlog"
    hdr = header(created_ns=1_712_345_678_901_234_567, qty_scale=1000.0, price_unit=0.01)
    write_log(src, ev, hdr)
    assert event_log_to_parquet(src, pqf) == 30_000
    table = pq.read_table(pqf)
    assert table.column_names == list(EVENT_DTYPE.names)
    assert [table.schema.field(n).type.to_pandas_dtype() for n in EVENT_DTYPE.names] == [
        EVENT_DTYPE[n].type for n in EVENT_DTYPE.names]
    meta = json.loads(table.schema.metadata[PARQUET_METADATA_KEY])
    assert meta["instrument"] == "WDOFUT" and meta["agents"] == ["XP", "BTG Pactual", "Itaú"]
    assert np.array_equal(table.column("price").to_numpy(), ev["price"])
    assert event_log_from_parquet(pqf, back) == 30_000
    a, b = src.read_bytes(), back.read_bytes()
    assert a[DEFAULT_HEADER_SIZE:] == b[DEFAULT_HEADER_SIZE:]  # records, crc included
    assert a[:1024] == b[:1024]  # the fixed header too (same created_ns)
    with read_event_log(back) as log:
        assert log.header == hdr


def test_parquet_keeps_only_the_valid_prefix(tmp_path):
    ev = make_events(100, seed=9)
    src, pqf = tmp_path / "a.qtlog", tmp_path / "a.parquet"
    write_log(src, ev)
    with open(src, "ab") as f:
        f.write(bytes(5 * REC))
    assert event_log_to_parquet(src, pqf) == 100
    assert pq.read_metadata(pqf).num_rows == 100


def test_parquet_empty_log(tmp_path):
    src, pqf, back = tmp_path / "a.qtlog", tmp_path / "a.parquet", tmp_path / "b.qtlog"
    write_log(src, make_events(0), batches=1)
    assert event_log_to_parquet(src, pqf) == 0
    assert event_log_from_parquet(pqf, back) == 0
    assert read_event_log(back).valid_records == 0


def test_parquet_without_log_metadata_or_with_bad_columns(tmp_path):
    import pyarrow as pa

    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"price": [1, 2]}), plain)
    with pytest.raises(EventLogError, match=r"plain\.parquet: not an event-log Parquet"):
        event_log_from_parquet(plain, tmp_path / "x.qtlog")
    assert not (tmp_path / "x.qtlog").exists()

    src, good = tmp_path / "a.qtlog", tmp_path / "a.parquet"
    write_log(src, make_events(10))
    event_log_to_parquet(src, good)
    table = pq.read_table(good)
    meta = table.schema.metadata

    no_qty = table.drop_columns(["qty"]).replace_schema_metadata(meta)
    pq.write_table(no_qty, tmp_path / "noqty.parquet")
    with pytest.raises(EventLogError, match=r"missing event columns \['qty'\]"):
        event_log_from_parquet(tmp_path / "noqty.parquet", tmp_path / "x.qtlog")

    i = table.column_names.index("side")
    wide = table.set_column(i, "side", pa.array(np.full(10, 300, dtype=np.int64)))
    pq.write_table(wide.replace_schema_metadata(meta), tmp_path / "wide.parquet")
    with pytest.raises(EventLogError, match="column side does not fit"):
        event_log_from_parquet(tmp_path / "wide.parquet", tmp_path / "x.qtlog")
    assert not (tmp_path / "x.qtlog").exists()  # no half-written log left behind

    j = table.column_names.index("seq")
    shuffled = table.set_column(j, "seq", pa.array(np.arange(10, 0, -1, dtype=np.uint64)))
    pq.write_table(shuffled.replace_schema_metadata(meta), tmp_path / "order.parquet")
    with pytest.raises(ValueError, match="strictly increase"):
        event_log_from_parquet(tmp_path / "order.parquet", tmp_path / "x.qtlog")
    assert not (tmp_path / "x.qtlog").exists()

    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(EventLogError, match=r"junk\.parquet: not a Parquet file"):
        event_log_from_parquet(tmp_path / "junk.parquet", tmp_path / "x.qtlog")
