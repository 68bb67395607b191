"""Detector and classifier measurements on this CPU, on real annotated photos.

For each detector setting (the seed's and KISE's) and each frame size, every
photo is letterboxed (scaled and padded, aspect kept) to that size and run
through the full `Pipeline`, which reports detection and end-to-end times; the
same run's boxes are scored against the photo's hand-drawn boxes (IoU >= 0.5).
The classifier is timed separately on a batch of real face crops. Each live
preset also runs over real videos (share of frames with a face, ms per frame),
and the issue's budgets (YuNet against Haar and HOG, same run) are checked.
"""
from __future__ import annotations

import json
import os
import platform
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.detectors import all_presets, kind_names, preset
from kise_desktop.core.faces import FaceCropper
from kise_desktop.core.machine import cpu_description, cpu_line
from kise_desktop.core.pipeline import Pipeline, settings_dict
from kise_desktop.core.presets import PRESETS, describe
from kise_desktop.core.sources import VIDEO_SUFFIXES, ImageError, SourceError, list_images, load_image, open_source
from kise_desktop.core.tracking import iou
from kise_desktop.core.types import Box

IOU_MATCH = 0.5
DEFAULT_SIZES: tuple[tuple[int, int] | None, ...] = (None, (640, 480), (1280, 720))  # None = as the photo is
# Every preset of every registered kind (seed-haar, ..., live-yunet, photo-yunet): a new kind is benched unasked.
DEFAULT_CONFIGS: tuple[str, ...] = tuple(all_presets())


@dataclass
class AnnotatedPhoto:
    path: Path
    boxes: list[Box]   # hand-drawn faces, (x, y, w, h) in the photo's pixels


def load_annotations(folder: Path) -> list[AnnotatedPhoto]:
    """Photos and face boxes from dlib's imglab XML files (training.xml, testing.xml)."""
    photos: list[AnnotatedPhoto] = []
    for xml_file in sorted(folder.glob("*.xml")):
        for image in ET.parse(xml_file).getroot().iter("image"):
            boxes = [(int(b.get("left")), int(b.get("top")), int(b.get("width")), int(b.get("height")))
                     for b in image.iter("box") if b.get("ignore") != "1"]
            photos.append(AnnotatedPhoto(folder / image.get("file"), boxes))
    return photos


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float, tuple[int, int]]:
    """`image` scaled to fit `size` (w, h) and centred on black; the scale and the offset."""
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.zeros((height, width) + image.shape[2:], dtype=image.dtype)
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(image, (nw, nh), interpolation=interp)
    return canvas, scale, (x0, y0)


def map_box(box: Box, scale: float, offset: tuple[int, int]) -> Box:
    x, y, w, h = box
    return (round(x * scale + offset[0]), round(y * scale + offset[1]), round(w * scale), round(h * scale))


@dataclass
class MatchCounts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    found_sizes: list[int] = field(default_factory=list)    # side of each found true face, frame px
    missed_sizes: list[int] = field(default_factory=list)

    def add(self, detections: list[Box], truths: list[Box]) -> None:
        """Greedy one-to-one matching, best overlap first."""
        pairs = sorted(((iou(d, t), di, ti) for di, d in enumerate(detections) for ti, t in enumerate(truths)),
                       reverse=True)
        used_d: set[int] = set()
        used_t: set[int] = set()
        for overlap, di, ti in pairs:
            if overlap < IOU_MATCH:
                break
            if di in used_d or ti in used_t:
                continue
            used_d.add(di)
            used_t.add(ti)
        self.true_positives += len(used_t)
        self.false_positives += len(detections) - len(used_d)
        self.false_negatives += len(truths) - len(used_t)
        for ti, t in enumerate(truths):
            (self.found_sizes if ti in used_t else self.missed_sizes).append(int(max(t[2], t[3])))

    @property
    def recall(self) -> float:
        total = self.true_positives + self.false_negatives
        return self.true_positives / total if total else 0.0

    @property
    def precision(self) -> float:
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else 0.0


