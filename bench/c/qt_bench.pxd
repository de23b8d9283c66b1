# Typed interface of the benchmark-only C in bench/c (see the headers).
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from events cimport qt_event
from features cimport qt_fe

from pipeline cimport qt_pl


cdef extern from "qt_ring_bench.h" nogil:
    ctypedef struct qt_ring_bench_result:
        double seconds
        uint64_t sent, received, dropped, checksum
    int qt_ring_bench(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out)
    int qt_ring_bench_reference(uint64_t n, uint64_t capacity, uint32_t batch, qt_ring_bench_result *out)


cdef extern from "qt_fe_bench.h" nogil:
    ctypedef struct qt_fe_bench_result:
        double seconds
        uint64_t records, rows, lat_n, late
    int qt_fe_bench_ring(qt_fe *fe, const qt_event *ev, size_t n, double rate, uint64_t capacity,
                         uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_fe_bench_result *out)


cdef extern from "qt_pl_bench.h" nogil:
    ctypedef struct qt_pl_bench_result:
        double seconds
        uint64_t records
        uint64_t rows
        uint64_t lat_n
    int qt_pl_bench_ring(qt_pl *pl, const qt_event *ev, size_t n, uint64_t capacity,
                         uint32_t spin_iters, int64_t *lat_ns, size_t lat_cap, qt_pl_bench_result *out)


cdef extern from "qt_predict_bench.h" nogil:
    ctypedef struct qt_ensemble:
        pass
    ctypedef struct qt_predictor:  # of a drain hook's capsule (qt_fe_hook.user)
        const qt_ensemble *ens
    ctypedef struct qt_xgb_api:
        pass
    qt_xgb_api *qt_xgb_api_open(const char *lib_path, const char *model_json, char *err, size_t errcap)
    void qt_xgb_api_close(qt_xgb_api *x)
    int qt_xgb_api_time_rows(qt_xgb_api *x, const double *rows, size_t n, size_t stride, const int32_t *index,
                             size_t k, int64_t *lat_ns, double *out, char *err, size_t errcap)
    size_t qt_ensemble_time_rows(const qt_ensemble *e, const double *rows, size_t n, int64_t *lat_ns,
                                 double *out)
    size_t qt_model_time_rows(const qt_ensemble *e, uint32_t model, const double *rows, size_t n,
                              int64_t *lat_ns, double *out)
