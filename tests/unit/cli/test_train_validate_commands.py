"""`quantumtrader train` and `quantumtrader validate` as a user runs them:
the bundle, the report, the gate's exit status, and one-line refusals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quantumtrader.cli import main
from quantumtrader.data.synth import write_synthetic_log

SMALL = """
[model]
rf_trees = 10
rf_depth = 4
xgb_trees = 20
xgb_depth = 2
[cv]
n_splits = 3
"""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("train-cli")
    out = {"train": d / "train.qtlog", "fresh": d / "fresh.qtlog", "config": d / "small.toml"}
    write_synthetic_log(out["train"], days=6, seed=21, signal=1.0, trades_per_day=4000)
    write_synthetic_log(out["fresh"], days=2, seed=22, signal=1.0, trades_per_day=4000,
                        start_date="2026-12-01")
    out["config"].write_text(SMALL, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def bundle(logs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundles") / "m"
    assert main(["train", "--data", str(logs["train"]), "--out", str(out), "--config", str(logs["config"]),
                 "--serial"]) == 0
    return out


def test_train_writes_a_complete_bundle(bundle: Path) -> None:
    names = {p.name for p in bundle.iterdir()}
    assert {"manifest.json", "xgboost.json", "forest.skops", "report.json", "report.html",
            "compiled"} <= names
    m = json.loads((bundle / "manifest.json").read_text())
    assert m["promoted"] is False  # only validate promotes
    assert m["features"]["set"] == "qt77" and len(m["features"]["names"]) == 77
    assert m["sampler"]["kind"] == "cusum"
    assert m["training"]["instrument_root"] == "WDO" and m["training"]["config"]["cv"]["n_splits"] == 3
    assert 'src="data:image/png;base64,' in (bundle / "report.html").read_text()
    assert not list(bundle.parent.glob(".*partial*"))  # nothing half-written beside it


def test_validate_exit_status_is_the_gate(bundle: Path, logs: dict[str, Path], tmp_path: Path) -> None:
    report = tmp_path / "val"
    r = subprocess.run([sys.executable, "-m", "quantumtrader", "validate", str(bundle), "--data",
                        str(logs["fresh"]), "--report", str(report)], capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    m = json.loads((bundle / "manifest.json").read_text())
    assert m["promoted"] is (r.returncode == 0)
    assert (report / "report.json").exists()
    if r.returncode == 1:
        assert "gate refused" in r.stdout and m["gate"]["failures"]


def test_validate_refuses_to_promote_on_training_data(bundle: Path, logs: dict[str, Path], capsys) -> None:
    assert main(["validate", str(bundle), "--data", str(logs["train"])]) == 1
    assert "in-sample, not a validation" in capsys.readouterr().out
    assert json.loads((bundle / "manifest.json").read_text())["promoted"] is False


def test_research_api_predicts_a_feature_table(bundle: Path, logs: dict[str, Path], tmp_path: Path) -> None:
    from quantumtrader.models.bundle import ModelBundle

    table = tmp_path / "f.parquet"
    assert main(["features", str(logs["fresh"]), "--out", str(table)]) == 0
    b = ModelBundle.load(bundle)
    df = b.predict_table(table)
    p = df[["p_sell", "p_hold", "p_buy"]].to_numpy()
    ok = np.isfinite(p).all(axis=1)
    assert ok.sum() > 1000 and (~ok).sum() > 0  # warm-up rows (NaN features) are not predicted
    np.testing.assert_allclose(p[ok].sum(axis=1), 1.0, atol=1e-9)
    assert ((p[ok] > 0) & (p[ok] < 1)).all() and p[ok].std(axis=0).min() > 1e-3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "{absent}", "--out", "{out}"], "No such file"),
        (["--data", "{train}", "--out", "{train}"], "input"),
        (["--data", "{train}", "--out", "{out}", "--config", "{absent}"], "cannot read"),
        (["--data", "{short}", "--out", "{out}"], "too few|training samples|needs all three classes"),
    ],
)
def test_train_refuses_bad_input_in_one_line(logs: dict[str, Path], tmp_path: Path, capsys,
                                             argv: list[str], message: str) -> None:
    short = tmp_path / "short.qtlog"
    if "{short}" in argv:
        write_synthetic_log(short, days=1, seed=3, signal=1.0, trades_per_day=600)
    subs = {"absent": str(tmp_path / "absent.qtlog"), "out": str(tmp_path / "m"), "train": str(logs["train"]),
            "short": str(short)}
    code = main(["train", *(a.format(**subs) for a in argv), "--serial"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("quantumtrader train: error:"), err
    assert re.search(message, err), err
    assert not (tmp_path / "m").exists()


def test_validate_refuses_a_tampered_bundle(bundle: Path, logs: dict[str, Path], tmp_path: Path,
                                            capsys) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    with open(copy / "xgboost.json", "a", encoding="utf-8") as f:
        f.write(" ")
    assert main(["validate", str(copy), "--data", str(logs["fresh"])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checksum" in err


def test_existing_bundle_needs_replace(bundle: Path, logs: dict[str, Path], capsys) -> None:
    assert main(["train", "--data", str(logs["train"]), "--out", str(bundle), "--serial"]) == 2
    assert "--replace" in capsys.readouterr().err


def test_live_hook_decides_where_training_sampled_with_the_same_probabilities(
        bundle: Path, logs: dict[str, Path]) -> None:
    """The bundle as the live pipeline's decision hook on a fresh log: it decides
    exactly at the decision points training would take there (the bundle's own
    sampler, in C) and posts exactly the probabilities `validate` computes."""
    from quantumtrader.data.eventlog import read_event_log
    from quantumtrader.features.job import FeatureInput, set_up_engine
    from quantumtrader.models.bundle import ModelBundle
    from quantumtrader.models.config import TrainConfig
    from quantumtrader.models.dataset import extract_rows
    from quantumtrader.models.training import build_samples
    from quantumtrader.qtcore.pipeline import DONE, Pipeline

    b = ModelBundle.load(bundle)
    source = FeatureInput(str(logs["fresh"]))
    engine = set_up_engine(source).engine
    source.close()
    pipe = Pipeline(decision_capacity=1 << 14, decision_vector=True)
    pipe.add_engine(1, engine)
    pipe.set_hook(b.pipeline_hook(engine), 1)
    log = read_event_log(logs["fresh"])
    try:
        events = log.events.copy()
    finally:
        log.close()
    events["instrument"] = 1
    assert pipe.run_events(events)[1] == DONE
    posted = pipe.wait_decisions(1 << 14, timeout_s=0)
    rows = extract_rows(str(logs["fresh"]))
    cfg = TrainConfig.from_dict(b.training["config"])
    points = cfg.sampler.decision_points(rows.features, rows.ts)
    vectors = rows.features[points]
    p = b.predict_proba(vectors)
    predicted = np.isfinite(p).all(axis=1)
    assert predicted.sum() > 20 and len(posted) == predicted.sum()
    np.testing.assert_array_equal(posted["trade_number"], rows.trade_number[points][predicted])
    np.testing.assert_array_equal(posted["output"], p[predicted])  # the same C code: bit for bit
    # and validate's samples are those decision points (the labelled ones among them)
    samples = build_samples([rows], cfg)
    assert set(samples.start_ns) <= set(rows.ts[points])


def test_sweep_on_a_two_worker_local_cluster_equals_the_serial_run(logs: dict[str, Path],
                                                                   tmp_path: Path) -> None:
    """`train --sweep`: every configuration of the grid under the same walk-forward,
    one Dask task each on two local worker processes; the chosen configuration,
    every trial's figures and the bundle's models are those of the serial run."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[grid]\n"sampler.threshold" = [2.0, 3.0]\n"model.xgb_depth" = [2, 3]\n',
                     encoding="utf-8")
    outs = {}
    for mode in ("--serial", "--workers=2"):
        out = tmp_path / mode.strip("-").replace("=", "")
        assert main(["train", "--data", str(logs["train"]), "--out", str(out), "--config",
                     str(logs["config"]), "--sweep", str(sweep), mode]) == 0
        outs[mode] = out
    a, b = (json.loads((outs[m] / "manifest.json").read_text()) for m in ("--serial", "--workers=2"))
    assert a["training"]["n_trials"] == b["training"]["n_trials"] == 4
    assert a["training"]["sweep"]["trials"] == b["training"]["sweep"]["trials"]
    assert a["training"]["config"] == b["training"]["config"]
    assert a["files"]["xgboost.json"] == b["files"]["xgboost.json"]  # byte for byte
    assert a["metrics"] == b["metrics"]
    from quantumtrader.models.bundle import ModelBundle

    # skops' zip carries timestamps, so the forests are compared by their votes

    x = np.random.default_rng(0).normal(size=(500, 77))
    forests = [ModelBundle.load(outs[m]).models["forest"] for m in ("--serial", "--workers=2")]
    np.testing.assert_array_equal(*(f.predict_proba(x[:, : f.n_features_in_]) for f in forests))