@dataclass
class DetectorRow:
    config: str
    settings: str
    size: str                 # "640x480" or "native"
    detect_ms_median: float
    detect_ms_p90: float
    total_ms_median: float
    total_ms_p90: float
    fps: float                # 1000 / median end-to-end ms
    recall: float
    precision: float
    faces: int
    smallest_found: int | None    # px, side of the smallest true face found at this size
    largest_missed: int | None


def _size_name(size: tuple[int, int] | None) -> str:
    return f"{size[0]}x{size[1]}" if size else "native"


def bench_detectors(classifier: EmotionClassifier, photos: list[AnnotatedPhoto], extra_images: list[np.ndarray],
                    configs: dict[str, Any],
                    sizes: tuple[tuple[int, int] | None, ...] = DEFAULT_SIZES, repeats: int = 3,
                    progress: Callable[[str], None] | None = None) -> list[DetectorRow]:
    """Times and scores each (config, size) pair; photos without boxes only count for time.

    The configs take turns on each photo (one pipeline each), rather than each
    running its whole set in a block: on a shared VM a slow minute then slows
    every config alike, and the ratios between them stay put (one block at a
    time, two runs in a row put live YuNet / live Haar at 0.33 and 0.39).
    """
    images = [load_image(p.path) for p in photos]
    pipelines = {name: Pipeline(classifier, settings, smoothing=0.0) for name, settings in configs.items()}
    measured: dict[tuple[str, str], tuple[MatchCounts, list[float], list[float]]] = {}
    for size in sizes:
        if progress:
            progress(f"{len(configs)} presets in turn at {_size_name(size)}")
        for name in configs:
            measured[name, _size_name(size)] = (MatchCounts(), [], [])
        for index, image in enumerate(images + extra_images):
            truths = photos[index].boxes if index < len(photos) else None
            if size:
                frame, scale, offset = letterbox(image, size)
                truths = [map_box(b, scale, offset) for b in truths] if truths is not None else None
            else:
                frame = image
            for name, pipeline in pipelines.items():
                pipeline.reset_tracks()
                result = pipeline.analyze(frame)          # warm-up, and the boxes that are scored
                if truths is not None:
                    measured[name, _size_name(size)][0].add([f.box for f in result.faces], truths)
            for _ in range(repeats):
                for name, pipeline in pipelines.items():
                    timed = pipeline.analyze(frame)
                    _, detect_ms, total_ms = measured[name, _size_name(size)]
                    detect_ms.append(timed.timings_ms["detect"])
                    total_ms.append(timed.timings_ms["total"])
    rows: list[DetectorRow] = []
    for name, settings in configs.items():
        for size in sizes:
            counts, detect_ms, total_ms = measured[name, _size_name(size)]
            med = float(np.median(total_ms))
            rows.append(DetectorRow(
                config=name, settings=describe(settings), size=_size_name(size),
                detect_ms_median=float(np.median(detect_ms)), detect_ms_p90=float(np.percentile(detect_ms, 90)),
                total_ms_median=med, total_ms_p90=float(np.percentile(total_ms, 90)),
                fps=1000.0 / med if med > 0 else 0.0,
                recall=counts.recall, precision=counts.precision,
                faces=counts.true_positives + counts.false_negatives,
                smallest_found=min(counts.found_sizes) if counts.found_sizes else None,
                largest_missed=max(counts.missed_sizes) if counts.missed_sizes else None))
    return rows


def face_crops(photos: list[AnnotatedPhoto], size: tuple[int, int], margin: float) -> np.ndarray:
    """Real face crops, from the hand-drawn boxes."""
    cropper = FaceCropper(size, margin)
    crops = []
    for photo in photos:
        gray = cv2.cvtColor(load_image(photo.path), cv2.COLOR_BGR2GRAY)
        crops.append(cropper.crop(gray, photo.boxes).copy())
    return np.concatenate(crops) if crops else np.zeros((0, size[1], size[0]), np.uint8)


