"""Parsers for the two Korean AIHub emotion layouts (../shared/docs/aihub-formats.md).

Format A ("composite video"): clip folders of JPEG frames plus one
`*_interpolation.json` tagging file with per-frame persons, eight vote counts
and a `face_rect`. Format B ("multimodal video"): `clip_N.mp4` plus
`clip_N.json` mapping 1-based frame numbers to objects with an emotion word
and an `xtl/xbr/ytl/ybr` box.

Both are turned, one clip at a time, into 48x48 uint8 gray faces with an
8-way target over `kise_desktop.emotions.EMOTION_KEYS` and provenance (source
file, frame, box). Real dumps carry missing keys, nulls and odd values, so
every entry that cannot be used is skipped and counted under a reason from
`REASONS`; nothing here raises on bad data. Frames are read one at a time
(JPEGs) or streamed (cv2.VideoCapture) so memory stays bounded by one clip's
48x48 faces.
"""
from __future__ import annotations

import json
import math
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from kise_desktop.emotions import NUM_EMOTIONS, emotion_index
from training.data.prepared import write_shard

FACE_SIZE = 48
FORMATS = ("a", "b")

# Why a face entry (or a whole clip) was skipped. Keys are stable: they appear
# in shard summaries and the final report, and the tests count them.
REASONS: dict[str, str] = {
    # clip level
    "no_tagging_file": "clip folder without *_interpolation.json (A)",
    "bad_json": "tagging file is not valid JSON or not an object",
    "no_shot_infos": "no shot_infos / visual_infos list (A) or no data map (B)",
    "video_missing": "clip_N.json without its clip_N.mp4 (B)",
    "video_unreadable": "OpenCV cannot open or decode the video (B)",
    "clip_error": "unexpected error while processing the clip (retried on rerun)",
    # entry level
    "no_image_id": "visual_info without a usable image_id (A)",
    "no_persons": "persons missing, null or empty (A) / objects missing (B)",
    "no_person_info": "person without a person_info object (A) or object not a map (B)",
    "no_emotion": "emotion missing, null, empty or all-zero votes",
    "unknown_emotion": "emotion word/key not among the eight emotions",
    "bad_box": "box missing, non-numeric, non-positive or empty",
    "box_outside": "box does not overlap the frame",
    "too_small": "face smaller than the minimum side in pixels",
    "bad_frame_number": "frame key is not a positive integer (B)",
    "frame_missing": "frame named in the JSON is absent on disk / beyond the video's end",
    "frame_unreadable": "frame file exists but cannot be decoded (A)",
    "face_check": "face detector found no face in the crop (only with --face-check)",
}


@dataclass(frozen=True)
class ClipRef:
    """One clip to process: what the driver ships to a worker (small, picklable)."""

    fmt: str          # "a" or "b"
    clip_id: str      # stable id: the clip folder's path relative to the root, '/'-separated
    folder: str       # absolute clip folder
    tagging: str      # absolute tagging/JSON file ('' if absent)
    video: str = ""   # absolute mp4 (format B)


@dataclass
class Options:
    """Per-run processing options; recorded in the output's meta.json."""

    face_check: str = "none"       # none | haar | hog
    min_size: int | None = None    # None: format default (A 1 px, B 48 px as the original)
    face_size: int = FACE_SIZE

    def min_side(self, fmt: str) -> int:
        if self.min_size is not None:
            return max(1, int(self.min_size))
        return 48 if fmt == "b" else 1

    def to_dict(self) -> dict[str, Any]:
        return {"face_check": self.face_check, "min_size": self.min_size, "face_size": self.face_size}


@dataclass
class ClipResult:
    """Faces of one clip plus what was skipped; rows are parallel arrays."""

    clip_id: str
    images: list[np.ndarray] = field(default_factory=list)
    targets: list[np.ndarray] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)   # frame file / video, relative to the clip folder
    frames: list[int] = field(default_factory=list)    # frame number (B: 1-based; A: from the file name, else -1)
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # x, y, w, h in the full frame
    skipped: Counter = field(default_factory=Counter)
    clip_skipped: str = ""          # set when the whole clip was skipped
    face_check_s: float = 0.0       # time spent in the optional detector
    face_check_n: int = 0
    error: str = ""                 # message of an unexpected exception (clip_error)

    def add(self, face: np.ndarray, target: np.ndarray, source: str, frame: int,
            box: tuple[int, int, int, int]) -> None:
        self.images.append(face)
        self.targets.append(target)
        self.sources.append(source)
        self.frames.append(frame)
        self.boxes.append(box)

    def __len__(self) -> int:
        return len(self.images)


