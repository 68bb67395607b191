"""`kise`: annotate photos and videos, and benchmark detectors, from the command line.

User errors (a missing file, a damaged photo, an unusable model) are reported
as one line, `kise: error: <file>: <reason>`, never as a traceback. A run over
many photos goes on past bad ones and lists them at the end; the exit code is
non-zero only when nothing could be processed or the model is unusable.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import cv2

from kise_desktop.about_info import VersionAction
from kise_desktop.core.annotate_run import AnnotateRun, RunRefused, file_digest, recorded_outputs, same_file
from kise_desktop.core.classifier import MIRROR_MODES, EmotionClassifier, ModelError, find_sidecar
from kise_desktop.core.cluster import ClusterError
from kise_desktop.core.detectors import DetectorError, describe, get_kind, kind_names, preset, settings_to_dict
from kise_desktop.core.labels import LIVE_LABELS, LabelSettings
from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import PRESETS
from kise_desktop.core.render import draw_results
from kise_desktop.core.results import SCHEMA_VERSION, CsvStream, frame_record
from kise_desktop.core.sources import (
    IMAGE_SUFFIXES, MAX_IMAGE_SIDE, VIDEO_SUFFIXES, SourceError, list_images, open_source,
)
from kise_desktop.paths import BUNDLED_MODEL, PACKAGE_DIR, REPO_DIR, data_dir

PROG = "kise"
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
        raise ModelError.because(model, "bundled_missing")
    # like the app: the sidecar beside the model, else the repo's copy (the seed's lives in training/anchors)
    sidecar = args.sidecar or find_sidecar(model)
    return EmotionClassifier(model, sidecar, num_threads=args.threads, mirror=args.mirror)


def detector_settings(kind: str, preset_name: str) -> Any:
    """The settings of a registered detector kind's preset; a kind without that preset is a user error."""
    try:
        return preset(kind, preset_name)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a logout, `kill`, a scheduler) stops a run the way Ctrl-C does: cleanly, files finished."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:          # not the main thread (tests calling main() from a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def expand_inputs(paths: Iterable[str]) -> tuple[list[Path], list[str], bool]:
    """Image files to process, problems found on the way, and whether a folder was given.

    Annotated images that a KISE run recorded in a folder are never taken as inputs
    (`kise annotate DIR -o DIR` twice does not annotate its own outputs).
    """
    files: list[Path] = []
    problems: list[str] = []
    any_folder = False
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            any_folder = True
            ours = recorded_outputs(path)
            images = [p for p in list_images(path) if p not in ours]
            others = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES
                      and not p.name.startswith(".")]
            if others:
                note(f"{path}: ignoring {len(others)} file(s) without an image suffix")
            if len(images) < len(list_images(path)):
                note(f"{path}: skipping {len(list_images(path)) - len(images)} image(s) KISE annotated earlier")
            if not images:
                problems.append(f"{path}: no images in this folder")
            files.extend(images)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems, any_folder


# -- kise annotate --------------------------------------------------------------

def cmd_annotate(args: argparse.Namespace) -> int:
    files, problems, any_folder = expand_inputs(args.paths)
    if not files:
        for p in problems:
            error(p)
        return EXIT_FAILED
    classifier = load_classifier(args)
    settings = detector_settings(args.detector, args.preset)
    detector = settings_to_dict(settings)
    identity = {"schema_version": SCHEMA_VERSION, "model_sha256": file_digest(classifier.model_path),
                "sidecar_sha256": file_digest(classifier.sidecar_path), "detector": detector,
                "lang": args.lang, "max_side": MAX_IMAGE_SIDE, "mirror": classifier.mirror}
    outdir = Path(args.outdir)
    run = AnnotateRun(outdir, identity, classifier.name, str(classifier.model_path), detector,
                      overwrite=args.overwrite)
    with contextlib.ExitStack() as stack:
        if args.address:
            # Join first: a cluster that refuses us leaves the output folder untouched.
            from kise_desktop.core import cluster

            if cluster.connect(args.address, py_modules=[PACKAGE_DIR]):
                stack.callback(cluster.shutdown)
        return annotate_into(args, run, files, problems, any_folder, classifier, settings)


