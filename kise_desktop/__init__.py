"""KISE: live facial emotion recognition on a laptop CPU (core in `kise_desktop.core`, GUI in `kise_desktop.gui`)."""
from __future__ import annotations

import os

# OpenCV's thread pool spins (busy-waits) for a while after each parallel region
# before its threads sleep. Between Haar detections the worker thread runs Python
# and TFLite on one core, and on a 2-core laptop that spinning takes the other
# core from the GUI thread: the window then shows fewer frames than the worker
# makes. Sleeping threads cost nothing measurable in detection speed
# (`kise bench`, `python -m kise_desktop.gui.bench_gui`; README "Desktop app figures").
# OpenCV reads these once, when it is loaded: they must be set before `import cv2`,
# and a value the user exported wins.
for _name in ("OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER", "OPENCV_THREAD_POOL_ACTIVE_WAIT_MAIN"):
    os.environ.setdefault(_name, "0")
del _name

# FFmpeg prints its own lines ("moov atom not found") when OpenCV opens a damaged video; KISE
# already says in one line which file failed and why, so FFmpeg stays quiet (AV_LOG_QUIET)
# unless the user asks for its log.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
