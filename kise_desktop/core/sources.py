"""Where frames come from: a camera, a video file, one photo, a folder of photos.

Every source is an iterator of `Frame(image_bgr, timestamp, name)` with
`.kind` and `.close()` (also usable as a context manager). Problems raise
`SourceError` (or its subclass `ImageError` for photos) with one line that
names the file or camera, fit to show a user as it is.
"""
from __future__ import annotations

import glob
import io
import os
import stat
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from kise_desktop.core.errors import ReasonedError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
# Photos above this long side are downscaled on loading: detection and drawing on a
# 12000 px image take seconds and gigabytes, and no face needs that resolution.
MAX_IMAGE_SIDE = 4096
# KISE's one pixel limit: a photo whose header says more pixels than this is refused before
# any decoding (a decompression bomb, not a photo; a 200 MP phone photo is 16320x12240).
MAX_IMAGE_PIXELS = 300_000_000
# Pillow's own limit (89 M pixels, an error at twice that) would refuse before ours, in its
# own words and without the size; every photo KISE opens goes through load_image_info.
Image.MAX_IMAGE_PIXELS = None


# Why a camera, video or photo cannot be read, by reason key: the English words (the CLI's).
# The GUI has the same keys in Korean (gui/i18n.py, `error_text`), so each reason is one entry
# per language and a message can name its file in any language.
REASONS: dict[str, str] = {
    "no_such_file": "no such file",
    "no_such_path": "no such file or folder",
    "cannot_read": "cannot read ({error})",
    "is_folder": "is a folder, not a file",
    "folder_not_image": "is a folder, not an image",
    "special_file": "is {kind}, not a regular file; KISE reads only regular files",
    "empty": "empty file",
    "too_many_pixels": ("{width}x{height} is {pixels:,} pixels, over KISE's limit of {limit:,} pixels; "
                        "downscale it first"),
    "not_image": "not an image file (or a format KISE cannot read)",
    "too_large": "too large to decode",
    "out_of_memory": "too large to decode in the memory available",
    "damaged": "damaged or truncated image ({error})",
    "no_images": "no images in this folder",
    "not_video": "cannot open as a video (missing codec or not a video)",
    "no_frames": "no frames could be read",
    "unreadable": "neither an image nor a video KISE can read",
    "camera_missing": "not found or cannot be opened",
    "camera_stopped": "stopped delivering frames (unplugged or in use?)",
}
SPECIAL_FILE_KINDS = ("a FIFO (named pipe)", "a socket", "a device", "a special file")


class SourceError(ReasonedError):
    """A camera, video or photo cannot be read; the message names it.

    Raised with `because(subject, reason, **values)`, it also carries the file or camera
    (`subject`), the reason key in REASONS and the values its words need, for a translation
    (a camera's errors carry its index as `camera`).
    """

    REASONS = REASONS


class ImageError(SourceError):
    """A photo cannot be read (missing, empty, truncated, not an image...)."""


@dataclass
class Frame:
    image_bgr: np.ndarray   # uint8 (H, W, 3)
    timestamp: float        # seconds since the source started (photos: 0)
    name: str               # file name, or "camera 0" / "video.mp4#123"


@dataclass
class LoadedImage:
    """A photo as loaded, and what loading did to it."""
    image_bgr: np.ndarray
    original_size: tuple[int, int]        # width, height of the file (after EXIF rotation)
    scale: float = 1.0                    # image size / original size (< 1 when downscaled)
    notes: list[str] = field(default_factory=list)  # e.g. "downscaled from 12000x9000 to 4096x3072"


# -- photos --------------------------------------------------------------------

def _to_uint8_array(img: Image.Image) -> np.ndarray:
    """RGB uint8 array from any Pillow mode; 16-bit and float images are rescaled, not clipped."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's own conversion to "L" clips 16-bit values at 255 (a white image); rescale instead.
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        elif arr.size and arr.max() > 255:
            arr = arr * (255.0 / max(arr.max(), 1.0))
        gray = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        # Transparent areas become white (what a viewer shows), not whatever colour hid under alpha 0.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"))


def regular_file_problem(path: Path, error: type[SourceError] = SourceError) -> SourceError | None:
    """Why `path` is not a regular file KISE may read (a FIFO would block forever), as an `error`; or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return error.because(path, "no_such_file")
    except OSError as exc:
        return error.because(path, "cannot_read", error=exc.strerror)
    if stat.S_ISDIR(mode):
        return error.because(path, "is_folder")
    if stat.S_ISREG(mode):
        return None
    fifo, socket, device, other = SPECIAL_FILE_KINDS
    kind = (fifo if stat.S_ISFIFO(mode) else socket if stat.S_ISSOCK(mode)
            else device if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else other)
    return error.because(path, "special_file", kind=kind)