def annotate_into(args: argparse.Namespace, run: AnnotateRun, files: list[Path], problems: list[str],
                  any_folder: bool, classifier: EmotionClassifier, settings: Any) -> int:
    from tqdm import tqdm

    from kise_desktop.core import batch

    outdir = run.outdir
    todo = run.open(files)

    jobs = min(args.jobs or batch.default_jobs(), max(1, len(todo)))
    config = batch.PipelineConfig(
        model_path=str(classifier.model_path), sidecar_path=str(classifier.sidecar_path),
        detector_settings=settings, lang=args.lang,
        classifier_threads=args.threads, opencv_threads=1 if jobs > 1 or args.address else 0,
        mirror="on" if classifier.mirror else "off")   # decided here, so every worker's CPU reads alike
    # A bar for folders and lists, on a terminal only (logs and pipes get the summary).
    bar = tqdm(total=len(files), initial=run.resumed, desc="annotating", unit="photo",
               disable=not (any_folder or len(files) > 1) or not sys.stderr.isatty(),
               file=sys.stderr, leave=False, dynamic_ncols=True)
    failed_now: list[str] = []

    def on_done(outcome: batch.PhotoOutcome) -> None:
        if args.debug_photo_delay:
            time.sleep(args.debug_photo_delay)   # tests: a slow run, to interrupt it half-way
        run.record(outcome)
        for n in outcome.notes:
            tqdm.write(f"{PROG}: note: {files[outcome.index]}: {n}", file=sys.stderr)
        if outcome.error:
            failed_now.append(outcome.error)
        bar.update(1)

    work = (batch.PhotoJob(p.index, str(p.path)) for p in todo)
    stopped: BaseException | None = None
    try:
        with sigterm_as_interrupt():
            if not todo:
                pass
            elif args.address:
                config = dataclasses.replace(config, model_bytes=classifier.model_path.read_bytes(),
                                                   sidecar_bytes=classifier.sidecar_path.read_bytes())
                batch.run_ray(work, config, on_done, args.address, py_modules=[PACKAGE_DIR])
            elif jobs == 1:
                batch.run_here(work, config, on_done, pipeline=Pipeline(classifier, settings, smoothing=0.0))
            else:
                batch.run_pool(work, config, jobs, on_done)
    except (KeyboardInterrupt, OSError, ClusterError, batch.WorkerFailure) as exc:
        stopped = exc
    finally:
        bar.close()
    try:
        counts = run.finish(extra_errors=problems)
    except OSError as exc:
        if stopped is None:
            raise
        error(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        counts = None

    total = len(files) + len(problems)
    if counts is not None:
        earlier = f" ({run.resumed} done by an earlier run)" if run.resumed else ""
        note(f"annotated {counts['images']} of {total} input(s){earlier}, {counts['faces']} face(s), "
             f"{describe(settings)} -> {outdir} (results.json, results.csv)")
    for p in problems + failed_now:
        error(p)
    if isinstance(stopped, KeyboardInterrupt):
        error(f"interrupted after {run.done} of {len(files)} photo(s); {outdir}/results.json holds them; "
              f"rerun the same command to finish")
        return 130
    if isinstance(stopped, batch.WorkerFailure):
        error(f"{stopped}; {run.done} of {len(files)} photo(s) done, kept in {outdir}/results.json; "
              f"{stopped.advice}")
        return EXIT_FAILED
    if stopped is not None:
        raise stopped
    return EXIT_OK if counts and counts["images"] else EXIT_FAILED


# -- kise video -------------------------------------------------------------------

VIDEO_OUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")


def part_name(path: Path) -> Path:
    """Where a video's output grows until it is finished (same suffix: it picks the container)."""
    return path.with_name(f"{path.stem}.part{path.suffix}")


def check_video_outputs(args: argparse.Namespace, out_path: Path, csv_path: Path) -> None:
    """Refuse, before anything is written, outputs that are the input or each other, or that exist."""
    source = Path(str(args.input))
    is_file = not str(args.input).strip().isdigit()
    outputs = (("-o", out_path), ("--csv", csv_path), ("-o", part_name(out_path)), ("--csv", part_name(csv_path)))
    for option, path in outputs:
        if is_file and source.exists() and same_file(path, source):
            raise UserError(f"{path}: is the input video {source} (or a link to it); choose another {option}")
    if same_file(out_path, csv_path):
        raise UserError(f"{csv_path}: --csv and -o name the same file; give them different names")
    for path in (out_path, csv_path):
        if path.is_dir():
            raise UserError(f"{path}: is a folder; name a file")
        if (path.exists() or path.is_symlink()) and not args.overwrite:
            raise UserError(f"{path}: exists (an earlier run?); pass --overwrite to replace it")


def cmd_video(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    out_path = Path(args.output)
    csv_path = Path(args.csv) if args.csv else out_path.with_suffix(".csv")
    check_video_outputs(args, out_path, csv_path)
    source = open_source(args.input)
    if source.kind not in ("video", "camera"):
        source.close()
        raise UserError(f"{args.input}: not a video (use 'kise annotate' for photos)")
    classifier = load_classifier(args)
    settings = detector_settings(args.detector, args.preset)
    kind = settings_to_dict(settings)["kind"]
    pipeline = Pipeline(classifier, settings, smoothing=label_settings(args))
    for path in (out_path, csv_path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path.parent)) from None
    video_part, csv_part = part_name(out_path), part_name(csv_path)

    fps = getattr(source, "fps", 0.0) or 25.0
    total = getattr(source, "frame_count", 0) or None
    if args.max_frames:
        total = min(total or args.max_frames, args.max_frames)
    writer: cv2.VideoWriter | None = None
    frames = faces = 0
    stopped: str | None = None
    interrupted = False
    name = str(args.input)
    collector = start_report(args, classifier, settings, pipeline)
    rows = CsvStream(csv_part)
    bar = tqdm(total=total, desc="video", unit="frame", file=sys.stderr, leave=False,
               disable=not sys.stderr.isatty())
    try:
        with source, sigterm_as_interrupt():
            for frame in source:
                if writer is None:
                    h, w = frame.image_bgr.shape[:2]
                    writer = cv2.VideoWriter(str(video_part), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
                    if not writer.isOpened():
                        raise UserError(f"{out_path}: cannot write a video here (mp4v codec unavailable?)")
                result = pipeline.analyze(frame.image_bgr, frame.timestamp)
                if collector is not None:
                    collector.add(result, frames, frame.image_bgr)
                writer.write(draw_results(frame.image_bgr, result, lang=args.lang))
                rows.write_frame(frame_record(result, detector=kind), name, frames)
                frames += 1
                faces += len(result.faces)
                bar.update(1)
                if args.max_frames and frames >= args.max_frames:
                    break
    except SourceError as exc:   # a camera that stops mid-stream: keep what was written
        stopped = str(exc)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        if writer is not None:
            writer.release()     # a finished container: the frames so far play
        rows.close()
    if frames == 0:
        for path in (video_part, csv_part):
            with contextlib.suppress(OSError):
                path.unlink()
        if interrupted:
            error("interrupted before the first frame")
            return 130
        raise UserError(stopped or f"{args.input}: no frames could be read")
    if interrupted:
        error(f"interrupted after {frames} frames; what was done is in {video_part} and {csv_part}; "
              f"rerun to start again")
        return 130
    for part, final in ((video_part, out_path), (csv_part, csv_path)):
        try:
            os.replace(part, final)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(final)) from None
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

def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high] (else exit 2 with one line)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], not {value}")
        return value
    return parse


