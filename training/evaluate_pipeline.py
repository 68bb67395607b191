"""FER+ faces through the whole app pipeline: detector, crop (aligned or not), bundled classifier.

    python -m training.evaluate_pipeline --split valid --sample 1000 --sweep   # tune crop_scale (never on test)
    python -m training.evaluate_pipeline --split test                          # the final table

FER+ images are tight 48x48 crops, too small and too tight for a face
detector. Each is enlarged to FACE_PX (200) and placed in the middle of a
CANVAS_PX (320) square of its own mean grey, then turned by a known angle
(counter-clockwise positive) about the canvas centre. (On 300 validation
images, YuNet 2023mar found 96% at 200 px against 95% at 160 px and 92% at
120 px; a replicated border instead of grey found 93%, 89%, 87%.)
That BGR canvas goes through what `Pipeline.analyze` does to a camera frame:
the real YuNet (or Haar) detector with the live preset, the real FaceCropper
with the kind's crop_scale and the sidecar's margin, the real bundled TFLite
model. Detection, the costly step, runs once per image and tilt and is shared
by the crop variants (plain/aligned, the crop_scale sweep); a test checks
that this gives the same predictions as Pipeline.analyze itself.
Where several faces are found, the one with the highest score (else the
largest) counts. Accuracy is over the images where a face was found; the
detection rate is reported beside it, and "classifier alone" is the same
model on the original upright 48x48 images of that same subset, so the
columns compare like with like. Alignment does not change what is found, so
its on/off columns are paired over the same images.

Everything is deterministic: the subsample is drawn with a fixed seed and
no step is random.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.core.detectors import FrameImages, get_kind, make_detector, preset
from kise_desktop.core.faces import FaceCropper
from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.types import Detection
from kise_desktop.paths import MODELS_DIR, REPO_DIR
from training.data.ferplus import DataError, load_split, one_line_errors

FACE_PX = 200
CANVAS_PX = 320
ANGLES = (0.0, 15.0, -15.0, 30.0, -30.0)
# The live YuNet preset uses 2023mar; "n" is the network of the photo preset. Both are run with the
# live preset's thresholds and width (320 px: the canvas is not shrunk) so only the network differs.
NETWORKS = ("2023mar", "n")
SWEEP_SCALES = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3)
HAAR_SCALES = (0.8, 0.9, 1.0, 1.1)


def make_canvas(image: np.ndarray, angle: float = 0.0, face_px: int = FACE_PX, canvas_px: int = CANVAS_PX
                ) -> np.ndarray:
    """A 48x48 gray face enlarged to face_px, centred on a canvas of its mean grey, turned by `angle`
    degrees (counter-clockwise), as a BGR frame."""
    grey = int(round(float(image.mean())))
    up = cv2.resize(image, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
    pad = (canvas_px - face_px) // 2
    canvas = cv2.copyMakeBorder(up, pad, canvas_px - face_px - pad, pad, canvas_px - face_px - pad,
                                cv2.BORDER_CONSTANT, value=grey)
    if angle:
        centre = (canvas_px / 2.0, canvas_px / 2.0)
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        canvas = cv2.warpAffine(canvas, matrix, (canvas_px, canvas_px), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=grey)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def detector_settings(kind: str, network: str | None) -> Any:
    settings = preset(kind, "live")
    return dataclasses.replace(settings, model=network) if network else settings


def run_pipeline(classifier: EmotionClassifier, settings: Any, images: np.ndarray, angle: float,
                 align: bool) -> np.ndarray:
    """Predicted class per image through Pipeline.analyze, -1 where no face was found."""
    pipeline = Pipeline(classifier, settings, align_faces=align)
    predictions = np.full(len(images), -1, dtype=np.int64)
    for i, image in enumerate(images):
        pipeline.reset_tracks()            # unrelated images, not a video
        faces = pipeline.analyze(make_canvas(image, angle)).faces
        if faces:
            best = max(faces, key=lambda f: (f.score if f.score is not None else 0.0, f.box[2] * f.box[3]))
            predictions[i] = int(np.argmax(best.probabilities))
    return predictions


def detect_all(settings: Any, images: np.ndarray, angle: float) -> tuple[list[Detection | None], np.ndarray]:
    """The chosen detection per canvas (None where none) and the gray canvases, detected once.

    Detection is most of the cost and does not depend on the crop, so the sweep and the
    aligned/plain pair reuse it; `predict_from_detections` then does what Pipeline.analyze
    does after detection (tests/training/test_evaluate_pipeline.py checks they agree)."""
    detector = make_detector(settings)
    frames = FrameImages()
    chosen: list[Detection | None] = []
    grays = np.empty((len(images), CANVAS_PX, CANVAS_PX), dtype=np.uint8)
    for i, image in enumerate(images):
        found = detector.detect(frames.set(make_canvas(image, angle)))
        grays[i] = frames.gray
        chosen.append(max(found, key=lambda d: (d.score if d.score is not None else 0.0, d.box[2] * d.box[3]))
                      if found else None)
    return chosen, grays


def predict_from_detections(classifier: EmotionClassifier, kind: str, detections: list[Detection | None],
                            grays: np.ndarray, align: bool, crop_scale: float | None = None) -> np.ndarray:
    """Predicted class per image from its detection, cropped as the Pipeline crops; -1 where none."""
    scale = get_kind(kind).crop_scale if crop_scale is None else crop_scale
    cropper = FaceCropper(classifier.input_size, classifier.crop_margin, scale=scale, align=align)
    predictions = np.full(len(detections), -1, dtype=np.int64)
    found = [i for i, det in enumerate(detections) if det is not None]
    crops = np.empty((len(found), classifier.input_size[1], classifier.input_size[0]), dtype=np.uint8)
    for j, i in enumerate(found):
        crops[j] = cropper.crop(grays[i], [detections[i]])[0]
    if found:
        predictions[found] = classifier_alone(classifier, crops)   # batched: same numbers, far fewer invokes
    return predictions


def classifier_alone(classifier: EmotionClassifier, images: np.ndarray) -> np.ndarray:
    return np.concatenate([classifier.predict(images[i:i + 256]).argmax(1) for i in range(0, len(images), 256)])


def _accuracy(predictions: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float | None:
    return float((predictions[mask] == labels[mask]).mean()) if mask.any() else None


def _row(kind: str, network: str | None, angle: float, labels: np.ndarray, alone: np.ndarray,
         plain: np.ndarray, aligned: np.ndarray | None) -> dict:
    found = plain >= 0
    row = {"detector": kind, "network": network, "angle": float(angle), "images": int(len(labels)),
           "found": int(found.sum()), "detection_rate": float(found.mean()) if len(labels) else 0.0,
           "accuracy_plain": _accuracy(plain, labels, found),
           "classifier_alone_same_images": _accuracy(alone, labels, found)}
    if aligned is not None:
        row["accuracy_aligned"] = _accuracy(aligned, labels, found)
        row["aligned_minus_plain"] = (None if row["accuracy_plain"] is None
                                      else row["accuracy_aligned"] - row["accuracy_plain"])
    return row


def evaluate_pipeline(classifier: EmotionClassifier, images: np.ndarray, labels: np.ndarray,
                      angles: Sequence[float] = ANGLES, networks: Sequence[str | None] = NETWORKS,
                      scales: Sequence[float | None] = (None,), kind: str = "yunet",
                      progress: bool = False) -> dict:
    """The table: per network, angle (and crop_scale), detection rate and accuracy with and without alignment.

    `scales`: crop_scale values to try (the sweep); None is the kind's registered value. Haar
    (kind "haar") has no networks and no landmarks: pass networks=(None,); it gets no aligned column.
    """
    alone = classifier_alone(classifier, images)
    has_landmarks = kind == "yunet"
    rows = []
    for network in networks:
        settings = detector_settings(kind, network)
        for angle in angles:
            detections, grays = detect_all(settings, images, angle)
            for scale in scales:
                plain = predict_from_detections(classifier, kind, detections, grays, False, scale)
                aligned = (predict_from_detections(classifier, kind, detections, grays, True, scale)
                           if has_landmarks else None)
                row = _row(kind, network, angle, labels, alone, plain, aligned)
                row["crop_scale"] = float(get_kind(kind).crop_scale if scale is None else scale)
                rows.append(row)
            if progress:
                print(f"  {kind} {network or ''} {angle:+g} deg: found {rows[-1]['found']}/{len(images)}, "
                      f"plain {_pct(rows[-1]['accuracy_plain'])}", file=sys.stderr, flush=True)
    return {"detector": kind, "crop_scale": get_kind(kind).crop_scale, "crop_margin": classifier.crop_margin,
            "face_px": FACE_PX, "canvas_px": CANVAS_PX, "images": int(len(images)),
            "classifier_alone_all_images": _accuracy(alone, labels, np.ones(len(images), bool)),
            "rows": rows}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}"


def markdown_table(table: dict) -> str:
    lines = [f"| network | tilt | faces found | plain crop | aligned crop | aligned - plain | "
             f"classifier alone, same images upright |",
             "|---|---|---|---|---|---|---|"]
    for r in table["rows"]:
        lines.append(f"| {r['network'] or r['detector']} | {r['angle']:+g} deg | {r['found']}/{r['images']} "
                     f"({_pct(r['detection_rate'])}) | {_pct(r['accuracy_plain'])} | "
                     f"{_pct(r.get('accuracy_aligned'))} | {_signed(r.get('aligned_minus_plain'))} | "
                     f"{_pct(r['classifier_alone_same_images'])} |")
    return "\n".join(lines)


def sweep_markdown(rows: list[dict]) -> str:
    lines = ["| detector | network | tilt | crop_scale | faces found | plain crop | aligned crop |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['detector']} | {r['network'] or '-'} | {r['angle']:+g} | {r['crop_scale']:g} | "
                     f"{r['found']}/{r['images']} | "
                     f"{_pct(r['accuracy_plain'])} | {_pct(r.get('accuracy_aligned'))} |")
    return "\n".join(lines)


def sweep_mean_markdown(rows: list[dict]) -> str:
    """Per network and crop_scale, accuracy averaged over the tilts (each tilt weighs the same)."""
    lines = ["| network | crop_scale | plain crop | aligned crop |", "|---|---|---|---|"]
    keys = sorted({(r["network"], r["crop_scale"]) for r in rows})
    for network, scale in keys:
        sel = [r for r in rows if r["network"] == network and r["crop_scale"] == scale]
        plain = [r["accuracy_plain"] for r in sel if r["accuracy_plain"] is not None]
        aligned = [r["accuracy_aligned"] for r in sel if r.get("accuracy_aligned") is not None]
        lines.append(f"| {network} | {scale:g} | {_pct(float(np.mean(plain)) if plain else None)} | "
                     f"{_pct(float(np.mean(aligned)) if aligned else None)} |")
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def subsample(n_total: int, n: int | None, seed: int) -> np.ndarray:
    """Indices of a fixed-seed subsample (sorted), or all of them."""
    if not n or n >= n_total:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).permutation(n_total)[:n])


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="FER+ through the full pipeline: detection rate and accuracy, "
                                                 "tilted and upright, with and without aligned crops.")
    parser.add_argument("--split", default="valid", choices=("valid", "test"))
    parser.add_argument("--sample", type=int, help="a fixed-seed subsample of N images (default: the whole split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true",
                        help="also sweep YuNet's crop_scale (and check Haar's); validation only")
    parser.add_argument("--scales", type=float, nargs="+", default=list(SWEEP_SCALES),
                        help="YuNet crop_scale values for --sweep")
    parser.add_argument("--angles", type=float, nargs="+", default=list(ANGLES), help="tilts in degrees")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS,
                        help="YuNet networks (one per process to use two cores)")
    parser.add_argument("--model", default=str(MODELS_DIR / "kise_emotion.tflite"))
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "evaluate_pipeline"))
    args = parser.parse_args(argv)
    if args.sweep and args.split == "test":
        raise DataError("--sweep tunes the crop on validation; it never runs on the test split")
    split = load_split(args.split, "majority", args.data)
    idx = subsample(len(split), args.sample, args.seed)
    images, labels = split.images[idx], split.labels[idx]
    classifier = EmotionClassifier(args.model)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{args.split}" + (f"_sample{args.sample}_seed{args.seed}" if args.sample else "")
    if list(args.networks) != list(NETWORKS):
        stem += "_" + "_".join(args.networks)
    report: dict[str, Any] = {"split": args.split, "images": int(len(images)), "sample": args.sample,
                              "seed": args.seed, "model": args.model,
                              "command": "python -m training.evaluate_pipeline " + " ".join(argv or [])}
    t0 = time.perf_counter()
    md = [f"FER+ {args.split}, majority labels, {len(images)} images"
          + (f" (fixed-seed subsample, seed {args.seed})" if args.sample else "")]
    registered = get_kind("yunet").crop_scale
    scales = sorted(set(args.scales) | {registered}) if args.sweep else [registered]
    table = evaluate_pipeline(classifier, images, labels, angles=args.angles, networks=args.networks,
                              scales=scales, progress=True)
    if args.sweep:
        report["sweep_yunet"] = table["rows"]
        report["sweep_haar"] = evaluate_pipeline(classifier, images, labels, angles=(0.0,), networks=(None,),
                                                 scales=HAAR_SCALES, kind="haar")["rows"]
        md += ["", "crop_scale sweep (every tilt for YuNet, upright for Haar's check):", "",
               sweep_markdown(report["sweep_yunet"] + report["sweep_haar"]), "",
               "mean over the tilts:", "", sweep_mean_markdown(report["sweep_yunet"])]
        table = {**table, "rows": [r for r in table["rows"] if r["crop_scale"] == registered]}
    report["table"] = table
    md += ["", f"YuNet (live preset thresholds, 320 px), crop_scale {table['crop_scale']:g}, "
               f"margin {table['crop_margin']:g}; classifier alone on all {len(images)} images: "
               f"{_pct(table['classifier_alone_all_images'])}", "", markdown_table(table)]
    report["seconds"] = round(time.perf_counter() - t0, 1)
    text = "\n".join(md) + "\n"
    _write_atomic(out_dir / f"{stem}.json", json.dumps(report, indent=2) + "\n")
    _write_atomic(out_dir / f"{stem}.md", text)
    print("\n" + text)
    print(f"written {out_dir / (stem + '.json')} and .md ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
