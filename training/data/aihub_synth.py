"""Generate small AIHub-shaped data sets from real face photos, for tests and benchmarks.

The real AIHub dumps are not available here, so the tests and
training/bench_prepare.py build folders in the exact layouts of
../shared/docs/aihub-formats.md: real faces (dlib-faces photos cut at their
hand-drawn boxes, or FER+ 48x48 faces upscaled) pasted into real background
photos at known, moving boxes; format A as JPEG frames + `*_interpolation.json`,
format B as an OpenCV-written mp4 + per-frame JSON. With `malformed=True` every
broken case the formats page warns about is injected, and the expected skip
count per reason is returned with the ground truth, so tests compare the
parser against what was generated rather than against hard-coded numbers.

Everything is written under a caller-given folder (a temp folder); nothing
from ../shared is ever copied into the repository.

    python -m training.data.aihub_synth a OUT --clips 40 --frames 300
"""
from __future__ import annotations

import argparse
import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kise_desktop.emotions import EMOTION_KEYS, NUM_EMOTIONS
from kise_desktop.paths import data_dir

FACE_SIZE = 48


@dataclass
class Face:
    """A real face patch (BGR) and, for FER+ faces, its majority emotion index."""

    image: np.ndarray
    emotion: int | None = None


@dataclass
class TruthRow:
    clip_id: str
    source: str                       # frame file (A, relative to the clip) or mp4 name (B)
    frame: int
    box: tuple[int, int, int, int]    # x, y, w, h
    target: np.ndarray                # (8,) float32, sums to 1
    face: np.ndarray | None = None    # expected 48x48 gray crop from the uncompressed frame


@dataclass
class Truth:
    """What a generated data set contains and what a correct parser must report."""

    fmt: str
    root: Path
    rows: list[TruthRow] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)        # face entries by reason
    clip_skipped: Counter = field(default_factory=Counter)   # clips by reason
    clips: list[str] = field(default_factory=list)           # every clip id a parser should find

    def rows_by_key(self) -> dict[tuple[str, int, tuple[int, int, int, int]], TruthRow]:
        return {(r.clip_id, r.frame, r.box): r for r in self.rows}


# ---------------------------------------------------------------- real faces

def dlib_face_bank(root: Path | None = None, margin: float = 0.6) -> tuple[list[Face], list[np.ndarray]]:
    """Faces cut from the dlib-faces photos at their boxes (with margin), and the photos as backgrounds.

    Each patch keeps `margin` x the box of real context on every side, so a
    pasted patch looks like a face in a scene and a detector has context.
    """
    folder = data_dir(root) / "dlib-faces"
    faces: list[Face] = []
    backgrounds: list[np.ndarray] = []
    for xml_name in ("training.xml", "testing.xml"):
        tree = ET.parse(folder / xml_name)
        for image in tree.getroot().iter("image"):
            photo = cv2.imread(str(folder / image.get("file")), cv2.IMREAD_COLOR)
            if photo is None:
                continue
            backgrounds.append(photo)
            height, width = photo.shape[:2]
            for box in image.iter("box"):
                top, left = int(box.get("top")), int(box.get("left"))
                w, h = int(box.get("width")), int(box.get("height"))
                mx, my = int(w * margin), int(h * margin)
                if left - mx < 0 or top - my < 0 or left + w + mx > width or top + h + my > height:
                    continue  # keep only faces whose margin lies inside the photo
                faces.append(Face(photo[top - my:top + h + my, left - mx:left + w + mx].copy()))
    if not faces:
        raise FileNotFoundError(f"{folder}: no usable dlib-faces photos")
    return faces, backgrounds


def ferplus_face_bank(count: int, root: Path | None = None) -> list[Face]:
    """The first `count` FER+ test faces (48x48 gray) with their most-voted emotion."""
    folder = data_dir(root) / "ferplus" / "FER2013Test"
    faces: list[Face] = []
    with open(folder / "label.csv", newline="") as handle:
        for row in csv.reader(handle):
            if len(faces) >= count:
                break
            votes = np.array([float(v) for v in row[2:2 + NUM_EMOTIONS]])
            if votes.sum() <= 0:
                continue
            image = cv2.imread(str(folder / row[0]), cv2.IMREAD_COLOR)
            if image is not None:
                faces.append(Face(image, int(np.argmax(votes))))
    if not faces:
        raise FileNotFoundError(f"{folder}: no FER+ faces")
    return faces


