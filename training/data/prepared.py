"""Prepared training sets on disk: per-clip shards, a manifest, and loading them as a `Split`.

Layout of an output folder written by `python -m training.prepare`:

    OUT/meta.json          format, source root, options (a rerun must match them)
    OUT/manifest.jsonl     one JSON line per finished clip (append-only, fsync'd)
    OUT/shards/<key>.npz   one per clip: images (n,48,48) uint8, targets (n,8) float32,
                           sources, frames, boxes (n,4) x,y,w,h, and a JSON summary

A shard is written to a temporary name and renamed with os.replace, so it is
either complete or absent: the shard files are the truth about which clips are
done, and the manifest is a log re-derived from them on resume (a kill between
the rename and the manifest line loses nothing). `<key>` is a hash of the clip
id, which also assigns the clip to train/valid/test, so frames of one clip
never cross splits and choosing a split does not open other splits' shards.

Training options that are not baked into the data live here too:
`balance_downsample`, `class_weights`, `merge_contempt_split`, and
`load_dataset`/`load_datasets` which read FER+ or prepared sets by a config spec.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from kise_desktop.emotions import NUM_EMOTIONS, merge_contempt
from training.data.ferplus import DataError, Split

MANIFEST = "manifest.jsonl"
META = "meta.json"
SHARDS = "shards"
SPLIT_NAMES = ("train", "valid", "test")
DEFAULT_FRACTIONS = (80, 10, 10)  # percent of clips per split
PREPARED_MODES = ("probability", "majority", "votes")
_FORMAT_VERSION = 1


# ---------------------------------------------------------------- keys and splits

def clip_key(clip_id: str) -> str:
    """Stable shard name of a clip (hex sha1 prefix of its id)."""
    return hashlib.sha1(clip_id.encode("utf-8")).hexdigest()[:20]


def split_of_key(key: str, fractions: Sequence[int] = DEFAULT_FRACTIONS) -> str:
    """train/valid/test for a clip key: a deterministic bucket 0..99 from the hash."""
    if len(fractions) != 3 or sum(fractions) != 100 or min(fractions) < 0:
        raise ValueError(f"split fractions must be three percentages summing to 100, got {fractions}")
    bucket = int(key[:8], 16) % 100
    if bucket < fractions[0]:
        return "train"
    if bucket < fractions[0] + fractions[1]:
        return "valid"
    return "test"


def shard_path(out: str | os.PathLike, clip_id: str) -> Path:
    return Path(out) / SHARDS / f"{clip_key(clip_id)}.npz"


def shard_files(out: str | os.PathLike) -> list[Path]:
    """Finished shards, sorted. Not the `.tmp-*` files of writers that were killed:
    pathlib's glob matches dot files, and reading those would duplicate rows."""
    shard_dir = Path(out) / SHARDS
    return sorted(p for p in shard_dir.glob("*.npz") if not p.name.startswith("."))


# ---------------------------------------------------------------- writing

def write_shard(out: str | os.PathLike, result: Any) -> dict[str, Any]:
    """Write one clip's faces atomically and return its small summary.

    `result` is an aihub.ClipResult (duck-typed so this module does not need
    OpenCV). Called in the Ray worker: only the summary travels back.
    """
    n = len(result.images)
    summary = {
        "clip": result.clip_id,
        "key": clip_key(result.clip_id),
        "faces": n,
        "skipped": {k: int(v) for k, v in sorted(result.skipped.items()) if v},
        "clip_skipped": result.clip_skipped,
        "face_check_s": round(float(result.face_check_s), 6),
        "face_check_n": int(result.face_check_n),
        "error": getattr(result, "error", ""),
    }
    images = np.stack(result.images).astype(np.uint8) if n else np.zeros((0, 48, 48), np.uint8)
    targets = np.stack(result.targets).astype(np.float32) if n else np.zeros((0, NUM_EMOTIONS), np.float32)
    boxes = np.asarray(result.boxes, dtype=np.int32).reshape(n, 4)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, images=images, targets=targets, boxes=boxes,
        frames=np.asarray(result.frames, dtype=np.int32),
        sources=np.asarray(result.sources, dtype=str),
        summary=np.asarray(json.dumps(summary)),
    )
    final = shard_path(out, result.clip_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{final.stem}-{os.getpid()}.npz")
    with open(tmp, "wb") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())  # the rename must not publish a half-written file after a crash
    os.replace(tmp, final)
    return summary


