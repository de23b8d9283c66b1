"""The models at work: one-row prediction latency of the compiled RF +
XGBoost ensemble, from C inside the drain loop and from Python, next to
native XGBoost (Python ``inplace_predict`` and its C API from C) and
scikit-learn, the drain loop's throughput with a prediction at every
decision point, and training time and peak memory for a month of data.

Bundles (3 classes, qt77: the engine's whole 77-vector): "default" is
``models/default/`` when the repository ships it, else one trained here with
the default sizes (Random Forest 100 trees depth 8 + XGBoost 200 trees
depth 4); "large" is trained here (RF 300 trees depth 12 + XGBoost 500 trees
depth 8).  Both learn triple-barrier labels on the engine's rows of two
synthetic days (seeds 11 and 12, signal 1.0); the measured day is another
one (``simulate_market(1, seed=7, signal=1.0)``).  They are saved and
compiled by the bundle code (quantumtrader.models.bundle / compile:
treelite + tl2cgen with the host's compiler) in a temporary folder removed
at the end; a shipped default is copied there first.  Both native models
predict on one thread (forest n_jobs 1, booster nthread 1).

Figures (medians over repeats; the machine is shared and noisy):
1. drain loop latency: the Cython Pipeline replays the day (book
   interleaved) with the ensemble's pipeline hook on an "every" sampler;
   per posted decision, decided_ns - features_ns (the hook's filter and
   decide: the whole ensemble), p50 / p99 / p99.9.  Budget: default p99
   <= 20 us.  Then the default bundle at the default sampler's decision
   points only (CUSUM, a few hundred a day: the model runs cold, as live).
2. from Python, one row per call (perf_counter_ns around the call, rows of
   the day varied): ``Ensemble.predict_proba``, XGBoost
   ``Booster.inplace_predict`` (float32 row) and scikit-learn
   ``predict_proba`` (the forest, n_jobs 1), p50 / p99 / p99.9.
3. from C, the same rows: the compiled ensemble (qt_ensemble_predict, the
   call the decide hook makes) against XGBoost's C API
   (XGBoosterPredictFromDense of xgboost's own shared library, nthread 1;
   see bench/c/qt_predict_bench.h), and the compiled XGBoost model alone.
   Budget: the compiled large ensemble at least 5x faster (p50) than the
   XGBoost C API on one row.
4. drain throughput: ``FeatureEngine.drain`` of the day with the default
   sampler (CUSUM, threshold 3 on volatility_gk) calling the ensemble at
   every decision point, trades/s against the same drain without a hook.
   Budget: >= 1M trades/s.
5. training: ``quantumtrader synth --days 21`` and ``quantumtrader train
   --serial`` on it in subprocesses, wall time and peak RSS of each (its
   process tree's largest, from wait4).

``QT_BENCH_LARGE=0 python bench/run.py predict`` skips the large bundle (its
training and compilation take minutes); by default it runs.  Keep it off in
CI (the issue keeps the large-bundle run out of CI)."""


from __future__ import annotations

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import c_extension
import numpy as np
from harness import Report, Result

from quantumtrader.data.events import EventType
from quantumtrader.data.synth import simulate_market
from quantumtrader.features import schema_for
from quantumtrader.models.bundle import MANIFEST, MODEL_FILES, ModelBundle
from quantumtrader.models.estimators import ModelConfig, fit_forest, fit_xgboost
from quantumtrader.models.labels import BarrierConfig, triple_barrier
from quantumtrader.models.sampler import SamplerConfig
from quantumtrader.qtcore.features import FeatureBatch, FeatureEngine
from quantumtrader.qtcore.pipeline import DONE, Pipeline
from quantumtrader.qtcore.predict import Ensemble, Sampler

ROOT = pathlib.Path(__file__).resolve().parents[1]
REPEATS = 5
LARGE_REPEATS = 3  # the large bundle's day replays take seconds each
PY_CALLS = 3_000  # per repeat, ensemble and XGBoost from Python
SKLEARN_CALLS = 1_000  # per repeat (milliseconds each)
C_ROWS = 20_000
TRAIN_SEEDS = (11, 12)
TRAIN_ROWS = 60_000  # evenly spaced labelled rows of the training days
MONTH_SESSIONS = 21
INSTRUMENT_ID = 1
UTC_OFFSET_MIN = -180
BUDGET_P99_NS = 20_000
BUDGET_C_API_RATIO = 5.0
BUDGET_TRADES_S = 1e6


