"""`kise`: annotate photos and videos, and benchmark detectors, from the command line.

User errors (a missing file, a damaged photo, an unusable model) are reported
as one line, `kise: error: <file>: <reason>`, never as a traceback. A run over
many photos goes on past bad ones and lists them at the end; the exit code is
non-zero only when nothing could be processed or the model is unusable.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import cv2

from kise_desktop.about_info import VersionAction
from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.core.detectors import DetectorError, describe, get_kind, kind_names, preset, settings_to_dict
from kise_desktop.core.labels import LIVE_LABELS, LabelSettings
from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import PRESETS
from kise_desktop.core.render import draw_results
from kise_desktop.core.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SourceError, list_images, load_image_info, open_source
from kise_desktop.core.types import FrameResult
from kise_desktop.emotions import EMOTION_KEYS, EMOTIONS
from kise_desktop.paths import MODELS_DIR, REPO_DIR, data_dir

PROG = "kise"
BUNDLED_MODEL = MODELS_DIR / "kise_emotion.tflite"
# The seed project's model, for side-by-side benchmarks only (never bundled).
SEED_MODEL = REPO_DIR.parent / "shared" / "anchors" / "seed_mini_xception_7class.tflite"
SEED_SIDECAR = REPO_DIR / "training" / "anchors" / "seed_mini_xception_7class.json"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The detector that measured best for both photos and live video (README, "Face detectors on this CPU").
DEFAULT_DETECTOR = "yunet"


class UserError(Exception):
    """Something the user can fix; printed as one line, exit code 1."""


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def note(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


# -- shared helpers ---------------------------------------------------------------

def load_classifier(args: argparse.Namespace) -> EmotionClassifier:
    model = Path(args.model) if args.model else BUNDLED_MODEL
    if not model.is_file() and not args.model:
        raise ModelError(f"{model}: the bundled model is missing; pass --model FILE")
    return EmotionClassifier(model, args.sidecar, num_threads=args.threads)


def detector_settings(kind: str, preset_name: str) -> Any:
    """The settings of a registered detector kind's preset; a kind without that preset is a user error."""
    try:
        return preset(kind, preset_name)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None


def face_record(result: FrameResult, index: int, scale: float = 1.0) -> dict:
    """One face as JSON-ready data: box, label, confidence and all eight probabilities."""
    face = result.faces[index]
    label = EMOTIONS[face.label_index]
    record = {
        "box": [int(v) for v in face.box],
        "track_id": face.track_id,
        "label": label.key,
        "label_ko": label.ko,
        "confidence": round(face.confidence, 6),
        "probabilities": {k: round(float(p), 6) for k, p in zip(EMOTION_KEYS, face.probabilities)},
    }
    if scale != 1.0:
        record["box_in_original"] = [int(round(v / scale)) for v in face.box]
    return record


def unique_path(folder: Path, stem: str, suffix: str, taken: set[Path]) -> Path:
    """`folder/stem_kise.suffix`, numbered when two inputs share a name."""
    path = folder / f"{stem}_kise{suffix}"
    n = 2
    while path in taken:
        path = folder / f"{stem}_kise-{n}{suffix}"
        n += 1
    taken.add(path)
    return path


def expand_inputs(paths: Iterable[str]) -> tuple[list[Path], list[str], bool]:
    """Image files to process, problems found on the way, and whether a folder was given."""
    files: list[Path] = []
    problems: list[str] = []
    any_folder = False
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            any_folder = True
            images = list_images(path)
            others = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES]
            if others:
                note(f"{path}: ignoring {len(others)} file(s) without an image suffix")
            if not images:
                problems.append(f"{path}: no images in this folder")
            files.extend(images)
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems, any_folder


# -- kise annotate --------------------------------------------------------------

