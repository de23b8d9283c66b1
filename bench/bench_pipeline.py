"""The live pipeline (qt_pipeline): two synthetic days (WDO and WIN) as the
ProfitDLL callbacks leave them in the market ring (V1 trades flagged
RAW_DATE with their date string in an EXT record, the two instruments
interleaved in time), pushed by a C producer thread while the pipeline
decodes, routes to each instrument's engine and calls a timing hook.
Figures, each next to a single-engine baseline of the same run:
- the loop alone over a ring filled beforehand (no producer thread competing
  for the two cores), every decision posted to the decision ring: trades/s
  against qt_fe_drain of each day's decoded array through its own engine
  (the features command's path), so the ratio is the pipeline's own cost
  (decoding, routing, stage clocks, hook, post);
- with the producer thread: trades/s and the latency from the loop taking a
  trade to the hook being called with its vector, against the single-engine
  ring drain (qt_fe_drain_ring, the decoded WDO day) with its ring-pop ->
  vector timer.
Medians over repeats; the machine is shared and noisy."""

from __future__ import annotations

import statistics
import time

import c_extension
import numpy as np
from harness import Report, Result

from quantumtrader.data.events import TIME_NONE, EventFlag, EventType
from quantumtrader.data.synth import simulate_market
from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine
from quantumtrader.qtcore.pipeline import IDLE, Pipeline
from quantumtrader.qtcore.ring import Ring

REPEATS = 5
UTC_OFFSET_MIN = -180  # Sao Paulo in November
IDS = {"WDOFUT": 1, "WINFUT": 2}


