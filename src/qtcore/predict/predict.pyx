# cython: freethreading_compatible=False
"""The model side of the core: where the model acts and what it says.

:class:`Sampler` chooses the decision points (every row, a CUSUM filter on
log price in units of recent volatility, or a time grid) with the one C
implementation that the live hooks run too, so training samples are taken
exactly where the live loop will ask the model.  :class:`CompiledModel`
opens one tl2cgen-generated shared library (an XGBoost or scikit-learn model
compiled with the host's compiler) and :class:`Ensemble` runs a weighted
soft vote of up to four of them on the engine's 77-vector, from Python
(:meth:`Ensemble.predict_proba`, loops without the GIL) or from inside the
C loops (:meth:`Ensemble.pipeline_hook` for the live pipeline,
:meth:`Ensemble.drain_hook` for ``FeatureEngine.drain``).  Classes are
0 = sell, 1 = hold, 2 = buy; a row with NaN in the model's features is
never predicted (NaN out, counted)."""
import os

import numpy as np

from cpython.pycapsule cimport PyCapsule_GetContext, PyCapsule_GetPointer, PyCapsule_IsValid, PyCapsule_New
from cpython.pycapsule cimport PyCapsule_SetContext
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from features cimport qt_fe, qt_fe_hook
from pipeline cimport qt_pl_hook

from predict cimport (
    QT_ENS_MAX_FEATURES, QT_ENS_MAX_MODELS, QT_ENS_NUM_CLASS, QT_MODEL_MAX_CLASS, QT_SAMPLER_CUSUM,
    QT_SAMPLER_EVERY, QT_SAMPLER_NUM_FEATURES, QT_SAMPLER_TIME, qt_ens_scratch, qt_ensemble,
    qt_ensemble_close, qt_ensemble_open, qt_ensemble_predict, qt_model, qt_model_close, qt_model_open,
    qt_model_predict_row, qt_predict_counters, qt_predictor, qt_predictor_fe_hook,
    qt_predictor_get_counters, qt_predictor_init, qt_predictor_pl_hook, qt_predictor_set_engine, qt_sampler,
    qt_sampler_config,
    qt_sampler_init, qt_sampler_reset, qt_sampler_select,
)

N_FEATURES = QT_SAMPLER_NUM_FEATURES
N_CLASSES = QT_ENS_NUM_CLASS
MAX_MODELS = QT_ENS_MAX_MODELS
#: spec columns the CUSUM sampler reads unless told otherwise
VOLATILITY_GK_INDEX = 8
LOG_RETURNS_1_INDEX = 17
SAMPLER_KINDS = ("every", "cusum", "time")
_KIND_CODES = {"every": QT_SAMPLER_EVERY, "cusum": QT_SAMPLER_CUSUM, "time": QT_SAMPLER_TIME}


class ModelLoadError(ValueError):
    """A compiled model that cannot be used: one line naming the path and
    what is wrong (not a library, a missing export, the wrong shape...)."""


cdef str _c_message(char *err):
    return err.decode("utf-8", "replace")


