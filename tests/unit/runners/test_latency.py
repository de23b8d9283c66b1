"""LatencyRecorder: the stages of a decision record, bounded histograms
whose percentiles hold to 1/128 of the exact figure (exact below 128 ns),
an exact JSON round trip and an exact merge of several days."""

from __future__ import annotations

import json

import numpy as np
import pytest

from quantumtrader.qtcore.pipeline import DECISION_DTYPE
from quantumtrader.runners.latency import (
    STAGES,
    SUB_BUCKET_BITS,
    LatencyError,
    LatencyRecorder,
    bucket_bounds,
    bucket_index,
)


def _record(recv: int, taken: int, features: int, decided: int) -> np.void:
    rec = np.zeros(1, dtype=DECISION_DTYPE)
    rec["recv_ns"], rec["taken_ns"], rec["features_ns"], rec["decided_ns"] = recv, taken, features, decided
    rec["decoded_ns"] = taken + 1
    return rec[0]


def _exact_rank(values: np.ndarray, q: float) -> int:
    ordered = np.sort(values)
    return int(ordered[max(1, int(np.ceil(q * len(ordered)))) - 1])


def test_a_decision_fills_each_stage_with_its_difference() -> None:
    lat = LatencyRecorder()
    rec = _record(1_000, 1_250, 4_250, 5_000)
    lat.add_decision(rec, woken_ns=5_100, signal_ns=5_160, risk_ns=5_200, sent_ns=25_200)
    lat.add("ack", 1_500_000)
    expected = {"callback_to_ring": 250, "ring_to_features": 3_000, "prediction": 750, "decision_wake": 100,
                "signal": 60, "risk": 40, "order_sent": 20_000, "tick_to_order": 24_200, "ack": 1_500_000}
    assert set(expected) == set(STAGES)
    for stage, ns in expected.items():
        p = lat.percentiles(stage)
        assert p["count"] == 1 and p["max"] == ns and p["p50"] == ns and p["p999"] == ns, (stage, p)


def test_a_hold_decision_records_no_order_stages_and_unstamped_times_are_skipped() -> None:
    lat = LatencyRecorder()
    lat.add_decision(_record(1_000, 1_100, 1_200, 1_300), woken_ns=1_400, signal_ns=1_450)
    assert lat.percentiles("signal")["count"] == 1
    for stage in ("risk", "order_sent", "tick_to_order"):
        assert lat.percentiles(stage)["count"] == 0 and lat.percentiles(stage)["p50"] is None
    # a replay without receive stamps (recv_ns 0) must not record the clock's epoch as a latency
    lat.add_decision(_record(0, 2_000, 2_100, 2_200), woken_ns=2_300, signal_ns=2_350, risk_ns=2_400,
                     sent_ns=2_500)
    assert lat.percentiles("callback_to_ring")["count"] == 1
    assert lat.percentiles("tick_to_order")["count"] == 0
    assert lat.percentiles("order_sent")["max"] == 100


def test_a_replayed_log_records_no_stage_that_starts_at_the_capture_s_receive_time() -> None:
    lat = LatencyRecorder(receive_clock=False)
    captured = _record(recv=3_000_000_000_000, taken=1_000, features=1_200, decided=1_500)
    lat.add_decision(captured, woken_ns=1_600, signal_ns=1_650, risk_ns=1_700, sent_ns=1_900)
    for stage in ("callback_to_ring", "tick_to_order"):
        assert lat.percentiles(stage)["count"] == 0 and lat.percentiles(stage)["dropped"] == 0
    stages = ("ring_to_features", "prediction", "order_sent")
    assert [lat.percentiles(s)["max"] for s in stages] == [200, 300, 200]


def test_negative_durations_are_counted_as_dropped_not_recorded() -> None:
    lat = LatencyRecorder()
    lat.add("risk", -5)
    lat.add_many("risk", np.array([-1, 10, 20]))
    p = lat.percentiles("risk")
    assert p["dropped"] == 2 and p["count"] == 2 and p["max"] == 20


