"""Purged walk-forward: folds in time order, no training label overlapping its test fold, the embargo,
too few samples, and a leak that a shuffled k-fold shows and the purged split does not."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsClassifier

from quantumtrader.models.cv import PurgedWalkForward

S = 1_000_000_000


def _overlapping_samples(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = np.sort(rng.integers(0, 10_000, n)).astype(np.int64) * S
    exit_ = start + rng.integers(0, 120, n).astype(np.int64) * S
    return start, exit_


def test_folds_are_in_time_order_and_tests_cover_blocks_1_to_n() -> None:
    start, exit_ = _overlapping_samples()
    folds = list(PurgedWalkForward(n_splits=5, min_train=1).split(start, exit_))
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    assert np.unique(tested).size == tested.size  # each sample tested at most once
    order = np.argsort(start, kind="stable")
    assert set(tested.tolist()) == set(order[100:].tolist())  # block 0 (first sixth) is never tested
    for (_, a), (_, b) in itertools.pairwise(folds):
        assert start[a].max() <= start[b].min()


def test_no_training_label_overlaps_its_test_fold_and_train_precedes_test() -> None:
    start, exit_ = _overlapping_samples()
    for train, test in PurgedWalkForward(n_splits=4, min_train=1).split(start, exit_):
        test_start, test_end = start[test].min(), exit_[test].max()
        overlap = (start[train] <= test_end) & (exit_[train] >= test_start)
        assert not overlap.any()
        assert exit_[train].max() < test_start  # every training label resolved before the test starts
        assert np.intersect1d(train, test).size == 0


def test_purge_drops_exactly_the_overlapping_labels() -> None:
    # 12 samples one second apart, each label lasting 2.5 s; 2 folds -> blocks of 4.
    start = np.arange(12, dtype=np.int64) * S
    exit_ = start + 2 * S + S // 2
    folds = list(PurgedWalkForward(n_splits=2, min_train=1).split(start, exit_))
    train1, test1 = folds[0]
    assert test1.tolist() == [4, 5, 6, 7]
    # samples 2 (exit 4.5 s) and 3 (exit 5.5 s) reach into the test block starting at 4 s
    assert train1.tolist() == [0, 1]
    train2, test2 = folds[1]
    assert test2.tolist() == [8, 9, 10, 11]
    assert train2.tolist() == [0, 1, 2, 3, 4, 5]


def test_embargo_drops_samples_starting_just_after_an_earlier_test_fold() -> None:
    start = np.arange(12, dtype=np.int64) * S
    exit_ = start.copy()  # instantaneous labels: no purge, only the embargo acts
    plain = list(PurgedWalkForward(n_splits=2, min_train=1).split(start, exit_))
    assert plain[1][0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    # fold 1 tests 4..7 (ends at 7 s): samples starting in (7 s, 9 s] are 8 and 9, which are
    # tested in fold 2 and in no training set, so with 2 splits the embargo changes nothing:
    embargoed = list(PurgedWalkForward(n_splits=2, embargo_s=2.0, min_train=1).split(start, exit_))
    assert [tr.tolist() for tr, _ in embargoed] == [tr.tolist() for tr, _ in plain]
    # with 3 splits (blocks of 3) fold 1 tests 3..5 (ends 5 s): 6 and 7 start within 2 s after it
    # and leave fold 3's training set; 8 stays (fold 2's own embargo never reaches fold 2's training).
    three = list(PurgedWalkForward(n_splits=3, embargo_s=2.0, min_train=1).split(start, exit_))
    assert [te.tolist() for _, te in three] == [[3, 4, 5], [6, 7, 8], [9, 10, 11]]
    assert [tr.tolist() for tr, _ in three] == [[0, 1, 2], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 8]]
    no_embargo = list(PurgedWalkForward(n_splits=3, min_train=1).split(start, exit_))
    assert no_embargo[2][0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8]


def test_unsorted_input_indices_refer_to_the_callers_order() -> None:
    start, exit_ = _overlapping_samples(120)
    perm = np.random.default_rng(0).permutation(start.size)
    a = list(PurgedWalkForward(n_splits=3, min_train=1).split(start, exit_))
    b = list(PurgedWalkForward(n_splits=3, min_train=1).split(start[perm], exit_[perm]))
    for (tr_a, te_a), (tr_b, te_b) in zip(a, b, strict=True):
        assert sorted(perm[tr_b].tolist()) == tr_a.tolist()
        assert sorted(perm[te_b].tolist()) == te_a.tolist()


def test_too_few_samples_is_a_one_line_error() -> None:
    start = np.arange(4, dtype=np.int64) * S
    with pytest.raises(ValueError, match="4 labelled samples are too few for 5 walk-forward folds") as err:
        list(PurgedWalkForward(n_splits=5).split(start, start))
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="fold 1 of 2 keeps 4 training samples"):
        PurgedWalkForward(n_splits=2, min_train=5).split(np.arange(12) * S, np.arange(12) * S)
    with pytest.raises(ValueError, match="too few"):
        PurgedWalkForward(n_splits=1).split(np.zeros(0, np.int64), np.zeros(0, np.int64))


def test_bad_parameters_and_intervals() -> None:
    for kwargs in ({"n_splits": 0}, {"embargo_s": -1.0}, {"embargo_s": float("nan")}, {"min_train": 0}):
        with pytest.raises(ValueError):
            PurgedWalkForward(**kwargs)
    with pytest.raises(ValueError, match="exits before it starts"):
        PurgedWalkForward(n_splits=1, min_train=1).split([0, 5], [1, 4])
    with pytest.raises(ValueError, match="integer ns"):
        PurgedWalkForward(n_splits=1, min_train=1).split([0.0, 1.0], [1.0, 2.0])
    assert PurgedWalkForward(n_splits=3).n_splits == 3 == PurgedWalkForward(n_splits=3).get_n_splits()


def test_shuffled_kfold_shows_a_leak_the_purged_split_removes() -> None:
    """Serially correlated samples: runs of 25 neighbouring decision points share one label
    (their barrier intervals overlap and resolve together) and nearly the same features. Across
    runs the label is pure noise. A shuffled k-fold puts a run's neighbours in training and
    'predicts' its test samples; the purged walk-forward drops them and sees chance."""
    rng = np.random.default_rng(11)
    runs, per_run = 60, 25
    n = runs * per_run
    run_of = np.repeat(np.arange(runs), per_run)
    y = rng.integers(0, 3, runs)[run_of]
    X = rng.normal(size=(runs, 4))[run_of] + 0.05 * rng.normal(size=(n, 4))
    start = np.arange(n, dtype=np.int64) * S
    exit_ = (run_of.astype(np.int64) + 1) * per_run * S - S  # every label resolves at its run's end

    def accuracy(splits) -> float:
        hits = total = 0
        for train, test in splits:
            model = KNeighborsClassifier(n_neighbors=5).fit(X[train], y[train])
            hits += int((model.predict(X[test]) == y[test]).sum())
            total += test.size
        return hits / total

    leaky = accuracy(KFold(n_splits=5, shuffle=True, random_state=0).split(X))
    purged = accuracy(PurgedWalkForward(n_splits=5, min_train=50).split(start, exit_))
    assert leaky > 0.9
    assert purged < 0.5
    assert leaky - purged > 0.4