def bench_classifier(classifier: EmotionClassifier, crops: np.ndarray, batch: int = 8,
                     seconds: float = 0.5) -> dict[str, float]:
    """ms per face, for one face per call and for batches of `batch` faces."""
    single = crops[:1]
    many = crops[:batch] if len(crops) >= batch else np.resize(crops, (batch,) + crops.shape[1:])
    out: dict[str, float] = {}
    for key, faces in (("ms_per_face_single", single), (f"ms_per_face_batch{batch}", many)):
        classifier.predict(faces)
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            classifier.predict(faces)
            calls += 1
        out[key] = (time.perf_counter() - start) * 1000.0 / (calls * len(faces))
    return out


def _covers(detection: Box, truth: Box) -> bool:
    """Lenient match for the size sweep: the box is on the face (centre inside) and of a similar size.

    Haar's boxes are looser than the hand-drawn ones, so IoU >= 0.5 would measure box
    style, not whether the face was found.
    """
    dx, dy, dw, dh = detection
    tx, ty, tw, th = truth
    cx, cy = dx + dw / 2, dy + dh / 2
    return tx <= cx <= tx + tw and ty <= cy <= ty + th and 0.5 <= dw / max(tw, 1) <= 2.0


def face_size_sweep(settings: Any, photos: list[AnnotatedPhoto],
                    frame_size: tuple[int, int] = (640, 480), sides: range = range(20, 161, 4),
                    faces: int = 5) -> int | None:
    """The smallest face side (px) a detector finds in a frame of `frame_size`.

    The largest annotated face of each of `faces` photos, with its surroundings, is
    scaled so that the face measures each side in `sides` and pasted in the middle of
    a gray frame. A face's threshold is the smallest side found at which the next two
    larger sides are found too (one lucky hit does not count); the answer is the median
    over the faces found that way (a turned head may never be), None if not even half are.
    """
    from kise_desktop.core.detectors import make_detector

    detector = make_detector(settings)
    width, height = frame_size
    per_photo = [(max(max(b[2], b[3]) for b in p.boxes), p) for p in photos if p.boxes]
    chosen = [p for _, p in sorted(per_photo, key=lambda t: -t[0])[:faces]]
    ordered = sorted(sides)
    thresholds: list[int] = []
    for photo in chosen:
        x, y, w, h = max(photo.boxes, key=lambda b: max(b[2], b[3]))
        gray = cv2.cvtColor(load_image(photo.path), cv2.COLOR_BGR2GRAY)
        # The face with one face-width of context on each side: detectors look at hair and chin too.
        cx0, cy0 = max(0, x - w), max(0, y - h)
        context = gray[cy0:y + 2 * h, cx0:x + 2 * w]
        run = 0   # consecutive sides found so far, scanning upwards
        for side in ordered:
            scale = side / max(w, h)
            patch = cv2.resize(context, None, fx=scale, fy=scale,
                               interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            ph, pw = min(patch.shape[0], height), min(patch.shape[1], width)
            frame = np.full((height, width), 128, np.uint8)
            ox, oy = (width - pw) // 2, (height - ph) // 2
            frame[oy:oy + ph, ox:ox + pw] = patch[:ph, :pw]
            truth = (round(ox + (x - cx0) * scale), round(oy + (y - cy0) * scale), round(w * scale), round(h * scale))
            run = run + 1 if any(_covers(d.box, truth) for d in detector.detect(frame)) else 0
            if run == 3:   # found here and at the next two sizes: no need to look at larger faces
                thresholds.append(ordered[ordered.index(side) - 2])
                break
    return int(np.median(thresholds)) if thresholds and 2 * len(thresholds) >= len(chosen) else None


@dataclass
class VideoRow:
    clip: str
    config: str
    settings: str
    frames: int
    frame_size: str
    fps: float                # the clip's own frame rate
    face_share: float         # frames with at least one face / frames
    detect_ms_median: float
    detect_ms_p90: float
    total_ms_median: float    # detect + crop + classify + track, per frame
    total_ms_p90: float


def list_videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if folder.is_dir() else []


def live_configs(names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Each kind's live preset; with `names`, only the live ones among them (all live ones if none is)."""
    every = {f"live-{kind}": preset(kind, "live") for kind in kind_names()}
    chosen = {n: s for n, s in every.items() if names is None or n in names}
    return chosen or every


def bench_videos(classifier: EmotionClassifier, videos: list[Path], configs: dict[str, Any],
                 max_frames: int = 0, progress: Callable[[str], None] | None = None) -> list[VideoRow]:
    """Every frame of each clip through the full pipeline, once per config: how often a face is found, how fast.

    The clips are decoded again for each config (not held in memory: a long clip would not fit), and only
    `analyze` is timed. Track smoothing is on as in the app; it does not change which frames have a face.
    """
    rows: list[VideoRow] = []
    pipeline: Pipeline | None = None
    for path in videos:
        for name, settings in configs.items():
            if progress:
                progress(f"video {path.name} {name}")
            if pipeline is None:
                pipeline = Pipeline(classifier, settings)
            else:
                pipeline.set_detector(settings)
            pipeline.reset_tracks()
            detect_ms: list[float] = []
            total_ms: list[float] = []
            with_face = 0
            size = ""
            with open_source(path) as source:
                fps = float(getattr(source, "fps", 0.0) or 0.0)
                for frame in source:
                    result = pipeline.analyze(frame.image_bgr, frame.timestamp)
                    with_face += bool(result.faces)
                    detect_ms.append(result.timings_ms["detect"])
                    total_ms.append(result.timings_ms["total"])
                    size = f"{result.frame_size[0]}x{result.frame_size[1]}"
                    if max_frames and len(total_ms) >= max_frames:
                        break
            if not total_ms:
                raise SourceError.because(path, "no_frames")
            rows.append(VideoRow(
                clip=path.name, config=name, settings=describe(settings), frames=len(total_ms), frame_size=size,
                fps=fps, face_share=with_face / len(total_ms),
                detect_ms_median=float(np.median(detect_ms)), detect_ms_p90=float(np.percentile(detect_ms, 90)),
                total_ms_median=float(np.median(total_ms)), total_ms_p90=float(np.percentile(total_ms, 90))))
    return rows


@dataclass
class Budget:
    """One of issue 10's targets, checked on figures from this run."""
    name: str
    value: float
    target: float
    at_most: bool              # True: value <= target passes; False: value >= target passes
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.target if self.at_most else self.value >= self.target

    def line(self) -> str:
        op = "<=" if self.at_most else ">="
        return f"{'PASS' if self.passed else 'MISS'}  {self.name}: {self.value:.3g} (target {op} {self.target:g})" + (
            f"; {self.detail}" if self.detail else "")


def yunet_ratios(rows: list[DetectorRow]) -> dict[str, float]:
    """YuNet against the detectors it replaces, from the same run: live vs live Haar, photo vs photo HOG.

    Live at 640x480 (a camera frame); photo at the photos' own size ("native") when it was measured.
    """
    by = {(r.config, r.size): r for r in rows}
    out: dict[str, float] = {}
    live, haar = by.get(("live-yunet", "640x480")), by.get(("live-haar", "640x480"))
    if live and haar and haar.detect_ms_median > 0 and haar.fps > 0:
        out["live-yunet_vs_live-haar_detect_ms"] = live.detect_ms_median / haar.detect_ms_median
        out["live-yunet_vs_live-haar_fps"] = live.fps / haar.fps
    size = "native" if ("photo-yunet", "native") in by else "640x480"
    photo, hog = by.get(("photo-yunet", size)), by.get(("photo-hog", size))
    if photo and hog and hog.detect_ms_median > 0 and hog.total_ms_median > 0:
        out[f"photo-yunet_vs_photo-hog_detect_ms_{size}"] = photo.detect_ms_median / hog.detect_ms_median
        out[f"photo-yunet_vs_photo-hog_total_ms_{size}"] = photo.total_ms_median / hog.total_ms_median
    return out


def check_budgets(rows: list[DetectorRow], video_rows: list[VideoRow]) -> list[Budget]:
    """Issue 10's targets that this run measured (a target whose rows were not run is left out)."""
    by = {(r.config, r.size): r for r in rows}
    ratios = yunet_ratios(rows)
    out: list[Budget] = []
    live = by.get(("live-yunet", "640x480"))
    if live:
        out.append(Budget("live-yunet recall at 640x480", live.recall, 0.98, False))
        out.append(Budget("live-yunet precision at 640x480", live.precision, 0.95, False))
    if "live-yunet_vs_live-haar_detect_ms" in ratios:
        out.append(Budget("live-yunet / live-haar detection ms at 640x480",
                          ratios["live-yunet_vs_live-haar_detect_ms"], 0.3, True,
                          f"{live.detect_ms_median:.1f} vs {by[('live-haar', '640x480')].detect_ms_median:.1f} ms"))
        out.append(Budget("live-yunet / live-haar end-to-end fps at 640x480",
                          ratios["live-yunet_vs_live-haar_fps"], 2.0, False,
                          f"{live.fps:.1f} vs {by[('live-haar', '640x480')].fps:.1f} fps"))
    for key, value in ratios.items():
        if key.startswith("photo-yunet_vs_photo-hog_detect_ms_"):
            size = key.rsplit("_", 1)[1]
            photo, hog = by[("photo-yunet", size)], by[("photo-hog", size)]
            out.append(Budget(f"photo-yunet / photo-hog detection ms per photo ({size})", value, 0.25, True,
                              f"{photo.detect_ms_median:.1f} vs {hog.detect_ms_median:.1f} ms; end to end "
                              f"{ratios[f'photo-yunet_vs_photo-hog_total_ms_{size}']:.2f}x"))
            out.append(Budget(f"photo-yunet recall - photo-hog recall ({size})", photo.recall - hog.recall, 0.0,
                              False, f"{photo.recall:.0%} vs {hog.recall:.0%}, precision "
                                     f"{photo.precision:.0%} vs {hog.precision:.0%}"))
    for row in video_rows:
        if row.config == "live-yunet":
            out.append(Budget(f"live-yunet frames with a face, {row.clip}", row.face_share, 0.99, False,
                              f"{round(row.face_share * row.frames)}/{row.frames}"))
    return out


def machine_info() -> dict[str, object]:
    import dlib

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "processor": platform.processor(),
            "platform": platform.platform(), "python": platform.python_version(),
            "opencv": cv2.__version__, "opencv_threads": cv2.getNumThreads(), "dlib": dlib.__version__,
            "load_average_1min_at_start": load, "cpu": cpu_description()}


@dataclass
class BenchReport:
    machine: dict[str, object]
    data_dir: str
    photos: int
    faces: int
    repeats: int
    model: str
    classifiers: dict[str, dict[str, float]]
    detectors: list[DetectorRow]
    configs: dict[str, dict]
    ratios: dict[str, float]      # live vs seed end-to-end speed-up at 640x480
    smallest_face_640x480: dict[str, int | None] = field(default_factory=dict)  # face_size_sweep per config
    videos_dir: str | None = None
    videos: list[VideoRow] = field(default_factory=list)   # each live preset on each real clip
    videos_note: str = ""                                  # why the video section is empty, if it is
    budgets: list[dict] = field(default_factory=list)      # issue 10's targets: name, value, target, passed

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=2, ensure_ascii=False)