def test_an_unknown_stage_is_one_line_error() -> None:
    with pytest.raises(LatencyError, match=r"unknown latency stage 'decode'.*callback_to_ring"):
        LatencyRecorder().add("decode", 1)


def test_buckets_are_contiguous_and_within_their_relative_precision() -> None:
    wide = np.geomspace(5000, 2**40 - 1, 20000).astype(np.int64)
    values = np.unique(np.concatenate([np.arange(0, 5000), wide]))
    idx = np.array([bucket_index(int(v)) for v in values])
    assert np.all(np.diff(idx) >= 0)
    low, high = bucket_bounds(idx)
    assert np.all(low <= values) and np.all(values <= high)
    assert np.all((high - low) <= np.maximum(low, 1) / 2**SUB_BUCKET_BITS)
    assert np.array_equal(idx[values < 128], values[values < 128])  # exact below 128 ns


def test_percentiles_hold_to_the_bucket_precision_on_a_heavy_tail() -> None:
    rng = np.random.default_rng(7)
    values = (rng.lognormal(mean=10, sigma=1.2, size=200_000)).astype(np.int64)
    lat = LatencyRecorder()
    lat.add_many("tick_to_order", values[:100_000])
    for v in values[100_000:101_000]:  # the scalar path lands in the same buckets
        lat.add("tick_to_order", int(v))
    lat.add_many("tick_to_order", values[101_000:])
    p = lat.percentiles("tick_to_order")
    assert p["count"] == values.size and p["max"] == values.max() and p["min"] == values.min()
    assert p["mean"] == pytest.approx(values.mean())
    for key, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
        exact = _exact_rank(values, q)
        assert exact <= p[key] <= exact * (1 + 2**-SUB_BUCKET_BITS), (key, exact, p[key])


def test_json_round_trip_is_exact_and_merge_adds_days() -> None:
    rng = np.random.default_rng(3)
    day1, day2 = LatencyRecorder(), LatencyRecorder()
    a, b = rng.integers(50, 5_000_000, 3000), rng.integers(50, 90_000_000, 1000)
    day1.add_many("prediction", a)
    day2.add_many("prediction", b)
    day2.add("ack", 2**45)  # beyond the last bucket: max stays exact
    text = json.dumps(day1.to_json())
    back = LatencyRecorder.from_json(json.loads(text))
    assert back == day1 and back.percentiles("prediction") == day1.percentiles("prediction")
    merged = LatencyRecorder().merge(day1).merge(day2)
    both = np.concatenate([a, b])
    p = merged.percentiles("prediction")
    assert p["count"] == 4000 and p["max"] == both.max() and p["min"] == both.min()
    assert _exact_rank(both, 0.99) <= p["p99"] <= _exact_rank(both, 0.99) * (1 + 2**-SUB_BUCKET_BITS)
    assert merged.percentiles("ack")["max"] == 2**45 and merged.percentiles("ack")["p50"] == 2**45
    assert LatencyRecorder.from_json(json.loads(json.dumps(merged.to_json()))) == merged


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d.update(format="csv"), "not a 'log-linear histogram v1' record"),
    (lambda d: d["stages"]["risk"].update(count=-1), "risk.count is -1"),
    (lambda d: d["stages"]["risk"].update(count=7), "buckets hold 3 samples, count says 7"),
    (lambda d: d["stages"]["risk"]["buckets"].append([10**9, 1]), "out of range"),
    (lambda d: d["stages"].update(decode={}), "unknown latency stage 'decode'"),
    (lambda d: d["stages"]["risk"].pop("buckets"), "risk: malformed"),
])
def test_malformed_latency_json_is_a_one_line_error(mangle, message: str) -> None:
    lat = LatencyRecorder()
    lat.add_many("risk", np.array([5, 50, 500]))
    data = json.loads(json.dumps(lat.to_json()))
    mangle(data)
    with pytest.raises(LatencyError, match=message) as err:
        LatencyRecorder.from_json(data)
    assert "\n" not in str(err.value)


