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

from kise_desktop.core.errors import ReasonedError
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


# Why a model or its sidecar cannot be used, by reason key: the English words (the CLI's).
# The GUI has the same keys in Korean (gui/i18n.py), as for sources.REASONS.
MODEL_REASONS: dict[str, str] = {
    "model_missing": "model file not found",
    "bundled_missing": "the bundled model is missing; pass --model FILE",
    "model_empty": "empty model file",
    "model_unusable": "not a usable TFLite model ({error})",
    "model_input_shape": "expected an NHWC image input with 1 or 3 channels, got {shape}",
    "model_input_type": "unsupported input type {dtype}",
    "model_no_input_scale": "quantized input without a scale",
    "sidecar_missing": "model sidecar (JSON) not found",
    "sidecar_unreadable": "not a readable JSON sidecar ({error})",
    "sidecar_not_object": "sidecar must be a JSON object",
    "sidecar_lacks_key": "sidecar lacks the key '{key}'",
    "sidecar_label_count": "lists {labels} labels but {model} outputs {outputs}",
    "field_not_text": "field '{field}' must be text, not {value}",
    "field_not_emotions": "field '{field}' must be a list of emotion names, not {value}",
    "field_too_few": "field '{field}' needs at least two emotions, has {count}",
    "field_unknown_emotions": "field '{field}' has unknown emotion(s) {names}",
    "field_repeated": "field '{field}' names the same emotion more than once ({names})",
    "field_not_normalization": "field '{field}' must be an object with numeric 'scale' and 'offset'",
    "field_not_finite": "field '{field}' must be a finite number, not {value}",
    "field_scale_range": "field '{field}' must be non-zero and at most 1000 in size, not {value}",
    "field_offset_range": "field '{field}' must be within [-1000, 1000], not {value}",
    "field_margin": "field '{field}' must be a number in [0, 1] (a fraction of the box), not {value}",
    "field_one_of": "field '{field}' must be one of {choices}, not {value}",
    "field_not_input": "field '{field}' must be an object (shape, dtype, color)",
    "field_not_restore": "field '{field}' must be an object with 'dark_below' and/or 'noise_above'",
    "field_not_restore_key": "field '{field}' is not a restoration setting (dark_below, noise_above)",
    "field_grey_level": "field '{field}' must be a grey level in [0, {limit}] or null, not {value}",
}


