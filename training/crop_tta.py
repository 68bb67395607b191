"""Does reading more views of a face than it and its mirror help? Multi-crop test-time averaging.

    python -m training.crop_tta --split valid resources/models/kise_emotion.tflite

The model reads each face in several views (the face, its mirror, zoomed in or out, shifted by a
few pixels; replicated borders, as the robustness benchmark moves faces) and the probabilities of
each set of views are averaged. Every view is a whole pass of the model, so a set of four costs four
times one pass: worth it only if it reads clearly better than the face and its mirror.
"""
from __future__ import annotations

import argparse

import numpy as np

from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.emotions import EMOTION_KEYS
from training.corruptions import affine
from training.data.ferplus import load_split, one_line_errors
from training.evaluate import classification_metrics, read_faces, split_spec

VIEWS = {
    "face": lambda f: f,
    "mirror": lambda f: f[:, ::-1],
    "zoom_in": lambda f: affine(f, scale=1.08),
    "zoom_in_mirror": lambda f: affine(f, scale=1.08)[:, ::-1],
    "zoom_out": lambda f: affine(f, scale=0.92),
    "zoom_out_mirror": lambda f: affine(f, scale=0.92)[:, ::-1],
    "up": lambda f: affine(f, dy=-2),
    "down": lambda f: affine(f, dy=2),
    "left": lambda f: affine(f, dx=-2),
    "right": lambda f: affine(f, dx=2),
}
VIEW_SETS = [
    ("face",),
    ("face", "mirror"),
    ("face", "mirror", "zoom_in", "zoom_in_mirror"),
    ("face", "mirror", "zoom_out", "zoom_out_mirror"),
    ("face", "mirror", "up", "down"),
    ("face", "mirror", "left", "right"),
    ("face", "mirror", "zoom_in", "zoom_in_mirror", "zoom_out", "zoom_out_mirror"),
]


def view_of(images: np.ndarray, name: str) -> np.ndarray:
    return np.stack([np.ascontiguousarray(VIEWS[name](face)) for face in images])


def read_view_sets(classifier, images: np.ndarray, view_sets=VIEW_SETS) -> dict[tuple[str, ...], np.ndarray]:
    """Each set of views -> the probabilities averaged over its views (each view read once)."""
    needed = sorted({name for views in view_sets for name in views}, key=list(VIEWS).index)
    readings = {name: read_faces(classifier, view_of(images, name)) for name in needed}
    return {views: np.mean([readings[name] for name in views], axis=0) for views in view_sets}


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="MODEL.tflite[:SIDECAR.json] (read in one pass: the views supply the mirror)")
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--limit", type=int, help="only the first N images (quick checks)")
    args = parser.parse_args(argv)
    model_path, sidecar, _ = split_spec(args.model)
    classifier = EmotionClassifier(model_path, sidecar, num_threads=1, mirror="off")
    faces = load_split(args.split, "majority", args.data)
    images, labels = faces.images[:args.limit], faces.labels[:args.limit]
    print(f"FER+ {args.split} set, majority labels ({len(labels)} images), {classifier.name}, views averaged")
    print(f"{'views':<72} {'passes':>6} {'acc-8':>6} {'F1-8':>6}")
    for views, probs in read_view_sets(classifier, images).items():
        metrics = classification_metrics(probs, labels, list(EMOTION_KEYS))
        print(f"{' + '.join(views):<72} {len(views):6d} {metrics['accuracy']:6.4f} {metrics['macro_f1']:6.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