def test_live_pipeline_decides_with_the_model(bundle: Path, logs: dict[str, Path]) -> None:
    """LivePipeline.use_model: the Python decision thread receives the model's
    probabilities from the C loop, for every predicted decision point."""
    from quantumtrader.data.eventlog import read_event_log
    from quantumtrader.models.bundle import ModelBundle
    from quantumtrader.qtcore.ring import Ring
    from quantumtrader.runners.live_pipeline import LivePipeline

    b = ModelBundle.load(bundle)
    got: list[np.ndarray] = []
    log = read_event_log(logs["fresh"])
    try:
        pipe = LivePipeline.from_log_headers({1: log.header}, on_decision=lambda r, w: got.append(r.copy()))
        events = log.events.copy()
    finally:
        log.close()
    events["instrument"] = 1
    pipe.use_model(b)
    pipe.run_events(events)
    ring = Ring(4)
    pipe.start(ring)
    ring.close()
    assert pipe.wait(30.0)
    recs = np.concatenate(got)
    assert len(recs) > 20
    p = b.predict_proba(recs["features"])  # the vector each decision carried, through the same code
    np.testing.assert_array_equal(recs["output"], p)
    np.testing.assert_allclose(recs["output"].sum(axis=1), 1.0, atol=1e-9)
    assert set(np.unique(recs["action"])) <= {-1, 0, 1}


