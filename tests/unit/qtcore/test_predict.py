"""quantumtrader.qtcore.predict on the engine's own rows.

The sampler against a plain-Python reference written from the rule; compiled
models built here from real XGBoost and scikit-learn models (treelite +
tl2cgen, the host's gcc) against the native predict_proba; the ensemble in
Python, inside the Cython pipeline and inside the drain loop, where its
posted probabilities must be those of predict_proba at exactly the rows the
sampler chooses."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn.ensemble as sklearn_ensemble
import tl2cgen
import treelite
import xgboost as xgb
from reference.sampler_reference import ReferenceSampler

from quantumtrader.data.events import EventType
from quantumtrader.data.synth import simulate_market
from quantumtrader.features.engine_setup import build_engine
from quantumtrader.qtcore import pipeline as qpl
from quantumtrader.qtcore import ring as qring
from quantumtrader.qtcore.features import FeatureBatch
from quantumtrader.qtcore.predict import CompiledModel, Ensemble, ModelLoadError, Sampler

VOL, LOG_R1 = 8, 17  # volatility_gk, log_returns_1 (spec columns)
NS = 1_000_000_000
#: model features: the 65 model columns minus the session-time ones, so the
#: index map is not the identity
FEATURE_INDEX = np.array([j for j in range(65) if j not in (42, 59, 60, 61)] + [65, 68, 69, 76],
                         dtype=np.int64)
INSTRUMENT = 3


class Rows:
    """The engine's rows of a synthetic market (the training path: drain
    into a FeatureBatch), and the events they came from."""

    def __init__(self, days: int, seed: int) -> None:
        m = simulate_market(days, seed=seed, signal=0.5, trades_per_day=2500)
        self.events = m.events.copy()
        self.events["instrument"] = INSTRUMENT
        self.instrument, self.price_unit, self.tick_size = m.instrument, m.price_unit, m.tick_size
        engine = self.engine()
        n = int(np.count_nonzero(self.events["type"] == EventType.TRADE))
        batch = FeatureBatch(n)
        engine.drain(self.events, batch)
        k = batch.rows
        self.ts = batch.ts[:k].copy()
        self.trade_number = batch.trade_number[:k].copy()
        self.price = batch.price[:k].copy()
        self.features = batch.matrix[:k].copy()

    def engine(self) -> Any:
        return build_engine(self.instrument, self.price_unit, self.tick_size)[0]


@pytest.fixture(scope="module")
def rows() -> Rows:
    return Rows(days=2, seed=7)


def _labels(r: Rows, horizon: int = 20) -> np.ndarray:
    """Any three classes that depend on the features: the sign of the
    return over the next rows, a dead band around 0."""
    p = r.price.astype(np.float64)
    fwd = np.append(p[horizon:], np.repeat(p[-1], horizon)) / p - 1.0
    band = np.nanstd(fwd) * 0.3
    return np.where(fwd > band, 2, np.where(fwd < -band, 0, 1))


class Models:
    def __init__(self, r: Rows, folder: Path) -> None:
        X = r.features[:, FEATURE_INDEX]
        ok = ~np.isnan(X).any(axis=1)
        y = _labels(r)
        self.X, self.y = X[ok], y[ok]
        booster = xgb.XGBClassifier(n_estimators=30, max_depth=4, learning_rate=0.3,
                                    objective="multi:softprob", n_jobs=1, random_state=0)
        booster.fit(self.X, self.y)
        self.xgb = booster
        forest = sklearn_ensemble.RandomForestClassifier(n_estimators=15, max_depth=7, n_jobs=1,
                                                         random_state=0)
        forest.fit(self.X, self.y)
        self.rf = forest
        binary = xgb.XGBClassifier(n_estimators=3, max_depth=2, n_jobs=1)
        binary.fit(self.X, (self.y == 2).astype(int))
        from_xgb = treelite.frontend.from_xgboost
        self.xgb_lib = self._export(from_xgb(booster.get_booster()), folder / "xgb.so")
        self.rf_lib = self._export(treelite.sklearn.import_model(forest), folder / "rf.so")
        self.binary_lib = self._export(from_xgb(binary.get_booster()), folder / "bin.so")

    @staticmethod
    def _export(model: Any, path: Path) -> Path:
        tl2cgen.export_lib(model, toolchain="gcc", libpath=str(path), params={"parallel_comp": 4})
        return path


@pytest.fixture(scope="module")
def models(rows: Rows, tmp_path_factory: pytest.TempPathFactory) -> Models:
    return Models(rows, tmp_path_factory.mktemp("compiled"))


# ------------------------------------------------------------------ rows


def test_training_rows_carry_the_trade_price(rows: Rows) -> None:
    trades = rows.events[rows.events["type"] == EventType.TRADE]
    assert len(rows.price) > 4000 and rows.price.dtype == np.int64
    assert np.array_equal(rows.trade_number, trades["ref"])  # every synthetic trade makes a row
    assert np.array_equal(rows.price, trades["price"])
    # every 3rd row kept: the prices of those rows
    batch = FeatureBatch(len(trades), every=3)
    rows.engine().drain(rows.events, batch)
    assert np.array_equal(batch.price[:batch.rows], trades["price"][::3])


# ------------------------------------------------------------------ sampler

SAMPLERS = [
    dict(kind="every"),
    dict(kind="cusum", threshold=1.0),
    dict(kind="cusum", threshold=3.0),
    dict(kind="time", interval_s=30.0),
    dict(kind="time", interval_s=300.0),
]


def _reference(params: dict) -> ReferenceSampler:
    kw = dict(params)
    if "interval_s" in kw:
        kw["interval_ns"] = round(kw.pop("interval_s") * NS)
    return ReferenceSampler(**kw)


@pytest.mark.parametrize("params", SAMPLERS, ids=lambda p: "-".join(str(v) for v in p.values()))
def test_sampler_matches_the_reference_on_engine_rows(rows: Rows, params: dict) -> None:
    got = Sampler(**params).select(rows.features, rows.ts)
    want = np.array(_reference(params).select(rows.features.tolist(), rows.ts.tolist()))
    assert got.dtype == np.bool_ and np.array_equal(got, want)
    n = len(got)
    if params["kind"] == "every":
        assert got.all()
    else:
        assert 10 < got.sum() < n / 2
    # the state carries over between calls: chunks give the same decisions
    s = Sampler(**params)
    parts = [s.select(rows.features[a:a + 777], rows.ts[a:a + 777]) for a in range(0, n, 777)]
    assert np.array_equal(np.concatenate(parts), got)
    assert s.state["rows"] == n and s.state["fired"] == got.sum()
    s.reset()
    assert np.array_equal(s.select(rows.features, rows.ts), got)


def test_cusum_restarts_each_session(rows: Rows) -> None:
    """log_returns_1 is NaN at each session's first trade: the sums restart
    there, so the second day alone gives the same decisions as after the
    first."""
    whole = Sampler("cusum", threshold=1.0).select(rows.features, rows.ts)
    restarts = np.flatnonzero(np.isnan(rows.features[:, LOG_R1]))
    assert len(restarts) >= 2 and restarts[0] == 0
    day2 = restarts[-1]
    alone = Sampler("cusum", threshold=1.0).select(rows.features[day2:], rows.ts[day2:])
    assert np.array_equal(alone, whole[day2:])


def test_sampler_params_state_and_pickle(rows: Rows) -> None:
    s = Sampler("cusum", threshold=2.5)
    assert s.params == dict(kind="cusum", threshold=2.5, volatility_index=VOL, log_return_index=LOG_R1,
                            interval_ns=0)
    assert Sampler("time", interval_s=0.5).params["interval_ns"] == NS // 2
    s.select(rows.features[:1000], rows.ts[:1000])
    clone = pickle.loads(pickle.dumps(s))
    assert clone.params == s.params and clone.state == s.state
    assert np.array_equal(clone.select(rows.features[1000:], rows.ts[1000:]),
                          s.select(rows.features[1000:], rows.ts[1000:]))


@pytest.mark.parametrize(("args", "message"), [
    (("often",), "must be one of every, cusum, time"),
    (("cusum", 0.0), "threshold must be > 0"),
    (("cusum", float("nan")), "threshold must be > 0"),
    (("cusum", 1.0, 77), "volatility_index must be in 0..76"),
    (("cusum", 1.0, 8, -2), "log_return_index must be in 0..76"),
    (("time", 1.0, -1, -1, 0.0), "interval_s must be > 0"),
])
def test_bad_sampler_configuration_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sampler(*args)


def test_select_checks_shapes(rows: Rows) -> None:
    with pytest.raises(ValueError, match=r"\(n, 77\)"):
        Sampler("every").select(rows.features[:, :65], rows.ts)
    with pytest.raises(ValueError, match="one time per row"):
        Sampler("every").select(rows.features[:5], rows.ts[:4])
    assert Sampler("every").select(np.empty((0, 77)), np.empty(0, np.int64)).shape == (0,)


# ------------------------------------------------------------------ compiled models


def _check_probabilities(p: np.ndarray) -> None:
    assert ((p > 0) & (p < 1)).all()
    assert np.abs(p.sum(axis=1) - 1.0).max() < 1e-6
    assert (p.std(axis=0) > 1e-3).all() and len(np.unique(p.round(6), axis=0)) > 20  # varies with input


def test_compiled_xgboost_equals_native(models: Models) -> None:
    m = CompiledModel(models.xgb_lib)
    assert (m.num_feature, m.num_class, m.threshold_type) == (len(FEATURE_INDEX), 3, "float32")
    assert len(models.X) >= 2000
    p = m.predict_proba(models.X)
    assert p.dtype == np.float64 and p.shape == (len(models.X), 3)
    assert np.abs(p - models.xgb.predict_proba(models.X)).max() < 1e-5
    _check_probabilities(p)


def test_compiled_forest_equals_native(models: Models) -> None:
    m = CompiledModel(models.rf_lib)
    assert (m.num_feature, m.num_class, m.threshold_type, m.leaf_output_type) == \
        (len(FEATURE_INDEX), 3, "float64", "float64")
    p = m.predict_proba(models.X)
    assert np.abs(p - models.rf.predict_proba(models.X)).max() < 1e-5
    assert np.abs(p.sum(axis=1) - 1.0).max() < 1e-12
    assert len(np.unique(p.round(6), axis=0)) > 20


def test_a_nan_row_is_not_predicted(models: Models) -> None:
    X = models.X[:10].copy()
    X[3, 5] = np.nan
    p = CompiledModel(models.xgb_lib).predict_proba(X)
    assert np.isnan(p[3]).all() and not np.isnan(np.delete(p, 3, axis=0)).any()


def test_refused_files(models: Models, tmp_path: Path) -> None:
    text = tmp_path / "model.so"
    text.write_text("not a library\n")
    with pytest.raises(ModelLoadError, match=f"{text}.*cannot load|cannot load.*{text}") as e:
        CompiledModel(text)
    assert "\n" not in str(e.value)
    with pytest.raises(ModelLoadError, match="no such file"):
        CompiledModel(tmp_path / "missing.so")
    with pytest.raises(ModelLoadError, match="not a file"):
        CompiledModel(tmp_path)
    # a real shared library that is not a model: one of the core's own modules
    with pytest.raises(ModelLoadError, match=r"not a tl2cgen model library \(no export predict"):
        CompiledModel(qring.__file__)
    with pytest.raises(ValueError, match=r"X must be shaped \(n, 65\)"):
        CompiledModel(models.xgb_lib).predict_proba(models.X[:, :10])


# ------------------------------------------------------------------ ensemble


@pytest.fixture(scope="module")
def ensemble(models: Models) -> Ensemble:
    return Ensemble([models.xgb_lib, models.rf_lib], [1.0, 3.0], FEATURE_INDEX,
                    Sampler("cusum", threshold=1.0))


def test_ensemble_is_the_weighted_vote(rows: Rows, models: Models, ensemble: Ensemble) -> None:
    assert ensemble.weights == (0.25, 0.75) and ensemble.num_feature == len(FEATURE_INDEX)
    assert [m["threshold_type"] for m in ensemble.models] == ["float32", "float64"]
    before = ensemble.counters
    p = ensemble.predict_proba(rows.features)
    X = rows.features[:, FEATURE_INDEX]
    nan = np.isnan(X).any(axis=1)
    assert 0 < nan.sum() < len(X) - 2000
    assert np.isnan(p[nan]).all() and not np.isnan(p[~nan]).any()
    want = 0.25 * models.xgb.predict_proba(X[~nan]) + 0.75 * models.rf.predict_proba(X[~nan])
    assert np.abs(p[~nan] - want).max() < 1e-5
    _check_probabilities(p[~nan])
    after = ensemble.counters
    assert after["rows"] - before["rows"] == len(X) == after["fired"] - before["fired"]
    assert after["nan_rows"] - before["nan_rows"] == nan.sum()
    assert after["predicted"] - before["predicted"] == (~nan).sum()


def test_ensemble_refusals(models: Models) -> None:
    with pytest.raises(ModelLoadError, match="takes 65 features, feature_index names 64"):
        Ensemble([models.xgb_lib], [1.0], FEATURE_INDEX[:-1])
    with pytest.raises(ModelLoadError, match="1 classes, an ensemble needs 3"):
        Ensemble([models.rf_lib, models.binary_lib], [1.0, 1.0], FEATURE_INDEX)
    with pytest.raises(ModelLoadError, match="no export predict"):
        Ensemble([models.xgb_lib, qring.__file__], [1.0, 1.0], FEATURE_INDEX)
    with pytest.raises(ValueError, match="2 models but 1 weights"):
        Ensemble([models.xgb_lib, models.rf_lib], [1.0], FEATURE_INDEX)
    with pytest.raises(ValueError, match="weights must be finite"):
        Ensemble([models.xgb_lib], [-1.0], FEATURE_INDEX)
    with pytest.raises(ValueError, match="1 to 4 models"):
        Ensemble([models.xgb_lib] * 5, [1.0] * 5, FEATURE_INDEX)
    with pytest.raises(ValueError, match=r"in 0\.\.76"):
        Ensemble([models.xgb_lib], [1.0], np.append(FEATURE_INDEX[:-1], 77))


def _posted(rows: Rows, hook: object, engine: Any = None) -> np.ndarray:
    pipe = qpl.Pipeline(decision_capacity=1 << 15, decision_vector=True)
    pipe.add_engine(INSTRUMENT, engine if engine is not None else rows.engine())
    pipe.set_hook(hook, INSTRUMENT)
    done, status = pipe.run_events(rows.events)
    assert (done, status) == (len(rows.events), qpl.DONE)
    assert pipe.counters["decisions_dropped"] == 0
    return pipe.wait_decisions(1 << 15, timeout_s=0)


@pytest.mark.parametrize("sampler", [Sampler("cusum", threshold=1.0), Sampler("time", interval_s=30.0),
                                     None], ids=["cusum", "time", "every"])
def test_pipeline_posts_the_ensemble_where_the_sampler_fires(rows: Rows, models: Models,
                                                            sampler: Sampler | None) -> None:
    ens = Ensemble([models.xgb_lib, models.rf_lib], [2.0, 1.0], FEATURE_INDEX, sampler)
    engine = rows.engine()
    hook = ens.pipeline_hook(engine)  # the time sampler reads the engine's clock
    posted = _posted(rows, hook, engine)
    fresh = Sampler(**_sampler_args(sampler)) if sampler else Sampler("every")
    fired = fresh.select(rows.features, rows.ts)
    p = ens.predict_proba(rows.features)
    want = fired & ~np.isnan(p[:, 0])
    assert 10 < want.sum() == len(posted)
    assert np.array_equal(posted["trade_number"], rows.trade_number[want])
    assert np.array_equal(posted["features"].view(np.uint64), rows.features[want].view(np.uint64))
    assert np.array_equal(posted["output"], p[want])  # the same C code: bit for bit
    assert np.array_equal(posted["action"], np.argmax(p[want], axis=1) - 1)
    assert set(np.unique(posted["action"])) <= {-1, 0, 1}
    c = ens.hook_counters(hook)
    assert c == dict(rows=len(rows.features), fired=int(fired.sum()), nan_rows=int((fired & ~want).sum()),
                     predicted=len(posted))


def _sampler_args(s: Sampler) -> dict:
    p = s.params
    if p["kind"] == "time":
        return dict(kind="time", interval_s=p["interval_ns"] / NS)
    return dict(kind=p["kind"], threshold=p["threshold"], volatility_index=p["volatility_index"],
                log_return_index=p["log_return_index"])


def test_drain_hook_keeps_the_last_prediction(rows: Rows, ensemble: Ensemble) -> None:
    hook = ensemble.drain_hook()
    assert ensemble.last_decision(hook) is None
    batch = FeatureBatch(0, 0, hook=hook)
    rows.engine().drain(rows.events, batch)
    fired = Sampler("cusum", threshold=1.0).select(rows.features, rows.ts)
    p = ensemble.predict_proba(rows.features)
    chosen = np.flatnonzero(fired & ~np.isnan(p[:, 0]))
    last = ensemble.last_decision(hook)
    assert last is not None
    k = chosen[-1]
    assert last["ts"] == rows.ts[k] and last["trade_number"] == rows.trade_number[k]
    assert last["output"] == tuple(p[k]) and last["action"] == int(np.argmax(p[k])) - 1
    c = ensemble.hook_counters(hook)
    assert c["rows"] == len(rows.features) and c["fired"] == fired.sum() and c["predicted"] == len(chosen)


def test_hooks_keep_their_ensemble_alive(rows: Rows, models: Models) -> None:
    ens = Ensemble([models.xgb_lib], [1.0], FEATURE_INDEX)
    hook = ens.pipeline_hook()
    want = ens.predict_proba(rows.features[-500:])
    del ens  # the capsule holds it (and its libraries)
    posted = _posted(rows, hook)
    want = want[~np.isnan(want[:, 0])]  # every row is a decision point: the last ones posted
    assert np.array_equal(posted["output"][-len(want):], want)
    other = Ensemble([models.xgb_lib], [1.0], FEATURE_INDEX)
    with pytest.raises(ValueError, match="another ensemble"):
        other.hook_counters(hook)
    with pytest.raises(TypeError, match="pipeline_hook"):
        other.hook_counters(object())
    with pytest.raises(TypeError, match="FeatureEngine"):
        other.pipeline_hook(engine=object())
