"""How well models read when their probabilities are averaged: the ceiling of a teacher made of them.

    python -m training.ensemble_ceiling --split valid MODEL.tflite[:SIDECAR.json][@on|@off] ...

A student distilled from an ensemble rarely reads better than the ensemble itself, so this says, before
a long run, whether a set of teachers has anything to teach the model it should beat. Every model and
every combination of two or more, on the same FER+ faces (majority labels, 8 classes).
"""
from __future__ import annotations

import argparse
import itertools

import numpy as np

from kise_desktop.core.classifier import ModelError
from kise_desktop.emotions import EMOTION_KEYS
from training.data.ferplus import load_split, one_line_errors
from training.evaluate import classification_metrics, read_8class, spec_label


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json][@on|@off|@auto]")
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--limit", type=int, help="only the first N images (quick checks)")
    args = parser.parse_args(argv)
    faces = load_split(args.split, "majority", args.data)
    images, labels = faces.images[:args.limit], faces.labels[:args.limit]
    probs = {spec_label(spec): read_8class(spec, images) for spec in args.models}
    print(f"FER+ {args.split} set, majority labels ({len(labels)} images), probabilities averaged")
    print(f"{'models':<70} {'acc-8':>6} {'F1-8':>6} {'min recall':>10}")
    for size in range(1, len(probs) + 1):
        for names in itertools.combinations(probs, size):
            metrics = classification_metrics(np.mean([probs[n] for n in names], axis=0), labels,
                                             list(EMOTION_KEYS))
            low = min(c["recall"] for c in metrics["per_class"].values())
            print(f"{' + '.join(names):<70} {metrics['accuracy']:6.4f} {metrics['macro_f1']:6.4f} {low:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