# ---------------------------------------------------------------- value parsing

def to_number(value: Any) -> float | None:
    """A finite float from a number or numeric string, else None (bools are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_box(x1: Any, x2: Any, y1: Any, y2: Any) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) from corner values, or None if any is non-numeric, <= 0 or the box is empty.

    The formats page says non-integer and non-positive face_rect values occur;
    integral floats and numeric strings ("880.0") are accepted, because format
    B writes them that way, and rounded to whole pixels.
    """
    values = [to_number(v) for v in (x1, x2, y1, y2)]
    if any(v is None or v <= 0 for v in values):
        return None
    left, right, top, bottom = (int(round(v)) for v in values)  # type: ignore[arg-type]
    if right <= left or bottom <= top:
        return None
    return left, top, right - left, bottom - top


def votes_to_target(emotion: Any) -> tuple[np.ndarray | None, str]:
    """Normalised 8-way vote distribution from a format-A emotion map, or (None, reason)."""
    if not isinstance(emotion, dict) or not emotion:
        return None, "no_emotion"
    votes = np.zeros(NUM_EMOTIONS, dtype=np.float64)
    known = False
    for key, value in emotion.items():
        try:
            index = emotion_index(str(key))
        except KeyError:
            continue  # an extra key (e.g. a future "unknown") carries no emotion vote
        known = True
        count = to_number(value)
        if count is not None and count > 0:
            votes[index] += count
    if not known:
        return None, "unknown_emotion"
    if votes.sum() <= 0:
        return None, "no_emotion"
    return (votes / votes.sum()).astype(np.float32), ""


def word_to_target(word: Any) -> tuple[np.ndarray | None, str]:
    """One-hot target from a format-B emotion word, or (None, reason)."""
    if not isinstance(word, str) or not word.strip():
        return None, "no_emotion"
    try:
        index = emotion_index(word)
    except KeyError:
        return None, "unknown_emotion"
    target = np.zeros(NUM_EMOTIONS, dtype=np.float32)
    target[index] = 1.0
    return target, ""


def _get(obj: Any, *keys: str) -> Any:
    """Nested dict lookup that yields None on any missing key or non-dict level."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def load_json(path: str | os.PathLike) -> Any | None:
    """Parsed JSON, or None if unreadable/invalid (AIHub files are UTF-8, some with a BOM)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- crop + face check

