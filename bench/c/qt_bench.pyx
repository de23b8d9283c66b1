# cython: freethreading_compatible=False
"""Benchmark-only measurements in C, for bench/run.py (built with
``-Dbench=true``; not part of the core or the wheel)."""
import numpy as np

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

from events cimport qt_event
from features cimport qt_fe, qt_fe_hook

from pipeline cimport qt_pl


def ring_throughput(uint64_t n, uint64_t capacity=1 << 16, uint32_t batch=1, bint reference=False):
    """Measure the ring in C: a producer thread pushes ``n`` events in
    batches of ``batch``, this thread consumes them.  ``reference``: the
    same over the head-published baseline ring (ring_head_reference.h).
    Returns a dict with seconds, sent, received, dropped."""
    cdef qt_ring_bench_result res
    cdef int rc
    with nogil:
        if reference:
            rc = qt_ring_bench_reference(n, capacity, batch, &res)
        else:
            rc = qt_ring_bench(n, capacity, batch, &res)
    if rc != 0:
        raise RuntimeError("ring benchmark could not start")
    return dict(seconds=res.seconds, sent=res.sent, received=res.received, dropped=res.dropped)


def feature_ring_latency(engine, events, double rate=0.0, uint64_t capacity=1 << 16, uint32_t spin=2000):
    """A C producer thread pushes ``events`` (EVENT_DTYPE) into a new ring
    (``rate`` records/s, 0 = as fast as it takes them) while ``engine`` (a
    FeatureEngine, not used elsewhere meanwhile) drains it with a timer per
    decision point.  Returns ``(latencies_ns, info)``: one latency per
    feature vector (ring pop to vector)."""
    from quantumtrader.data.events import EVENT_DTYPE
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise TypeError("events must be a numpy array of EVENT_DTYPE records")
    cdef const uint8_t[::1] buf = np.ascontiguousarray(events).reshape(-1).view(np.uint8)
    cdef size_t n = buf.shape[0] // 64
    cdef qt_fe *fe = <qt_fe *>PyCapsule_GetPointer(engine.capsule(), b"qt_fe")
    lat = np.zeros(max(int(np.count_nonzero(events["type"] == 1)), 1), dtype=np.int64)
    cdef int64_t[::1] l = lat
    cdef size_t cap = lat.shape[0]
    cdef qt_fe_bench_result res
    cdef int rc
    if n == 0:
        return lat[:0], {}
    with nogil:
        rc = qt_fe_bench_ring(fe, <const qt_event *>&buf[0], n, rate, capacity, spin, &l[0], cap, &res)
    if rc != 0:
        raise MemoryError("cannot create the benchmark ring or thread")
    return lat[: res.lat_n], dict(seconds=res.seconds, records=res.records, rows=res.rows, late=res.late)


def pipeline_ring_latency(pipeline, events, uint64_t capacity=1 << 16, uint32_t spin=2000):
    """A C producer thread pushes ``events`` (raw ring records, EVENT_DTYPE)
    into a new ring as fast as it takes them while ``pipeline`` (a Pipeline
    without hooks, not used elsewhere meanwhile; its hooks are replaced by
    the timing hook) runs on this thread.  Returns ``(latencies_ns, info)``:
    per decision point, the loop taking the trade -> the hook called."""
    from quantumtrader.data.events import EVENT_DTYPE, EventType
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise TypeError("events must be a numpy array of EVENT_DTYPE records")
    cdef const uint8_t[::1] buf = np.ascontiguousarray(events).reshape(-1).view(np.uint8)
    cdef size_t n = buf.shape[0] // 64
    cdef qt_pl *pl = <qt_pl *>PyCapsule_GetPointer(pipeline.capsule(), b"qt_pl")
    lat = np.zeros(max(int(np.count_nonzero(events["type"] == EventType.TRADE)), 1), dtype=np.int64)
    cdef int64_t[::1] l = lat
    cdef size_t cap = lat.shape[0]
    cdef qt_pl_bench_result res
    cdef int rc
    if n == 0:
        return lat[:0], {}
    with nogil:
        rc = qt_pl_bench_ring(pl, <const qt_event *>&buf[0], n, capacity, spin, &l[0], cap, &res)
    if rc != 0:
        raise MemoryError("cannot create the benchmark ring or thread")
    return lat[: res.lat_n], dict(seconds=res.seconds, records=res.records, rows=res.rows)


