"""Does a model keep its reading of a real clip when the room goes dim?

    python scripts/dim_clip_check.py ../shared/data/videos/d12.mp4 \
        resources/models/kise_emotion.tflite training/anchors/kise_emotion_v1.tflite

Each frame is darkened the way an under-exposed webcam darkens it (gain, then a
gamma that crushes the shadows, as training/corruptions.py's low_light). Both the
bright and the dim clip go through the live pipeline (YuNet live preset, every
frame) with each model. The script prints, per model, on how many frames the dim
clip's label of the first face equals the bright clip's.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import LIVE_YUNET


def labels(clip: Path, classifier: EmotionClassifier, lut: np.ndarray | None) -> list[int | None]:
    pipeline = Pipeline(classifier, LIVE_YUNET)
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    out: list[int | None] = []
    ok, frame = capture.read()
    while ok:
        result = pipeline.analyze(frame if lut is None else cv2.LUT(frame, lut), len(out) / fps)
        out.append(result.faces[0].label_index if result.faces else None)
        ok, frame = capture.read()
    capture.release()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json]")
    parser.add_argument("--gain", type=float, default=0.45, help="exposure gain (default 0.45)")
    parser.add_argument("--gamma", type=float, default=1.6, help="shadow-crushing gamma (default 1.6)")
    args = parser.parse_args(argv)
    if not args.clip.is_file():
        print(f"{args.clip}: clip not found", file=sys.stderr)
        return 2
    lut = np.clip(((np.arange(256) / 255.0 * args.gain) ** args.gamma) * 255.0, 0, 255).round().astype(np.uint8)
    print(f"{args.clip.name}, dimmed with gain {args.gain} and gamma {args.gamma}")
    for spec in args.models:
        model, _, sidecar = spec.partition(":")
        classifier = EmotionClassifier(model, sidecar or None)
        bright, dim = labels(args.clip, classifier, None), labels(args.clip, classifier, lut)
        both = [(b, d) for b, d in zip(bright, dim) if b is not None and d is not None]
        same = sum(b == d for b, d in both)
        print(f"{spec}: face found in {sum(d is not None for d in dim)}/{len(dim)} dim frames; "
              f"same label as on the bright clip in {same}/{len(both)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