def test_decisions_held_back_in_batches_are_all_recorded_before_any_read() -> None:
    rng = np.random.default_rng(5)
    n = 10_000  # two full batches of 4096 and a remainder
    recs = np.zeros(n, dtype=DECISION_DTYPE)
    recs["recv_ns"] = rng.integers(1, 10**9, n)
    recs["taken_ns"] = recs["recv_ns"] + rng.integers(0, 50_000, n)
    recs["features_ns"] = recs["taken_ns"] + rng.integers(0, 80_000, n)
    recs["decided_ns"] = recs["features_ns"] + rng.integers(0, 90_000, n)
    woken = recs["decided_ns"] + 1_000
    lat, direct = LatencyRecorder(), LatencyRecorder()
    for rec, w in zip(recs, woken, strict=True):
        lat.add_decision(rec, int(w), int(w) + 70, None, None)
    direct.add_many("callback_to_ring", recs["taken_ns"] - recs["recv_ns"])
    direct.add_many("ring_to_features", recs["features_ns"] - recs["taken_ns"])
    direct.add_many("prediction", recs["decided_ns"] - recs["features_ns"])
    direct.add_many("decision_wake", woken - recs["decided_ns"])
    direct.add_many("signal", np.full(n, 70))
    copy = LatencyRecorder.from_json(json.loads(json.dumps(lat.to_json())))  # to_json records them first
    assert copy == direct == lat
    assert LatencyRecorder().merge(lat).percentiles("prediction")["count"] == n
    # a mapping with the record's fields is read the same way
    one = LatencyRecorder()
    one.add_decision({"recv_ns": 10, "taken_ns": 25, "features_ns": 40, "decided_ns": 90}, 100)
    assert one.percentiles("callback_to_ring")["max"] == 15 and one.percentiles("decision_wake")["max"] == 10


def test_a_record_without_the_stage_stamps_is_one_line_error() -> None:
    rec = np.zeros(1, dtype=[("recv_ns", "<i8"), ("taken_ns", "<i8")])[0]
    with pytest.raises(LatencyError, match="a decision record needs the fields recv_ns, taken_ns, features"):
        LatencyRecorder().add_decision(rec, 5)


def test_the_live_pipeline_s_own_records_fill_the_pipeline_stages() -> None:
    """Decision records as the C pipeline stamps them (one clock with the
    decision thread's woken_ns); replayed events carry no receive time."""
    from quantumtrader.data.events import EVENT_DTYPE, EventType
    from quantumtrader.qtcore.ring import Ring
    from quantumtrader.runners import LivePipeline, PipelineInstrument

    lat = LatencyRecorder()

    def on_decision(recs: np.ndarray, woken_ns: int) -> None:
        for rec in recs:
            lat.add_decision(rec, woken_ns)

    pipe = LivePipeline([PipelineInstrument(1, "WDOZ26", 0.5, 0.5)], on_decision=on_decision)
    n = 300
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    ev["type"], ev["instrument"], ev["qty"], ev["code"] = EventType.TRADE, 1, 1, 2
    ev["exch_ns"] = int(np.datetime64("2026-11-03T13:00", "ns").astype(np.int64)) + np.arange(n) * 10**9
    ev["price"] = 10000 + np.arange(n) % 7
    assert pipe.run_events(ev) == n
    ring = Ring(4)
    pipe.start(ring)
    ring.close()
    assert pipe.wait(10.0)
    assert lat.percentiles("callback_to_ring")["count"] == 0  # recv_ns 0: not stamped
    for stage in ("ring_to_features", "prediction", "decision_wake"):
        p = lat.percentiles(stage)
        assert p["count"] == n and p["dropped"] == 0 and 0 < p["p50"] <= p["max"] < 60 * 10**9, (stage, p)