def read_shard_summary(path: str | os.PathLike) -> dict[str, Any] | None:
    """The summary stored in a shard, or None if the file is unreadable."""
    try:
        with np.load(path, allow_pickle=False) as shard:
            return json.loads(str(shard["summary"]))
    except (OSError, ValueError, KeyError):
        return None


def append_manifest(out: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    """Append records as JSON lines and fsync, so a kill leaves at most one torn last line."""
    lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    if not lines:
        return
    with open(Path(out) / MANIFEST, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


def read_manifest(out: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """clip id -> last record; torn or invalid lines (from a kill mid-write) are ignored."""
    path = Path(out) / MANIFEST
    records: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return records
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("clip"), str):
                records[record["clip"]] = record
    return records


def repair_output(out: str | os.PathLike) -> dict[str, int]:
    """Make the output folder consistent before a (re)run.

    Removes temporary shards of killed writers, and re-adds manifest lines for
    shards that were renamed into place but not yet logged. Returns counts.
    """
    base = Path(out)
    shard_dir = base / SHARDS
    shard_dir.mkdir(parents=True, exist_ok=True)
    removed = 0
    for tmp in shard_dir.glob(".tmp-*"):
        tmp.unlink(missing_ok=True)
        removed += 1
    logged = {r.get("key") for r in read_manifest(base).values()}
    # A torn last line (no newline) must not glue onto the next record.
    manifest = base / MANIFEST
    if manifest.is_file() and manifest.stat().st_size:
        with open(manifest, "rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    missing = []
    for path in shard_files(base):
        if path.stem in logged:
            continue
        summary = read_shard_summary(path)
        if summary is None:  # cannot happen with os.replace, but never trust a half file
            path.unlink(missing_ok=True)
            removed += 1
            continue
        summary["recovered"] = True
        missing.append(summary)
    append_manifest(base, missing)
    return {"removed_tmp": removed, "relogged": len(missing)}


def write_meta(out: str | os.PathLike, meta: dict[str, Any]) -> None:
    """Record format/options; refuse to mix shards made with different options."""
    path = Path(out) / META
    meta = {"version": _FORMAT_VERSION, **meta}
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        keys = ("version", "format", "options")
        if any(old.get(k) != meta.get(k) for k in keys):
            raise DataError(
                f"{path}: this folder was prepared with {{{', '.join(f'{k}={old.get(k)!r}' for k in keys)}}}; "
                f"now asked for {{{', '.join(f'{k}={meta.get(k)!r}' for k in keys)}}}. "
                "Use another output folder or delete it.")
        return
    Path(out).mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- loading

@dataclass
class PreparedSplit(Split):
    """A `Split` plus per-row provenance from the AIHub source."""

    clips: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))

    def row_keys(self) -> list[tuple[str, int, tuple[int, int, int, int]]]:
        """(clip, frame, box) per row: a row's identity, for loss/duplicate checks."""
        return [(c, int(f), (int(b[0]), int(b[1]), int(b[2]), int(b[3])))
                for c, f, b in zip(self.clips, self.frames, self.boxes)]


def _empty_split(name: str, mode: str) -> PreparedSplit:
    return PreparedSplit(name=name, mode=mode, images=np.zeros((0, 48, 48), np.uint8),
                         targets=np.zeros((0, NUM_EMOTIONS), np.float32),
                         labels=np.zeros(0, np.int64), names=[])


def load_prepared(path: str | os.PathLike, split: str = "all", mode: str = "probability",
                  fractions: Sequence[int] = DEFAULT_FRACTIONS) -> PreparedSplit:
    """Load a prepared folder's faces (all, or one clip-level split) as a `Split`.

    mode: 'probability'/'votes' keep the stored vote distribution (format A)
    or one-hot (format B); 'majority' turns every row into the one-hot of
    its top emotion (the AIHub rule: the label is the most-voted emotion).
    """
    if mode not in PREPARED_MODES:
        raise ValueError(f"unknown label mode {mode!r}; choose from {PREPARED_MODES}")
    if split not in SPLIT_NAMES + ("all",):
        raise ValueError(f"unknown split {split!r}; choose from {SPLIT_NAMES + ('all',)}")
    shard_dir = Path(path) / SHARDS
    if not shard_dir.is_dir():
        raise DataError(f"{path}: not a prepared folder (no {SHARDS}/); run python -m training.prepare first")
    parts: dict[str, list[Any]] = {k: [] for k in ("images", "targets", "boxes", "frames")}
    clips: list[str] = []
    sources: list[str] = []
    dropped: Counter = Counter()
    for shard_file in shard_files(path):  # sorted: a stable row order
        if split != "all" and split_of_key(shard_file.stem, fractions) != split:
            continue
        try:
            with np.load(shard_file, allow_pickle=False) as shard:
                summary = json.loads(str(shard["summary"]))
                for key in parts:
                    parts[key].append(shard[key])
                n = len(shard["images"])
                sources.extend(str(s) for s in shard["sources"])
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"{shard_file}: unreadable shard ({exc}); delete it and rerun prepare") from None
        clips.extend([summary["clip"]] * n)
        dropped.update(summary.get("skipped", {}))
    if not clips:
        result = _empty_split(split, mode)
        result.dropped = dict(dropped)
        return result
    images = np.concatenate(parts["images"])
    targets = np.concatenate(parts["targets"]).astype(np.float32)
    labels = targets.argmax(axis=1).astype(np.int64)
    if mode == "majority":
        targets = np.eye(NUM_EMOTIONS, dtype=np.float32)[labels]
    boxes = np.concatenate(parts["boxes"]).astype(np.int32)
    frames = np.concatenate(parts["frames"]).astype(np.int32)
    names = [f"{c}/{s}#{f}@{b[0]},{b[1]},{b[2]},{b[3]}" for c, s, f, b in zip(clips, sources, frames, boxes)]
    return PreparedSplit(name=split, mode=mode, images=images, targets=targets, labels=labels,
                         names=names, dropped=dict(dropped), clips=clips, sources=sources,
                         frames=frames, boxes=boxes)


