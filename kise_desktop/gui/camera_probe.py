"""Finds the cameras that open, off the GUI thread: probing a camera can take a second or more."""
from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal


class CameraProbe(QObject):
    """Runs `list_cameras` on a plain thread and reports back on the GUI thread."""
    found = Signal(list)

    def __init__(self, lister: Callable[[], list[int]], parent: QObject) -> None:
        super().__init__(parent)
        self._lister = lister
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if self._thread is not None and self._thread.is_alive():
            return False
        self._thread = threading.Thread(target=self._run, name="kise-camera-probe", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        try:
            cams = list(self._lister())
        except Exception:
            cams = []
        self.found.emit(cams)

    def join(self, timeout: float = 3.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
