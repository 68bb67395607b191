"""Assemble a short 640x480 demo video from photos (e.g. ../shared/data/dlib-faces).

    python scripts/make_demo_video.py /tmp/kise_demo.mp4 --photos ../shared/data/dlib-faces
    python scripts/make_demo_video.py /tmp/kise_d6.mp4 --clip ../shared/data/videos/d6.mp4 --fps 30

With --clip, a real clip (one person in front of a camera, like a webcam) is
fitted onto the canvas frame by frame instead, at --fps (give the clip's own).

Each photo is fitted onto a 640x480 canvas and shown for `--seconds-per-photo`
with a slow zoom (so the tracker and the history plot see motion). The video is
written where you say: never commit it (the photos are not ours to copy).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kise_desktop.core.sources import list_images, load_image  # noqa: E402
from kise_desktop.paths import data_dir  # noqa: E402


def fit(image: np.ndarray, width: int, height: int, zoom: float = 1.0) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(width / w, height / h) * zoom
    resized = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), np.uint8)
    rh, rw = resized.shape[:2]
    # centre, cropping if the zoom made it larger than the canvas
    sy, sx = max(0, (rh - height) // 2), max(0, (rw - width) // 2)
    crop = resized[sy:sy + height, sx:sx + width]
    ch, cw = crop.shape[:2]
    y0, x0 = (height - ch) // 2, (width - cw) // 2
    canvas[y0:y0 + ch, x0:x0 + cw] = crop
    return canvas


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output", help="video path to write (.mp4 or .avi)")
    p.add_argument("--photos", default=str(data_dir() / "dlib-faces"), help="folder of photos")
    p.add_argument("--clip", help="a video to fit onto the canvas frame by frame, instead of photos")
    p.add_argument("--only", nargs="*", help="use only these file names (in this order)")
    p.add_argument("--seconds-per-photo", type=float, default=3.0)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--size", default="640x480")
    p.add_argument("--max-side", type=int, default=1200, help="skip photos larger than this (slow to detect)")
    args = p.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    paths = list_images(args.photos)
    if args.only:
        by_name = {q.name: q for q in paths}
        paths = [by_name[n] for n in args.only]
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if args.output.lower().endswith(".mp4") else "MJPG"))
    writer = cv2.VideoWriter(args.output, fourcc, args.fps, (width, height))
    if not writer.isOpened():
        print(f"cannot write {args.output}", file=sys.stderr)
        return 1
    n_frames = 0
    if args.clip:
        capture = cv2.VideoCapture(args.clip)
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            writer.write(fit(frame, width, height))
            n_frames += 1
        capture.release()
        paths = []
        if n_frames == 0:
            print(f"{args.clip}: no frames could be read", file=sys.stderr)
            return 1
    per_photo = max(1, round(args.seconds_per_photo * args.fps))
    for path in paths:
        image = load_image(path)
        if max(image.shape[:2]) > args.max_side:
            continue
        for i in range(per_photo):
            writer.write(fit(image, width, height, zoom=1.0 + 0.15 * i / per_photo))
            n_frames += 1
    writer.release()
    print(f"wrote {args.output}: {n_frames} frames, {width}x{height} at {args.fps:g} fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