def load_dataset(spec: dict[str, Any], split: str) -> Split:
    """One data set from a training-config entry.

    {"kind": "ferplus", "mode": "majority"|"probability"|"votes", "root": optional data dir}
    {"kind": "prepared", "path": DIR, "mode": "probability"|"majority", "fractions": [80,10,10]}
    (kind "aihub" is a synonym of "prepared").
    """
    kind = spec.get("kind")
    if kind == "ferplus":
        from training.data.ferplus import load_split

        return load_split(split, spec.get("mode", "majority"), spec.get("root"))
    if kind in ("prepared", "aihub"):  # 'aihub' is accepted too: train.py routes both here
        if not spec.get("path"):
            raise DataError(f"dataset spec {spec!r}: 'prepared' needs a 'path'")
        return load_prepared(spec["path"], split, spec.get("mode", "probability"),
                             tuple(spec.get("fractions", DEFAULT_FRACTIONS)))
    raise DataError(f"dataset spec {spec!r}: unknown kind {kind!r} (ferplus or prepared)")


def concat_splits(splits: Sequence[Split], name: str) -> Split:
    """Rows of several splits in order; `dropped` counts are summed."""
    if len(splits) == 1:
        return splits[0]
    dropped: Counter = Counter()
    for s in splits:
        dropped.update(s.dropped)
    non_empty = [s for s in splits if len(s)] or list(splits[:1])
    return Split(
        name=name, mode="+".join(dict.fromkeys(s.mode for s in splits)),
        images=np.concatenate([s.images for s in non_empty]).astype(np.uint8),
        targets=np.concatenate([s.targets for s in non_empty]).astype(np.float32),
        labels=np.concatenate([s.labels for s in non_empty]).astype(np.int64),
        names=[n for s in splits for n in s.names], dropped=dict(dropped),
    )