class ModelError(ReasonedError):
    """The model or its sidecar is missing or unusable; the message names the file.

    Raised with `because(path, reason, **values)`, a reason key of MODEL_REASONS.
    """

    REASONS = MODEL_REASONS


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
    def bad(field: str, reason: str, **values: object) -> ModelError:
        return ModelError.because(path, reason, field=field, **values)

    def shown(value: Any, width: int = 40) -> str:        # a user's value, as JSON, kept short
        return json.dumps(value)[:width]

    if not isinstance(data, dict):
        raise ModelError.because(path, "sidecar_not_object")
    for key in ("labels", "normalization"):
        if key not in data:
            raise ModelError.because(path, "sidecar_lacks_key", key=key)
    if "name" in data and not isinstance(data["name"], str):
        raise bad("name", "field_not_text", value=shown(data["name"]))
    labels = data["labels"]
    if not isinstance(labels, list) or not all(isinstance(k, str) for k in labels):
        raise bad("labels", "field_not_emotions", value=shown(labels, 60))
    if len(labels) < 2:
        raise bad("labels", "field_too_few", count=len(labels))
    unknown = [k for k in labels if not _known_emotion(k)]
    if unknown:
        raise bad("labels", "field_unknown_emotions", names=", ".join(map(repr, unknown)))
    indices = [emotion_index(k) for k in labels]
    repeated = sorted({k for k, i in zip(labels, indices) if indices.count(i) > 1})
    if repeated:
        raise bad("labels", "field_repeated", names=", ".join(map(repr, repeated)))
    norm = data["normalization"]
    if not isinstance(norm, dict):
        raise bad("normalization", "field_not_normalization")
    for key in ("scale", "offset"):
        if not _is_number(norm.get(key)):
            raise bad(f"normalization.{key}", "field_not_finite", value=shown(norm.get(key)))
    if not 0 < abs(norm["scale"]) <= 1000:
        raise bad("normalization.scale", "field_scale_range", value=norm["scale"])
    if abs(norm["offset"]) > 1000:
        raise bad("normalization.offset", "field_offset_range", value=norm["offset"])
    if "crop_margin" in data:
        margin = data["crop_margin"]
        if not _is_number(margin) or not 0.0 <= margin <= 1.0:
            raise bad("crop_margin", "field_margin", value=shown(margin))
    if data.get("output", "probabilities") not in ("probabilities", "logits"):
        raise bad("output", "field_one_of", choices="probabilities, logits", value=shown(data["output"]))
    if data.get("mirror", "off") not in MIRROR_MODES:
        raise bad("mirror", "field_one_of", choices=", ".join(MIRROR_MODES), value=shown(data["mirror"]))
    if "input" in data and not isinstance(data["input"], dict):
        raise bad("input", "field_not_input")
    if "restore" in data:
        restore = data["restore"]
        if not isinstance(restore, dict):
            raise bad("restore", "field_not_restore")
        limits = {"dark_below": 255.0, "noise_above": 128.0}
        for key, value in restore.items():
            if key not in limits:
                raise bad(f"restore.{key}", "field_not_restore_key")
            if not (value is None or _is_number(value) and 0.0 <= value <= limits[key]):
                raise bad(f"restore.{key}", "field_grey_level", limit=f"{limits[key]:g}", value=shown(value))
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
        raise ModelError.because(path, "sidecar_missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError.because(path, "sidecar_unreadable", error=exc) from None
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
            raise ModelError.because(self.model_path, "model_missing")
        if self.model_path.stat().st_size == 0:
            raise ModelError.because(self.model_path, "model_empty")
        self.num_threads = num_threads

        from ai_edge_litert.interpreter import Interpreter  # heavy import, only when a model is loaded

        try:
            with _native_stderr_silenced():
                self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=num_threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError.because(self.model_path, "model_unusable", error=first_line) from None

        # The model first, then its sidecar: a broken model is the more useful thing to hear about.
        self.sidecar: dict[str, Any] = _read_sidecar(self.sidecar_path)
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        self._input_index = int(inp["index"])
        self._output_index = int(out["index"])
        shape = [int(v) for v in inp["shape"]]
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise ModelError.because(self.model_path, "model_input_shape", shape=shape)
        self._height, self._width, self._channels = shape[1], shape[2], shape[3]
        self._input_dtype = np.dtype(inp["dtype"])
        if self._input_dtype not in (np.float32, np.int8, np.uint8):
            raise ModelError.because(self.model_path, "model_input_type", dtype=self._input_dtype)
        self._output_dtype = np.dtype(out["dtype"])
        self._output_quant = tuple(out["quantization"])  # (scale, zero_point); (0, 0) = float

        self.labels: tuple[str, ...] = tuple(self.sidecar["labels"])
        n_out = int(out["shape"][-1])
        if n_out != len(self.labels):
            raise ModelError.because(self.sidecar_path, "sidecar_label_count", labels=len(self.labels),
                                     model=self.model_path.name, outputs=n_out)
        # validate_sidecar has checked the labels and the normalization: known emotions, numbers
        self._columns = np.array([emotion_index(k) for k in self.labels], dtype=np.intp)
        self._logits = self.sidecar.get("output", "probabilities") == "logits"

        norm = self.sidecar["normalization"]
        scale, offset = float(norm["scale"]), float(norm["offset"])
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
            raise ModelError.because(self.model_path, "model_no_input_scale")
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