def float_in(low: float, high: float, high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a number in [low, high] (or [low, high) with high_open)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
        if not (low <= value < high if high_open else low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}{')' if high_open else ']'}, not {text}")
        return value
    return parse


def video_output(text: str) -> str:
    suffix = Path(text).suffix.lower()
    if suffix not in VIDEO_OUT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: the annotated video needs a suffix KISE can write "
                                         f"({', '.join(VIDEO_OUT_SUFFIXES)})")
    return text


MAX_THREADS = 64          # TFLite threads; far above any laptop, far below what crashes the runtime
MAX_JOBS = 256
MAX_BENCH_SIDE = 8192


def parse_size(text: str) -> tuple[int, int] | None:
    if text == "native":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 640x480 or 'native', not {text!r}") from None
    if not (16 <= w <= MAX_BENCH_SIDE and 16 <= h <= MAX_BENCH_SIDE):
        raise argparse.ArgumentTypeError(f"width and height must be in [16, {MAX_BENCH_SIDE}], not {text!r}")
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
        raise ModelError.because(BUNDLED_MODEL, "bundled_missing")
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
               "  kise annotate archive/ -o out --jobs 4      # rerun the same line to resume\n"
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
        p.add_argument("--threads", type=int_in(1, MAX_THREADS), default=1,
                       help="TFLite threads per pipeline (1 is fastest for small models)")
        p.add_argument("--mirror", choices=MIRROR_MODES,
                       help="average each face with its mirror image (about +1 point of accuracy, twice the "
                            "model's time): on, off, or auto = on where the CPU has an int8 dot product "
                            "(AVX-512 VNNI, AVX-VNNI, ARM dotprod); default: the model's sidecar (auto)")

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
    p.add_argument("-o", "--outdir", default="kise-annotated",
                   help="output folder (default ./kise-annotated); rerun the same command to resume a run")
    p.add_argument("--jobs", type=int_in(1, MAX_JOBS), default=None,
                   help="processes, one pipeline each (default: this machine's cores)")
    p.add_argument("--address", metavar="HOST:PORT",
                   help="run on the Ray cluster there (HOST:PORT of `ray start --head`, ray://HOST:PORT, or auto)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier run in the output folder instead of resuming or refusing")
    p.add_argument("--debug-photo-delay", type=float_in(0.0, 60.0), default=0.0, help=argparse.SUPPRESS)
    add_detect_options(p, "photo")
    add_model_options(p)
    p.set_defaults(func=cmd_annotate)

    p = sub.add_parser("video", help="annotate a video; per-frame, per-face CSV",
                       description="Write an annotated video and a CSV with one row per face per frame "
                                   "(time, track id, box, probabilities).")
    p.add_argument("input", metavar="IN", help="video file (or a camera index, with --max-frames)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", type=video_output,
                   help="annotated video to write")
    p.add_argument("--csv", metavar="FILE", help="CSV to write (default: OUT with .csv)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT and the CSV if they exist")
    p.add_argument("--max-frames", type=int_in(1, 10**9), default=None, help="stop after this many frames")
    p.add_argument("--smoothing", type=float_in(0.0, 1.0, high_open=True), default=None,
                   help="old per-frame weight of the past in [0, 1), no hysteresis (default: time-based, --tau)")
    # The same ranges LabelSettings checks, here so a bad value is an argument error (exit 2).
    p.add_argument("--tau", type=float_in(0.0, 3600.0),
                   help=f"smoothing time constant in s (default {LIVE_LABELS.tau_s:g})")
    p.add_argument("--margin", type=float_in(0.0, 1.0, high_open=True),
                   help=f"lead another emotion needs to take the label (default {LIVE_LABELS.margin:g})")
    p.add_argument("--hold", type=float_in(0.0, 3600.0),
                   help=f"how long that lead must last, s (default {LIVE_LABELS.hold_s:g})")
    p.add_argument("--min-confidence", type=float_in(0.0, 1.0),
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
    p.add_argument("--repeats", type=int_in(1, 1000), default=3, help="timed runs per photo (default 3)")
    p.add_argument("--sizes", type=parse_size, nargs="+", metavar="WxH",
                   help="frame sizes (default: native 640x480 1280x720)")
    p.add_argument("--configs", help=f"comma-separated presets (default: all of {', '.join(PRESETS)})")
    p.add_argument("--no-seed", action="store_true", help="do not time the seed model beside ours")
    p.add_argument("--videos", metavar="DIR",
                   help="real videos for the live presets' section: share of frames with a face, ms per frame "
                        "(default: <data>/videos; skipped with a note if it has none)")
    p.add_argument("--video-frames", type=int_in(0, 10**9), default=0, metavar="N",
                   help="only the first N frames of each video (default: all)")
    p.add_argument("--no-videos", action="store_true", help="skip the video section")
    add_model_options(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)     # --version prints and exits from in here
        return int(args.func(args))
    except BrokenPipeError:
        # `kise --version | head`: the reader left; stop quietly, as other command-line tools do. Point
        # stdout at /dev/null so Python's own flush at exit does not raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (ModelError, SourceError, UserError, DetectorError, RunRefused, ClusterError) as exc:
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