def load_datasets(specs: Sequence[dict[str, Any]], split: str) -> Split:
    """All data sets of a config's "datasets" list, mixed into one split."""
    if not specs:
        raise DataError("the config's 'datasets' list is empty")
    return concat_splits([load_dataset(spec, split) for spec in specs], split)


# ---------------------------------------------------------------- training options

def _subset(split: Split, index: np.ndarray) -> Split:
    return Split(name=split.name, mode=split.mode, images=split.images[index],
                 targets=split.targets[index], labels=split.labels[index],
                 names=[split.names[i] for i in index], dropped=dict(split.dropped))


def merge_contempt_split(split: Split) -> Split:
    """Contempt folded into disgust (the seed's 7 classes); targets stay 8 wide, contempt 0."""
    targets = merge_contempt(split.targets)
    return Split(name=split.name, mode=split.mode, images=split.images, targets=targets,
                 labels=targets.argmax(axis=1).astype(np.int64) if len(targets) else split.labels.copy(),
                 names=list(split.names), dropped=dict(split.dropped))


def balance_downsample(split: Split, seed: int = 0) -> Split:
    """Every present class down-sampled to the rarest present class's count (seeded).

    Classes with no rows (e.g. contempt after merging) are ignored, otherwise
    the rarest count would be 0. Row order is shuffled by the same seed.
    """
    counts = np.bincount(split.labels, minlength=NUM_EMOTIONS)
    present = np.flatnonzero(counts)
    if len(present) == 0:
        return split
    keep_n = int(counts[present].min())
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(split.labels == c), size=keep_n, replace=False) for c in present]
    index = rng.permutation(np.concatenate(chosen))
    result = _subset(split, index)
    result.dropped = {**split.dropped, "balance_downsample": int(len(split) - len(index))}
    return result


def class_weights(split: Split) -> np.ndarray:
    """(8,) weights n / (k * count_c) for the k present classes; 0 for absent ones (Keras class_weight)."""
    counts = np.bincount(split.labels, minlength=NUM_EMOTIONS).astype(np.float64)
    present = counts > 0
    weights = np.zeros(NUM_EMOTIONS, dtype=np.float64)
    if present.any():
        weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


BALANCE_MODES = ("none", "downsample", "class_weights")


def build_split(config: dict[str, Any], split: str, seed: int = 0) -> tuple[Split, np.ndarray | None]:
    """The data of one split as a training config asks, plus class weights if requested.

    Merging applies to every split (the model then has contempt always 0);
    down-sampling only to 'train' so validation/test keep their natural mix.
    """
    data = load_datasets(config.get("datasets") or [{"kind": "ferplus"}], split)
    if config.get("merge_contempt", False):
        data = merge_contempt_split(data)
    balance = config.get("balance", "none")
    if balance not in BALANCE_MODES:
        raise DataError(f"config 'balance' must be one of {BALANCE_MODES}, got {balance!r}")
    weights = None
    if split == "train" and balance == "downsample":
        data = balance_downsample(data, seed)
    elif split == "train" and balance == "class_weights":
        weights = class_weights(data)
    return data, weights


__all__ = [
    "PreparedSplit", "append_manifest", "balance_downsample", "build_split",
    "class_weights", "clip_key", "concat_splits", "load_dataset", "load_datasets", "load_prepared",
    "merge_contempt_split", "read_manifest", "read_shard_summary", "repair_output", "shard_path",
    "split_of_key", "write_meta", "write_shard",
]