class FaceChecker:
    """Optional 'is there still a face in this crop' test, as the seed pipeline did.

    The crop is scaled to a fixed working size and padded with its own border,
    because Haar/HOG need some context and a minimum face size (HOG: 80 px)
    that tight AIHub crops may lack; the fixed size also bounds the cost.
    """

    WORK = 128

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "haar":
            path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_alt2.xml")
            self._haar = cv2.CascadeClassifier(path)
            if self._haar.empty():
                raise RuntimeError(f"cannot load {path}")
        elif kind == "hog":
            import dlib  # imported here: only this option needs it

            self._hog = dlib.get_frontal_face_detector()
        elif kind != "none":
            raise ValueError(f"unknown face check {kind!r}; choose none, haar or hog")

    def __call__(self, crop: np.ndarray) -> bool:
        if self.kind == "none":
            return True
        work = cv2.resize(crop, (self.WORK, self.WORK), interpolation=cv2.INTER_AREA
                          if min(crop.shape[:2]) > self.WORK else cv2.INTER_LINEAR)
        pad = self.WORK // 4
        work = cv2.copyMakeBorder(work, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        if self.kind == "haar":
            found = self._haar.detectMultiScale(work, scaleFactor=1.1, minNeighbors=3,
                                                minSize=(self.WORK // 3, self.WORK // 3))
            return len(found) > 0
        return len(self._hog(work, 0)) > 0


_CHECKERS: dict[str, FaceChecker] = {}


def get_checker(kind: str) -> FaceChecker:
    """One detector per process: loading a cascade per clip would dominate small clips."""
    if kind not in _CHECKERS:
        _CHECKERS[kind] = FaceChecker(kind)
    return _CHECKERS[kind]


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int], min_side: int
              ) -> tuple[np.ndarray | None, tuple[int, int, int, int], str]:
    """The box clipped to the frame and its gray crop, or (None, box, reason)."""
    height, width = gray.shape[:2]
    x, y, w, h = box
    x1, y1 = max(0, x), max(0, y)
    x2, y2 = min(width, x + w), min(height, y + h)
    if x2 <= x1 or y2 <= y1:
        return None, box, "box_outside"
    clipped = (x1, y1, x2 - x1, y2 - y1)
    if min(clipped[2], clipped[3]) < min_side:
        return None, clipped, "too_small"
    return gray[y1:y2, x1:x2], clipped, ""


def finish_face(result: ClipResult, gray: np.ndarray, box: tuple[int, int, int, int],
                target: np.ndarray, source: str, frame: int, options: Options, fmt: str) -> None:
    """Crop, optionally face-check, resize to 48x48 and add one row (or count why not)."""
    crop, clipped, reason = crop_face(gray, box, options.min_side(fmt))
    if crop is None:
        result.skipped[reason] += 1
        return
    if options.face_check != "none":
        started = time.perf_counter()
        ok = get_checker(options.face_check)(crop)
        result.face_check_s += time.perf_counter() - started
        result.face_check_n += 1
        if not ok:
            result.skipped["face_check"] += 1
            return
    size = options.face_size
    interp = cv2.INTER_AREA if min(crop.shape) >= size else cv2.INTER_LINEAR
    face = cv2.resize(crop, (size, size), interpolation=interp)
    result.add(face, target, source, frame, clipped)


# ---------------------------------------------------------------- discovery

_A_SUFFIX = re.compile(r"_([^_/]+)_([^_/]+)$")
_FRAME_NO = re.compile(r"(\d+)(?=\.[A-Za-z]+$)")


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _clip_folders(base: Path, is_clip: Callable[[Path], bool]) -> Iterator[Path]:
    """`<root>/<part>/<clip>` folders in sorted order.

    Tolerates a ROOT that is one part (its children are clips) or one clip:
    users often point at the folder they just unpacked.
    """
    if is_clip(base):
        yield base
        return
    for part in sorted(p for p in base.iterdir() if p.is_dir()):
        if is_clip(part):
            yield part
            continue
        yield from sorted(p for p in part.iterdir() if p.is_dir())


def discover_a(root: str | os.PathLike) -> Iterator[ClipRef]:
    """Clip folders `<root>/<part>/<clip>/` in sorted order, each with its tagging file.

    The tagging file is the `*_interpolation.json` whose name ends with the
    clip folder's last two `_` parts; if none matches, any single
    `*_interpolation.json` in the folder is used (tolerance for renamed
    folders); a folder without one is yielded with tagging='' and skipped.
    """
    base = Path(root)
    for clip in _clip_folders(base, lambda p: any(p.glob("*_interpolation.json"))):
        candidates = sorted(clip.glob("*_interpolation.json"))
        match = _A_SUFFIX.search(clip.name)
        chosen = ""
        if match:
            want = f"{match.group(1)}_{match.group(2)}_interpolation.json"
            named = [c for c in candidates if c.name.endswith(want)]
            if named:
                chosen = str(named[0])
        if not chosen and len(candidates) == 1:
            chosen = str(candidates[0])
        yield ClipRef("a", _rel(clip, base) if clip != base else clip.name, str(clip), chosen)


def discover_b(root: str | os.PathLike) -> Iterator[ClipRef]:
    """Clip folders `<root>/<range>/clip_N/` holding `clip_N.json` (the mp4 may be missing)."""
    base = Path(root)
    for clip in _clip_folders(base, lambda p: (p / f"{p.name}.json").is_file()):
        tagging = clip / f"{clip.name}.json"
        video = clip / f"{clip.name}.mp4"
        if not tagging.is_file():
            jsons = sorted(clip.glob("*.json"))
            if len(jsons) != 1:
                continue  # not a clip folder of this format
            tagging = jsons[0]
            video = tagging.with_suffix(".mp4")
        yield ClipRef("b", _rel(clip, base) if clip != base else clip.name, str(clip), str(tagging), str(video))


def discover(fmt: str, root: str | os.PathLike) -> list[ClipRef]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown AIHub format {fmt!r}; choose from {FORMATS}")
    return list(discover_a(root) if fmt == "a" else discover_b(root))


# ---------------------------------------------------------------- format A

def _frame_index(folder: Path) -> tuple[dict[str, str], list[str]]:
    """File name -> path (relative to the clip) of every JPEG, plus the sorted relative paths."""
    rel_paths = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file())
    by_name: dict[str, str] = {}
    for rel in rel_paths:
        by_name.setdefault(rel.rsplit("/", 1)[-1], rel)
    return by_name, rel_paths


