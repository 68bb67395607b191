"""How steady and how quick the displayed label is, on the real clips.

    PYTHONPATH=. python scripts/label_stability.py                    # before/after table, Haar
    PYTHONPATH=. python scripts/label_stability.py --detector hog
    PYTHONPATH=. python scripts/label_stability.py --sweep            # tune: a grid of settings
    PYTHONPATH=. python scripts/label_stability.py --dump /tmp/lab    # per-frame CSVs to look at

Runs the real pipeline (`kise_desktop.core.pipeline.Pipeline`, the live detector
preset, the bundled model) over the clips in <data>/videos/ and follows the
clip's main face (the largest box of each frame). Two figures per clip:

- label changes per second *outside* the marked expression changes
  (scripts/onsets.json: each marked range, plus the 0.5 s after it that a label
  is allowed to take to follow, is left out of both the count and the time);
- reaction time at each marked onset: from the onset's first frame to the first
  frame whose displayed label is one of the onset's expected labels
  ("never" when it does not come before the clip or the expression ends).
  The same figure for the raw per-frame argmax is shown beside it: what the
  model alone allows, before any smoothing.

"before" is KISE's first smoothing (per-frame weight 0.6, label = argmax);
"after" is `LabelSettings()` (the core's defaults, or --tau/--margin/--hold).
The pipeline runs once per clip with "after"; "before" and `--sweep` (a grid
of settings, to choose the defaults) replay its recorded detections through the
same tracker: the tracking stage sees only boxes, probabilities and
timestamps, and the script checks that replaying "after" gives exactly the
pipeline's labels.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kise_desktop.core.classifier import EmotionClassifier  # noqa: E402
from kise_desktop.core.labels import LEGACY_LABELS, LIVE_LABELS, PHOTO_LABELS, LabelSettings  # noqa: E402
from kise_desktop.core.pipeline import Pipeline  # noqa: E402
from kise_desktop.core.presets import PRESETS  # noqa: E402
from kise_desktop.core.sources import VideoSource  # noqa: E402
from kise_desktop.core.tracking import IoUTracker  # noqa: E402
from kise_desktop.emotions import EMOTION_INDEX, EMOTION_KEYS  # noqa: E402
from kise_desktop.paths import MODELS_DIR, data_dir  # noqa: E402

ONSETS = REPO / "scripts" / "onsets.json"
FOLLOW_S = 0.5        # the time a label is allowed to take after a marked change (the target)
CLIPS = ("d0", "d12", "d19", "d6")


@dataclass
class Recorded:
    """One clip as the detector and classifier saw it (for replays)."""
    fps: float
    times: list[float]
    boxes: list[list[tuple[int, int, int, int]]]
    probs: list[np.ndarray]


@dataclass
class Followed:
    """The main face's labels, frame by frame (-1 where no face was found)."""
    times: np.ndarray
    displayed: np.ndarray
    raw: np.ndarray
    confident: np.ndarray


def record(pipeline: Pipeline, path: Path) -> tuple[Recorded, Followed]:
    """Run the pipeline over a clip; keep its detections and the main face's labels."""
    pipeline.reset_tracks()
    times, boxes, probs, displayed, raw, confident = [], [], [], [], [], []
    with VideoSource(path) as source:
        fps = source.fps or 25.0
        for frame in source:
            result = pipeline.analyze(frame.image_bgr, frame.timestamp)
            times.append(frame.timestamp)
            boxes.append([f.box for f in result.faces])
            probs.append(np.stack([f.probabilities for f in result.faces]) if result.faces
                         else np.zeros((0, len(EMOTION_KEYS)), np.float32))
            if result.faces:
                main = max(result.faces, key=lambda f: f.box[2] * f.box[3])
                displayed.append(main.label_index)
                raw.append(int(np.argmax(main.probabilities)))
                confident.append(main.confident)
            else:
                displayed.append(-1)
                raw.append(-1)
                confident.append(False)
    return (Recorded(fps, times, boxes, probs),
            Followed(np.asarray(times), np.asarray(displayed), np.asarray(raw), np.asarray(confident)))