def load_image_info(path: str | Path, max_side: int = MAX_IMAGE_SIDE, data: bytes | None = None,
                    max_pixels: int | None = None) -> LoadedImage:
    """Load a photo as BGR uint8, upright (EXIF orientation), at most `max_side` px long.

    `data`: the file's bytes, already read (a cluster worker gets them from the
    driver); `path` then only names the photo in messages. The pixel count is
    read from the header and checked against MAX_IMAGE_PIXELS before decoding.
    """
    path = Path(path)
    max_pixels = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if data is None:
        problem = regular_file_problem(path, ImageError)
        if problem and problem.reason == "is_folder":
            raise ImageError.because(path, "folder_not_image")
        if problem:
            raise problem
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageError.because(path, "cannot_read", error=exc.strerror) from None
    else:
        size = len(data)
    if size == 0:
        raise ImageError.because(path, "empty")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data) if data is not None else path) as img:
                width, height = img.size          # from the header: nothing is decoded yet
                if width * height > max_pixels:
                    raise ImageError.because(path, "too_many_pixels", width=width, height=height,
                                             pixels=width * height, limit=max_pixels)
                long_side = max(width, height)
                if long_side > max_side and img.format == "JPEG":
                    # Let the JPEG decoder downscale by 1/2..1/8 while decoding: a fraction of the memory.
                    # (At least 1 px: a 10000x1 strip must not ask for a 0 px draft.)
                    img.draft("RGB", (max(1, width * max_side // long_side), max(1, height * max_side // long_side)))
                img.load()
                decoded = img
                factor = max(decoded.size) // max_side      # whole steps that stay >= max_side
                if factor > 1 and decoded.mode in ("L", "RGB", "RGBA", "LA", "I", "F"):
                    # A big PNG/TIFF decodes at full size; shrink it before the colour conversions
                    # copy it (the exact resize to max_side follows below), keeping its orientation tag.
                    orientation = img.getexif().get(0x0112)
                    decoded = decoded.reduce(factor)
                    if orientation:
                        decoded.getexif()[0x0112] = orientation
                upright = ImageOps.exif_transpose(decoded)
                rgb = _to_uint8_array(upright)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError.because(path, "not_image") from None
    except Image.DecompressionBombError:
        raise ImageError.because(path, "too_large") from None
    except MemoryError:
        raise ImageError.because(path, "out_of_memory") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure on a user's file is that file's fault
        # Pillow says "image file is truncated" / "broken data stream" for damaged files, and raises
        # struct/index errors for mangled headers or EXIF blocks.
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise ImageError.because(path, "damaged", error=reason) from None

    # Width/height after EXIF rotation, in the file's own resolution (draft may have shrunk it).
    rotated = upright.size != decoded.size and upright.size == (decoded.size[1], decoded.size[0])
    original = (height, width) if rotated else (width, height)
    h, w = rgb.shape[:2]
    if max(w, h) > max_side:
        factor = max_side / max(w, h)
        rgb = cv2.resize(rgb, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    scale = bgr.shape[1] / original[0]
    if scale < 1.0:
        notes.append(f"downscaled from {original[0]}x{original[1]} to {bgr.shape[1]}x{bgr.shape[0]}")
    return LoadedImage(bgr, original, scale, notes)


def load_image(path: str | Path) -> np.ndarray:
    """A photo as a BGR uint8 array; see `load_image_info` for what is done to it."""
    return load_image_info(path).image_bgr


def list_images(folder: str | Path) -> list[Path]:
    """Files in `folder` (not recursive) whose suffix says image, sorted by name."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


# -- frame sources ---------------------------------------------------------------

class FrameSource:
    """Base: an iterator of frames with `kind`, `close()` and context-manager support."""

    kind = "none"

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        raise StopIteration

    def close(self) -> None:
        pass

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ImageSource(FrameSource):
    kind = "image"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded = load_image_info(path)   # fail now, with the file's name
        self._done = False

    def __next__(self) -> Frame:
        if self._done:
            raise StopIteration
        self._done = True
        return Frame(self.loaded.image_bgr, 0.0, self.path.name)


class FolderSource(FrameSource):
    """Photos in a folder, by name. Bad files are skipped and kept in `errors`
    (or raised as `ImageError` one by one when `skip_bad=False`; iteration
    may continue after that)."""

    kind = "folder"

    def __init__(self, folder: Path, skip_bad: bool = True) -> None:
        self.folder = folder
        self.paths = list_images(folder)
        if not self.paths:
            raise SourceError.because(folder, "no_images")
        self.skip_bad = skip_bad
        self.errors: list[ImageError] = []
        self._index = 0

    def __len__(self) -> int:
        return len(self.paths)

    def __next__(self) -> Frame:
        while self._index < len(self.paths):
            path = self.paths[self._index]
            self._index += 1
            try:
                return Frame(load_image(path), 0.0, path.name)
            except ImageError as exc:
                if not self.skip_bad:
                    raise
                self.errors.append(exc)
        raise StopIteration


class _CaptureSource(FrameSource):
    """Shared by camera and video: an OpenCV capture read frame by frame."""

    def __init__(self, capture: cv2.VideoCapture, label: str) -> None:
        self._capture = capture
        self.label = label
        self._index = 0

    @property
    def fps(self) -> float:
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return fps if 0.0 < fps < 1000.0 else 0.0

    @property
    def frame_count(self) -> int:
        return max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))

    @property
    def frame_size(self) -> tuple[int, int]:
        return (int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def close(self) -> None:
        self._capture.release()


class VideoSource(_CaptureSource):
    """A video file, frame by frame.

    With `loop=True` the file plays forever: at its end the capture seeks back
    to frame 0 (the file is not reopened, so nothing downstream sees a new
    source), and timestamps keep increasing across loops (the second pass of a
    4 s clip starts at 4 s), so tracks and their smoothing carry on as if the
    video were one long recording. `loops` counts the passes completed.
    """

    kind = "video"

    def __init__(self, path: Path, loop: bool = False) -> None:
        problem = regular_file_problem(path)
        if problem:                 # OpenCV would wait forever on a FIFO
            raise problem
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            capture.release()
            raise SourceError.because(path, "not_video")
        super().__init__(capture, path.name)
        self.path = path
        self.loop = loop
        self.loops = 0
        self._pass_index = 0          # frame index within the current pass
        self._offset = 0.0            # seconds of the passes already played
        self._last_timestamp = -1.0

    def _read(self) -> np.ndarray | None:
        ok, image = self._capture.read()
        return image if ok and image is not None else None

    def __next__(self) -> Frame:
        image = self._read()
        if image is None and self.loop and self._pass_index > 0:
            # Seek back rather than reopen; a container that cannot seek gets a fresh capture.
            if not self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0) or (image := self._read()) is None:
                self._capture.release()
                self._capture = cv2.VideoCapture(str(self.path))
                image = self._read()
            if image is not None:
                self.loops += 1
                fps = self.fps
                # the next pass starts one frame after the last frame shown
                self._offset = self._last_timestamp + (1.0 / fps if fps else 0.04)
                self._pass_index = 0
        if image is None:
            raise StopIteration  # the end of the file (a damaged tail also ends here)
        fps = self.fps
        # Timestamps from the frame index are exact for constant-rate files; POS_MSEC otherwise.
        local = self._pass_index / fps if fps else float(self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        timestamp = self._offset + local
        self._last_timestamp = timestamp
        self._pass_index += 1
        self._index += 1
        return Frame(image, timestamp, f"{self.label}#{self._index - 1}")


class CameraSource(_CaptureSource):
    kind = "camera"

    def __init__(self, index: int, width: int | None = None, height: int | None = None) -> None:
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            capture.release()
            raise SourceError.because(f"camera {index}", "camera_missing", camera=index)
        if width and height:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        super().__init__(capture, f"camera {index}")
        self.index = index
        self._start = time.monotonic()

    def __next__(self) -> Frame:
        ok, image = self._capture.read()
        if not ok or image is None:
            # A camera has no end: no frame means it was unplugged or taken by another app.
            raise SourceError.because(f"camera {self.index}", "camera_stopped", camera=self.index)
        self._index += 1
        return Frame(image, time.monotonic() - self._start, self.label)


V4L_SYSFS = Path("/sys/class/video4linux")


def camera_name(index: int, sysfs: Path = V4L_SYSFS) -> str:
    """The camera's own name ("Integrated Camera: Integrated C"), where the OS tells it, else "".

    Linux lists it in sysfs, readable without opening (and so without taking) the
    camera; OpenCV has no portable way to ask, so other systems get "".
    """
    try:
        return (sysfs / f"video{int(index)}" / "name").read_text(encoding="utf-8", errors="replace").strip()
    except (OSError, ValueError):
        return ""


def list_cameras(max_index: int = 6) -> list[int]:
    """Indices of cameras that open, probed with OpenCV (no QtMultimedia needed)."""
    if os.name == "posix" and Path("/dev").is_dir() and not glob.glob("/dev/video*"):
        return []                                # Linux with no video device: skip the slow probe
    found = []
    for i in range(max_index):
        if os.name == "posix" and Path("/dev").is_dir() and not Path(f"/dev/video{i}").exists():
            continue
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(i)
        finally:
            cap.release()
    return found


def open_source(spec: str | int | Path, skip_bad: bool = True, loop: bool = False) -> FrameSource:
    """A camera (int or digit string), a video file, an image file or a folder of images.

    `loop` applies to video files only (see `VideoSource`)."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec))
    path = Path(spec)
    if not path.exists():
        raise SourceError.because(path, "no_such_path")
    if path.is_dir():
        return FolderSource(path, skip_bad=skip_bad)
    problem = regular_file_problem(path)
    if problem:
        raise problem
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path, loop=loop)
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path)
    # Unknown suffix: try as a photo first (cheap to identify), then as a video.
    try:
        return ImageSource(path)
    except ImageError:
        pass
    try:
        return VideoSource(path, loop=loop)
    except SourceError:
        raise SourceError.because(path, "unreadable") from None