def cmd_annotate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    files, problems, any_folder = expand_inputs(args.paths)
    if not files:
        for p in problems:
            error(p)
        return EXIT_FAILED
    classifier = load_classifier(args)
    settings = detector_settings(args.detector, args.preset)
    pipeline = Pipeline(classifier, settings, smoothing=0.0)
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)

    images: list[dict] = []
    taken: set[Path] = set()
    # A bar for folders and lists, on a terminal only (logs and pipes get the summary).
    bar = tqdm(files, desc="annotating", unit="photo",
               disable=not (any_folder or len(files) > 1) or not sys.stderr.isatty(),
               file=sys.stderr, leave=False)
    for path in bar:
        try:
            loaded = load_image_info(path)
        except SourceError as exc:
            problems.append(str(exc))
            continue
        for n in loaded.notes:
            tqdm.write(f"{PROG}: note: {path}: {n}", file=sys.stderr)
        pipeline.reset_tracks()  # photos are unrelated: no smoothing or ids across them
        result = pipeline.analyze(loaded.image_bgr)
        annotated = draw_results(loaded.image_bgr, result, lang=args.lang)
        suffix = ".jpg" if path.suffix.lower() in (".jpg", ".jpeg") else ".png"
        out_path = unique_path(outdir, path.stem, suffix, taken)
        if not cv2.imwrite(str(out_path), annotated):
            problems.append(f"{out_path}: cannot write the annotated image")
            continue
        images.append({
            "file": str(path), "output": str(out_path),
            "width": result.frame_size[0], "height": result.frame_size[1],
            "original_size": list(loaded.original_size), "scale": round(loaded.scale, 6),
            "faces": [face_record(result, i, loaded.scale) for i in range(len(result.faces))],
            "timings_ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
        })
    bar.close()

    report = {"model": classifier.name, "model_path": str(classifier.model_path),
              "detector": settings_to_dict(settings), "labels": list(EMOTION_KEYS),
              "images": images, "errors": [{"message": m} for m in problems]}
    json_path = outdir / "results.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    write_annotate_csv(outdir / "results.csv", images)

    faces = sum(len(i["faces"]) for i in images)
    note(f"annotated {len(images)} of {len(images) + len(problems)} input(s), {faces} face(s), "
         f"{describe(settings)} -> {outdir} (results.json, results.csv)")
    for p in problems:
        error(p)
    return EXIT_OK if images else EXIT_FAILED


def write_annotate_csv(path: Path, images: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "face", "x", "y", "w", "h", "label", "confidence"]
                        + [f"p_{k}" for k in EMOTION_KEYS])
        for image in images:
            for i, face in enumerate(image["faces"]):
                writer.writerow([image["file"], i, *face["box"], face["label"], f"{face['confidence']:.6f}"]
                                + [f"{face['probabilities'][k]:.6f}" for k in EMOTION_KEYS])


# -- kise video -------------------------------------------------------------------

VIDEO_CSV_HEADER = (["frame", "time_s", "track_id", "x", "y", "w", "h", "label", "confidence"]
                    + [f"p_{k}" for k in EMOTION_KEYS] + [f"smoothed_{k}" for k in EMOTION_KEYS])


