"""The only module of the GUI that imports the Qt-free core.

The GUI calls the core's public API and nothing else: sources, the pipeline,
the classifier and the renderer. Keeping the imports here makes the boundary
easy to see (and to adapt if a core name changes).
"""
from __future__ import annotations

from kise_desktop.core.classifier import EmotionClassifier, ModelError  # noqa: F401
from kise_desktop.core.pipeline import Pipeline  # noqa: F401
from kise_desktop.core.render import draw_results  # noqa: F401
from kise_desktop.core.sources import (IMAGE_SUFFIXES, Frame, ImageError, SourceError, list_images,  # noqa: F401
                                      load_image, open_source)
from kise_desktop.core.types import FaceResult, FrameResult, HaarSettings, HogSettings  # noqa: F401

try:  # presets live in core/presets.py or core/pipeline.py
    from kise_desktop.core import presets as _presets
except ImportError:  # pragma: no cover - depends on where the core put them
    from kise_desktop.core import pipeline as _presets

LIVE_HAAR: HaarSettings = _presets.LIVE_HAAR
LIVE_HOG: HogSettings = _presets.LIVE_HOG
PHOTO_HAAR: HaarSettings = _presets.PHOTO_HAAR
PHOTO_HOG: HogSettings = _presets.PHOTO_HOG