cdef const qt_ensemble *_ensemble_of(object hook) except NULL:
    """The compiled ensemble behind a drain hook (``Ensemble.drain_hook()``):
    its predictor's ``ens`` (qt_ensemble.h).  The capsule keeps it alive."""
    cdef qt_fe_hook *h = <qt_fe_hook *>PyCapsule_GetPointer(hook, b"qt_fe_hook")
    return (<qt_predictor *>h.user).ens


cdef object _rows77(object rows):
    a = np.ascontiguousarray(rows, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 77 or a.shape[0] == 0:
        raise ValueError(f"rows must be shaped (n > 0, 77), got {np.shape(rows)}")
    return a


def ensemble_row_latency(drain_hook, rows, int model=-1):
    """Per row of ``rows`` (float64 (n, 77), the engine's vectors), the ns
    of one qt_ensemble_predict call (``model`` >= 0: that compiled model of
    the ensemble alone) on the ensemble behind ``drain_hook`` (a capsule of
    ``Ensemble.drain_hook()``).  Returns ``(latencies_ns, probabilities)``."""
    a = _rows77(rows)
    cdef const double[:, ::1] x = a
    cdef size_t n = x.shape[0]
    lat = np.zeros(n, dtype=np.int64)
    out = np.zeros((n, 3), dtype=np.float64)
    cdef int64_t[::1] l = lat
    cdef double[:, ::1] o = out
    cdef const qt_ensemble *e = _ensemble_of(drain_hook)
    with nogil:
        if model < 0:
            qt_ensemble_time_rows(e, &x[0, 0], n, &l[0], &o[0, 0])
        else:
            qt_model_time_rows(e, <uint32_t>model, &x[0, 0], n, &l[0], &o[0, 0])
    return lat, out


def xgboost_api_row_latency(str library, str model_json, rows, feature_index):
    """XGBoost's C API (``library``: xgboost's shared library, dlopened;
    the booster loaded from ``model_json``, nthread 1): per row of ``rows``
    (float64 (n, 77)), the ns of one XGBoosterPredictFromDense call on the
    row's ``feature_index`` columns as float32 (see qt_predict_bench.h).
    Returns ``(latencies_ns, probabilities)``."""
    a = _rows77(rows)
    cdef const double[:, ::1] x = a
    cdef size_t n = x.shape[0]
    idx = np.ascontiguousarray(feature_index, dtype=np.int32)
    if idx.ndim != 1 or not 0 < idx.shape[0] <= 77 or ((idx < 0) | (idx >= 77)).any():
        raise ValueError("feature_index must name 1 to 77 columns of the 77-vector")
    cdef const int32_t[::1] ci = idx
    lat = np.zeros(n, dtype=np.int64)
    out = np.zeros((n, 3), dtype=np.float64)
    cdef int64_t[::1] l = lat
    cdef double[:, ::1] o = out
    cdef char err[512]
    cdef bytes lib_b = library.encode("utf-8"), model_b = model_json.encode("utf-8")
    cdef qt_xgb_api *api = qt_xgb_api_open(lib_b, model_b, err, sizeof(err))
    if api == NULL:
        raise RuntimeError(err.decode("utf-8", "replace"))
    cdef int rc
    with nogil:
        rc = qt_xgb_api_time_rows(api, &x[0, 0], n, 77, &ci[0], <size_t>ci.shape[0], &l[0], &o[0, 0], err,
                                  sizeof(err))
    qt_xgb_api_close(api)
    if rc != 0:
        raise RuntimeError(err.decode("utf-8", "replace"))
    return lat, out