def replay(rec: Recorded, settings: LabelSettings) -> Followed:
    """The tracking stage alone over recorded detections, with other label settings."""
    tracker = IoUTracker(smoothing=settings)
    displayed, raw, confident = [], [], []
    for t, boxes, probs in zip(rec.times, rec.boxes, rec.probs):
        tracked = tracker.update(boxes, probs, t)
        if boxes:
            i = max(range(len(boxes)), key=lambda k: boxes[k][2] * boxes[k][3])
            displayed.append(tracked[i].displayed)
            raw.append(int(np.argmax(probs[i])))
            confident.append(tracked[i].confident)
        else:
            displayed.append(-1)
            raw.append(-1)
            confident.append(False)
    return Followed(np.asarray(rec.times), np.asarray(displayed), np.asarray(raw), np.asarray(confident))


def excluded_mask(n: int, fps: float, events: list[dict]) -> np.ndarray:
    """Frames inside a marked change, or within FOLLOW_S after one."""
    mask = np.zeros(n, bool)
    for event in events:
        a, b = event["frames"]
        mask[a:min(n, b + 1 + int(round(FOLLOW_S * fps)))] = True
    return mask


def first_shown(labels: np.ndarray, start: int, stop: int, wanted: set[int]) -> int | None:
    for f in range(start, min(stop, len(labels))):
        if labels[f] in wanted:
            return f
    return None


def measure(followed: Followed, fps: float, events: list[dict]) -> dict:
    """Changes per second outside the marked changes; reaction time at each onset."""
    labels = followed.displayed
    n = len(labels)
    mask = excluded_mask(n, fps, events)
    changes_out = changes_all = 0
    prev = -1
    for f in range(n):
        if labels[f] < 0:
            continue          # no face this frame: the display keeps nothing to compare
        if prev >= 0 and labels[f] != prev:
            changes_all += 1
            changes_out += not mask[f]
        prev = labels[f]
    outside_s = float((~mask).sum()) / fps
    reactions = []
    for event in events:
        if event.get("kind") != "onset":
            continue
        a, b = event["frames"]
        stop = event.get("until", n)
        wanted = {EMOTION_INDEX[k] for k in event["labels"]}
        shown = first_shown(labels, a, stop, wanted)
        raw = first_shown(followed.raw, a, stop, wanted)
        reactions.append({
            "frames": [a, b], "labels": event["labels"],
            "reaction_s": None if shown is None else (shown - a) / fps,
            "raw_reaction_s": None if raw is None else (raw - a) / fps,
        })
    return {"frames": n, "seconds": n / fps, "outside_s": outside_s,
            "changes": changes_all, "changes_outside": changes_out,
            "changes_per_s_outside": changes_out / outside_s if outside_s > 0 else 0.0,
            "changes_per_s": changes_all / (n / fps), "unconfident": float(1.0 - followed.confident.mean()),
            "onsets": reactions}


