"""Prepared sets as training data: clip-level splits, config specs, mixing, balancing, merging."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kise_desktop.emotions import EMOTION_INDEX, NUM_EMOTIONS
from training.data.aihub_synth import SynthConfig, generate
from training.data.ferplus import DataError, Split
from training.data.prepared import (
    balance_downsample, build_split, class_weights, load_dataset, load_datasets, load_prepared,
    merge_contempt_split, split_of_key, clip_key,
)
from training.prepare import run_prepare


@pytest.fixture(scope="module")
def sets(tmp_path_factory, shared_data: Path) -> dict[str, Path]:
    """Prepared folders of both formats with enough clips for three splits (tiny frames, fast)."""
    base = tmp_path_factory.mktemp("prepared")
    out = {}
    for fmt, clips in (("a", 24), ("b", 16)):
        generate(fmt, base / f"src_{fmt}", SynthConfig(clips=clips, frames=3, width=160, height=120, face=56,
                                                       keep_faces=False, seed=3), data_root=shared_data)
        run_prepare(fmt, base / f"src_{fmt}", base / f"out_{fmt}", use_ray=False, progress=False)
        out[fmt] = base / f"out_{fmt}"
    return out


def test_split_is_by_clip_deterministic_and_complete(sets) -> None:
    whole = load_prepared(sets["a"])
    parts = {s: load_prepared(sets["a"], s) for s in ("train", "valid", "test")}
    assert sum(len(p) for p in parts.values()) == len(whole)
    clip_sets = {s: set(p.clips) for s, p in parts.items()}
    assert not clip_sets["train"] & clip_sets["valid"]
    assert not clip_sets["train"] & clip_sets["test"]
    assert not clip_sets["valid"] & clip_sets["test"]
    for name, part in parts.items():
        assert all(split_of_key(clip_key(c)) == name for c in part.clips)
    assert len(parts["train"]) > len(parts["valid"])  # 80/10/10 on 24 clips
    again = load_prepared(sets["a"], "train")
    assert again.row_keys() == parts["train"].row_keys()
    with pytest.raises(ValueError):
        split_of_key("00ff00ff", (50, 10, 10))


def test_load_dataset_returns_a_ferplus_compatible_split(sets) -> None:
    split = load_dataset({"kind": "prepared", "path": str(sets["a"])}, "train")
    assert isinstance(split, Split)
    assert split.images.dtype == np.uint8 and split.images.shape[1:] == (48, 48)
    assert split.targets.dtype == np.float32 and split.targets.shape == (len(split), NUM_EMOTIONS)
    np.testing.assert_allclose(split.targets.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(split.labels, split.targets.argmax(axis=1))
    assert len(split.names) == len(split)
    soft_rows = (split.targets.max(axis=1) < 1.0).sum()
    assert soft_rows > 0, "format A keeps its vote distribution in probability mode"
    majority = load_dataset({"kind": "prepared", "path": str(sets["a"]), "mode": "majority"}, "train")
    np.testing.assert_array_equal(majority.targets.max(axis=1), 1.0)
    np.testing.assert_array_equal(majority.labels, split.labels)
    alias = load_dataset({"kind": "aihub", "path": str(sets["a"])}, "train")
    assert alias.names == split.names
    with pytest.raises(DataError):
        load_dataset({"kind": "prepared"}, "train")
    with pytest.raises(DataError):
        load_dataset({"kind": "imagenet"}, "train")
    with pytest.raises(DataError):
        load_prepared(sets["a"].parent / "nowhere")


def test_mixing_both_formats(sets) -> None:
    specs = [{"kind": "prepared", "path": str(sets["a"])}, {"kind": "prepared", "path": str(sets["b"])}]
    mixed = load_datasets(specs, "train")
    parts = [load_dataset(s, "train") for s in specs]
    assert len(mixed) == sum(len(p) for p in parts)
    np.testing.assert_array_equal(mixed.images[: len(parts[0])], parts[0].images)
    np.testing.assert_array_equal(mixed.labels[len(parts[0]):], parts[1].labels)


def test_mixing_with_ferplus(sets, ferplus_root: Path) -> None:
    specs = [{"kind": "ferplus", "mode": "majority", "root": str(ferplus_root.parent)},
             {"kind": "prepared", "path": str(sets["b"]), "mode": "majority"}]
    mixed = load_datasets(specs, "test")
    fer = load_dataset(specs[0], "test")
    assert len(mixed) == len(fer) + len(load_dataset(specs[1], "test"))
    assert mixed.images.shape[1:] == (48, 48) and mixed.targets.shape[1] == NUM_EMOTIONS


def _toy_split(counts: list[int], seed: int = 0) -> Split:
    """A split with the given number of rows per class (soft targets, distinct images)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(NUM_EMOTIONS), counts)
    targets = np.full((len(labels), NUM_EMOTIONS), 0.02, np.float32)
    targets[np.arange(len(labels)), labels] = 0.86
    images = rng.integers(0, 256, (len(labels), 48, 48), dtype=np.uint8)
    return Split("train", "probability", images, targets, labels.astype(np.int64),
                 [f"row{i}" for i in range(len(labels))])