@dataclass(frozen=True)
class Sizes:
    name: str
    rf_trees: int
    rf_depth: int
    xgb_trees: int
    xgb_depth: int


DEFAULT = Sizes("default", 100, 8, 200, 4)
LARGE = Sizes("large", 300, 12, 500, 8)


@dataclass
class Bundle:
    """A saved model bundle (quantumtrader.models.bundle) and what the
    figures read of it: the native models, the XGBoost JSON (for the C API)
    and the compiled ensemble (libraries in the bundle's own cache)."""

    name: str
    bundle: ModelBundle

    def ensemble(self, sampler: Sampler | None = None) -> Ensemble:
        return self.bundle.ensemble(sampler)

    @property
    def forest(self) -> object:
        return self.bundle.models["forest"]

    @property
    def booster(self) -> object:
        return self.bundle.models["xgboost"]

    @property
    def xgboost_json(self) -> str:
        assert self.bundle.path is not None
        return str(self.bundle.path / MODEL_FILES["xgboost"])

    @property
    def xgboost_model(self) -> int:
        """Position of the XGBoost library in the ensemble (the bundle's model order)."""
        return list(self.bundle.models).index("xgboost")

    @property
    def feature_index(self) -> np.ndarray:
        return self.bundle.feature_index

    def single_threaded(self) -> None:
        """One row gains nothing from a thread pool: both native models predict on one thread."""
        self.bundle.models["forest"].n_jobs = 1
        self.bundle.models["xgboost"].set_param({"nthread": 1})


# ------------------------------------------------------------------ data

