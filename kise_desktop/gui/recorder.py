"""Session recording (CSV) and photo export (annotated image + JSON) for the GUI.

Both write KISE's one output schema (kise_desktop.core.results): the same
CSV columns as `kise video`, the same JSON records as `kise annotate`.

While it records, `CsvRecorder` also feeds a core `ReportCollector` with each
analysed frame: the session report's thumbnails come from the frames the GUI
has (a CSV holds no pixels). `write_report` turns that into the HTML + PNG.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kise_desktop.core.results import (
    FRAME_CSV_HEADER, CsvStream, atomic_write_bytes, document, frame_record, write_json_document,
)

from . import core_api as core

CSV_HEADER = FRAME_CSV_HEADER
TOOL = "kise-desktop"


class CsvRecorder:
    """Writes one row per face per analysed frame, flushed per frame; rows with no face are not written."""

    def __init__(self, path: str | Path, report_settings: dict[str, str] | None = None, source: str = "") -> None:
        self._stream = CsvStream(path)
        self.path = self._stream.path
        self.collector = core.ReportCollector(report_settings, source or self.path.name)
        self.frames = 0

    @property
    def rows(self) -> int:
        return self._stream.rows

    def write(self, packet: Any) -> None:
        self.frames += 1
        if packet.panels and packet.kind != "photos":     # the report follows the first (or only) detector
            self.collector.add(packet.panels[0].result, packet.seq, packet.frame_bgr)
        for panel in packet.panels:
            record = frame_record(panel.result, detector=panel.detector)
            record["time_s"] = float(packet.timestamp)
            self._stream.write_frame(record, packet.name, packet.seq)

    def close(self) -> None:
        self._stream.close()

    @property
    def has_faces(self) -> bool:
        return bool(self.collector.session.faces)

    def write_report(self, html_path: str | Path, lang: str) -> tuple[Path, Path]:
        """The session report (HTML with embedded images, and a PNG beside it), written atomically."""
        return core.write_report(self.collector.session, html_path, lang)


def photo_document(packet: Any, output: str | Path, model_name: str = "", model_path: str = "") -> dict:
    """The analysed photo/frame as a results document: one image record per panel (detector)."""
    images = [{"file": packet.name, "output": str(output), **frame_record(p.result, detector=p.detector)}
              for p in packet.panels]
    for image in images:
        image.pop("time_s", None)
    detectors = [{"kind": p.detector} for p in packet.panels]
    return document(TOOL, model_name, model_path, detectors, images)


def write_image(path: str | Path, image_bgr: np.ndarray) -> None:
    """Encode and write atomically; works with non-ASCII paths (e.g. Korean folder names)."""
    path = Path(path)
    ext = path.suffix.lower() or ".png"
    ok, data = cv2.imencode(ext, image_bgr)
    if not ok:
        raise OSError(f"{path}: cannot encode a {ext} image")
    atomic_write_bytes(path, data.tobytes())


def write_json(path: str | Path, data: dict) -> None:
    write_json_document(path, data)
