"""FER+ label modes on real rows of the real label.csv, checked by hand.

Vote columns: neutral, happiness, surprise, sadness, anger, disgust, fear,
contempt, unknown, NF. Single votes are zeroed first.
"""
from __future__ import annotations

import numpy as np
import pytest

from training.data.ferplus import load_split, process_votes, read_label_csv

N, H, SU, SA, AN, DI, FE, CO = range(8)

# name -> (votes as in the file, majority result, probability result); None = dropped.
HAND_CHECKED = {
    # sadness's single vote is zeroed: 4 neutral of 9 is not > half -> dropped; probability keeps neutral+anger.
    "fer0000000.png": ([4, 0, 0, 1, 3, 2, 0, 0, 0, 0], None, {N: 4 / 7, AN: 3 / 7}),
    # surprise and sadness single votes zeroed: neutral 6 of 8 (2 unknown) -> neutral in both modes.
    "fer0000001.png": ([6, 0, 1, 1, 0, 0, 0, 0, 2, 0], {N: 1.0}, {N: 1.0}),
    # 6 of 10 -> surprise; probability takes surprise then fear (still under 75% after surprise).
    "fer0000009.png": ([0, 0, 6, 0, 0, 0, 4, 0, 0, 0], {SU: 1.0}, {SU: 0.6, FE: 0.4}),
    # a 4/4 tie: no majority; probability takes both tied leaders at once.
    "fer0000026.png": ([4, 2, 4, 0, 0, 0, 0, 0, 0, 0], None, {N: 0.5, SU: 0.5}),
    # ten "not a face" votes: dropped everywhere.
    "fer0010628.png": ([0, 0, 0, 0, 0, 0, 0, 0, 0, 10], None, None),
    # disgust's single vote zeroed; unknown leads with 5 of 9: dropped in both modes.
    "fer0001117.png": ([0, 0, 2, 0, 2, 1, 0, 0, 5, 0], None, None),
    # neutral ties with unknown (3/3) after zeroing: unknown is removed again but neutral's 3 of 8 is too little.
    "fer0000196.png": ([3, 0, 2, 1, 1, 0, 0, 0, 3, 0], None, None),
}


def _expected(spec: dict | None) -> np.ndarray | None:
    if spec is None:
        return None
    out = np.zeros(8, np.float32)
    for k, v in spec.items():
        out[k] = v
    return out


@pytest.fixture(scope="module")
def train_rows(ferplus_root):
    return dict(read_label_csv(ferplus_root / "FER2013Train" / "label.csv"))


@pytest.mark.parametrize("name", sorted(HAND_CHECKED))
def test_label_modes_on_real_rows(train_rows, name):
    votes, majority, probability = HAND_CHECKED[name]
    assert train_rows[name].tolist() == votes, "the real file's row changed"
    for mode, spec in (("majority", majority), ("probability", probability)):
        got, want = process_votes(train_rows[name], mode), _expected(spec)
        if want is None:
            assert got is None, f"{name} should be dropped in {mode} mode, got {got}"
        else:
            assert got is not None, f"{name} dropped in {mode} mode"
            np.testing.assert_allclose(got, want, atol=1e-6)


def test_single_votes_are_outliers():
    # One vote each for three emotions and 7 for happiness: the singles vanish in both modes.
    votes = np.array([1, 7, 1, 1, 0, 0, 0, 0, 0, 0], np.float32)
    np.testing.assert_allclose(process_votes(votes, "majority"), np.eye(8)[H])
    np.testing.assert_allclose(process_votes(votes, "probability"), np.eye(8)[H])


def test_majority_counts_match_the_published_split_sizes(ferplus_root):
    # FER+ majority split sizes as measured in platform-notes.md (train 25,045 / test 3,137).
    train = load_split("train", "majority", ferplus_root.parent)
    test = load_split("test", "majority", ferplus_root.parent)
    assert (len(train), len(test)) == (25045, 3137)
    assert train.images.shape == (25045, 48, 48) and train.images.dtype == np.uint8
    assert train.class_counts().tolist() == [8733, 7284, 3136, 3022, 2098, 116, 536, 120]
    np.testing.assert_allclose(train.targets.sum(1), 1.0, atol=1e-5)