cdef object _rows77(object features, str name):
    a = np.ascontiguousarray(features, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != QT_SAMPLER_NUM_FEATURES:
        raise ValueError(f"{name} must be shaped (n, {QT_SAMPLER_NUM_FEATURES}), got {np.shape(features)}")
    return a


# ------------------------------------------------------------------ sampler

cdef class Sampler:
    """The decision-point sampler (qt_sampler.h): ``kind`` "every" (every
    row), "cusum" (symmetric CUSUM of ``log_return_index`` against
    ``threshold`` times the ``volatility_index`` column; -1 = the spec's
    log_returns_1 / volatility_gk) or "time" (the first row at or after each
    point of an ``interval_s`` grid of UTC time).  State carries over from
    one :meth:`select` call to the next (one instrument's rows, in order)."""

    cdef qt_sampler _s

    def __init__(self, str kind, double threshold=1.0, int volatility_index=-1, int log_return_index=-1,
                 double interval_s=60.0):
        if kind not in _KIND_CODES:
            raise ValueError(f"sampler kind must be one of {', '.join(SAMPLER_KINDS)}, got {kind!r}")
        interval_ns = 0
        if kind == "time":
            if not (np.isfinite(interval_s) and interval_s > 0):
                raise ValueError(f"time sampler: interval_s must be > 0, got {interval_s}")
            interval_ns = int(round(interval_s * 1e9))
        self._configure(kind, threshold, volatility_index, log_return_index, interval_ns)

    cdef _configure(self, str kind, double threshold, int volatility_index, int log_return_index,
                    int64_t interval_ns):
        cdef qt_sampler_config cfg
        memset(&cfg, 0, sizeof(cfg))
        cfg.kind = _KIND_CODES[kind]
        cfg.threshold = threshold
        cfg.volatility_index = volatility_index
        cfg.log_return_index = log_return_index
        cfg.interval_ns = interval_ns
        if kind == "cusum":
            if volatility_index == -1:
                cfg.volatility_index = VOLATILITY_GK_INDEX
            if log_return_index == -1:
                cfg.log_return_index = LOG_RETURNS_1_INDEX
            if not (np.isfinite(threshold) and threshold > 0):
                raise ValueError(f"cusum sampler: threshold must be > 0, got {threshold}")
            for name, v in (("volatility_index", cfg.volatility_index),
                            ("log_return_index", cfg.log_return_index)):
                if not 0 <= v < QT_SAMPLER_NUM_FEATURES:
                    raise ValueError(f"cusum sampler: {name} must be in 0..{QT_SAMPLER_NUM_FEATURES - 1}, got {v}")
        if kind == "time" and interval_ns <= 0:
            raise ValueError(f"time sampler: interval must be > 0 ns, got {interval_ns}")
        if qt_sampler_init(&self._s, &cfg) != 0:
            raise ValueError(f"invalid {kind} sampler configuration")

    cdef qt_sampler_config config(self):
        return self._s.cfg

    def reset(self) -> None:
        """Back to the fresh state (a new instrument or a fresh replay)."""
        qt_sampler_reset(&self._s)

    def select(self, features, ts):
        """One boolean per row (``features`` float64 (n, 77), ``ts`` int64
        (n,) UTC ns, the engine's rows in order): True where the sampler
        fires.  Continues from the previous call's state; runs in C without
        the GIL."""
        cdef const double[:, ::1] f = _rows77(features, "features")
        cdef const int64_t[::1] t = np.ascontiguousarray(ts, dtype=np.int64)
        cdef Py_ssize_t n = f.shape[0]
        if t.ndim != 1 or t.shape[0] != n:
            raise ValueError(f"ts must hold one time per row ({n}), got shape {np.shape(ts)}")
        out = np.zeros(n, dtype=np.bool_)
        if n == 0:
            return out
        cdef uint8_t[::1] o = out.view(np.uint8)
        with nogil:
            qt_sampler_select(&self._s, &f[0, 0], &t[0], <size_t>n, &o[0])
        return out

    @property
    def params(self) -> dict:
        """kind, threshold, volatility_index, log_return_index, interval_ns
        (what goes into a model bundle)."""
        c = self._s.cfg
        return dict(kind=SAMPLER_KINDS[c.kind], threshold=c.threshold, volatility_index=c.volatility_index,
                    log_return_index=c.log_return_index, interval_ns=c.interval_ns)

    @property
    def state(self) -> dict:
        """The running state: CUSUM sums, the next grid point, rows seen and fired."""
        return dict(s_pos=self._s.s_pos, s_neg=self._s.s_neg, next_ns=self._s.next_ns, rows=self._s.rows,
                    fired=self._s.fired)

    def __reduce__(self):
        return _restore_sampler, (self.params, self.state)

    def __repr__(self) -> str:
        p = self.params
        if p["kind"] == "cusum":
            return (f"Sampler('cusum', threshold={p['threshold']!r}, volatility_index={p['volatility_index']}, "
                    f"log_return_index={p['log_return_index']})")
        if p["kind"] == "time":
            return f"Sampler('time', interval_s={p['interval_ns'] / 1e9!r})"
        return "Sampler('every')"


def _restore_sampler(dict params, dict state):
    cdef Sampler s = Sampler.__new__(Sampler)
    s._configure(params["kind"], params["threshold"], params["volatility_index"], params["log_return_index"],
                 params["interval_ns"])
    s._s.s_pos = state["s_pos"]
    s._s.s_neg = state["s_neg"]
    s._s.next_ns = state["next_ns"]
    s._s.rows = state["rows"]
    s._s.fired = state["fired"]
    return s


# ------------------------------------------------------------------ one model

cdef bytes _library_path(object path):
    """The absolute path as UTF-8 (Windows loads only absolute paths, and a
    bare name would make dlopen search the system's folders)."""
    p = os.path.abspath(os.fspath(path))
    if not os.path.exists(p):
        raise ModelLoadError(f"{p}: no such file")
    if not os.path.isfile(p):
        raise ModelLoadError(f"{p}: not a file")
    return p.encode("utf-8")


cdef class CompiledModel:
    """One tl2cgen-generated shared library (see qt_model.h), opened with
    the core's loader.  Raises ModelLoadError for a file that is not a
    loadable library, a library missing one of tl2cgen's exports, or a model
    the core cannot run (num_target != 1, float types other than
    float32/float64)."""

    cdef qt_model _m
    cdef readonly str path

    def __cinit__(self):
        memset(&self._m, 0, sizeof(self._m))

    def __init__(self, path):
        cdef bytes p = _library_path(path)
        cdef char err[512]
        qt_model_close(&self._m)
        if qt_model_open(&self._m, p, err, sizeof(err)) != 0:
            raise ModelLoadError(_c_message(err))
        self.path = p.decode("utf-8")

    def __dealloc__(self):
        qt_model_close(&self._m)

    @property
    def num_feature(self) -> int:
        return self._m.num_feature

    @property
    def num_class(self) -> int:
        return self._m.num_class

    @property
    def threshold_type(self) -> str:
        return "float64" if self._m.threshold_f64 else "float32"

    @property
    def leaf_output_type(self) -> str:
        return "float64" if self._m.leaf_f64 else "float32"

    def predict_proba(self, X):
        """Probabilities, float64 (n, num_class), for X float64 (n,
        num_feature); a row with a NaN gives NaN (never predicted).  Runs in
        C without the GIL, the library's result zeroed before every row."""
        if self._m.lib == NULL:
            raise ValueError("the model is not open")
        a = np.ascontiguousarray(X, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != self._m.num_feature:
            raise ValueError(f"X must be shaped (n, {self._m.num_feature}), got {np.shape(X)}")
        cdef const double[:, ::1] x = a
        cdef Py_ssize_t n = x.shape[0], i
        out = np.empty((n, self._m.num_class), dtype=np.float64)
        if n == 0:
            return out
        cdef double[:, ::1] o = out
        scratch = np.empty(self._m.num_feature, dtype=np.float64)  # 8 bytes per entry fits both types
        cdef double[::1] s = scratch
        with nogil:
            for i in range(n):
                qt_model_predict_row(&self._m, &x[i, 0], NULL, &s[0], &o[i, 0])
        return out

    def __repr__(self) -> str:
        return (f"CompiledModel({self.path!r}, num_feature={self.num_feature}, num_class={self.num_class}, "
                f"threshold_type={self.threshold_type!r})")


# ------------------------------------------------------------------ ensemble

# A predictor and the two hook structs that point at it, allocated together
# by the Ensemble and freed when it goes: the capsules handed out keep the
# Ensemble (and so these and the libraries) alive.
cdef struct _hook_block:
    qt_predictor p
    qt_pl_hook pl
    qt_fe_hook fe


cdef void _release_owner(object capsule) noexcept:
    cdef void *owner = PyCapsule_GetContext(capsule)
    if owner != NULL:
        Py_DECREF(<object>owner)


cdef object _owned_capsule(void *ptr, const char *name, object owner):
    cap = PyCapsule_New(ptr, name, _release_owner)
    Py_INCREF(owner)
    PyCapsule_SetContext(cap, <void *>owner)
    return cap


cdef class Ensemble:
    """A weighted soft vote of 1..4 compiled models (qt_ensemble.h) on the
    engine's 77-vector: ``feature_index`` names the vector's column of each
    model feature, in model order; every model must take exactly those
    features and give 3 classes (sell, hold, buy).  ``weights`` are
    normalised to sum 1.  ``sampler``: the decision points of the hooks
    (None: every row); each hook gets its own copy of its state."""

    cdef qt_ensemble _e
    cdef bint _open
    cdef qt_sampler_config _sampler_cfg
    cdef readonly object sampler
    cdef readonly tuple model_paths
    cdef object _feature_index
    cdef list _blocks
    cdef list _engines
    cdef uint64_t _rows, _nan_rows, _predicted

    def __cinit__(self):
        memset(&self._e, 0, sizeof(self._e))
        self._blocks = []
        self._engines = []

    def __init__(self, model_paths, weights, feature_index, Sampler sampler=None):
        if self._open:
            raise RuntimeError("an Ensemble is opened once")
        paths = [p for p in model_paths] if not isinstance(model_paths, (str, bytes, os.PathLike)) \
            else [model_paths]
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        idx = np.asarray(feature_index)
        if not 1 <= len(paths) <= QT_ENS_MAX_MODELS:
            raise ValueError(f"an ensemble holds 1 to {QT_ENS_MAX_MODELS} models, got {len(paths)}")
        if len(w) != len(paths):
            raise ValueError(f"{len(paths)} models but {len(w)} weights")
        if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
            raise ValueError(f"weights must be finite, >= 0 and not all 0, got {w.tolist()}")
        if idx.ndim != 1 or not 1 <= len(idx) <= QT_ENS_MAX_FEATURES or \
                (len(idx) and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"feature_index must be 1 to {QT_ENS_MAX_FEATURES} integer columns, "
                             f"got shape {idx.shape} of {idx.dtype}")
        if ((idx < 0) | (idx >= QT_SAMPLER_NUM_FEATURES)).any():
            raise ValueError(f"feature_index values must be in 0..{QT_SAMPLER_NUM_FEATURES - 1}")
        encoded = [_library_path(p) for p in paths]
        cdef const char *c_paths[4]
        for i, b in enumerate(encoded):
            c_paths[i] = b
        cdef double[::1] cw = np.ascontiguousarray(w)
        cdef int32_t[::1] ci = np.ascontiguousarray(idx, dtype=np.int32)
        cdef char err[512]
        if qt_ensemble_open(&self._e, c_paths, &cw[0], len(paths), &ci[0], len(idx), err, sizeof(err)) != 0:
            raise ModelLoadError(_c_message(err))
        self._open = True
        memset(&self._sampler_cfg, 0, sizeof(self._sampler_cfg))
        self._sampler_cfg.kind = QT_SAMPLER_EVERY
        if sampler is not None:
            self._sampler_cfg = sampler.config()
        self.sampler = sampler
        self.model_paths = tuple(b.decode("utf-8") for b in encoded)
        self._feature_index = np.array(idx, dtype=np.int64)

    def __dealloc__(self):
        for addr in self._blocks:
            free(<void *><size_t>addr)
        self._blocks = []
        if self._open:
            qt_ensemble_close(&self._e)

    cdef inline void _check(self) except *:
        if not self._open:
            raise ValueError("the ensemble is not open")

    @property
    def num_feature(self) -> int:
        return self._e.n_features

    @property
    def feature_index(self):
        return self._feature_index.copy()

    @property
    def weights(self) -> tuple:
        """The normalised weights, in model order."""
        return tuple(self._e.weight[m] for m in range(self._e.n_models))

    @property
    def models(self) -> list:
        """Per model: path, num_feature, num_class, threshold_type, leaf_output_type."""
        out = []
        for m in range(self._e.n_models):
            md = self._e.model[m]
            out.append(dict(path=self.model_paths[m], num_feature=md.num_feature, num_class=md.num_class,
                            threshold_type="float64" if md.threshold_f64 else "float32",
                            leaf_output_type="float64" if md.leaf_f64 else "float32"))
        return out

    def predict_proba(self, features77):
        """Weighted probabilities, float64 (n, 3) [sell, hold, buy], for the
        engine's rows (float64 (n, 77)); a row with NaN in the model's
        features gives NaN (not predicted, counted in ``nan_rows``).  Every
        row is asked (no sampler here).  Runs in C without the GIL."""
        self._check()
        cdef const double[:, ::1] f = _rows77(features77, "features77")
        cdef Py_ssize_t n = f.shape[0], i
        out = np.empty((n, QT_ENS_NUM_CLASS), dtype=np.float64)
        if n == 0:
            return out
        cdef double[:, ::1] o = out
        cdef qt_ens_scratch scratch
        cdef uint64_t done = 0
        with nogil:
            for i in range(n):
                done += <uint64_t>qt_ensemble_predict(&self._e, &f[i, 0], &scratch, &o[i, 0])
        self._rows += <uint64_t>n
        self._predicted += done
        self._nan_rows += <uint64_t>n - done
        return out

    cdef _hook_block *_new_block(self) except NULL:
        self._check()
        cdef _hook_block *b = <_hook_block *>malloc(sizeof(_hook_block))
        if b == NULL:
            raise MemoryError()
        if qt_predictor_init(&b.p, &self._e, &self._sampler_cfg) != 0:
            free(b)
            raise ValueError("invalid sampler configuration")
        qt_predictor_pl_hook(&b.p, &b.pl)
        qt_predictor_fe_hook(&b.p, &b.fe)
        self._blocks.append(<size_t>b)
        return b

    def pipeline_hook(self, engine=None):
        """A new predictor (its own sampler state) as a "qt_pl_hook" capsule
        for ``Pipeline.set_hook`` / ``LivePipeline``: filter = the sampler,
        decide = the ensemble (output[0..2] the probabilities, action =
        argmax - 1, posted; a NaN row is skipped and counted).  Give each
        instrument its own.  ``engine``: that instrument's FeatureEngine in
        the pipeline; the time sampler then reads its clock, the very ``ts``
        of the training rows (without it, the trades' own times: the same
        unless a trade is timed before the book record ahead of it).  The
        capsule keeps this ensemble (and the engine) alive."""
        cdef qt_fe *fe = NULL
        if engine is not None:
            cap = engine.capsule() if hasattr(engine, "capsule") else None
            if not PyCapsule_IsValid(cap, b"qt_fe"):
                raise TypeError("engine must provide a 'qt_fe' capsule (a FeatureEngine)")
            fe = <qt_fe *>PyCapsule_GetPointer(cap, b"qt_fe")
        cdef _hook_block *b = self._new_block()
        if fe != NULL:
            qt_predictor_set_engine(&b.p, fe)
            self._engines.append(engine)
        return _owned_capsule(<void *>&b.pl, b"qt_pl_hook", self)

    def drain_hook(self):
        """A new predictor as a "qt_fe_hook" capsule for ``FeatureBatch`` /
        ``FeatureDrain``: the sampler on the engine's clock, the ensemble at
        each decision point; the last prediction is kept
        (:meth:`last_decision`).  The capsule keeps this ensemble alive."""
        cdef _hook_block *b = self._new_block()
        return _owned_capsule(<void *>&b.fe, b"qt_fe_hook", self)

    cdef qt_predictor *_predictor_of(self, hook) except NULL:
        cdef void *ptr
        if PyCapsule_IsValid(hook, b"qt_fe_hook"):
            ptr = (<qt_fe_hook *>PyCapsule_GetPointer(hook, b"qt_fe_hook")).user
        elif PyCapsule_IsValid(hook, b"qt_pl_hook"):
            ptr = (<qt_pl_hook *>PyCapsule_GetPointer(hook, b"qt_pl_hook")).decide_user
        else:
            raise TypeError("hook must be a capsule from pipeline_hook() or drain_hook()")
        if PyCapsule_GetContext(hook) != <void *>self:
            raise ValueError("the hook belongs to another ensemble")
        return <qt_predictor *>ptr

    def last_decision(self, hook):
        """The last prediction of a hook's predictor (drain hooks keep it):
        ``dict(ts, trade_number, output, action)``, or None before the first."""
        cdef qt_predictor *p = self._predictor_of(hook)
        if p.last_output[0] != p.last_output[0]:  # NaN: nothing predicted yet
            return None
        return dict(ts=p.last_ts, trade_number=p.last_trade_number,
                    output=(p.last_output[0], p.last_output[1], p.last_output[2]), action=p.last_action)

    def hook_counters(self, hook) -> dict:
        """One hook's counters (rows, fired, nan_rows, predicted)."""
        cdef qt_predict_counters c
        qt_predictor_get_counters(self._predictor_of(hook), &c)
        return dict(rows=c.rows, fired=c.fired, nan_rows=c.nan_rows, predicted=c.predicted)

    @property
    def counters(self) -> dict:
        """Totals over :meth:`predict_proba` and every hook handed out:
        rows seen, fired (decision points: every predict_proba row, the
        sampler's choices in the hooks), nan_rows (not predicted: NaN in the
        model features), predicted.  Any thread, any time."""
        cdef qt_predict_counters c
        cdef uint64_t rows = self._rows, fired = self._rows, nan_rows = self._nan_rows, done = self._predicted
        for addr in self._blocks:
            qt_predictor_get_counters(&(<_hook_block *><size_t>addr).p, &c)
            rows += c.rows
            fired += c.fired
            nan_rows += c.nan_rows
            done += c.predicted
        return dict(rows=rows, fired=fired, nan_rows=nan_rows, predicted=done)

    def __repr__(self) -> str:
        return f"Ensemble({list(self.model_paths)!r}, weights={self.weights!r}, sampler={self.sampler!r})"