def speedups(rows: list[DetectorRow], size: str = "640x480") -> dict[str, float]:
    """Seed end-to-end median over ours, for each kind that has a seed preset (2.0 = twice as fast)."""
    by = {(r.config, r.size): r for r in rows}
    out: dict[str, float] = {}
    for kind in kind_names():
        for ours in ("live", "photo"):
            seed, mine = by.get((f"seed-{kind}", size)), by.get((f"{ours}-{kind}", size))
            if seed and mine and mine.total_ms_median > 0:
                out[f"{ours}-{kind}_vs_seed-{kind}"] = seed.total_ms_median / mine.total_ms_median
    return out


def run_bench(data_dir: Path, classifiers: dict[str, EmotionClassifier], configs: tuple[str, ...] = DEFAULT_CONFIGS,
              sizes: tuple[tuple[int, int] | None, ...] = DEFAULT_SIZES, repeats: int = 3,
              progress: Callable[[str], None] | None = None, videos_dir: Path | None = None,
              video_frames: int = 0) -> BenchReport:
    """The whole measurement; the first classifier is the one used end to end.

    `videos_dir`: real clips for the live presets' video section (skipped, with a note, if it has none).
    """
    machine = machine_info()
    photos = load_annotations(data_dir)
    if not photos:
        raise FileNotFoundError(f"{data_dir}: no dlib imglab XML files with face boxes")
    annotated = {p.path.name for p in photos}
    extra: list[np.ndarray] = []
    for path in list_images(data_dir):
        if path.name not in annotated:
            try:
                extra.append(load_image(path))
            except ImageError:
                pass
    main_name, main_classifier = next(iter(classifiers.items()))
    chosen = {name: PRESETS[name] for name in configs}
    rows = bench_detectors(main_classifier, photos, extra, chosen, sizes, repeats, progress)
    sweep: dict[str, int | None] = {}
    for name, settings in chosen.items():
        if progress:
            progress(f"face size sweep {name}")
        sweep[name] = face_size_sweep(settings, photos)
    video_rows: list[VideoRow] = []
    videos = list_videos(videos_dir) if videos_dir is not None else []
    note = "" if videos else f"{videos_dir}: no videos here; video section skipped" if videos_dir else \
        "no video folder given; video section skipped"
    if videos:
        video_rows = bench_videos(main_classifier, videos, live_configs(configs), video_frames, progress)
    timings = {}
    for name, classifier in classifiers.items():
        if progress:
            progress(f"classifier {name}")
        crops = face_crops(photos, classifier.input_size, classifier.crop_margin)
        timings[name] = bench_classifier(classifier, crops)
    return BenchReport(machine=machine, data_dir=str(data_dir), photos=len(photos) + len(extra),
                       faces=sum(len(p.boxes) for p in photos), repeats=repeats, model=main_name,
                       classifiers=timings, detectors=rows,
                       configs={name: settings_dict(s) for name, s in chosen.items()},
                       ratios={**speedups(rows), **yunet_ratios(rows)}, smallest_face_640x480=sweep,
                       videos_dir=str(videos_dir) if videos_dir else None, videos=video_rows, videos_note=note,
                       budgets=[{**asdict(b), "passed": b.passed} for b in check_budgets(rows, video_rows)])