def _day_rows(market) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every feature row of a market through one engine: (features, ts, price)."""
    fe = FeatureEngine(market.tick_size, market.price_unit)
    trades = int(np.count_nonzero(market.events["type"] == EventType.TRADE))
    batch = FeatureBatch(trades + 1, 1)
    fe.drain(market.events, batch)
    n = batch.rows
    return batch.matrix[:n].copy(), batch.ts[:n].copy(), batch.price[:n].copy()


def _training_set() -> tuple[np.ndarray, np.ndarray]:
    """(X float64 (m, 77), y class 0 sell / 1 hold / 2 buy): every row of
    the training days with a triple-barrier label and finite features,
    evenly thinned to TRAIN_ROWS."""
    vol = SamplerConfig().build().params["volatility_index"]
    xs, ys = [], []
    for seed in TRAIN_SEEDS:
        features, ts, price = _day_rows(simulate_market(1, seed=seed, signal=1.0))
        events = np.arange(len(ts), dtype=np.int64)
        session = np.zeros(len(ts), np.int64)
        lab = triple_barrier(ts, price, session, events, features[:, vol], BarrierConfig())
        keep = lab.valid & np.isfinite(features).all(axis=1)
        xs.append(features[keep])
        ys.append(lab.label[keep].astype(np.int64) + 1)
    X, y = np.concatenate(xs), np.concatenate(ys)
    take = np.linspace(0, len(y) - 1, min(TRAIN_ROWS, len(y))).astype(np.int64)
    return X[take], y[take]


# ------------------------------------------------------------------ bundles

def _train_bundle(sizes: Sizes, X: np.ndarray, y: np.ndarray, folder: pathlib.Path) -> Bundle:
    """The two estimators of the bundle code at these sizes (the other
    parameters its defaults), equal weights, saved and compiled."""
    cfg = ModelConfig(rf_trees=sizes.rf_trees, rf_depth=sizes.rf_depth, xgb_trees=sizes.xgb_trees,
                      xgb_depth=sizes.xgb_depth, n_jobs=2)
    t0 = time.perf_counter()
    models = {"forest": fit_forest(X, y, None, cfg), "xgboost": fit_xgboost(X, y, None, cfg)}
    t1 = time.perf_counter()
    bundle = ModelBundle(schema_for("qt77"), models, {"forest": 0.5, "xgboost": 0.5},
                         sampler=SamplerConfig().to_dict(), model_config=cfg.as_dict())
    bundle.save(folder, compile=True)
    t2 = time.perf_counter()
    print(f"  {sizes.name} bundle: RF {sizes.rf_trees} trees depth {sizes.rf_depth} + XGBoost "
          f"{sizes.xgb_trees} trees depth {sizes.xgb_depth} on {len(y):,} rows: trained in {t1 - t0:.1f} s, "
          f"compiled in {t2 - t1:.1f} s", flush=True)
    b = Bundle(sizes.name, bundle)
    b.single_threaded()
    return b


def _shipped_default(folder: pathlib.Path) -> Bundle | None:
    """The repository's models/default, copied (its compiled libraries are
    built in the copy, never in the source tree), or None when absent."""
    src = ROOT / "models" / "default"
    if not (src / MANIFEST).is_file():
        return None
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("compiled"))
    bundle = ModelBundle.load(folder)
    names = set(bundle.models)
    if names != {"forest", "xgboost"} or len(bundle.schema) != 77:
        raise RuntimeError(f"{src}: the bench expects a qt77 forest + xgboost bundle, got {sorted(names)} "
                           f"over {len(bundle.schema)} features")
    t0 = time.perf_counter()
    bundle.compiled_paths()
    print(f"  default bundle: {src} ({bundle.model_config}), compiled in {time.perf_counter() - t0:.1f} s",
          flush=True)
    b = Bundle("default", bundle)
    b.single_threaded()
    return b


# ------------------------------------------------------------------ figures

def _percentiles(lat: np.ndarray) -> tuple[float, float, float]:
    p50, p99, p999 = np.percentile(lat, [50, 99, 99.9])
    return float(p50), float(p99), float(p999)


def _median3(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    p50, p99, p999 = (statistics.median(r[k] for r in runs) for k in range(3))
    return p50, p99, p999


def _add3(report: Report, name: str, p: tuple[float, float, float], budget99: float | None = None,
          baseline: tuple[float, float, float] | None = None, baseline_name: str = "") -> None:
    for label, value, k in (("p50", p[0], 0), ("p99", p[1], 1), ("p99.9", p[2], 2)):
        report.add(Result(f"{name} {label}", value, "ns", higher_is_better=False,
                          budget=budget99 if label == "p99" else None,
                          baseline=baseline[k] if baseline else None, baseline_name=baseline_name))


def _pipeline_latency(bundle: Bundle, market, repeats: int,
                      sampler: SamplerConfig | None = None) -> tuple[tuple[float, float, float], int]:
    """Figure 1: decided_ns - features_ns of every posted decision of the
    day's replay through the Pipeline with the ensemble's hook (sampler
    None: every row)."""
    events = market.events.copy()
    events["instrument"] = INSTRUMENT_ID
    trades = int(np.count_nonzero(events["type"] == EventType.TRADE))
    capacity = 1 << max(10, int(trades).bit_length())
    ens = bundle.ensemble(Sampler("every") if sampler is None else sampler.build())
    runs, posted = [], 0
    for _ in range(repeats):
        fe = FeatureEngine(market.tick_size, market.price_unit)
        pl = Pipeline(UTC_OFFSET_MIN, decision_capacity=capacity)
        pl.add_engine(INSTRUMENT_ID, fe)
        hook = ens.pipeline_hook(fe)
        pl.set_hook(hook, INSTRUMENT_ID)
        taken, status = pl.run_events(events)
        pl.flush()
        d = pl.wait_decisions(max_records=capacity, timeout_s=0)
        c, hc = pl.counters, ens.hook_counters(hook)
        if status != DONE or taken != len(events) or c["decisions_dropped"] or len(d) != c["decisions"] \
                or c["decisions"] != hc["predicted"] or hc["rows"] != trades:
            raise RuntimeError(f"pipeline replay incomplete: {taken}/{len(events)} records, status {status}, "
                               f"{len(d)} decisions popped, {c}, hook {hc}")
        p = d["output"]
        if not (np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)):
            raise RuntimeError("the hook posted outputs that are not probabilities")
        runs.append(_percentiles(d["decided_ns"] - d["features_ns"]))
        posted = len(d)
    return _median3(runs), posted


def _python_latency(fn: Callable[[np.ndarray], object], rows: list[np.ndarray], calls: int,
                    repeats: int) -> tuple[float, float, float]:
    """Figure 2: perf_counter_ns around one call per row (rows cycled)."""
    clock = time.perf_counter_ns
    runs = []
    for r in range(repeats):
        lat = np.empty(calls, dtype=np.int64)
        offset = r * calls
        for i in range(calls):
            row = rows[(offset + i) % len(rows)]
            t0 = clock()
            fn(row)
            lat[i] = clock() - t0
        runs.append(_percentiles(lat))
    return _median3(runs)


def _xgboost_library() -> str:
    import xgboost.core

    name = getattr(xgboost.core._LIB, "_name", None)
    if name and os.path.isfile(name):
        return os.path.abspath(name)
    lib = pathlib.Path(xgboost.__file__).parent / "lib"
    found = sorted(p for p in lib.glob("*xgboost*") if p.suffix in (".so", ".dylib", ".dll"))
    if not found:
        raise RuntimeError(f"xgboost's shared library is neither {name!r} nor in {lib}")
    return str(found[0])


def _c_latency(bundle: Bundle, rows: np.ndarray, repeats: int, report: Report, budget: float | None) -> None:
    """Figure 3: the same rows through the compiled ensemble and XGBoost's C API."""
    qt_bench = c_extension.load()
    ens = bundle.ensemble()
    hook = ens.drain_hook()
    library = _xgboost_library()
    ens_runs, model_runs, api_runs = [], [], []
    for _ in range(repeats):
        lat, _ = qt_bench.ensemble_row_latency(hook, rows)
        ens_runs.append(_percentiles(lat))
        lat, p_model = qt_bench.ensemble_row_latency(hook, rows, bundle.xgboost_model)
        model_runs.append(_percentiles(lat))
        lat, p_api = qt_bench.xgboost_api_row_latency(library, bundle.xgboost_json, rows,
                                                      bundle.feature_index)
        api_runs.append(_percentiles(lat))
    # the C API call and the compiled library must say the same, or one of them is not what it seems
    diff = float(np.max(np.abs(p_api - p_model)))
    if diff > 1e-4:
        raise RuntimeError(f"XGBoost C API and the compiled XGBoost model differ by {diff:.2e}")
    e, m, a = _median3(ens_runs), _median3(model_runs), _median3(api_runs)
    name = bundle.name
    _add3(report, f"{name}: compiled ensemble from C", e)
    report.add(Result(f"{name}: compiled XGBoost model alone from C p50", m[0], "ns", higher_is_better=False))
    _add3(report, f"{name}: XGBoost C API, one row", a)
    report.add(Result(f"{name}: XGBoost C API p50 / ensemble p50", a[0] / e[0], "x", budget=budget))
    print(f"  {name}: {len(rows):,} rows, compiled XGBoost vs C API max |dp| {diff:.1e}", flush=True)