def _match_frame(image_id: str, by_name: dict[str, str], rel_paths: list[str]) -> str | None:
    """The frame whose path contains image_id (the formats page: match by substring)."""
    image_id = image_id.replace("\\", "/").strip()
    name = image_id.rsplit("/", 1)[-1]
    if name in by_name and by_name[name].endswith(image_id):
        return by_name[name]
    for rel in rel_paths:  # slow path for odd ids; exact names cover real dumps
        if image_id in rel:
            return rel
    return None


def iter_a_entries(doc: Any) -> Iterator[tuple[Any, Any]]:
    """(image_id, persons) for every visual_info of every shot, whatever is missing."""
    for shot in _as_list(_get(doc, "shot_infos")):
        for info in _as_list(_get(shot, "visual_infos")):
            yield _get(info, "image_id"), _get(info, "persons")


def process_clip_a(clip: ClipRef, options: Options) -> ClipResult:
    result = ClipResult(clip.clip_id)
    if not clip.tagging:
        result.clip_skipped = "no_tagging_file"
        return result
    doc = load_json(clip.tagging)
    if not isinstance(doc, dict):
        result.clip_skipped = "bad_json"
        return result
    if not _as_list(doc.get("shot_infos")):
        result.clip_skipped = "no_shot_infos"
        return result
    folder = Path(clip.folder)
    by_name, rel_paths = _frame_index(folder)
    # Group entries by frame so each JPEG is decoded once, however many persons it has.
    wanted: dict[str, list[Any]] = {}
    order: list[str] = []
    for image_id, persons in iter_a_entries(doc):
        if not isinstance(image_id, str) or not image_id.strip():
            result.skipped["no_image_id"] += max(1, len(_as_list(persons)))
            continue
        if not _as_list(persons):
            result.skipped["no_persons"] += 1
            continue
        if image_id not in wanted:
            wanted[image_id] = []
            order.append(image_id)
        wanted[image_id].extend(persons)
    for image_id in order:
        persons = wanted[image_id]
        parsed: list[tuple[tuple[int, int, int, int], np.ndarray]] = []
        for person in persons:
            info = _get(person, "person_info")
            if not isinstance(info, dict):
                result.skipped["no_person_info"] += 1
                continue
            target, reason = votes_to_target(info.get("emotion"))
            if target is None:
                result.skipped[reason] += 1
                continue
            rect = info.get("face_rect")
            box = parse_box(*(_get(rect, k) for k in ("min_x", "max_x", "min_y", "max_y")))
            if box is None:
                result.skipped["bad_box"] += 1
                continue
            parsed.append((box, target))
        if not parsed:
            continue  # nothing usable: do not pay for decoding the frame
        rel = _match_frame(image_id, by_name, rel_paths)
        if rel is None:
            result.skipped["frame_missing"] += len(parsed)
            continue
        gray = cv2.imread(str(folder / rel), cv2.IMREAD_GRAYSCALE)
        if gray is None:
            result.skipped["frame_unreadable"] += len(parsed)
            continue
        number = _FRAME_NO.search(rel)
        frame_no = int(number.group(1)) if number else -1
        for box, target in parsed:
            finish_face(result, gray, box, target, rel, frame_no, options, "a")
    return result


# ---------------------------------------------------------------- format B

def _b_frame_number(key: Any) -> int | None:
    number = to_number(key)
    if number is None or number < 1 or number != int(number):
        return None
    return int(number)