def format_table(report: BenchReport) -> str:
    """The report as a plain-text table."""
    lines = [f"{report.photos} photos ({report.faces} annotated faces), {report.repeats} timed runs each; "
             f"{report.machine['cpu_count']} CPUs, OpenCV {report.machine['opencv']} "
             f"({report.machine['opencv_threads']} threads), dlib {report.machine['dlib']}; model: {report.model}",
             "",
             f"{'config':<11} {'settings':<40} {'size':<9} {'detect ms':>10} {'p90':>6} "
             f"{'total ms':>9} {'p90':>6} {'fps':>6} {'recall':>7} {'prec.':>6} {'min found':>9} {'max missed':>10}"]
    for r in report.detectors:
        lines.append(
            f"{r.config:<11} {r.settings:<40} {r.size:<9} {r.detect_ms_median:>10.1f} {r.detect_ms_p90:>6.1f} "
            f"{r.total_ms_median:>9.1f} {r.total_ms_p90:>6.1f} {r.fps:>6.1f} {r.recall:>7.0%} {r.precision:>6.0%} "
            f"{(str(r.smallest_found) + ' px') if r.smallest_found else '-':>9} "
            f"{(str(r.largest_missed) + ' px') if r.largest_missed else '-':>10}")
    lines.append("")
    cpu = report.machine.get("cpu")
    if isinstance(cpu, dict):
        lines.append(cpu_line(cpu))
    for name, t in report.classifiers.items():
        lines.append("classifier " + name + ": " + ", ".join(f"{k} {v:.3f}" for k, v in t.items()))
    if report.smallest_face_640x480:
        lines.append("smallest face found reliably in a 640x480 frame (sweep of real faces): " + ", ".join(
            f"{name} {px} px" if px else f"{name} -" for name, px in report.smallest_face_640x480.items()))
    for name, ratio in report.ratios.items():
        if "_vs_seed-" in name:
            lines.append(f"end-to-end speed-up at 640x480, {name}: {ratio:.2f}x")
        else:
            lines.append(f"ratio {name}: {ratio:.3f}")
    lines.append("")
    if report.videos:
        lines.append(f"real videos ({report.videos_dir}): every frame through the full pipeline")
        lines.append(f"{'clip':<9} {'config':<11} {'settings':<40} {'frames':>6} {'size':<8} {'fps':>4} "
                     f"{'with face':>9} {'detect ms':>9} {'p90':>6} {'total ms':>8} {'p90':>6}")
        for v in report.videos:
            lines.append(f"{v.clip:<9} {v.config:<11} {v.settings:<40} {v.frames:>6} {v.frame_size:<8} "
                         f"{v.fps:>4.0f} {v.face_share:>9.1%} {v.detect_ms_median:>9.1f} {v.detect_ms_p90:>6.1f} "
                         f"{v.total_ms_median:>8.1f} {v.total_ms_p90:>6.1f}")
    elif report.videos_note:
        lines.append(report.videos_note)
    if report.budgets:
        lines.append("")
        lines.append("issue 10 targets, from this run:")
        lines.extend(Budget(**{k: v for k, v in b.items() if k != "passed"}).line() for b in report.budgets)
    return "\n".join(lines)


