"""KISE's core, without Qt: find faces, read their emotions, follow them over frames, write results.

The handful of names a program needs, in one place::

    from kise_desktop import core

    pipeline = core.photo_pipeline()                  # the bundled model, YuNet, photo settings
    result = pipeline.analyze(core.load_image("group.jpg"))
    for face in result.faces:
        print(face.box, core.EMOTIONS[face.label_index].en, f"{face.confidence:.0%}")

For video or a camera, `core.live_pipeline()` follows each face and steadies
its label over time::

    pipeline = core.live_pipeline()
    with core.open_source("clip.mp4") as frames:     # or a camera index: open_source(0)
        for frame in frames:
            result = pipeline.analyze(frame.image_bgr, frame.timestamp)

The CLI (`kise_desktop.cli`), the app and the benchmarks use these same
names. They are imported on first use, so `import kise_desktop.core` stays
cheap (a batch worker or a test that needs one module loads only that).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

# public name -> the module that defines it
_EXPORTS = {
    "Pipeline": "kise_desktop.core.pipeline",
    "EmotionClassifier": "kise_desktop.core.classifier",
    "ModelError": "kise_desktop.core.classifier",
    "find_sidecar": "kise_desktop.core.classifier",
    "FaceResult": "kise_desktop.core.types",
    "FrameResult": "kise_desktop.core.types",
    "LabelSettings": "kise_desktop.core.labels",
    "LIVE_LABELS": "kise_desktop.core.labels",
    "kind_names": "kise_desktop.core.detectors",
    "preset": "kise_desktop.core.detectors",
    "DetectorError": "kise_desktop.core.detectors",
    "load_image": "kise_desktop.core.sources",
    "open_source": "kise_desktop.core.sources",
    "list_images": "kise_desktop.core.sources",
    "ImageError": "kise_desktop.core.sources",
    "SourceError": "kise_desktop.core.sources",
    "draw_results": "kise_desktop.core.render",
    "EMOTIONS": "kise_desktop.emotions",
    "BUNDLED_MODEL": "kise_desktop.paths",
}

__all__ = sorted([*_EXPORTS, "photo_pipeline", "live_pipeline"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value           # the next lookup does not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _pipeline(mode: str, detector: str, model: str | Path | None, smoothing: Any) -> Any:
    from kise_desktop.core.classifier import EmotionClassifier, find_sidecar
    from kise_desktop.core.detectors import preset
    from kise_desktop.core.pipeline import Pipeline
    from kise_desktop.paths import BUNDLED_MODEL

    model_path = Path(model) if model is not None else BUNDLED_MODEL
    return Pipeline(EmotionClassifier(model_path, find_sidecar(model_path)), preset(detector, mode), smoothing=smoothing)


def photo_pipeline(detector: str = "yunet", model: str | Path | None = None) -> Any:
    """A Pipeline for still photos: the detector's "photo" preset (finer, full size), no smoothing.
    `model`: a TFLite emotion model with its JSON sidecar beside it (default: the bundled one)."""
    return _pipeline("photo", detector, model, smoothing=0.0)


def live_pipeline(detector: str = "yunet", model: str | Path | None = None) -> Any:
    """A Pipeline for video and cameras: the detector's "live" preset and the app's steady labels."""
    from kise_desktop.core.labels import LIVE_LABELS

    return _pipeline("live", detector, model, smoothing=LIVE_LABELS)