def _drain_throughput(bundle: Bundle, market, report: Report, budget: float | None) -> None:
    """Figure 4: the drain with the CUSUM sampler and the ensemble at every decision point."""
    trades = int(np.count_nonzero(market.events["type"] == EventType.TRADE))
    sampler_cfg = SamplerConfig()
    ens = bundle.ensemble(sampler_cfg.build())
    fe = FeatureEngine(market.tick_size, market.price_unit)
    nothing = FeatureBatch(0, 0)
    base, hooked, counts = [], [], None
    for _ in range(REPEATS):
        fe.reset()
        t0 = time.perf_counter()
        fe.drain(market.events, nothing)
        base.append(trades / (time.perf_counter() - t0))
        hook = ens.drain_hook()
        batch = FeatureBatch(0, 0, hook=hook)
        fe.reset()
        t0 = time.perf_counter()
        fe.drain(market.events, batch)
        hooked.append(trades / (time.perf_counter() - t0))
        counts = ens.hook_counters(hook)
    assert counts is not None
    if counts["rows"] != trades or counts["predicted"] == 0:
        raise RuntimeError(f"the drain hook saw {counts} of {trades} trades")
    b = statistics.median(base)
    report.add(Result(f"{bundle.name}: drain + CUSUM {sampler_cfg.threshold:g} + ensemble: trades/s",
                      statistics.median(hooked), "trades/s", budget=budget, baseline=b,
                      baseline_name="drain without a hook"))
    report.add(Result(f"{bundle.name}: predictions in the day (decision points)", counts["predicted"],
                      "rows"))
    print(f"  {bundle.name}: {counts['fired']:,} decision points of {trades:,} trades, "
          f"{counts['nan_rows']:,} not predicted (NaN features)", flush=True)


