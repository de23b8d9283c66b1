"""Classification metrics and calibration data, against hand-computed values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from quantumtrader.models.metrics import CLASS_NAMES, calibration_curve, classification_metrics

PROBA = np.array(
    [
        [0.7, 0.2, 0.1],  # y sell, predicted sell
        [0.1, 0.6, 0.3],  # y hold, predicted hold
        [0.2, 0.5, 0.3],  # y buy, predicted hold
        [0.1, 0.1, 0.8],  # y buy, predicted buy
    ]
)
Y = np.array([0, 1, 2, 2])


def test_class_order_is_sell_hold_buy() -> None:
    assert CLASS_NAMES == ("sell", "hold", "buy")


def test_hand_computed_metrics() -> None:
    m = classification_metrics(Y, PROBA)
    assert m["log_loss"] == pytest.approx(
        -(math.log(0.7) + math.log(0.6) + math.log(0.3) + math.log(0.8)) / 4
    )
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["prior"] == pytest.approx(0.5)
    assert m["prior_log_loss"] == pytest.approx(-(0.25 * math.log(0.25) * 2 + 0.5 * math.log(0.5)))
    assert m["precision"] == pytest.approx({"sell": 1.0, "hold": 0.5, "buy": 1.0})
    assert m["recall"] == pytest.approx({"sell": 1.0, "hold": 1.0, "buy": 0.5})
    assert m["support"] == {"sell": 1, "hold": 1, "buy": 2}
    assert m["count"] == 4
    json.dumps(m, allow_nan=False)


def test_sample_weights_weight_every_sum() -> None:
    w = np.array([1.0, 1.0, 2.0, 0.0])
    m = classification_metrics(Y, PROBA, sample_weight=w)
    assert m["log_loss"] == pytest.approx(-(math.log(0.7) + math.log(0.6) + 2 * math.log(0.3)) / 4)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["prior"] == pytest.approx(0.5)
    assert m["recall"]["buy"] == pytest.approx(0.0)
    assert m["precision"]["hold"] == pytest.approx(1 / 3)
    assert m["count"] == 4


def test_zero_probability_is_clipped_not_infinite() -> None:
    m = classification_metrics([2], [[1.0, 0.0, 0.0]])
    assert m["log_loss"] == pytest.approx(-math.log(1e-15))
    assert m["accuracy"] == 0.0


def test_undefined_precision_is_none_and_one_class_is_fine() -> None:
    m = classification_metrics([1, 1], [[0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    assert m["precision"]["sell"] is None and m["recall"]["sell"] is None
    assert m["prior"] == 1.0
    assert m["prior_log_loss"] == pytest.approx(0.0, abs=1e-12)
    json.dumps(m, allow_nan=False)


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        ([], np.zeros((0, 3)), "no samples"),
        ([3], [[0.2, 0.3, 0.5]], "class indices"),
        ([0.0], [[0.2, 0.3, 0.5]], "class indices"),
        ([0], [[0.5, 0.5]], "shaped"),
        ([0], [[np.nan, 0.5, 0.5]], "NaN"),
    ],
)
def test_bad_input_is_a_one_line_error(y, proba, message) -> None:
    with pytest.raises(ValueError, match=message):
        classification_metrics(np.asarray(y), proba)
    with pytest.raises(ValueError, match="sample_weight"):
        classification_metrics(Y, PROBA, sample_weight=[1.0, -1.0, 1.0, 1.0])


def test_calibration_curve_bins_hand_computed() -> None:
    c = calibration_curve(Y, PROBA, n_bins=2)
    assert c["bin_edges"] == [0.0, 0.5, 1.0]
    buy = c["per_class"]["buy"]  # p(buy) = 0.1, 0.3, 0.3, 0.8 ; is buy = 0, 0, 1, 1
    assert buy["count"] == [3, 1]
    assert buy["mean_predicted"] == pytest.approx([0.7 / 3, 0.8])
    assert buy["observed"] == pytest.approx([1 / 3, 1.0])
    assert buy["expected_calibration_error"] == pytest.approx((abs(0.7 - 1) + abs(0.8 - 1)) / 4)
    pred = c["predicted_class"]  # confidence 0.7, 0.6, 0.5, 0.8 (0.5 falls in the upper bin); right 1,1,0,1
    assert pred["count"] == [0, 4]
    assert pred["mean_predicted"][0] is None and pred["observed"][0] is None
    assert pred["mean_predicted"][1] == pytest.approx(0.65)
    assert pred["observed"][1] == pytest.approx(0.75)
    json.dumps(c, allow_nan=False)


def test_calibration_probability_one_lands_in_the_last_bin() -> None:
    c = calibration_curve([0], [[1.0, 0.0, 0.0]], n_bins=4)
    assert c["per_class"]["sell"]["count"] == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="n_bins"):
        calibration_curve([0], [[1.0, 0.0, 0.0]], n_bins=0)
