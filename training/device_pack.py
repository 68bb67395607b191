"""Pack FER+ train/valid losslessly for a GPU machine that can take only 64 MiB along.

    python -m training.device_pack pack .devdata            # here, from ../shared/data
    python -m training.device_pack unpack .devdata /tmp/data  # there; then KISE_DATA_DIR=/tmp/data

The 32k single PNG files (130 MB on disk) become one lossless WebP mosaic per
split (about 52 MB together) plus the untouched label.csv files. Unpacking
writes the standard FER+ layout back, so the remote run goes through the
same loader, on the same pixels, as a run here. The test split is not packed:
evaluation happens here.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from training.data.ferplus import SPLITS, DataError, ferplus_dir, load_raw_split, one_line_errors, read_label_csv

PACKED_SPLITS = ("train", "valid")
PER_ROW = 100  # faces per mosaic row


def pack(out: Path, data_root: str | Path | None = None, limit: int | None = None) -> None:
    """limit: only the first N faces of each split (tests)."""
    out.mkdir(parents=True, exist_ok=True)
    for split in PACKED_SPLITS:
        images, _, names = load_raw_split(split, data_root)
        images = images[:limit]
        rows = -(-len(images) // PER_ROW)
        padded = np.zeros((rows * PER_ROW, 48, 48), np.uint8)
        padded[:len(images)] = images
        mosaic = padded.reshape(rows, PER_ROW, 48, 48).transpose(0, 2, 1, 3).reshape(rows * 48, PER_ROW * 48)
        path = out / f"{split}.webp"
        if not cv2.imwrite(str(path), mosaic, [cv2.IMWRITE_WEBP_QUALITY, 101]):  # >100 = lossless
            raise DataError(f"{path}: could not write")
        label_lines = (ferplus_dir(data_root) / SPLITS[split] / "label.csv").read_bytes().splitlines(keepends=True)
        (out / f"{split}_label.csv").write_bytes(b"".join(label_lines[:len(images)]))
        print(f"{split}: {len(images)} faces -> {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def unpack(packed: Path, data_root: Path) -> None:
    for split in PACKED_SPLITS:
        mosaic = cv2.imread(str(packed / f"{split}.webp"), cv2.IMREAD_GRAYSCALE)
        if mosaic is None:
            raise DataError(f"{packed / f'{split}.webp'}: missing or unreadable")
        label_csv = packed / f"{split}_label.csv"
        names = [name for name, _ in read_label_csv(label_csv)]
        faces = mosaic.reshape(-1, 48, PER_ROW, 48).transpose(0, 2, 1, 3).reshape(-1, 48, 48)
        split_dir = data_root / "ferplus" / SPLITS[split]
        split_dir.mkdir(parents=True, exist_ok=True)
        for name, face in zip(names, faces):
            cv2.imwrite(str(split_dir / name), face)
        shutil.copyfile(label_csv, split_dir / "label.csv")
        print(f"{split}: {len(names)} faces -> {split_dir}", file=sys.stderr)


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("out", type=Path)
    p.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    u = sub.add_parser("unpack")
    u.add_argument("packed", type=Path)
    u.add_argument("data_root", type=Path)
    args = parser.parse_args(argv)
    if args.command == "pack":
        pack(args.out, args.data)
    else:
        unpack(args.packed, args.data_root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
