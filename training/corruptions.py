"""What a laptop camera does to a face, as deterministic NumPy/OpenCV corruptions.

Two layers:
  * parametric functions on one 48x48 uint8 face (`gaussian_blur(face, sigma)`,
    ...), shared by the robustness benchmark and by training augmentation
    (training/augment.py draws their parameters at random);
  * `corrupt(faces, name, severity, seed)`: a named corruption at severity
    1..3 over a batch, as the benchmark scores it. Each image's random draws
    (motion direction, noise pattern, which side is lit, rotation sign, box
    shift) depend only on (seed, corruption, image index), never on the
    severity, so a stronger severity moves the same image further in the
    same direction.

Geometry uses BORDER_REPLICATE: a FER+ face has no context around it, and a
replicated edge is closer to "more of the frame" than a black border.
"""
from __future__ import annotations

import cv2
import numpy as np

SIZE = 48
_CENTRE = (SIZE - 1) / 2.0

# Benchmark parameters per severity (1 = mild, 3 = strong). The units are
# those of the functions below, for a 48x48 face.
SEVERITIES: dict[str, tuple] = {
    "gaussian_blur": (0.6, 1.0, 1.5),      # sigma, px (a defocused or upscaled small face)
    "motion_blur": (3, 5, 7),              # streak length, px, random direction
    "sensor_noise": (6.0, 12.0, 20.0),     # std of Gaussian noise, grey levels (dim-room gain)
    "jpeg": (40, 20, 10),                  # JPEG quality (webcam stream / video call compression)
    "low_light": (0.6, 0.4, 0.25),         # exposure gain, with gamma 1 + 4/3 (1 - gain)
    "side_light": (0.35, 0.55, 0.75),      # darkening of the unlit side (one window, one lamp)
    "rotation": (5.0, 10.0, 15.0),         # head tilt, degrees, random sign
    "box_jitter": (0.04, 0.08, 0.12),      # detector box shift and scale, fraction of the side
}
CORRUPTIONS: tuple[str, ...] = tuple(SEVERITIES)
LEVELS = (1, 2, 3)


# ------------------------------------------------------- one-face functions ----
def gaussian_blur(face: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return face
    return cv2.GaussianBlur(face, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REPLICATE)


def motion_blur(face: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """A straight streak of `length` px at `angle_deg` (a head or a hand-held laptop moving)."""
    if length <= 1:
        return face
    k = int(np.ceil(length)) | 1                     # odd kernel side
    kernel = np.zeros((k, k), np.float32)
    half = (length - 1) / 2.0
    c = (k - 1) / 2.0
    dx, dy = np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))
    for t in np.linspace(-half, half, max(2, int(round(length)) * 2)):
        kernel[int(round(c + t * dy)), int(round(c + t * dx))] = 1.0
    kernel /= kernel.sum()
    return cv2.filter2D(face, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def sensor_noise(face: np.ndarray, std: float, unit_noise: np.ndarray) -> np.ndarray:
    """Additive noise: `unit_noise` is a standard-normal 48x48 draw, scaled by `std` grey levels."""
    return np.clip(face.astype(np.float32) + std * unit_noise, 0, 255).round().astype(np.uint8)


def jpeg(face: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok, "OpenCV could not JPEG-encode a 48x48 face"
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def low_light(face: np.ndarray, gain: float) -> np.ndarray:
    """An under-exposed frame: scaled down by `gain`, shadows crushed by a gamma > 1, re-quantised."""
    gamma = 1.0 + 4.0 / 3.0 * (1.0 - gain)
    x = (face.astype(np.float32) / 255.0 * gain) ** gamma
    return np.clip(x * 255.0, 0, 255).round().astype(np.uint8)


def side_light(face: np.ndarray, depth: float, from_left: bool) -> np.ndarray:
    """Light from one side: brightness falls linearly across the face to (1 - depth)."""
    ramp = np.linspace(1.0, 1.0 - depth, SIZE, dtype=np.float32)
    if not from_left:
        ramp = ramp[::-1]
    return np.clip(face.astype(np.float32) * ramp[None, :], 0, 255).round().astype(np.uint8)


def affine(face: np.ndarray, angle_deg: float = 0.0, scale: float = 1.0, dx: float = 0.0,
           dy: float = 0.0) -> np.ndarray:
    """Rotate/scale about the centre and shift by (dx, dy) px, replicated borders."""
    matrix = cv2.getRotationMatrix2D((_CENTRE, _CENTRE), float(angle_deg), float(scale))
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(np.ascontiguousarray(face), matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


# -------------------------------------------------- the benchmark's corruptions ----
def _draws(name: str, n: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, CORRUPTIONS.index(name), n])


def corrupt(faces: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """`faces` (N, 48, 48) uint8 under corruption `name` at `severity` (1..3); a new array."""
    if name not in SEVERITIES:
        raise ValueError(f"unknown corruption {name!r}; choose from {', '.join(CORRUPTIONS)}")
    if severity not in LEVELS:
        raise ValueError(f"severity must be one of {LEVELS}, not {severity!r}")
    faces = np.ascontiguousarray(faces, dtype=np.uint8)
    n = len(faces)
    level = SEVERITIES[name][severity - 1]
    rng = _draws(name, n, seed)
    out = np.empty_like(faces)
    if name == "gaussian_blur":
        for i in range(n):
            out[i] = gaussian_blur(faces[i], level)
    elif name == "motion_blur":
        angles = rng.uniform(0.0, 180.0, n)
        for i in range(n):
            out[i] = motion_blur(faces[i], level, angles[i])
    elif name == "sensor_noise":
        noise = rng.standard_normal((n, SIZE, SIZE)).astype(np.float32)
        for i in range(n):
            out[i] = sensor_noise(faces[i], level, noise[i])
    elif name == "jpeg":
        for i in range(n):
            out[i] = jpeg(faces[i], level)
    elif name == "low_light":
        for i in range(n):
            out[i] = low_light(faces[i], level)
    elif name == "side_light":
        left = rng.random(n) < 0.5
        for i in range(n):
            out[i] = side_light(faces[i], level, bool(left[i]))
    elif name == "rotation":
        signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        for i in range(n):
            out[i] = affine(faces[i], angle_deg=signs[i] * level)
    elif name == "box_jitter":
        # A detector's box: off-centre by up to `level` of the side on each axis and
        # up to `level` larger or smaller; the direction is the image's own, the size the severity's.
        u = rng.uniform(-1.0, 1.0, (n, 3))
        for i in range(n):
            out[i] = affine(faces[i], scale=1.0 + level * u[i, 2], dx=level * SIZE * u[i, 0],
                            dy=level * SIZE * u[i, 1])
    return out