# ---------------------------------------------------------------- drawing

def _cover(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize + centre-crop a photo to fill the frame (a real scene behind the face)."""
    scale = max(width / photo.shape[1], height / photo.shape[0])
    resized = cv2.resize(photo, (int(np.ceil(photo.shape[1] * scale)), int(np.ceil(photo.shape[0] * scale))))
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return resized[y0:y0 + height, x0:x0 + width].copy()


def _paste(frame: np.ndarray, face: Face, box: tuple[int, int, int, int], margin: float) -> None:
    """Paste the face patch so that its inner face region lands exactly on `box`."""
    x, y, w, h = box
    mx, my = int(round(w * margin)), int(round(h * margin))
    x0, y0, x1, y1 = x - mx, y - my, x + w + mx, y + h + my
    patch = cv2.resize(face.image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x1), min(frame.shape[0], y1)
    frame[fy0:fy1, fx0:fx1] = patch[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]


def _box_at(t: int, n: int, size: int, width: int, height: int, phase: float) -> tuple[int, int, int, int]:
    """A face box drifting across the frame over the clip (known, never leaving the frame)."""
    span_x, span_y = max(1, width - size - 2), max(1, height - size - 2)
    fx = 0.5 + 0.35 * np.sin(phase + 2 * np.pi * t / max(n, 1))
    fy = 0.5 + 0.25 * np.cos(phase + 2 * np.pi * t / max(n, 1))
    return int(1 + fx * span_x), int(1 + fy * span_y), size, size


def _expected_face(frame_bgr: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)[y:y + h, x:x + w]
    interp = cv2.INTER_AREA if min(w, h) >= FACE_SIZE else cv2.INTER_LINEAR
    return cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interp)


def _votes(rng: np.random.Generator, label: int) -> dict[str, int]:
    """Format-A vote counts: `label` leads, one or two others get fewer votes."""
    votes = {k: 0 for k in ("happiness", "afraid", "neutral", "surprise", "sadness", "contempt", "anger", "disgust")}
    key = {"fear": "afraid"}.get(EMOTION_KEYS[label], EMOTION_KEYS[label])
    votes[key] = int(rng.integers(5, 9))
    for other in rng.choice([k for k in votes if k != key], size=int(rng.integers(0, 3)), replace=False):
        votes[str(other)] = int(rng.integers(1, votes[key]))
    return votes


def _target_from_votes(votes: dict[str, int]) -> np.ndarray:
    target = np.zeros(NUM_EMOTIONS, np.float32)
    for key, count in votes.items():
        target[EMOTION_KEYS.index("fear" if key == "afraid" else key)] += count
    return target / target.sum()


def _one_hot(label: int) -> np.ndarray:
    target = np.zeros(NUM_EMOTIONS, np.float32)
    target[label] = 1.0
    return target


# ---------------------------------------------------------------- generator

@dataclass
class SynthConfig:
    clips: int = 4
    frames: int = 10
    width: int = 320
    height: int = 240
    face: int = 96              # face box side in pixels
    faces: str = "dlib"         # dlib | ferplus: where the real faces come from
    malformed: bool = False     # inject every broken case (and the extra broken clips)
    keep_faces: bool = True     # store the expected 48x48 crops in the truth (tests)
    seed: int = 0
    jpeg_quality: int = 95
    fps: float = 30.0


def _bank(cfg: SynthConfig, data_root: Path | None) -> tuple[list[Face], list[np.ndarray]]:
    faces, backgrounds = dlib_face_bank(data_root)
    if cfg.faces == "ferplus":
        faces = ferplus_face_bank(max(cfg.clips, 8), data_root)
    return faces, backgrounds


def _label_of(face: Face, clip: int) -> int:
    return face.emotion if face.emotion is not None else clip % NUM_EMOTIONS


def generate(fmt: str, out: str | Path, cfg: SynthConfig | None = None, data_root: Path | None = None) -> Truth:
    """Write an AIHub-shaped data set of format 'a' or 'b' under `out`; return its truth."""
    cfg = cfg or SynthConfig()
    if fmt == "a":
        return _generate_a(Path(out), cfg, data_root)
    if fmt == "b":
        return _generate_b(Path(out), cfg, data_root)
    raise ValueError(f"unknown format {fmt!r} (a or b)")


def _generate_a(root: Path, cfg: SynthConfig, data_root: Path | None) -> Truth:
    rng = np.random.default_rng(cfg.seed)
    faces, backgrounds = _bank(cfg, data_root)
    truth = Truth("a", root)
    for c in range(cfg.clips):
        part = root / f"part{1 + c // 20:02d}"
        a_code, b_code = f"{c // 3:03d}", f"{c % 3:03d}"
        clip_name = f"S{c:04d}_F{c % 7:02d}_{a_code}_{b_code}"
        clip_dir = part / clip_name
        frame_dir = clip_dir / "RGB" / "cam1"  # frames sit two levels down
        frame_dir.mkdir(parents=True, exist_ok=True)
        clip_id = clip_dir.relative_to(root).as_posix()
        truth.clips.append(clip_id)
        face = faces[c % len(faces)]
        label = _label_of(face, c)
        background = _cover(backgrounds[c % len(backgrounds)], cfg.width, cfg.height)
        infos: list[dict[str, Any]] = []
        for t in range(cfg.frames):
            name = f"{clip_name}_KM_{t:010d}.jpg"
            box = _box_at(t, cfg.frames, cfg.face, cfg.width, cfg.height, phase=c)
            frame = background.copy()
            _paste(frame, face, box, margin=0.6 if cfg.faces == "dlib" else 0.0)
            cv2.imwrite(str(frame_dir / name), frame, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
            votes = _votes(rng, label)
            x, y, w, h = box
            infos.append({"image_id": name, "persons": [{"person_info": {
                "emotion": votes, "face_rect": {"min_x": x, "max_x": x + w, "min_y": y, "max_y": y + h}}}]})
            truth.rows.append(TruthRow(clip_id, f"RGB/cam1/{name}", t, box, _target_from_votes(votes),
                                       _expected_face(frame, box) if cfg.keep_faces else None))
        if cfg.malformed and c == 0:
            infos.extend(_malformed_a(clip_dir, frame_dir, clip_name, infos, truth, cfg))
        half = len(infos) // 2  # two shots, as real clips have several
        doc = {"shot_infos": [{"visual_infos": infos[:half]}, {"visual_infos": infos[half:]}]}
        (clip_dir / f"KSE{a_code}_{b_code}_interpolation.json").write_text(json.dumps(doc), encoding="utf-8")
    if cfg.malformed:
        _broken_clips_a(root, truth)
    return truth


def _malformed_a(clip_dir: Path, frame_dir: Path, clip_name: str, infos: list[dict[str, Any]],
                 truth: Truth, cfg: SynthConfig) -> list[dict[str, Any]]:
    """Extra visual_infos for every broken case, each counted under its expected reason."""
    good = infos[0]["image_id"]
    good_rect = infos[0]["persons"][0]["person_info"]["face_rect"]
    votes = {"neutral": 3, "happiness": 1}

    def person(emotion: Any = votes, rect: Any = good_rect) -> dict[str, Any]:
        return {"person_info": {"emotion": emotion, "face_rect": rect}}

    extra: list[tuple[dict[str, Any], str, int]] = [
        ({"image_id": good}, "no_persons", 1),                        # persons key missing
        ({"image_id": good, "persons": []}, "no_persons", 1),
        ({"image_id": good, "persons": None}, "no_persons", 1),
        ({"persons": [person()]}, "no_image_id", 1),                  # image_id missing
        ({"image_id": None, "persons": [person()]}, "no_image_id", 1),
        ({"image_id": good, "persons": [{}]}, "no_person_info", 1),
        ({"image_id": good, "persons": [{"person_info": None}]}, "no_person_info", 1),
        ({"image_id": good, "persons": [person(emotion=[])]}, "no_emotion", 1),
        ({"image_id": good, "persons": [person(emotion={})]}, "no_emotion", 1),
        ({"image_id": good, "persons": [person(emotion=None)]}, "no_emotion", 1),
        ({"image_id": good, "persons": [person(emotion={k: 0 for k in votes})]}, "no_emotion", 1),
        ({"image_id": good, "persons": [person(emotion={"confused": 4})]}, "unknown_emotion", 1),
        ({"image_id": good, "persons": [person(rect=None)]}, "bad_box", 1),
        ({"image_id": good, "persons": [{"person_info": {"emotion": votes}}]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={**good_rect, "min_x": "abc"})]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={**good_rect, "min_y": 0})]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={**good_rect, "max_x": -5})]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={**good_rect, "max_y": None})]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={**good_rect, "max_x": good_rect["min_x"]})]}, "bad_box", 1),
        ({"image_id": good, "persons": [person(rect={"min_x": cfg.width + 10, "max_x": cfg.width + 60,
                                                     "min_y": 5, "max_y": 50})]}, "box_outside", 1),
        ({"image_id": f"{clip_name}_KM_0000999999.jpg", "persons": [person(), person()]}, "frame_missing", 2),
    ]
    # A frame that exists but is not a JPEG (a truncated download).
    broken = f"{clip_name}_KM_0000888888.jpg"
    (frame_dir / broken).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    extra.append(({"image_id": broken, "persons": [person()]}, "frame_unreadable", 1))
    for _, reason, count in extra:
        truth.skipped[reason] += count
    return [info for info, _, _ in extra]


def _broken_clips_a(root: Path, truth: Truth) -> None:
    part = root / "part99"
    for name, reason, content in (
        ("X0001_F00_900_001", "no_tagging_file", None),
        ("X0002_F00_900_002", "bad_json", "{not json"),
        ("X0003_F00_900_003", "no_shot_infos", json.dumps({"shot_infos": None})),
    ):
        clip_dir = part / name
        (clip_dir / "RGB" / "cam1").mkdir(parents=True, exist_ok=True)
        if content is not None:
            (clip_dir / f"KSE{name[-7:]}_interpolation.json").write_text(content, encoding="utf-8")
        truth.clips.append(clip_dir.relative_to(root).as_posix())
        truth.clip_skipped[reason] += 1


def _generate_b(root: Path, cfg: SynthConfig, data_root: Path | None) -> Truth:
    rng = np.random.default_rng(cfg.seed)
    faces, backgrounds = _bank(cfg, data_root)
    truth = Truth("b", root)
    words = list(EMOTION_KEYS)
    words[EMOTION_KEYS.index("fear")] = "afraid"  # spellings as the Korean data has them
    for c in range(cfg.clips):
        n = c + 1
        clip_dir = root / f"{1 + (c // 400) * 400:04d}-{(c // 400 + 1) * 400:04d}" / f"clip_{n}"
        clip_dir.mkdir(parents=True, exist_ok=True)
        clip_id = clip_dir.relative_to(root).as_posix()
        truth.clips.append(clip_id)
        face = faces[c % len(faces)]
        label = _label_of(face, c)
        background = _cover(backgrounds[c % len(backgrounds)], cfg.width, cfg.height)
        video = clip_dir / f"clip_{n}.mp4"
        writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), cfg.fps, (cfg.width, cfg.height))
        data: dict[str, Any] = {}
        for t in range(cfg.frames):  # streamed to the writer: never the whole clip in memory
            box = _box_at(t, cfg.frames, cfg.face, cfg.width, cfg.height, phase=c)
            frame = background.copy()
            _paste(frame, face, box, margin=0.6 if cfg.faces == "dlib" else 0.0)
            writer.write(frame)
            x, y, w, h = box
            as_text = t % 2 == 0  # the real files mix "880.0" strings and numbers
            coords = {"xtl": x, "xbr": x + w, "ytl": y, "ybr": y + h}
            data[str(t + 1)] = {"1": {
                "person_id": str(20 + c),
                "emotion": {"image": {"emotion": words[label], "valence": int(rng.integers(1, 8)),
                                      "arousal": int(rng.integers(1, 8))}},
                **{k: (f"{v:.1f}" if as_text else float(v)) for k, v in coords.items()}}}
            truth.rows.append(TruthRow(clip_id, video.name, t + 1, box, _one_hot(label),
                                       _expected_face(frame, box) if cfg.keep_faces else None))
        writer.release()
        if cfg.malformed and c == 0:
            _malformed_b(data, truth, cfg)
        doc = {"actor": {str(20 + c): {"age": "30s", "gender": "female" if c % 2 else "male"}}, "data": data}
        (clip_dir / f"clip_{n}.json").write_text(json.dumps(doc), encoding="utf-8")
    if cfg.malformed:
        _broken_clips_b(root, truth, cfg)
    return truth


def _malformed_b(data: dict[str, Any], truth: Truth, cfg: SynthConfig) -> None:
    """Extra objects/frames for every broken case of format B, counted by reason."""
    good = dict(data["1"]["1"])

    def obj(**changes: Any) -> dict[str, Any]:
        return {**good, **changes}

    cases: list[tuple[str, Any, str, int]] = [
        ("1", {"2": obj(emotion={"image": {"emotion": ""}})}, "no_emotion", 1),
        ("1", {"3": obj(emotion=None)}, "no_emotion", 1),
        ("1", {"4": {k: v for k, v in good.items() if k != "emotion"}}, "no_emotion", 1),
        ("1", {"5": obj(emotion={"image": {"emotion": "confused"}})}, "unknown_emotion", 1),
        ("1", {"6": obj(xtl="abc")}, "bad_box", 1),
        ("1", {"7": obj(ytl=None)}, "bad_box", 1),
        ("1", {"8": obj(xbr="-3")}, "bad_box", 1),
        ("1", {"9": obj(xtl=0)}, "bad_box", 1),
        ("1", {"10": obj(xbr=float(good["xtl"]) + 20, ybr=float(good["ytl"]) + 20)}, "too_small", 1),
        ("1", {"11": None}, "no_person_info", 1),
        ("abc", {"1": obj()}, "bad_frame_number", 1),
        ("0", {"1": obj()}, "bad_frame_number", 1),
        (str(cfg.frames + 50), {"1": obj(), "2": obj()}, "frame_missing", 2),  # beyond the video's end
        (str(cfg.frames + 60), {}, "no_persons", 1),
        (str(cfg.frames + 61), None, "no_persons", 1),
    ]
    for key, objects, reason, count in cases:
        if key in data and isinstance(objects, dict):
            data[key] = {**data[key], **objects}
        else:
            data[key] = objects
        truth.skipped[reason] += count


def _broken_clips_b(root: Path, truth: Truth, cfg: SynthConfig) -> None:
    part = root / "9001-9400"
    good_object = {"person_id": "1", "emotion": {"image": {"emotion": "anger"}},
                   "xtl": "10.0", "xbr": "70.0", "ytl": "10.0", "ybr": "70.0"}
    for n, reason in ((9001, "video_unreadable"), (9002, "video_missing"), (9003, "bad_json"),
                      (9004, "no_shot_infos")):
        clip_dir = part / f"clip_{n}"
        clip_dir.mkdir(parents=True, exist_ok=True)
        doc = {"actor": {}, "data": {"1": {"1": good_object}, "2": {"1": good_object}}}
        text = json.dumps(doc)
        if reason == "video_unreadable":
            (clip_dir / f"clip_{n}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage, not a video" * 8)
            truth.skipped["video_unreadable"] += 2  # the two usable faces lost with the clip
        elif reason == "video_missing":
            truth.skipped["video_missing"] += 2
        elif reason == "bad_json":
            text = '{"data": {"1": '
        else:
            text = json.dumps({"actor": {}, "data": None})
        (clip_dir / f"clip_{n}.json").write_text(text, encoding="utf-8")
        truth.clips.append(clip_dir.relative_to(root).as_posix())
        truth.clip_skipped[reason] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.data.aihub_synth",
                                     description="Write an AIHub-shaped data set built from real face photos.")
    parser.add_argument("format", choices=("a", "b"))
    parser.add_argument("out")
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="640x480", help="frame WIDTHxHEIGHT")
    parser.add_argument("--face", type=int, default=160, help="face box side in pixels")
    parser.add_argument("--faces", choices=("dlib", "ferplus"), default="ferplus")
    parser.add_argument("--malformed", action="store_true")
    parser.add_argument("--data", help="data folder (default $KISE_DATA_DIR or ../shared/data)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    cfg = SynthConfig(clips=args.clips, frames=args.frames, width=width, height=height, face=args.face,
                      faces=args.faces, malformed=args.malformed, keep_faces=False)
    truth = generate(args.format, args.out, cfg, Path(args.data) if args.data else None)
    print(f"wrote {len(truth.clips)} clips, {len(truth.rows)} labelled faces under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
