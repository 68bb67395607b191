"""FER+ loader: FER2013 images with Microsoft's FER+ annotator votes.

Label modes follow Barsoum et al. 2016 and Microsoft's reference loader
(FERPlus/src/ferplus.py), as ../shared/data/README.md states:
  1. any emotion with a single vote is zeroed (outlier removal);
  2. majority: keep the image only if its top class has more than half of the
     remaining votes and is an emotion (not unknown/NF);
  3. probability: soft targets from the (up to three) leading classes that
     together reach 75% of the votes; dropped if they cover <= 50% or if
     unknown/NF leads.
Images whose result is unknown/NF are dropped in every mode.

The decoded split is cached as one compressed .npz under the KISE cache
folder, keyed by the label file's size and mtime, so a second load takes
about a second.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from kise_desktop.emotions import EMOTION_KEYS, NUM_EMOTIONS
from kise_desktop.paths import cache_dir, data_dir

SPLITS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
VOTE_COLUMNS = EMOTION_KEYS + ("unknown", "NF")  # the ten vote columns of label.csv
MODES = ("majority", "probability", "votes")
_CACHE_VERSION = 1


class DataError(Exception):
    """A user-facing data problem; the message names the file."""


def one_line_errors(*extra: type[Exception]) -> Callable:
    """Decorate a command's `main(argv) -> int`: a DataError (or one of `extra`) becomes
    `error: <message>` on stderr and exit status 2, never a traceback."""
    caught = (DataError, *extra)

    def decorate(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            try:
                return main(argv)
            except caught as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        return run
    return decorate


@dataclass
class Split:
    """One split, after label processing.

    images: (N, 48, 48) uint8; targets: (N, 8) float32 rows summing to 1
    (one-hot in majority mode); labels: (N,) int argmax; names: file names.
    """

    name: str
    mode: str
    images: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    names: list[str]
    dropped: dict[str, int] = field(default_factory=dict)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=NUM_EMOTIONS)

    def __len__(self) -> int:
        return len(self.labels)


def process_votes(votes: np.ndarray, mode: str) -> np.ndarray | None:
    """Turn ten raw vote counts into an 8-way target, or None if dropped.

    Mirrors Microsoft's `_process_data` plus the caller's unknown/NF check.
    """
    raw = np.asarray(votes, dtype=np.float64).copy()
    if raw.shape != (10,):
        raise ValueError(f"expected 10 vote counts, got {raw.shape}")
    if mode == "votes":
        # Plain normalised emotion votes (no outlier removal), for soft-label training.
        emo = raw[:NUM_EMOTIONS]
        if raw.sum() <= 0 or np.argmax(raw) >= NUM_EMOTIONS or emo.sum() <= 0:
            return None
        return (emo / emo.sum()).astype(np.float32)
    raw[raw <= 1.0] = 0.0  # single votes are outliers
    total = raw.sum()
    target = np.zeros(10, dtype=np.float64)
    if mode == "majority":
        top = raw.max()
        if total <= 0 or top <= 0.5 * total:
            return None
        target[int(np.argmax(raw))] = top
    elif mode == "probability":
        covered, count, valid = 0.0, 0, True
        while covered < 0.75 * total and count < 3 and valid:
            top = raw.max()
            for i in range(10):
                if raw[i] == top:
                    target[i] = top
                    raw[i] = 0.0
                    covered += target[i]
                    count += 1
                    if i >= NUM_EMOTIONS:  # unknown/NF ties with the leaders
                        valid = False
                        if target.sum() > top:  # other emotions came first
                            target[i] = 0.0
                            count -= 1
                        break
        if target.sum() <= 0.5 * total or count > 3:
            return None
    else:
        raise ValueError(f"unknown label mode {mode!r}; choose from {MODES}")
    if np.argmax(target) >= NUM_EMOTIONS:
        return None
    emo = target[:NUM_EMOTIONS]
    return (emo / emo.sum()).astype(np.float32)


def read_label_csv(path: Path) -> list[tuple[str, np.ndarray]]:
    """Rows of (image name, ten votes). DataError naming the file on a bad row."""
    if not path.is_file():
        raise DataError(f"{path}: label file not found")
    rows: list[tuple[str, np.ndarray]] = []
    with open(path, newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row:
                continue
            if len(row) != 12:
                raise DataError(f"{path}:{line_no}: expected 12 columns (name, box, 10 votes), got {len(row)}")
            try:
                votes = np.array([float(v) for v in row[2:]], dtype=np.float32)
            except ValueError:
                raise DataError(f"{path}:{line_no}: vote counts must be numbers: {row[2:]}") from None
            if (votes < 0).any():
                raise DataError(f"{path}:{line_no}: negative vote count")
            rows.append((row[0].strip(), votes))
    return rows


def ferplus_dir(override: str | Path | None = None) -> Path:
    return data_dir(override) / "ferplus"


def _read_raw_split(split_dir: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = read_label_csv(split_dir / "label.csv")
    images = np.empty((len(rows), 48, 48), dtype=np.uint8)
    votes = np.empty((len(rows), 10), dtype=np.float32)
    names: list[str] = []
    for i, (name, row_votes) in enumerate(rows):
        image_path = split_dir / name
        image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise DataError(f"{image_path}: missing or unreadable image")
        if image.shape != (48, 48):
            image = cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)
        images[i] = image
        votes[i] = row_votes
        names.append(name)
    return images, votes, names


def load_raw_split(split: str, root: str | Path | None = None, use_cache: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """All images and raw votes of a split, decoded once and cached."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {tuple(SPLITS)}")
    base = ferplus_dir(root)
    if not base.is_dir():
        raise DataError(f"{base}: FER+ data folder not found (set KISE_DATA_DIR or --data)")
    split_dir = base / SPLITS[split]
    label_path = split_dir / "label.csv"
    if not label_path.is_file():
        raise DataError(f"{label_path}: label file not found")
    stat = label_path.stat()
    key = hashlib.sha1(f"{label_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{_CACHE_VERSION}".encode()).hexdigest()[:16]
    cache_path = cache_dir() / f"ferplus-{split}-{key}.npz"
    if use_cache and cache_path.is_file():
        with np.load(cache_path) as cached:
            return cached["images"], cached["votes"], [str(n) for n in cached["names"]]
    images, votes, names = _read_raw_split(split_dir)
    if use_cache:
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, images=images, votes=votes, names=np.array(names))
        tmp.replace(cache_path)
    return images, votes, names