def test_balance_downsample_to_rarest_present_class() -> None:
    counts = [30, 12, 7, 9, 15, 5, 11, 0]  # contempt absent: must not force everything to 0
    split = _toy_split(counts)
    balanced = balance_downsample(split, seed=1)
    present = [c for c in counts if c]
    np.testing.assert_array_equal(balanced.class_counts()[np.array(counts) > 0], min(present))
    assert balanced.class_counts()[7] == 0
    assert balanced.dropped["balance_downsample"] == sum(counts) - min(present) * len(present)
    originals = {n: i for i, n in enumerate(split.names)}
    for name, image, label in zip(balanced.names, balanced.images, balanced.labels):
        np.testing.assert_array_equal(image, split.images[originals[name]])  # rows stay intact
        assert label == split.labels[originals[name]]
    assert balance_downsample(split, seed=1).names == balanced.names
    assert balance_downsample(split, seed=2).names != balanced.names


def test_class_weights_equalise_class_mass() -> None:
    counts = [30, 12, 7, 9, 15, 5, 11, 0]
    weights = class_weights(_toy_split(counts))
    mass = weights * np.array(counts)
    np.testing.assert_allclose(mass[:7], mass[0], rtol=1e-5)
    assert weights[7] == 0.0
    assert mass.sum() == pytest.approx(sum(counts), rel=1e-5)


def test_merge_contempt_into_disgust() -> None:
    split = _toy_split([3, 3, 3, 3, 3, 2, 3, 4])
    merged = merge_contempt_split(split)
    di, ci = EMOTION_INDEX["disgust"], EMOTION_INDEX["contempt"]
    np.testing.assert_array_equal(merged.targets[:, ci], 0.0)
    np.testing.assert_allclose(merged.targets[:, di], split.targets[:, di] + split.targets[:, ci])
    np.testing.assert_allclose(merged.targets.sum(axis=1), 1.0, rtol=1e-5)
    assert merged.class_counts()[ci] == 0
    assert merged.class_counts()[di] == split.class_counts()[di] + split.class_counts()[ci]
    np.testing.assert_array_equal(split.targets[:, ci] > 0, True)  # the input is left unchanged


def test_build_split_applies_config_options(sets) -> None:
    config = {"datasets": [{"kind": "prepared", "path": str(sets["a"])},
                           {"kind": "prepared", "path": str(sets["b"])}],
              "balance": "downsample", "merge_contempt": True}
    train, weights = build_split(config, "train", seed=0)
    assert weights is None
    counts = train.class_counts()
    assert counts[EMOTION_INDEX["contempt"]] == 0
    assert len(set(counts[counts > 0])) == 1, "every present class down-sampled to the same count"
    valid, _ = build_split(config, "valid")
    raw_valid = load_datasets(config["datasets"], "valid")
    assert len(valid) == len(raw_valid), "validation is never down-sampled"
    _, weights = build_split({**config, "balance": "class_weights"}, "train")
    assert weights is not None and weights.shape == (NUM_EMOTIONS,)
    with pytest.raises(DataError):
        build_split({**config, "balance": "oversample"}, "train")
