"""KISE's one output schema (JSON and CSV), and the safe ways to write it.

Every file KISE writes about faces goes through this module: `kise annotate`'s
results.json / results.csv, `kise video`'s CSV, the GUI's photo JSON and its
CSV recorder. So a face is spelled the same everywhere (schema version 1):

JSON face record:
    {"box": [x, y, w, h], "track_id": int, "score": float | null,
     "landmarks": [[x, y] * 5] | null,            # order: types.LANDMARK_NAMES
     "label": key, "label_ko": str, "confidence": float, "confident": bool,
     "probabilities": {key: p}, "smoothed": {key: p}}

CSV columns (video and GUI recorder; photos put `file` where `source, frame,
time_s` are):
    source, frame, time_s, detector, track_id, x, y, w, h, score,
    lm0_x, lm0_y .. lm4_x, lm4_y, label, confident, confidence,
    p_<key> x 8, smoothed_<key> x 8

Writes that must survive an interruption use `atomic_write` (temporary file,
fsync, rename: the old file or the new one, never half of either) and
`Journal` (JSON Lines, one flushed record per finished item; a torn last line
from a kill or a full disk is dropped on reading). Every write error is an
OSError naming the file.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import numpy as np

from kise_desktop.core.types import LANDMARK_NAMES, FaceResult, FrameResult
from kise_desktop.emotions import EMOTION_KEYS, EMOTIONS

SCHEMA_VERSION = 1
DIGITS = 6  # probabilities and confidences

LANDMARK_COLUMNS: list[str] = [f"lm{i}_{axis}" for i in range(len(LANDMARK_NAMES)) for axis in ("x", "y")]
FACE_COLUMNS: list[str] = (["track_id", "x", "y", "w", "h", "score", *LANDMARK_COLUMNS,
                            "label", "confident", "confidence"]
                           + [f"p_{k}" for k in EMOTION_KEYS] + [f"smoothed_{k}" for k in EMOTION_KEYS])
FRAME_CSV_HEADER: list[str] = ["source", "frame", "time_s", "detector", *FACE_COLUMNS]
PHOTO_CSV_HEADER: list[str] = ["file", "detector", *FACE_COLUMNS]


# -- records -------------------------------------------------------------------

def _probabilities(values: np.ndarray) -> dict[str, float]:
    return {k: round(float(p), DIGITS) for k, p in zip(EMOTION_KEYS, values)}


def face_record(face: FaceResult, scale: float = 1.0) -> dict[str, Any]:
    """One face as JSON-ready data; `scale` (< 1 for a downscaled photo) adds its box in the original."""
    label = EMOTIONS[face.label_index]
    landmarks = None
    if face.landmarks is not None:
        landmarks = [[round(float(x), 2), round(float(y), 2)] for x, y in np.asarray(face.landmarks).reshape(-1, 2)]
    record: dict[str, Any] = {
        "box": [int(v) for v in face.box],
        "track_id": int(face.track_id),
        "score": None if face.score is None else round(float(face.score), DIGITS),
        "landmarks": landmarks,
        "label": label.key,
        "label_ko": label.ko,
        "confidence": round(float(face.confidence), DIGITS),
        "confident": bool(face.confident),
        "probabilities": _probabilities(face.probabilities),
        "smoothed": _probabilities(face.smoothed),
    }
    if scale != 1.0:
        record["box_in_original"] = [int(round(v / scale)) for v in face.box]
    return record


def frame_record(result: FrameResult, detector: str = "", scale: float = 1.0) -> dict[str, Any]:
    """One analysed frame or photo: its detector, size, time, faces and stage timings."""
    width, height = result.frame_size
    return {
        "detector": detector or result.detector,
        "width": int(width), "height": int(height),
        "time_s": round(float(result.timestamp), 4),
        "faces": [face_record(f, scale) for f in result.faces],
        "timings_ms": {k: round(float(v), 3) for k, v in result.timings_ms.items()},
    }


def document(tool: str, model: str, model_path: str, detectors: list[dict[str, Any]],
             images: Iterable[dict[str, Any]] = (), errors: Iterable[str] = (), complete: bool = True
             ) -> dict[str, Any]:
    """The top level of a results JSON (annotate's results.json, the GUI's photo JSON)."""
    return {"schema_version": SCHEMA_VERSION, "tool": tool, "complete": complete,
            "model": model, "model_path": model_path, "labels": list(EMOTION_KEYS),
            "landmark_names": list(LANDMARK_NAMES), "detectors": detectors,
            "images": list(images), "errors": [{"message": m} for m in errors]}


def _num(value: float | None, digits: int = DIGITS) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def face_cells(face: dict[str, Any]) -> list[Any]:
    """A face record (see `face_record`) as the FACE_COLUMNS cells."""
    landmarks = face["landmarks"]
    points = ([_num(v, 2) for point in landmarks for v in point] if landmarks
              else [""] * len(LANDMARK_COLUMNS))
    return ([face["track_id"], *face["box"], _num(face["score"]), *points, face["label"],
             int(face["confident"]), _num(face["confidence"])]
            + [_num(face["probabilities"][k]) for k in EMOTION_KEYS]
            + [_num(face["smoothed"][k]) for k in EMOTION_KEYS])


def frame_rows(record: dict[str, Any], source: str, frame: int) -> list[list[Any]]:
    """FRAME_CSV_HEADER rows of one frame record (one per face)."""
    return [[source, frame, f"{record['time_s']:.4f}", record["detector"], *face_cells(face)]
            for face in record["faces"]]


def photo_rows(record: dict[str, Any]) -> list[list[Any]]:
    """PHOTO_CSV_HEADER rows of one image record (`file` + a frame record)."""
    return [[record["file"], record["detector"], *face_cells(face)] for face in record["faces"]]


# -- writing -------------------------------------------------------------------

def named_error(exc: OSError, path: Path | str) -> OSError:
    """The same error, naming `path` (Python's own often names none: `[Errno 28] No space left`)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):       # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def tmp_name(path: Path) -> Path:
    """Where `atomic_write` stages `path` (hidden, same folder, so the rename stays on one disk)."""
    return path.with_name(f".{path.name}.kise-tmp")


def atomic_write(path: str | Path, write: Callable[[IO[Any]], None], binary: bool = False) -> None:
    """Write `path` through `write(file)` so that it holds the old content or the new, never a mix."""
    path = Path(path)
    tmp = tmp_name(path)
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()                 # a leftover (or a link someone left there): never write through it
        with (open(tmp, "xb") if binary else open(tmp, "x", encoding="utf-8", newline="")) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise named_error(exc, path) from None
    _fsync_folder(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda fh: fh.write(data), binary=True)


def write_json_document(path: str | Path, doc: dict[str, Any]) -> None:
    atomic_write(path, lambda fh: json.dump(doc, fh, indent=2, ensure_ascii=False))


def write_csv(path: str | Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    def write(fh: IO[str]) -> None:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    atomic_write(path, write)


class CsvStream:
    """A CSV written row by row and flushed after every frame (a kill loses at most one frame).

    Used by `kise video` and the GUI's recorder, with FRAME_CSV_HEADER.
    """

    def __init__(self, path: str | Path, header: list[str] = FRAME_CSV_HEADER) -> None:
        self.path = Path(path)
        try:
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(header)
            self._file.flush()
        except OSError as exc:
            raise named_error(exc, self.path) from None
        self.rows = 0

    def write_frame(self, record: dict[str, Any], source: str, frame: int) -> None:
        rows = frame_rows(record, source, frame)
        try:
            self._writer.writerows(rows)
            self._file.flush()
        except OSError as exc:
            raise named_error(exc, self.path) from None
        self.rows += len(rows)

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise named_error(exc, self.path) from None
            finally:
                with contextlib.suppress(OSError):
                    self._file.close()


class Journal:
    """JSON Lines: a header line, then one record per finished item, appended and flushed.

    The file is valid after any interruption: a record is one `write` of one
    line, and a torn last line (a kill mid-write, a full disk) is cut off when
    the journal is opened again. fsync runs every `sync_every` records and on
    close, so a power cut loses at most that many; a kill loses none.
    """

    def __init__(self, path: str | Path, header: dict[str, Any] | None = None, sync_every: int = 50) -> None:
        self.path = Path(path)
        self.sync_every = sync_every
        self._unsynced = 0
        try:
            valid = _complete_length(self.path) if self.path.exists() else 0
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            os.ftruncate(self._fd, valid)     # drop a torn tail
            os.lseek(self._fd, valid, os.SEEK_SET)
        except OSError as exc:
            raise named_error(exc, self.path) from None
        if valid == 0 and header is not None:
            self.append(header)
            self.sync()

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, line)
            if written != len(line):          # a full disk can cut a write short without an error
                raise OSError(28, "No space left on device (short write)")
        except OSError as exc:
            raise named_error(exc, self.path) from None
        self._unsynced += 1
        if self._unsynced >= self.sync_every:
            self.sync()

    def sync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise named_error(exc, self.path) from None
        self._unsynced = 0

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.sync()
            finally:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _complete_length(path: Path) -> int:
    """Bytes up to the end of the last whole line (read in blocks from the end: journals grow long)."""
    with path.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - 65536)
            fh.seek(start)
            block = fh.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                return start + cut + 1
            end = start
    return 0


def read_journal(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a journal (header first), without a torn or unreadable last line."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise named_error(exc, path) from None
    with fh:
        for line in fh:
            if not line.endswith(b"\n"):
                return                      # torn tail: the item it was writing is not done
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return
            if isinstance(record, dict):
                yield record
