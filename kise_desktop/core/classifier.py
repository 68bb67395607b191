"""Emotion classifier: a TFLite model plus its JSON sidecar.

The sidecar says how to feed the model and how to read it, so the bundled
8-class model and the seed's 7-class model run through the same code:

    {"name": str,
     "labels": [emotion keys in output order],
     "input": {"shape": [1, 48, 48, 1], "dtype": "float32", "color": "gray"},
     "normalization": {"scale": float, "offset": float},   # input = pixel*scale + offset
     "crop_margin": float,                                  # fraction of the box added on each side
     "output": "probabilities" | "logits"                   # optional, default probabilities
     "restore": {"dark_below": float, "noise_above": float} # optional, core/restore.py
     "mirror": "auto" | "on" | "off"                        # optional, default off: see MIRROR_MODES
     ... informational keys (metrics, sha256, training_data) ...}

`predict` always answers in the eight emotions of `kise_desktop.emotions`;
labels a model lacks (contempt for the seed) get probability 0.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from kise_desktop.core.restore import Restoration
from kise_desktop.emotions import NUM_EMOTIONS, emotion_index


# Test-time mirror averaging: each face and its mirror image go through the model in one batch and the
# two readings are averaged (+0.9 points of FER+ validation accuracy for the bundled model, at twice the
# cost). "auto" mirrors only where the CPU has an int8 dot product (AVX-512 VNNI, AVX-VNNI, ARM dotprod):
# there the two passes take about 0.5 ms a face, while an AVX2-only EPYC measured 1.38 ms for them
# against 0.70 ms for one (resources/models/MODEL_CARD.md, "Latency on an AVX2-only CPU"). Without
# /proc/cpuinfo (Windows) the dot product cannot be seen, so "auto" reads once there: the safe side of 1 ms.
MIRROR_MODES = ("auto", "on", "off")


def mirror_wanted(mode: str, cpu: dict | None = None) -> bool:
    """Whether a classifier in this mirror mode averages with the mirror image on this CPU."""
    if mode == "auto":
        from kise_desktop.core.machine import cpu_description

        return bool((cpu or cpu_description())["int8_dot"])
    return mode == "on"


class ModelError(Exception):
    """The model or its sidecar is missing or unusable; the message names the file."""


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide what the TFLite runtime prints from C++ ("INFO: Created TensorFlow Lite XNNPACK
    delegate") so that a command's stderr holds only KISE's own lines; our errors say enough."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):       # no real stderr (e.g. a GUI without a console)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_sidecar(data: Any, path: Path) -> dict[str, Any]:
    """The sidecar if it fits the schema in this module's doc; else ModelError naming the file and the field."""
    def bad(field: str, why: str) -> ModelError:
        return ModelError(f"{path}: field '{field}' {why}")

    if not isinstance(data, dict):
        raise ModelError(f"{path}: sidecar must be a JSON object")
    for key in ("labels", "normalization"):
        if key not in data:
            raise ModelError(f"{path}: sidecar lacks the key '{key}'")
    if "name" in data and not isinstance(data["name"], str):
        raise bad("name", f"must be text, not {json.dumps(data['name'])[:40]}")
    labels = data["labels"]
    if not isinstance(labels, list) or not all(isinstance(k, str) for k in labels):
        raise bad("labels", f"must be a list of emotion names, not {json.dumps(labels)[:60]}")
    if len(labels) < 2:
        raise bad("labels", f"needs at least two emotions, has {len(labels)}")
    unknown = [k for k in labels if not _known_emotion(k)]
    if unknown:
        raise bad("labels", f"has unknown emotion(s) {', '.join(map(repr, unknown))}")
    indices = [emotion_index(k) for k in labels]
    repeated = sorted({k for k, i in zip(labels, indices) if indices.count(i) > 1})
    if repeated:
        raise bad("labels", f"names the same emotion more than once ({', '.join(map(repr, repeated))})")
    norm = data["normalization"]
    if not isinstance(norm, dict):
        raise bad("normalization", "must be an object with numeric 'scale' and 'offset'")
    for key in ("scale", "offset"):
        if not _is_number(norm.get(key)):
            raise bad(f"normalization.{key}", f"must be a finite number, not {json.dumps(norm.get(key))[:40]}")
    if not 0 < abs(norm["scale"]) <= 1000:
        raise bad("normalization.scale", f"must be non-zero and at most 1000 in size, not {norm['scale']}")
    if abs(norm["offset"]) > 1000:
        raise bad("normalization.offset", f"must be within [-1000, 1000], not {norm['offset']}")
    if "crop_margin" in data:
        margin = data["crop_margin"]
        if not _is_number(margin) or not 0.0 <= margin <= 1.0:
            raise bad("crop_margin", f"must be a number in [0, 1] (a fraction of the box), not {json.dumps(margin)[:40]}")
    if data.get("output", "probabilities") not in ("probabilities", "logits"):
        raise bad("output", f"must be 'probabilities' or 'logits', not {json.dumps(data['output'])[:40]}")
    if data.get("mirror", "off") not in MIRROR_MODES:
        raise bad("mirror", f"must be one of {', '.join(MIRROR_MODES)}, not {json.dumps(data['mirror'])[:40]}")
    if "input" in data and not isinstance(data["input"], dict):
        raise bad("input", "must be an object (shape, dtype, color)")
    if "restore" in data:
        restore = data["restore"]
        if not isinstance(restore, dict):
            raise bad("restore", "must be an object with 'dark_below' and/or 'noise_above'")
        limits = {"dark_below": 255.0, "noise_above": 128.0}
        for key, value in restore.items():
            if key not in limits:
                raise bad(f"restore.{key}", "is not a restoration setting (dark_below, noise_above)")
            if not (value is None or _is_number(value) and 0.0 <= value <= limits[key]):
                raise bad(f"restore.{key}", f"must be a grey level in [0, {limits[key]:g}] or null, "
                                            f"not {json.dumps(value)[:40]}")
    return data


