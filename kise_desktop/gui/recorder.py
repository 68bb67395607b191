"""Session recording (CSV) and photo export (annotated image + JSON) for the GUI."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kise_desktop.emotions import EMOTION_KEYS, EMOTIONS

CSV_HEADER = (["frame", "timestamp", "source", "detector", "track_id", "x", "y", "w", "h", "label", "confidence"]
              + [f"p_{k}" for k in EMOTION_KEYS] + [f"s_{k}" for k in EMOTION_KEYS])


class CsvRecorder:
    """Writes one row per face per analysed frame; rows with no face are not written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(CSV_HEADER)
        self.rows = 0
        self.frames = 0

    def write(self, packet: Any) -> None:
        self.frames += 1
        for panel in packet.panels:
            for face in panel.result.faces:
                x, y, w, h = face.box
                self._writer.writerow(
                    [packet.seq, f"{packet.timestamp:.3f}", packet.name, panel.detector, face.track_id,
                     x, y, w, h, EMOTIONS[face.label_index].key, f"{face.confidence:.4f}"]
                    + [f"{v:.4f}" for v in np.asarray(face.probabilities, dtype=float)]
                    + [f"{v:.4f}" for v in np.asarray(face.smoothed, dtype=float)])
                self.rows += 1
        if self.frames % 30 == 0:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def result_to_dict(result: Any, detector: str, source_name: str = "", model_name: str = "") -> dict:
    """A FrameResult as JSON-ready data (same keys as the CSV)."""
    faces = []
    for face in result.faces:
        x, y, w, h = (int(v) for v in face.box)
        faces.append({
            "track_id": int(face.track_id),
            "box": {"x": x, "y": y, "w": w, "h": h},
            "label": EMOTIONS[face.label_index].key,
            "label_ko": EMOTIONS[face.label_index].ko,
            "confidence": round(float(face.confidence), 4),
            "probabilities": {k: round(float(v), 4) for k, v in zip(EMOTION_KEYS, face.probabilities)},
        })
    width, height = result.frame_size
    return {"source": source_name, "detector": detector, "model": model_name,
            "frame_size": {"width": int(width), "height": int(height)},
            "timings_ms": {k: round(float(v), 3) for k, v in result.timings_ms.items()},
            "faces": faces}


def write_image(path: str | Path, image_bgr: np.ndarray) -> None:
    """cv2.imwrite that also works with non-ASCII paths (e.g. Korean folder names)."""
    path = Path(path)
    ext = path.suffix.lower() or ".png"
    ok, data = cv2.imencode(ext, image_bgr)
    if not ok:
        raise OSError(f"cannot encode {ext} image")
    path.write_bytes(data.tobytes())


def write_json(path: str | Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