def _child(cmd: list[str], cwd: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a subprocess and its descendants
    (wait4's ru_maxrss: the largest of the tree, not a sum).  Its own
    rusage, not RUSAGE_CHILDREN, which would also hold every earlier child
    of this process (the compilers)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = out.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(cmd[2:])} exited {proc.returncode}: {' | '.join(tail)}")
    return dt, usage.ru_maxrss / 1024.0  # kB on Linux


def _training_month(report: Report, tmp: pathlib.Path) -> None:
    """Figure 5: a month of synthetic data, then training on it."""
    cli = [sys.executable, "-m", "quantumtrader"]
    log = tmp / "month.qtlog"
    dt, rss = _child([*cli, "synth", "--days", str(MONTH_SESSIONS), "--seed", "3", "--signal", "1.0",
                      "--out", str(log)], str(tmp))
    report.add(Result(f"synth {MONTH_SESSIONS} sessions: wall time", dt, "s", higher_is_better=False))
    report.add(Result(f"synth {MONTH_SESSIONS} sessions: peak RSS", rss, "MB", higher_is_better=False))
    out = tmp / "month-model"
    dt, rss = _child([*cli, "train", "--data", str(log), "--out", str(out), "--serial"], str(tmp))
    report.add(Result(f"train --serial on {MONTH_SESSIONS} sessions: wall time", dt, "s",
                      higher_is_better=False))
    report.add(Result(f"train --serial on {MONTH_SESSIONS} sessions: peak RSS", rss, "MB",
                      higher_is_better=False))


# ------------------------------------------------------------------ run

def run(report: Report) -> None:
    large = os.environ.get("QT_BENCH_LARGE", "1").strip() not in ("0", "no", "false", "")
    market = simulate_market(1, seed=7, signal=1.0)
    features, _, _ = _day_rows(market)
    finite = features[np.isfinite(features).all(axis=1)]
    step = max(1, len(finite) // C_ROWS)
    rows = np.ascontiguousarray(finite[::step][:C_ROWS])
    trades = int(np.count_nonzero(market.events["type"] == EventType.TRADE))
    print(f"  measured day: {len(market.events):,} records, {trades:,} trades, {len(finite):,} rows without "
          f"NaN; large bundle {'on' if large else 'off (QT_BENCH_LARGE=0)'}", flush=True)

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="qt-bench-predict-"))
    try:
        shipped = _shipped_default(tmp / "default")
        X, y = _training_set() if shipped is None or large else (None, None)
        bundles = [shipped or _train_bundle(DEFAULT, X, y, tmp / "default")]
        if large:
            bundles.append(_train_bundle(LARGE, X, y, tmp / "large"))

        # 1. latency inside the drain loop
        for b in bundles:
            lat, posted = _pipeline_latency(b, market, REPEATS if b.name == "default" else LARGE_REPEATS)
            print(f"  {b.name}: {posted:,} decisions posted by the pipeline hook", flush=True)
            _add3(report, f"{b.name}: pipeline hook, decided - features", lat,
                  budget99=BUDGET_P99_NS if b.name == "default" else None)
        # live, the model runs only at the sampler's few decision points: cold caches and branch history
        sparse = SamplerConfig()
        lat, posted = _pipeline_latency(bundles[0], market, REPEATS, sparse)
        print(f"  default, CUSUM {sparse.threshold:g} sampler: {posted:,} decisions posted", flush=True)
        for label, k in (("p50", 0), ("p99", 1)):
            report.add(Result(f"default: pipeline hook at CUSUM decision points {label}", lat[k], "ns",
                              higher_is_better=False))

        # 2. from Python, one row per call
        py_rows = [r[None, :] for r in rows]
        py32 = [r.astype(np.float32) for r in py_rows]
        for b in bundles:
            ens = b.ensemble()
            reps = 3
            _add3(report, f"{b.name}: Ensemble.predict_proba, one row",
                  _python_latency(ens.predict_proba, py_rows, PY_CALLS, reps))
            booster = b.booster
            _add3(report, f"{b.name}: XGBoost inplace_predict, one row",
                  _python_latency(lambda r, bst=booster: bst.inplace_predict(r), py32, PY_CALLS, reps))
            forest = b.forest
            _add3(report, f"{b.name}: scikit-learn predict_proba, one row",
                  _python_latency(lambda r, f=forest: f.predict_proba(r), py_rows, SKLEARN_CALLS, reps))

        # 3. from C: compiled ensemble against XGBoost's C API
        for b in bundles:
            _c_latency(b, rows, REPEATS, report, BUDGET_C_API_RATIO if b.name == "large" else None)

        # 4. drain throughput with the default sampler
        for b in bundles:
            _drain_throughput(b, market, report, BUDGET_TRADES_S if b.name == "default" else None)

        # 5. a month of data
        _training_month(report, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