def cmd_video(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    source = open_source(args.input)
    if source.kind not in ("video", "camera"):
        source.close()
        raise UserError(f"{args.input}: not a video (use 'kise annotate' for photos)")
    classifier = load_classifier(args)
    settings = detector_settings(args.detector, args.preset)
    pipeline = Pipeline(classifier, settings, smoothing=label_settings(args))
    out_path = Path(args.output)
    csv_path = Path(args.csv) if args.csv else out_path.with_suffix(".csv")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path.parent.mkdir(parents=True, exist_ok=True)

    fps = getattr(source, "fps", 0.0) or 25.0
    total = getattr(source, "frame_count", 0) or None
    if args.max_frames:
        total = min(total or args.max_frames, args.max_frames)
    writer: cv2.VideoWriter | None = None
    frames = faces = 0
    stopped: str | None = None
    collector = start_report(args, classifier, settings, pipeline)
    with source, csv_path.open("w", newline="", encoding="utf-8") as fh:
        rows = csv.writer(fh)
        rows.writerow(VIDEO_CSV_HEADER)
        bar = tqdm(total=total, desc="video", unit="frame", file=sys.stderr, leave=False,
                   disable=not sys.stderr.isatty())
        try:
            for frame in source:
                if writer is None:
                    h, w = frame.image_bgr.shape[:2]
                    writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                    if not writer.isOpened():
                        raise UserError(f"{out_path}: cannot write a video here (mp4v codec unavailable?)")
                result = pipeline.analyze(frame.image_bgr, frame.timestamp)
                if collector is not None:
                    collector.add(result, frames, frame.image_bgr)
                writer.write(draw_results(frame.image_bgr, result, lang=args.lang))
                for face in result.faces:
                    label = EMOTIONS[face.label_index]
                    rows.writerow([frames, f"{frame.timestamp:.4f}", face.track_id, *face.box, label.key,
                                   f"{face.confidence:.6f}"]
                                  + [f"{p:.6f}" for p in face.probabilities] + [f"{p:.6f}" for p in face.smoothed])
                frames += 1
                faces += len(result.faces)
                bar.update(1)
                if args.max_frames and frames >= args.max_frames:
                    break
        except SourceError as exc:   # a camera that stops mid-stream: keep what was written
            stopped = str(exc)
        finally:
            bar.close()
            if writer is not None:
                writer.release()
    if frames == 0:
        raise UserError(stopped or f"{args.input}: no frames could be read")
    note(f"{frames} frames, {faces} face rows, {describe(settings)} -> {out_path}, {csv_path}")
    if collector is not None:
        finish_report(collector, Path(args.report), args.lang)
    if stopped:
        error(stopped)
    return EXIT_OK


def label_settings(args: argparse.Namespace) -> LabelSettings:
    """The core's live label settings, with what the command line changes (--smoothing = the old weight)."""
    if args.smoothing is not None:
        return LabelSettings.per_frame(args.smoothing, args.min_confidence)
    changes = {k: v for k, v in (("tau_s", args.tau), ("margin", args.margin), ("hold_s", args.hold),
                                 ("min_confidence", args.min_confidence)) if v is not None}
    try:
        return replace(LIVE_LABELS, **changes)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def start_report(args: argparse.Namespace, classifier: EmotionClassifier,
                 settings: Any, pipeline: Pipeline):
    """A collector for `--report`, or None."""
    if not getattr(args, "report", None):
        return None
    from kise_desktop.core.report import ReportCollector, settings_text

    return ReportCollector(settings_text(classifier.name, describe(settings), pipeline.smoothing.describe()),
                           source=Path(args.input).name)


def finish_report(collector, html_path: Path, lang: str) -> None:
    from kise_desktop.core.report import write_report

    html_out, png_out = write_report(collector.session, html_path, lang=lang)
    note(f"report -> {html_out}, {png_out}")


# -- kise report ------------------------------------------------------------------

def cmd_report(args: argparse.Namespace) -> int:
    from kise_desktop.core.report import ReportError, read_session_csv, thumbnails_from_video, write_report

    html_path = Path(args.output)
    if html_path.resolve() == Path(args.csv).resolve():
        raise UserError(f"{html_path}: would overwrite the input CSV")
    try:
        session = read_session_csv(args.csv)
        if args.video:
            thumbnails_from_video(session, args.video)
        html_out, png_out = write_report(session, html_path, lang=args.lang)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    note(f"report -> {html_out}, {png_out}")
    return EXIT_OK


# -- kise bench -------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int] | None:
    if text == "native":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 640x480 or 'native', not {text!r}") from None
    return w, h


def cmd_bench(args: argparse.Namespace) -> int:
    from kise_desktop.core import bench

    folder = Path(args.data) if args.data else data_dir() / "dlib-faces"
    if (folder / "dlib-faces").is_dir():
        folder = folder / "dlib-faces"     # --data may name the data root
    if not folder.is_dir() or not any(folder.glob("*.xml")):
        raise UserError(f"{folder}: no annotated photos (dlib imglab XML) here; pass --data DIR")

    classifiers: dict[str, EmotionClassifier] = {}
    if args.model or BUNDLED_MODEL.is_file():
        main = load_classifier(args)
        classifiers[main.name] = main
    if SEED_MODEL.is_file() and not args.no_seed:
        seed = EmotionClassifier(SEED_MODEL, SEED_SIDECAR, num_threads=args.threads)
        if not classifiers or Path(args.model or "").resolve() != SEED_MODEL.resolve():
            classifiers.setdefault(seed.name, seed)
    if not classifiers:
        raise ModelError(f"{BUNDLED_MODEL}: model file not found (pass --model)")
    if not (args.model or BUNDLED_MODEL.is_file()):
        note(f"{BUNDLED_MODEL} is missing; the seed model runs end to end")

    configs = tuple(args.configs.split(",")) if args.configs else bench.DEFAULT_CONFIGS
    unknown = [c for c in configs if c not in PRESETS]
    if unknown:
        raise UserError(f"unknown config(s) {', '.join(unknown)}; choose from {', '.join(PRESETS)}")
    sizes = tuple(args.sizes) if args.sizes else bench.DEFAULT_SIZES
    videos = Path(args.videos) if args.videos else data_dir() / "videos"
    if args.videos and not bench.list_videos(videos):
        raise UserError(f"{videos}: no videos here ({', '.join(sorted(VIDEO_SUFFIXES))}); pass --videos DIR")
    if not bench.list_videos(videos):
        note(f"{videos}: no videos; the video section is skipped")
    report = bench.run_bench(folder, classifiers, configs, sizes, args.repeats,
                             progress=lambda what: print(f"  measuring {what}...", file=sys.stderr, flush=True),
                             videos_dir=None if args.no_videos else videos, video_frames=args.video_frames)
    print(bench.format_table(report))
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / "bench.json.tmp"
    tmp.write_text(report.to_json(), encoding="utf-8")
    tmp.replace(outdir / "bench.json")          # never a half-written bench.json
    bench.save_chart(report, outdir / "bench.png")
    note(f"wrote {outdir / 'bench.json'} and {outdir / 'bench.png'}")
    return EXIT_OK


# -- argument parsing -------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="KISE: facial emotion from photos and videos, offline.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  kise annotate photo.jpg holidays/ -o out --lang en\n"
               "  kise video talk.mp4 -o talk_kise.mp4 --csv talk.csv --detector hog\n"
               "  kise report talk.csv -o talk_report.html --video talk.mp4\n"
               "  kise bench --data ../shared/data/dlib-faces -o runs/bench\n"
               "exit codes: 0 = something was processed, 1 = nothing could be (or the model is unusable), "
               "2 = bad arguments")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", help=f"TFLite emotion model (default: {BUNDLED_MODEL})")
        p.add_argument("--sidecar", help="its JSON sidecar (default: the model path with .json)")
        p.add_argument("--threads", type=int, default=1, help="TFLite threads (1 is fastest for small models)")

    def add_detect_options(p: argparse.ArgumentParser, preset: str) -> None:
        p.add_argument("--detector", choices=kind_names(), default=DEFAULT_DETECTOR,
                       help="face detector: " + "; ".join(f"{k} = {get_kind(k).name_in('en')}, "
                                                          f"{get_kind(k).summary['en']}" for k in kind_names())
                       + f" (default {DEFAULT_DETECTOR})")
        p.add_argument("--preset", choices=("live", "photo", "seed"), default=preset,
                       help=f"detector settings (default {preset}; see kise_desktop/core/presets.py)")
        p.add_argument("--lang", choices=("ko", "en"), default="ko", help="label language (default ko)")

    p = sub.add_parser("annotate", help="annotate photos and folders of photos",
                       description="Write annotated copies of photos plus results.json and results.csv "
                                   "(per face: box, label, all probabilities).")
    p.add_argument("paths", nargs="+", metavar="PATH", help="photos and/or folders of photos")
    p.add_argument("-o", "--outdir", default="kise-annotated", help="output folder (default ./kise-annotated)")
    add_detect_options(p, "photo")
    add_model_options(p)
    p.set_defaults(func=cmd_annotate)

    p = sub.add_parser("video", help="annotate a video; per-frame, per-face CSV",
                       description="Write an annotated video and a CSV with one row per face per frame "
                                   "(time, track id, box, probabilities).")
    p.add_argument("input", metavar="IN", help="video file (or a camera index, with --max-frames)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="annotated video to write")
    p.add_argument("--csv", metavar="FILE", help="CSV to write (default: OUT with .csv)")
    p.add_argument("--max-frames", type=int, default=0, help="stop after this many frames")
    p.add_argument("--smoothing", type=float, default=None,
                   help="old per-frame weight of the past in [0, 1), no hysteresis (default: time-based, --tau)")
    p.add_argument("--tau", type=float, help=f"smoothing time constant in s (default {LIVE_LABELS.tau_s:g})")
    p.add_argument("--margin", type=float,
                   help=f"lead another emotion needs to take the label (default {LIVE_LABELS.margin:g})")
    p.add_argument("--hold", type=float, help=f"how long that lead must last, s (default {LIVE_LABELS.hold_s:g})")
    p.add_argument("--min-confidence", type=float,
                   help=f"below this a label is shown as uncertain (default {LIVE_LABELS.min_confidence:g})")
    p.add_argument("--report", metavar="REPORT.html", help="also write a session report (HTML + PNG)")
    add_detect_options(p, "live")
    add_model_options(p)
    p.set_defaults(func=cmd_video)

    p = sub.add_parser("report", help="a session report (HTML + PNG) from a video/recording CSV",
                       description="Per face: emotions over time, share of time each emotion led, the strongest "
                                   "moment of each emotion, and the run's settings; one self-contained HTML file "
                                   "and a PNG beside it.")
    p.add_argument("csv", metavar="SESSION.csv", help="CSV written by 'kise video' or the app's recorder")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="HTML report to write")
    p.add_argument("--video", help="the video the CSV was made from, to cut face thumbnails from it")
    p.add_argument("--lang", choices=("ko", "en"), default="ko", help="report language (default ko)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", help="compare detector speed and accuracy on this CPU",
                       description="Time and score every detector preset (seed, live, photo of each kind) on "
                                   "annotated photos, run the live presets over real videos, time the "
                                   "classifier(s), check issue 10's targets (PASS/MISS); print a table, write "
                                   "bench.json and bench.png.")
    p.add_argument("--data", help="folder with dlib-faces photos and XML (default: <data>/dlib-faces)")
    p.add_argument("-o", "--outdir", default="runs/bench", help="where bench.json/bench.png go (default runs/bench)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per photo (default 3)")
    p.add_argument("--sizes", type=parse_size, nargs="+", metavar="WxH",
                   help="frame sizes (default: native 640x480 1280x720)")
    p.add_argument("--configs", help=f"comma-separated presets (default: all of {', '.join(PRESETS)})")
    p.add_argument("--no-seed", action="store_true", help="do not time the seed model beside ours")
    p.add_argument("--videos", metavar="DIR",
                   help="real videos for the live presets' section: share of frames with a face, ms per frame "
                        "(default: <data>/videos; skipped with a note if it has none)")
    p.add_argument("--video-frames", type=int, default=0, metavar="N",
                   help="only the first N frames of each video (default: all)")
    p.add_argument("--no-videos", action="store_true", help="skip the video section")
    add_model_options(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ModelError, SourceError, UserError, DetectorError) as exc:
        error(str(exc))
        return EXIT_FAILED
    except OSError as exc:       # an output folder that cannot be created, a full disk...
        error(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