def load_split(split: str, mode: str = "majority", root: str | Path | None = None,
               use_cache: bool = True, verbose: bool = False) -> Split:
    """Load one FER+ split with labels processed in `mode`."""
    if mode not in MODES:
        raise ValueError(f"unknown label mode {mode!r}; choose from {MODES}")
    images, votes, names = load_raw_split(split, root, use_cache)
    keep: list[int] = []
    targets: list[np.ndarray] = []
    dropped = {"unknown_or_nf": 0}
    for i in range(len(votes)):
        target = process_votes(votes[i], mode)
        if target is None:
            dropped["unknown_or_nf"] += 1
            continue
        keep.append(i)
        targets.append(target)
    idx = np.asarray(keep, dtype=np.int64)
    target_arr = np.stack(targets).astype(np.float32) if targets else np.zeros((0, NUM_EMOTIONS), np.float32)
    result = Split(
        name=split, mode=mode, images=images[idx], targets=target_arr,
        labels=target_arr.argmax(axis=1).astype(np.int64) if len(idx) else np.zeros(0, np.int64),
        names=[names[i] for i in keep], dropped=dropped,
    )
    if verbose:
        counts = ", ".join(f"{k} {c}" for k, c in zip(EMOTION_KEYS, result.class_counts()))
        print(f"FER+ {split} ({mode}): kept {len(result)}, dropped {dropped['unknown_or_nf']} "
              f"(unknown/NF or no majority) | {counts}", file=sys.stderr)
    return result


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Load FER+ and print kept/dropped counts per split.")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--mode", choices=MODES, default="majority")
    args = parser.parse_args(argv)
    for split in SPLITS:
        load_split(split, args.mode, args.data, verbose=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