def _date_units(exch_ns: np.ndarray) -> np.ndarray:
    """"DD/MM/YYYY HH:mm:SS.ZZZ" in local time as UTF-16 units, 28 per row
    (what the callbacks copy raw into an EXT record)."""
    local = (exch_ns + UTC_OFFSET_MIN * 60 * 10**9).astype("datetime64[ns]").astype("datetime64[ms]")
    day = local.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    y = day.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = month.astype(np.int64) % 12 + 1
    d = (day - month).astype(np.int64) + 1
    ms = (local - day).astype(np.int64)
    fields = [(d, 2), ("/", 0), (mo, 2), ("/", 0), (y, 4), (" ", 0), (ms // 3_600_000, 2), (":", 0),
              (ms // 60_000 % 60, 2), (":", 0), (ms // 1000 % 60, 2), (".", 0), (ms % 1000, 3)]
    units = np.zeros((len(exch_ns), 28), dtype=np.uint16)
    col = 0
    for value, width in fields:
        if width == 0:
            units[:, col] = ord(value)
            col += 1
            continue
        for k in range(width):
            units[:, col + k] = ord("0") + value // 10 ** (width - 1 - k) % 10
        col += width
    return units


def raw_ring_records(events: np.ndarray, instrument: int) -> tuple[np.ndarray, np.ndarray]:
    """One instrument's records as the callbacks push them, with the time
    each was sent (for interleaving): trades lose exch_ns and gain an EXT."""
    ev = events.copy()
    ev["instrument"] = instrument
    is_trade = ev["type"] == EventType.TRADE
    sent = np.maximum.accumulate(np.where(ev["exch_ns"] == TIME_NONE, 0, ev["exch_ns"]))
    units = _date_units(ev["exch_ns"][is_trade])
    ev["flags"][is_trade] |= np.uint8(EventFlag.RAW_DATE)
    ev["exch_ns"][is_trade] = TIME_NONE
    at = np.flatnonzero(is_trade)
    out = np.insert(ev, at + 1, np.zeros(1, dtype=ev.dtype))
    out_sent = np.insert(sent, at + 1, sent[at])
    ext_at = at + 1 + np.arange(len(at))
    raw = out.view(np.uint8).reshape(len(out), 64)
    raw[ext_at] = 0
    raw[ext_at, 0] = EventType.EXT
    raw[ext_at, 2:4] = np.frombuffer(np.uint16(instrument).tobytes(), dtype=np.uint8)
    raw[ext_at, 8:64] = units.view(np.uint8)
    return out, out_sent


def interleave(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    recs = np.concatenate([p[0] for p in parts])
    sent = np.concatenate([p[1] for p in parts])
    order = np.argsort(sent, kind="stable")  # each instrument's own order is kept
    out = recs[order]
    parent = out["type"] != EventType.EXT  # an EXT's bytes 8.. are its date text
    out["seq"][parent] = np.arange(1, int(np.count_nonzero(parent)) + 1)
    return out


def _percentiles(lat: np.ndarray) -> tuple[float, float]:
    p50, p999 = np.percentile(lat, [50, 99.9])
    return float(p50), float(p999)


def run(report: Report) -> None:
    markets = [simulate_market(1, seed=7, signal=0.5),
               simulate_market(1, seed=8, signal=0.5, instrument="WINFUT")]
    raw = interleave([raw_ring_records(m.events, IDS[_family(m.instrument)]) for m in markets])
    trades = int(np.count_nonzero(raw["type"] == EventType.TRADE))
    book = int(np.count_nonzero(np.isin(raw["type"], [EventType.PRICE_BOOK, EventType.L2_LEVEL,
                                                         EventType.SNAPSHOT_BEGIN, EventType.SNAPSHOT_END])))
    print(f"  two instruments: {len(raw):,} ring records ({trades:,} trades, {book:,} book records, "
          f"{trades:,} EXT dates), {book / trades:.2f} book records per trade", flush=True)

    def pipeline(decisions: int = 0) -> Pipeline:
        pl = Pipeline(UTC_OFFSET_MIN, decision_capacity=decisions)
        for m in markets:
            pl.add_engine(IDS[_family(m.instrument)], FeatureEngine(m.tick_size, m.price_unit))
        return pl

    wdo = markets[0]

    # ---- the loop alone: ring filled first, then drained on this thread;
    # baseline and pipeline alternate so both see the same machine load
    nothing = FeatureBatch(0, 0)
    ring = Ring(1 << 21)
    base, alone, alone_rec = [], [], []
    for _ in range(REPEATS):
        spent = 0.0
        for m in markets:  # each day through its own engine, one after the other
            fe = FeatureEngine(m.tick_size, m.price_unit)
            t0 = time.perf_counter()
            fe.drain(m.events, nothing)
            spent += time.perf_counter() - t0
        base.append(trades / spent)
        pl = pipeline(decisions=1 << 18)
        assert ring.push_bytes(raw.view(np.uint8), 256) == len(raw)
        t0 = time.perf_counter()
        taken, status = pl.run(ring, timeout_s=0)
        pl.flush()
        dt = time.perf_counter() - t0
        c = pl.counters
        assert status == IDLE and taken == len(raw) and c["rows"] == c["decisions"] == trades, c
        assert c["decisions_dropped"] == 0 and c["missing_ext"] == c["unknown_records"] == 0, c
        alone.append(trades / dt)
        alone_rec.append(len(raw) / dt)
    del ring
    base_drain = statistics.median(base)
    report.add(Result("single-engine drains of each decoded day: trades/s", base_drain, "trades/s"))
    report.add(Result("pipeline loop alone, 2 instruments: trades/s", statistics.median(alone), "trades/s",
                      budget=1e6, baseline=base_drain, baseline_name="single-engine drains"))
    report.add(Result("pipeline loop alone: ring records/s (EXT included)", statistics.median(alone_rec),
                      "rec/s"))

    # ---- with a producer thread: throughput and ring pop -> hook latency
    bench_c = c_extension.load()
    base_rates, base_lat = [], []
    for _ in range(REPEATS):
        fe = FeatureEngine(wdo.tick_size, wdo.price_unit)
        lat, info = bench_c.feature_ring_latency(fe, wdo.events, rate=0.0)
        base_rates.append(info["rows"] / info["seconds"])
        base_lat.append(_percentiles(lat))
    base_rate = statistics.median(base_rates)
    base_p50 = statistics.median(x[0] for x in base_lat)
    base_p999 = statistics.median(x[1] for x in base_lat)
    rates, lats = [], []
    for _ in range(REPEATS):
        pl = pipeline()
        lat, info = bench_c.pipeline_ring_latency(pl, raw)
        assert info["rows"] == trades and len(lat) == trades, info
        c = pl.counters
        assert c["missing_ext"] == c["orphan_ext"] == c["bad_dates"] == c["unknown_records"] == 0, c
        rates.append(info["rows"] / info["seconds"])
        lats.append(_percentiles(lat))
    report.add(Result("pipeline + producer thread: trades/s", statistics.median(rates), "trades/s",
                      baseline=base_rate, baseline_name="single engine ring drain"))
    report.add(Result("pipeline: ring pop -> hook p50", statistics.median(x[0] for x in lats), "ns",
                      higher_is_better=False, baseline=base_p50, baseline_name="single engine -> vector"))
    report.add(Result("pipeline: ring pop -> hook p99.9", statistics.median(x[1] for x in lats), "ns",
                      budget=5000, higher_is_better=False, baseline=base_p999,
                      baseline_name="single engine -> vector"))


def _family(instrument: str) -> str:
    return "WINFUT" if instrument.startswith("WIN") else "WDOFUT"
