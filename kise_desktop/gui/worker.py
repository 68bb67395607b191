"""Capture + pipeline on a worker thread; the GUI only ever sees the newest result.

`AnalysisWorker` is a QObject moved to a QThread. Its `run()` loop reads a
frame, runs the core `Pipeline` (one per detector kind, sharing the classifier,
so compare mode runs every chosen detector on the very same frame) and publishes a
`Packet` of plain data: a copied QImage of the frame plus the `FrameResult`s.

Latest frame wins twice over:
* cameras are read by a small grabber thread that keeps only the newest frame,
  so a slow pipeline never works through a backlog of stale driver buffers;
* a packet is put in a one-slot mailbox; the `packet_ready` signal is emitted
  only when the slot was empty, so at most one queued event exists however
  slow the GUI is, and the GUI takes whatever is newest when it gets there.

The GUI thread talks to the worker only through thread-safe commands
(a queue read at the top of every iteration) and never blocks on it; settings
changes therefore take effect on the next frame without reopening the source.
Stopping is cooperative: `stop()` sets an event that every wait honours.

A detector that cannot be built (a missing or damaged model file: the core's
DetectorError names it) is dropped: the worker switches to FALLBACK_DETECTOR,
reports `detector_failed`, and keeps going.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from . import core_api as core

# Used when the chosen detector cannot be built: Haar needs only OpenCV's own cascade file.
FALLBACK_DETECTOR = "haar"
IMAGE_SUFFIXES = core.IMAGE_SUFFIXES


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class SourceRequest:
    """What to open: a camera index / video path (via the core's `open_source`), or photos."""
    spec: str | int | None = None
    photos: tuple[str, ...] = ()
    label: str = ""

    @property
    def is_photos(self) -> bool:
        return bool(self.photos)

    @property
    def is_camera(self) -> bool:
        return isinstance(self.spec, int)


def request_for(spec: str | int | list[str] | tuple[str, ...]) -> SourceRequest:
    """Turn a user's choice (camera index, path, dropped paths) into a SourceRequest."""
    if isinstance(spec, (list, tuple)):
        paths = [str(p) for p in spec]
        images = [p for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES]
        if len(paths) == 1:
            return request_for(paths[0])
        if images:
            return SourceRequest(photos=tuple(images), label=Path(images[0]).parent.name or images[0])
        return request_for(paths[0]) if paths else SourceRequest()
    if isinstance(spec, int):
        return SourceRequest(spec=spec, label=f"camera {spec}")
    text = str(spec)
    if text.isdigit():
        return SourceRequest(spec=int(text), label=f"camera {text}")
    path = Path(text)
    if path.is_dir():
        photos = tuple(str(p) for p in core.list_images(path))
        return SourceRequest(spec=text if not photos else None, photos=photos, label=path.name or text)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceRequest(photos=(text,), label=path.name)
    return SourceRequest(spec=text, label=path.name or text)


@dataclass
class Panel:
    detector: str                 # the detector kind (a registry name)
    result: Any                   # core FrameResult


@dataclass
class Packet:
    """One analysed frame, as plain data for the GUI thread."""
    image: QImage                 # the frame (not annotated), a deep copy, scaled to the view's size
    frame_bgr: np.ndarray         # same pixels, for saving annotated files with the core renderer
    panels: list[Panel]
    timings_ms: dict[str, float]  # grab, detect, classify, total, and detect_<kind> per panel
    kind: str                     # camera | video | photos
    name: str                     # frame / file name
    timestamp: float
    index: int = 0                # photo index (photo mode) or frame number
    count: int = 0                # number of photos (photo mode)
    pipeline_fps: float = 0.0
    seq: int = 0
    frame_size: tuple[int, int] = (0, 0)   # width, height of the analysed frame (boxes are in its pixels)


@dataclass(frozen=True)
class WorkerState:
    """Emitted on `state_changed`; `code` is one of the STATE_* values."""
    code: str
    name: str = ""
    error: str = ""                          # the core's words (English)
    detail: dict = field(default_factory=dict)
    problem: Any = None                      # the SourceError behind `error`, for a translation (i18n.error_text)


STATE_OPENING = "opening"
STATE_RUNNING = "running"
STATE_OPEN_FAILED = "open_failed"     # camera missing / busy, file unreadable
STATE_LOST = "lost"                   # camera stopped mid-stream
STATE_ENDED = "ended"                 # end of a video file
STATE_IDLE = "idle"


# --------------------------------------------------------------------------- helpers
class RateMeter:
    """Events per second over the last `window` seconds (fps counters for the worker and the view)."""

    def __init__(self, window: float = 2.0) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.perf_counter() if now is None else now)

    def rate(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def clear(self) -> None:
        self._times.clear()


class DisplayConverter:
    """Turns a BGR frame into a QImage that owns its pixels (safe to hand to another thread).

    Converted here, on the worker thread, to 32-bit BGRX (Qt's Format_RGB32 on
    little-endian machines): QPainter draws that format without converting it
    first, so the GUI thread's paint stays cheap. The frame is converted into
    one reused scratch buffer and resized straight into the new QImage's pixels:
    no per-frame temporaries and no extra copy.
    """

    def __init__(self) -> None:
        self._scratch: np.ndarray | None = None

    def __call__(self, frame_bgr: np.ndarray, fit: tuple[int, int] | None = None) -> QImage:
        h, w = frame_bgr.shape[:2]
        size = (w, h)
        if fit is not None:           # scale to the view here, so the GUI thread only blits
            scale = min(fit[0] / w, fit[1] / h)
            size = (max(1, int(w * scale)), max(1, int(h * scale)))
        code = cv2.COLOR_GRAY2BGRA if frame_bgr.ndim == 2 else cv2.COLOR_BGR2BGRA
        image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
        # RGB32 rows are exactly 4 bytes a pixel, so the QImage's memory is a (h, w, 4) array.
        pixels = np.frombuffer(image.bits(), np.uint8).reshape(size[1], size[0], 4)
        if size == (w, h):
            cv2.cvtColor(frame_bgr, code, dst=pixels)
        else:
            # The colour conversion runs on the smaller of the two sizes: resize first when shrinking
            # (a big photo), convert first when enlarging (a 640x480 camera in a big window). Either
            # way the last step writes straight into the QImage, through one reused scratch buffer.
            shrink = size[0] < w
            shape = (size[1], size[0]) + frame_bgr.shape[2:] if shrink else (h, w, 4)
            if self._scratch is None or self._scratch.shape != shape:
                self._scratch = np.empty(shape, np.uint8)
            if shrink:
                cv2.resize(frame_bgr, size, dst=self._scratch, interpolation=cv2.INTER_AREA)
                cv2.cvtColor(self._scratch, code, dst=pixels)
            else:
                cv2.cvtColor(frame_bgr, code, dst=self._scratch)
                cv2.resize(self._scratch, size, dst=pixels, interpolation=cv2.INTER_LINEAR)
        if sys.byteorder != "little":        # RGB32 is 0xffRRGGBB in native order: A,R,G,B bytes
            pixels[...] = pixels[:, :, ::-1].copy()
        return image


class LatestFrameGrabber:
    """Reads a camera-like iterator on its own thread and keeps only the newest frame."""

    def __init__(self, source: Any, stop: threading.Event) -> None:
        self._source = source
        self._stop = stop
        self._closed = threading.Event()
        self._cond = threading.Condition()
        self._frame: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kise-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        it = iter(self._source)
        try:
            while not (self._stop.is_set() or self._closed.is_set()):
                frame = next(it)
                with self._cond:
                    self._frame = frame
                    self._cond.notify()
        except BaseException as exc:  # StopIteration, SourceError, ... handed to the reader
            with self._cond:
                self._error = exc
                self._cond.notify()
        finally:
            # The camera is released by the thread that reads it, never under its feet.
            try:
                self._source.close()
            except Exception:
                pass

    def take(self, timeout: float = 0.1) -> Any:
        """The newest unseen frame, or None if none came within `timeout`; re-raises the source's error."""
        with self._cond:
            if self._frame is None and self._error is None:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            if frame is None and self._error is not None:
                raise self._error
            return frame

    def close(self, join_timeout: float = 2.0) -> None:
        self._closed.set()
        self._thread.join(join_timeout)


# --------------------------------------------------------------------------- worker
class AnalysisWorker(QObject):
    """Runs in its own QThread: `thread.started.connect(worker.run)`."""

    packet_ready = Signal()               # a packet waits in the mailbox: call take_packet()
    state_changed = Signal(object)        # WorkerState
    errored = Signal(str)                 # unexpected exception text (the loop keeps going)
    detector_failed = Signal(str, str, str)   # failed kind, the kind used instead, the core's message
    finished = Signal()

    def __init__(self, source_factory: Callable[[str | int], Any] | None = None,
                 image_loader: Callable[[str], np.ndarray] | None = None,
                 pace_video: bool = True, loop_video: bool = False) -> None:
        super().__init__()
        # The core's video source loops by seeking (no reopen, timestamps keep increasing).
        self._source_factory = source_factory or (lambda spec: core.open_source(spec, loop=self.loop_video))
        self._image_loader = image_loader or core.load_image
        self.pace_video = pace_video
        self.loop_video = loop_video
        # Commands from the GUI thread: a worker-thread method and its arguments, run in order between frames.
        self._commands: queue.Queue[tuple[Callable[..., None], tuple]] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._mailbox_lock = threading.Lock()
        self._mailbox: Packet | None = None
        self._display_box: tuple[int, int] | None = None   # set from the GUI thread (a tuple swap)
        self._seq = 0
        # pipeline state (only touched on the worker thread)
        self._classifier: Any = None
        self._settings: dict[str, Any] = {k: core.preset(k, "live") for k in core.kind_names()}
        self._detector = core.kind_names()[0]
        self._compare: tuple[str, ...] = ()      # the kinds compared; () = one detector
        self._opencv_threads: int | None = None   # what cv2.setNumThreads was last given
        self._detect_rate: float | None = None     # detections per second on live sources; None = every frame
        self._pipelines: dict[str, Any] = {}
        # source state
        self._request: SourceRequest | None = None
        self._source: Any = None
        self._iter: Iterator | None = None
        self._grabber: LatestFrameGrabber | None = None
        self._source_kind = ""
        self._photo_index = 0
        self._photo_dirty = False
        self._frame_no = 0
        self._pace_origin: tuple[float, float] | None = None
        self._rate = RateMeter(2.0)
        self._to_qimage = DisplayConverter()
        self.frames_processed = 0
        self.busy_ms = {"analyze": 0.0, "display": 0.0}   # totals, for the benchmark's breakdown

    # ------------------------------------------------------------- GUI-thread API (thread-safe)
    def _post(self, command: Callable[..., None], *args: Any) -> None:
        self._commands.put((command, args))
        self._wake.set()

    def open_source(self, request: SourceRequest) -> None:
        self._post(self._open, request)

    def close_source(self) -> None:
        self._post(self._do_close)

    def set_classifier(self, classifier: Any) -> None:
        self._post(self._do_set_classifier, classifier)

    def set_detector(self, kind: str) -> None:
        self._post(self._do_set_detector, kind)

    def set_detector_settings(self, kind: str, settings: Any) -> None:
        self._post(self._do_set_settings, kind, settings)

    def set_detect_rate(self, rate: float | None) -> None:
        """Detections per second on live sources (None = every frame); photos are always detected."""
        self._post(self._do_set_detect_rate, rate)

    def set_compare(self, kinds: list[str] | tuple[str, ...]) -> None:
        """Run these detectors side by side (two or more); anything shorter turns compare mode off."""
        self._post(self._do_set_compare, tuple(kinds))

    def step_photo(self, delta: int) -> None:
        self._post(self._do_step_photo, int(delta))

    def set_display_box(self, width: int, height: int) -> None:
        """The size one panel is shown at; frames are scaled to it on this thread."""
        self._display_box = (int(width), int(height))

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def take_packet(self) -> Packet | None:
        with self._mailbox_lock:
            packet, self._mailbox = self._mailbox, None
            return packet

    # ------------------------------------------------------------- worker thread
    @Slot()
    def run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._apply_commands()
                    if self._stop.is_set():
                        break
                    if self._source_kind == "photos":
                        if self._photo_dirty:
                            self._process_photo()
                        else:
                            self._idle_wait(0.2)
                    elif self._iter is not None or self._grabber is not None:
                        self._process_stream_frame()
                    else:
                        self._idle_wait(0.2)
                except Exception as exc:  # never let one bad frame kill the thread
                    self.errored.emit(f"{type(exc).__name__}: {exc}")
                    self._idle_wait(0.2)
        finally:
            self._close_source()
            self.finished.emit()

    def _apply_opencv_threads(self) -> None:
        """OpenCV's thread count for the detectors now running, as their kinds ask (registry:
        `opencv_threads`); called when they change. Process-wide: OpenCV has no per-thread setting,
        and this is the thread that uses it."""
        wanted = core.opencv_threads_for(self._compare or (self._detector,))
        if wanted != self._opencv_threads:
            cv2.setNumThreads(wanted)
            self._opencv_threads = wanted

    def _idle_wait(self, timeout: float) -> None:
        self._wake.wait(timeout)
        self._wake.clear()

    def _apply_commands(self) -> None:
        while True:
            try:
                command, args = self._commands.get_nowait()
            except queue.Empty:
                return
            command(*args)

    # The commands, run on the worker thread (posted by the GUI-thread API above).
    def _do_close(self) -> None:
        self._close_source()
        self._emit_state(STATE_IDLE)

    def _do_set_classifier(self, classifier: Any) -> None:
        self._classifier = classifier
        if classifier is not None:      # None: frames are shown unanalysed
            for pipe in self._pipelines.values():
                pipe.set_classifier(classifier)
        self._photo_dirty = True

    def _do_set_detector(self, kind: str) -> None:
        self._detector = kind
        self._apply_opencv_threads()
        self._photo_dirty = True

    def _do_set_settings(self, kind: str, settings: Any) -> None:
        self._settings[kind] = settings
        if kind in self._pipelines:
            self._pipelines[kind].set_detector(settings)
        self._photo_dirty = True

    def _do_set_detect_rate(self, rate: float | None) -> None:
        self._detect_rate = rate

    def _do_set_compare(self, kinds: tuple[str, ...]) -> None:
        self._compare = kinds if len(kinds) >= 2 else ()
        self._apply_opencv_threads()
        self._photo_dirty = True

    def _do_step_photo(self, delta: int) -> None:
        if self._source_kind == "photos" and self._request is not None:
            self._photo_index = (self._photo_index + delta) % len(self._request.photos)
            self._photo_dirty = True

    def _pipeline(self, kind: str) -> Any:
        pipe = self._pipelines.get(kind)
        if pipe is None:
            pipe = core.Pipeline(self._classifier, self._settings[kind])
            self._pipelines[kind] = pipe
        return pipe

    def _drop_detector(self, kind: str, error: str) -> None:
        """`kind` cannot run here: forget it, use the fallback instead, and say so."""
        self._pipelines.pop(kind, None)
        fallback = next((k for k in (FALLBACK_DETECTOR, *core.kind_names()) if k != kind and k in self._settings), kind)
        if self._detector == kind:
            self._detector = fallback
        if kind in self._compare:
            self._compare = tuple(k for k in self._compare if k != kind)
            if len(self._compare) < 2:
                self._compare = ()
        self._apply_opencv_threads()
        self.detector_failed.emit(kind, fallback, error)

    def _emit_state(self, code: str, error: str | BaseException = "", **detail: Any) -> None:
        name = self._request.label if self._request is not None else ""
        problem = error if isinstance(error, core.SourceError) else None
        self.state_changed.emit(WorkerState(code, name, str(error), detail, problem))

    # ------------------------------------------------------------- sources
    def _open(self, request: SourceRequest) -> None:
        self._close_source()
        self._request = request
        self._emit_state(STATE_OPENING)
        for pipe in self._pipelines.values():
            pipe.reset_tracks()
        if request.is_photos:
            self._source_kind = "photos"
            self._photo_index = 0
            self._photo_dirty = True
            self._emit_state(STATE_RUNNING, kind="photos", count=len(request.photos))
            return
        try:
            source = self._source_factory(request.spec)
        except Exception as exc:  # SourceError (missing / busy camera, unreadable file) or worse
            self._request = request
            self._emit_state(STATE_OPEN_FAILED, exc, camera=request.is_camera)
            self._source_kind = ""
            return
        self._source = source
        self._source_kind = getattr(source, "kind", "camera" if request.is_camera else "video")
        self._frame_no = 0
        self._pace_origin = None
        self._rate.clear()
        if self._source_kind in ("image", "folder"):
            # the core opened photos (e.g. a folder given as a spec): step through them ourselves
            frames = list(source)
            source.close()
            self._source = None
            self._photo_frames = frames
            self._request = SourceRequest(photos=tuple(f.name for f in frames), label=request.label)
            self._source_kind = "photos"
            self._photo_index = 0
            self._photo_dirty = True
            self._emit_state(STATE_RUNNING, kind="photos", count=len(frames))
            return
        if self._source_kind == "camera":
            self._grabber = LatestFrameGrabber(source, self._stop)
        else:
            self._iter = iter(source)
        self._emit_state(STATE_RUNNING, kind=self._source_kind)

    def _close_source(self) -> None:
        if self._grabber is not None:
            self._grabber.close()          # the grabber thread closes the source itself
            self._grabber = None
            self._source = None
        if self._source is not None:
            try:
                self._source.close()
            except Exception:
                pass
            self._source = None
        self._iter = None
        self._source_kind = ""
        self._photo_frames = None

    def _next_frame(self) -> Any:
        if self._grabber is not None:
            return self._grabber.take(0.1)
        return next(self._iter)

    def _process_stream_frame(self) -> None:
        t0 = time.perf_counter()
        try:
            frame = self._next_frame()
        except StopIteration:
            if self._source_kind == "camera":
                self._close_source()
                self._emit_state(STATE_LOST, "no more frames")
            elif self.loop_video and self._request is not None and self._frame_no > 0:
                self._open(self._request)
            else:
                self._close_source()
                self._emit_state(STATE_ENDED)
            return
        except core.SourceError as exc:
            self._close_source()
            self._emit_state(STATE_LOST if self._request and self._request.is_camera else STATE_ENDED, exc)
            return
        if frame is None:          # camera had nothing new yet
            return
        grab_ms = (time.perf_counter() - t0) * 1000.0
        self._frame_no += 1
        if self._source_kind == "video" and self.pace_video:
            self._pace(frame.timestamp)
        self._analyse(frame.image_bgr, frame.timestamp, getattr(frame, "name", ""), grab_ms,
                      kind=self._source_kind, index=self._frame_no, count=0, photo=False)

    def _pace(self, timestamp: float) -> None:
        """Play a video no faster than real time (off for benchmarks)."""
        now = time.perf_counter()
        if self._pace_origin is None:
            self._pace_origin = (now, timestamp)
            return
        due = self._pace_origin[0] + (timestamp - self._pace_origin[1])
        if due > now:
            self._stop.wait(min(due - now, 1.0))

    def _process_photo(self) -> None:
        self._photo_dirty = False
        assert self._request is not None
        t0 = time.perf_counter()
        path = self._request.photos[self._photo_index]
        try:
            frames = getattr(self, "_photo_frames", None)
            if frames:
                image, name = frames[self._photo_index].image_bgr, frames[self._photo_index].name
            else:
                image, name = self._image_loader(path), Path(path).name
        except Exception as exc:  # ImageError: unreadable / not an image
            self._emit_state(STATE_OPEN_FAILED, exc, photo=path, index=self._photo_index)
            return
        grab_ms = (time.perf_counter() - t0) * 1000.0
        for pipe in self._pipelines.values():
            pipe.reset_tracks()    # photos are independent: no smoothing across them
        self._analyse(image, 0.0, name, grab_ms, kind="photos", index=self._photo_index,
                      count=len(self._request.photos), photo=True)

    # ------------------------------------------------------------- analysis
    def _analyse(self, image: np.ndarray, timestamp: float, name: str, grab_ms: float, *,
                 kind: str, index: int, count: int, photo: bool) -> None:
        panels: list[Panel] = []
        timings: dict[str, float] = {"grab": grab_ms, "detect": 0.0, "classify": 0.0}
        if self._classifier is not None:
            for det in self._compare or (self._detector,):
                try:
                    pipe = self._pipeline(det)
                    pipe.detect_rate = None if photo else self._detect_rate
                    result = pipe.analyze(image, timestamp)
                except core.DetectorError as exc:       # a model file missing or damaged
                    self._drop_detector(det, str(exc))
                    continue
                panels.append(Panel(det, result))
                tm = result.timings_ms
                timings[f"detect_{det}"] = float(tm.get("detect", 0.0))
                timings["detect"] += float(tm.get("detect", 0.0))
                timings["classify"] += float(tm.get("classify", 0.0)) + float(tm.get("crop", 0.0))
                timings["pipeline"] = timings.get("pipeline", 0.0) + float(tm.get("total", 0.0))
        t_display = time.perf_counter()
        qimage = self._to_qimage(image, self._display_box)
        now = time.perf_counter()
        self.busy_ms["display"] += (now - t_display) * 1000.0
        self.busy_ms["analyze"] += timings.get("pipeline", 0.0)
        timings["total"] = grab_ms + timings.get("pipeline", 0.0)
        self._rate.tick(now)
        self.frames_processed += 1
        fps = self._rate.rate(now)
        self._seq += 1
        packet = Packet(qimage, image, panels, timings, kind, name, timestamp,
                        index=index, count=count, pipeline_fps=fps, seq=self._seq,
                        frame_size=(int(image.shape[1]), int(image.shape[0])))
        with self._mailbox_lock:
            was_empty = self._mailbox is None
            self._mailbox = packet
        if was_empty:
            self.packet_ready.emit()