def fmt_s(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"


def table(rows: list[tuple[str, str, dict]]) -> str:
    lines = ["| clip | settings | changes/s outside onsets (all) | reaction at each onset, s (raw argmax) "
             "| frames not confident |",
             "|---|---|---|---|---|"]
    for clip, name, m in rows:
        onsets = "; ".join(f"{o['frames'][0]}: {fmt_s(o['reaction_s'])} ({fmt_s(o['raw_reaction_s'])})"
                           for o in m["onsets"]) or "-"
        lines.append(f"| {clip} | {name} | {m['changes_per_s_outside']:.2f} ({m['changes_per_s']:.2f}) "
                     f"| {onsets} | {m['unconfident']:.0%} |")
    return "\n".join(lines)


def passes(m: dict) -> bool:
    return m["changes_per_s_outside"] <= 0.5 and all(
        o["reaction_s"] is not None and o["reaction_s"] <= FOLLOW_S for o in m["onsets"])


def dump(path: Path, followed: Followed, rec: Recorded) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "time_s", "displayed", "raw", "confident"] + [f"p_{k}" for k in EMOTION_KEYS])
        for f, t in enumerate(followed.times):
            probs = rec.probs[f]
            main = (max(range(len(rec.boxes[f])), key=lambda k: rec.boxes[f][k][2] * rec.boxes[f][k][3])
                    if rec.boxes[f] else None)
            name = lambda i: EMOTION_KEYS[i] if i >= 0 else ""  # noqa: E731
            w.writerow([f, f"{t:.3f}", name(followed.displayed[f]), name(followed.raw[f]), int(followed.confident[f])]
                       + ([f"{p:.3f}" for p in probs[main]] if main is not None else [""] * len(EMOTION_KEYS)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=Path, help="folder with the clips (default <data>/videos)")
    ap.add_argument("--clips", nargs="+", default=list(CLIPS))
    ap.add_argument("--onsets", type=Path, default=ONSETS)
    ap.add_argument("--detector", default="haar", help="live preset kind: haar or hog (default haar)")
    ap.add_argument("--model", type=Path, default=MODELS_DIR / "kise_emotion.tflite")
    ap.add_argument("--tau", type=float, help="'after' time constant, s (default: the core's)")
    ap.add_argument("--margin", type=float, help="'after' margin (default: the core's)")
    ap.add_argument("--hold", type=float, help="'after' hold time, s (default: the core's)")
    ap.add_argument("--detect-rate", type=float, help="detections per second (the app's Find faces setting; default: every frame)")
    ap.add_argument("--sweep", action="store_true", help="replay a grid of settings; print the best")
    ap.add_argument("--dump", type=Path, help="write per-frame CSVs (main face) to this folder")
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    videos = args.videos or data_dir() / "videos"
    marks = json.loads(args.onsets.read_text(encoding="utf-8"))["clips"]
    classifier = EmotionClassifier(args.model)
    preset = PRESETS[f"live-{args.detector}"]
    after = LIVE_LABELS
    for field, value in (("tau_s", args.tau), ("margin", args.margin), ("hold_s", args.hold)):
        if value is not None:
            after = replace(after, **{field: value})
    variants = {"before (per-frame 0.6)": LEGACY_LABELS, "after": after}

    rows: list[tuple[str, str, dict]] = []
    recorded: dict[str, Recorded] = {}
    for clip in args.clips:
        path = videos / f"{clip}.mp4"
        if not path.is_file():
            print(f"label_stability: {path}: no such clip", file=sys.stderr)
            return 1
        events = marks.get(clip, {}).get("events", [])
        # The real pipeline once, with the 'after' settings; 'before' replays its detections
        # through the tracker (checked: the replay of 'after' gives the pipeline's labels).
        rec, followed = record(Pipeline(classifier, preset, smoothing=after, detect_rate=args.detect_rate), path)
        recorded[clip] = rec
        if not np.array_equal(replay(rec, after).displayed, followed.displayed):
            print(f"label_stability: {clip}: the replay differs from the pipeline", file=sys.stderr)
            return 1
        for name, settings in variants.items():
            shown = followed if settings == after else replay(rec, settings)
            rows.append((clip, name, measure(shown, rec.fps, events)))
            if args.dump:
                dump(args.dump / f"{clip}_{name.split()[0]}.csv", shown, rec)
    rate = f"{args.detect_rate:g} detections/s" if args.detect_rate else "every frame"
    print(f"detector: live-{args.detector}, faces found {rate}; after = {after.describe()}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([{"clip": c, "settings": n, **m} for c, n, m in rows], indent=2))

    if args.sweep:
        grid = itertools.product((0.1, 0.2, 0.3, 0.4, 0.6), (0.0, 0.1, 0.2, 0.3), (0.0, 0.1, 0.2, 0.3, 0.4))
        results = []
        for tau, margin, hold in grid:
            settings = replace(LIVE_LABELS, tau_s=tau, margin=margin, hold_s=hold)
            per_clip = {c: measure(replay(recorded[c], settings), recorded[c].fps,
                                   marks.get(c, {}).get("events", [])) for c in args.clips}
            worst_rate = max(m["changes_per_s_outside"] for m in per_clip.values())
            worst_react = max((o["reaction_s"] if o["reaction_s"] is not None else 99.0)
                              for m in per_clip.values() for o in m["onsets"]) if any(
                m["onsets"] for m in per_clip.values()) else 0.0
            results.append((all(passes(m) for m in per_clip.values()), worst_rate, worst_react, tau, margin, hold,
                            per_clip))
        print("\nsweep (worst clip): tau_s margin hold_s | max changes/s outside | max reaction s | all pass")
        results.sort(key=lambda r: (not r[0], r[1] + r[2]))
        for ok, rate, react, tau, margin, hold, _ in results[:25]:
            print(f"  {tau:4.2f} {margin:4.2f} {hold:4.2f} | {rate:5.2f} | {react:5.2f} | {'yes' if ok else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