def save_chart(report: BenchReport, path: Path) -> None:
    """Bar chart: end-to-end ms per frame by config and size, and recall at 640x480."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and never a Qt backend from the core
    import matplotlib.pyplot as plt

    configs = list(dict.fromkeys(r.config for r in report.detectors))
    sizes = [s for s in dict.fromkeys(r.size for r in report.detectors) if s != "native"] or ["native"]
    by = {(r.config, r.size): r for r in report.detectors}
    fig, (ax_time, ax_rec) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(sizes)
    xs = np.arange(len(configs))
    for i, size in enumerate(sizes):
        med = [by[(c, size)].total_ms_median if (c, size) in by else 0 for c in configs]
        p90 = [by[(c, size)].total_ms_p90 if (c, size) in by else 0 for c in configs]
        bars = ax_time.bar(xs + i * width, med, width, label=f"{size} median")
        ax_time.errorbar(xs + i * width, med, yerr=[np.zeros(len(med)), np.subtract(p90, med)],
                         fmt="none", ecolor="black", capsize=3)
        ax_time.bar_label(bars, fmt="%.0f", fontsize=7)
    ax_time.axhline(1000 / 30, color="red", linestyle="--", linewidth=1, label="30 fps (33 ms)")
    ax_time.set_xticks(xs + width * (len(sizes) - 1) / 2, configs, rotation=20)
    ax_time.set_ylabel("ms per frame, detect + classify (median, bar to p90)")
    ax_time.set_title("End-to-end time on this CPU")
    ax_time.legend(fontsize=8)
    size = "640x480" if "640x480" in sizes else sizes[0]
    recall = [by[(c, size)].recall * 100 if (c, size) in by else 0 for c in configs]
    bars = ax_rec.bar(xs, recall, color="tab:green")
    ax_rec.bar_label(bars, fmt="%.0f%%", fontsize=7)
    ax_rec.set_xticks(xs, configs, rotation=20)
    ax_rec.set_ylim(0, 105)
    ax_rec.set_title(f"Recall at IoU>=0.5, {size} ({report.faces} faces)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