def _b_objects(objects: Any) -> list[Any]:
    """Objects of one frame: a map {"1": {...}, ...} in the real data; a list is tolerated."""
    if isinstance(objects, dict):
        return [objects[k] for k in sorted(objects, key=str)]
    return _as_list(objects)


def process_clip_b(clip: ClipRef, options: Options) -> ClipResult:
    result = ClipResult(clip.clip_id)
    doc = load_json(clip.tagging)
    if not isinstance(doc, dict):
        result.clip_skipped = "bad_json"
        return result
    data = doc.get("data")
    if not isinstance(data, dict) or not data:
        result.clip_skipped = "no_shot_infos"
        return result
    # Parse every annotation first (JSON is small); decode only frames that have a usable box.
    wanted: dict[int, list[tuple[tuple[int, int, int, int], np.ndarray]]] = {}
    for key, objects in data.items():
        frame_no = _b_frame_number(key)
        if frame_no is None:
            result.skipped["bad_frame_number"] += max(1, len(_b_objects(objects)))
            continue
        items = _b_objects(objects)
        if not items:
            result.skipped["no_persons"] += 1
            continue
        for obj in items:
            if not isinstance(obj, dict):
                result.skipped["no_person_info"] += 1
                continue
            target, reason = word_to_target(_get(obj, "emotion", "image", "emotion"))
            if target is None:
                result.skipped[reason] += 1
                continue
            box = parse_box(obj.get("xtl"), obj.get("xbr"), obj.get("ytl"), obj.get("ybr"))
            if box is None:
                result.skipped["bad_box"] += 1
                continue
            wanted.setdefault(frame_no, []).append((box, target))
    if not wanted:
        return result
    usable = sum(len(v) for v in wanted.values())
    if not clip.video or not os.path.isfile(clip.video):
        result.clip_skipped = "video_missing"
        result.skipped["video_missing"] += usable  # faces lost with the clip
        return result
    capture = cv2.VideoCapture(clip.video)
    try:
        if not capture.isOpened():
            result.clip_skipped = "video_unreadable"
            result.skipped["video_unreadable"] += usable
            return result
        source = os.path.basename(clip.video)
        last = max(wanted)
        frame_no = 0
        decoded_any = False
        # Stream: grab() every frame in order, retrieve() (decode + convert) only
        # the annotated ones, so one frame at a time is ever held.
        while frame_no < last:
            if not capture.grab():
                break
            frame_no += 1
            if frame_no not in wanted:
                continue
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                break
            decoded_any = True
            gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            for box, target in wanted.pop(frame_no):
                finish_face(result, gray, box, target, source, frame_no, options, "b")
        if not decoded_any and frame_no == 0:
            result.clip_skipped = "video_unreadable"
            result.skipped["video_unreadable"] += usable
            return result
        for entries in wanted.values():  # annotated frames past the video's end
            result.skipped["frame_missing"] += len(entries)
    finally:
        capture.release()
    return result


def process_clip(clip: ClipRef, options: Options) -> ClipResult:
    """Faces of one clip; never raises on bad data (unexpected errors -> 'clip_error')."""
    try:
        return process_clip_a(clip, options) if clip.fmt == "a" else process_clip_b(clip, options)
    except Exception as exc:  # noqa: BLE001 - one odd clip must not stop a multi-hour run
        result = ClipResult(clip.clip_id)
        result.clip_skipped = "clip_error"
        result.error = f"{type(exc).__name__}: {exc}"
        return result


def prepare_clip(clip: ClipRef, out: str, options: Options, delay: float = 0.0) -> dict[str, Any]:
    """Worker body: faces of one clip -> its shard on disk; returns the small summary.

    A clip that failed unexpectedly ('clip_error') gets no shard, so a rerun
    tries it again; every other outcome, including clip-level skips, gets a
    (possibly empty) shard so that it counts as done.
    """
    started = time.perf_counter()
    if delay:
        time.sleep(delay)  # test/benchmark hook: makes "kill half-way" reproducible
    result = process_clip(clip, options)
    if result.clip_skipped == "clip_error":
        summary = {"clip": clip.clip_id, "faces": 0, "skipped": {}, "clip_skipped": "clip_error",
                   "face_check_s": 0.0, "face_check_n": 0, "error": result.error}
    else:
        summary = write_shard(out, result)
    summary["seconds"] = round(time.perf_counter() - started, 4)
    return summary