def _as_profit_csv(log_path: Path, out: Path) -> Path:
    """The trades of a synthetic log written as the user's Profit CSV export
    (ticker, date, HHMMSS local, number, price, qty, volume, buyer, seller,
    type, after-hours): what a qt65 model trains from."""
    from quantumtrader.data.eventlog import read_event_log
    from quantumtrader.data.events import EventType

    kinds = {1: "Cross", 2: "AggressorBuyer", 3: "AggressorSeller", 4: "Auction"}
    log = read_event_log(log_path)
    try:
        unit = log.header.price_unit
        tr = log.events[log.events["type"] == EventType.TRADE].copy()
    finally:
        log.close()
    local = (tr["exch_ns"] - 3 * 3600 * 10**9).astype("datetime64[ns]")  # Sao Paulo, UTC-3 all year
    with open(out, "w", encoding="utf-8") as f:
        for t, when in zip(tr, local, strict=True):
            s = str(when)
            f.write(f"WDOFUT,{s[0:4]}{s[5:7]}{s[8:10]},{s[11:13]}{s[14:16]}{s[17:19]},{t['ref']},"
                    f"{t['price'] * unit:.1f},{t['qty']},0,B{t['a']},B{t['b']},{kinds[int(t['code'])]},N\n")
    return out


def test_a_qt65_model_trains_from_a_profit_csv_export(logs: dict[str, Path], tmp_path: Path, capsys) -> None:
    csv = _as_profit_csv(logs["train"], tmp_path / "export.csv")
    # a qt77 model needs the book, which an export has not: one line says what to do
    assert main(["train", "--data", str(csv), "--out", str(tmp_path / "m77"), "--serial"]) == 2
    assert "--set qt65" in capsys.readouterr().err
    out = tmp_path / "m65"
    assert main(["train", "--data", str(csv), "--out", str(out), "--set", "qt65", "--config",
                 str(logs["config"]), "--serial"]) == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["features"]["set"] == "qt65" and len(m["features"]["names"]) == 65
    assert m["training"]["inputs"][0]["kind"] == "Profit CSV export"
    fresh_csv = _as_profit_csv(logs["fresh"], tmp_path / "fresh.csv")
    assert main(["validate", str(out), "--data", str(fresh_csv)]) in (0, 1)


def test_validate_report_is_a_folder_never_an_input(bundle: Path, logs: dict[str, Path], tmp_path: Path,
                                                    capsys) -> None:
    existing = tmp_path / "reports"
    existing.mkdir()
    assert main(["validate", str(bundle), "--data", str(logs["fresh"]), "--report", str(existing)]) in (0, 1)
    assert (existing / "report.json").exists()  # an existing folder is used, not refused
    capsys.readouterr()
    for bad, why in ((logs["fresh"], "is also an input"), (bundle, "is also an input")):
        assert main(["validate", str(bundle), "--data", str(logs["fresh"]), "--report", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("quantumtrader validate: error: --report") and why in err, err
