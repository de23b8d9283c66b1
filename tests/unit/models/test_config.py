"""train.toml: defaults, overrides, and one-line refusals that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantumtrader.models.config import ConfigError, TrainConfig, load_config


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "train.toml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_defaults_without_a_file() -> None:
    cfg = load_config(None)
    assert cfg == TrainConfig()
    assert cfg.feature_set == "qt77"
    assert cfg.sampler.kind == "cusum"


def test_file_sets_every_section(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, """
feature_set = "qt65"
[sampler]
kind = "time"
interval_s = 30
[barriers]
horizon_s = 120
profit_take = 2
[model]
rf_trees = 10
[cv]
n_splits = 3
embargo_s = 0
[evaluation]
min_confidence = 0.6
"""))
    assert cfg.feature_set == "qt65"
    assert cfg.sampler.kind == "time" and cfg.sampler.interval_s == 30.0
    assert cfg.barriers.horizon_s == 120.0 and cfg.barriers.profit_take == 2.0
    assert cfg.model.rf_trees == 10
    assert cfg.cv.n_splits == 3 and cfg.cv.embargo_s == 0.0
    assert cfg.evaluation.min_confidence == 0.6


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[sampler]\nkind = 'tick'\n", "[sampler]"),
        ("[barriers]\nhorizon_s = -5\n", "[barriers]"),
        ("[model]\nrf_trees = 'many'\n", "rf_trees"),
        ("[cv]\nn_splits = 1\n", "[cv]"),
        ("[cv]\nfolds = 3\n", "'folds'"),
        ("[risk]\nx = 1\n", "'risk'"),
        ("feature_set = 'qt99'\n", "feature_set"),
        ("[sampler]\nvolatility_feature = 'volatility_7'\n", "volatility_7"),
        ("[evaluation]\nmin_confidence = 1.5\n", "min_confidence"),
        ("[model]\nrf_trees = true\n", "rf_trees"),
        ("this is not toml\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert path in msg
    assert named in msg


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "absent.toml"))


def test_overrides_merge_into_sections() -> None:
    cfg = TrainConfig().with_overrides({"sampler": {"threshold": 2.5}, "feature_set": "qt65"})
    assert cfg.sampler.threshold == 2.5
    assert cfg.sampler.kind == "cusum"  # the rest of the section kept
    assert cfg.feature_set == "qt65"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg  # round trip, as the manifest stores it