def _known_emotion(key: str) -> bool:
    try:
        emotion_index(key)
    except KeyError:
        return False
    return True


def find_sidecar(model_path: str | Path) -> Path | None:
    """The JSON beside the model, else one of the same name in the repo's training/anchors (the seed's
    sidecar lives there: the seed model itself is not ours to ship). None: no sidecar found."""
    from kise_desktop.paths import REPO_DIR

    model_path = Path(model_path)
    for candidate in (model_path.with_suffix(".json"), REPO_DIR / "training" / "anchors" / f"{model_path.stem}.json"):
        if candidate.is_file():
            return candidate
    return None


def _read_sidecar(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelError(f"{path}: model sidecar (JSON) not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a readable JSON sidecar ({exc})") from None
    return validate_sidecar(data, path)


class EmotionClassifier:
    """Classifies grayscale face crops into the eight emotions.

    The interpreter is created once. All faces of a frame go through one
    `invoke`: the input tensor is resized only when the face count changes
    (re-allocating costs ~0.1 ms, less than one invoke per face saved).
    An interpreter is not thread-safe: use one classifier per thread.
    """

    def __init__(self, model_path: str | Path, sidecar_path: str | Path | None = None,
                 num_threads: int = 1, mirror: str | None = None) -> None:
        self.model_path = Path(model_path)
        self.sidecar_path = Path(sidecar_path) if sidecar_path else self.model_path.with_suffix(".json")
        if not self.model_path.is_file():
            raise ModelError(f"{self.model_path}: model file not found")
        if self.model_path.stat().st_size == 0:
            raise ModelError(f"{self.model_path}: empty model file")
        self.num_threads = num_threads

        from ai_edge_litert.interpreter import Interpreter  # heavy import, only when a model is loaded

        try:
            with _native_stderr_silenced():
                self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=num_threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.model_path}: not a usable TFLite model ({first_line})") from None

        # The model first, then its sidecar: a broken model is the more useful thing to hear about.
        self.sidecar: dict[str, Any] = _read_sidecar(self.sidecar_path)
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        self._input_index = int(inp["index"])
        self._output_index = int(out["index"])
        shape = [int(v) for v in inp["shape"]]
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise ModelError(f"{self.model_path}: expected an NHWC image input with 1 or 3 channels, got {shape}")
        self._height, self._width, self._channels = shape[1], shape[2], shape[3]
        self._input_dtype = np.dtype(inp["dtype"])
        if self._input_dtype not in (np.float32, np.int8, np.uint8):
            raise ModelError(f"{self.model_path}: unsupported input type {self._input_dtype}")
        self._output_dtype = np.dtype(out["dtype"])
        self._output_quant = tuple(out["quantization"])  # (scale, zero_point); (0, 0) = float

        self.labels: tuple[str, ...] = tuple(self.sidecar["labels"])
        n_out = int(out["shape"][-1])
        if n_out != len(self.labels):
            raise ModelError(f"{self.sidecar_path}: lists {len(self.labels)} labels but "
                             f"{self.model_path.name} outputs {n_out}")
        try:
            self._columns = np.array([emotion_index(k) for k in self.labels], dtype=np.intp)
        except KeyError as exc:
            raise ModelError(f"{self.sidecar_path}: unknown emotion label {exc}") from None
        self._logits = self.sidecar.get("output", "probabilities") == "logits"

        norm = self.sidecar["normalization"]
        try:
            scale, offset = float(norm["scale"]), float(norm["offset"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{self.sidecar_path}: 'normalization' needs numeric 'scale' and 'offset'") from None
        self._lut = self._pixel_lut(scale, offset, tuple(inp["quantization"]))
        self.crop_margin: float = float(self.sidecar.get("crop_margin", 0.0))
        self.restore = Restoration.from_sidecar(self.sidecar.get("restore"))
        if mirror is not None and mirror not in MIRROR_MODES:
            raise ValueError(f"mirror must be one of {MIRROR_MODES}, not {mirror!r}")
        self.mirror_mode: str = mirror or self.sidecar.get("mirror", "off")
        self.mirror: bool = mirror_wanted(self.mirror_mode)

        self._batch = 1
        self._input = np.empty((1, self._height, self._width, self._channels), dtype=self._input_dtype)
        self._out8 = np.zeros((0, NUM_EMOTIONS), dtype=np.float32)
        self._batching = self._probe_batching()

    # -- public ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.sidecar.get("name", self.model_path.stem))

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the face crops the model takes."""
        return self._width, self._height

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """(N, H, W) uint8 grayscale crops at `input_size` -> (N, 8) float32 probabilities."""
        if faces.ndim != 3 or faces.shape[1:] != (self._height, self._width):
            raise ValueError(f"predict() wants (N, {self._height}, {self._width}) crops, got {faces.shape}")
        n = faces.shape[0]
        if n == 0:
            return np.zeros((0, NUM_EMOTIONS), dtype=np.float32)
        faces = self.restore(faces)
        if self._batching:
            raw = self._run(faces, self.mirror)
        else:
            views = [faces, faces[:, :, ::-1]] if self.mirror else [faces]
            raw = np.concatenate([self._run(view[i:i + 1]) for view in views for i in range(n)])
        probs = self._to_probabilities(raw)
        if self.mirror:                                   # rows n.. are the mirror images
            probs = 0.5 * (probs[:n] + probs[n:])
        result = np.zeros((n, NUM_EMOTIONS), dtype=np.float32)
        result[:, self._columns] = probs
        return result

    # -- internals -------------------------------------------------------------

    def _pixel_lut(self, scale: float, offset: float, quant: tuple[float, int]) -> np.ndarray:
        """Model input for each of the 256 pixel values: normalising becomes one table look-up."""
        values = np.arange(256, dtype=np.float64) * scale + offset
        if self._input_dtype == np.float32:
            return values.astype(np.float32)
        q_scale, q_zero = float(quant[0]), int(quant[1])
        if q_scale == 0.0:
            raise ModelError(f"{self.model_path}: quantized input without a scale")
        info = np.iinfo(self._input_dtype)
        return np.clip(np.round(values / q_scale + q_zero), info.min, info.max).astype(self._input_dtype)

    def _resize(self, n: int) -> None:
        if n == self._batch:
            return
        self._interpreter.resize_tensor_input(self._input_index, [n, self._height, self._width, self._channels])
        self._interpreter.allocate_tensors()
        self._input = np.empty((n, self._height, self._width, self._channels), dtype=self._input_dtype)
        self._batch = n

    def _run(self, faces: np.ndarray, mirror: bool = False) -> np.ndarray:
        n = faces.shape[0]
        self._resize(2 * n if mirror else n)
        # Look-up table normalises (and quantizes) straight into the reused input buffer;
        # a 3-channel model gets the gray value in every channel.
        np.take(self._lut, faces, out=self._input[:n, ..., 0])
        if mirror:
            self._input[n:, ..., 0] = self._input[:n, :, ::-1, 0]
        if self._channels == 3:
            self._input[..., 1] = self._input[..., 0]
            self._input[..., 2] = self._input[..., 0]
        self._interpreter.set_tensor(self._input_index, self._input)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output_index).reshape(self._batch, -1)

    def _to_probabilities(self, raw: np.ndarray) -> np.ndarray:
        out = raw.astype(np.float32)
        scale, zero = self._output_quant
        if self._output_dtype != np.float32 and scale:
            out = (out - float(zero)) * float(scale)
        if self._logits:
            out = np.exp(out - out.max(axis=1, keepdims=True))
        # int8 outputs come in steps of ~1/256, so their sum drifts from 1 by up to ~2%: renormalise.
        np.maximum(out, 0.0, out=out)
        out /= np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
        return out

    def _probe_batching(self) -> bool:
        """Whether the model accepts a batch of two (models with a batch-1 reshape baked in do not)."""
        probe = np.full((2, self._height, self._width), 128, dtype=np.uint8)
        try:
            batched = self._run(probe)
            single = self._run(probe[:1])
            ok = batched.shape[0] == 2 and np.allclose(batched[0], single[0], atol=1e-4)
        except (ValueError, RuntimeError):
            ok = False
        if not ok:
            self._interpreter.resize_tensor_input(self._input_index, [1, self._height, self._width, self._channels])
            self._interpreter.allocate_tensors()
            self._input = np.empty((1, self._height, self._width, self._channels), dtype=self._input_dtype)
            self._batch = 1
        return ok
