"""The only module of the GUI that imports the Qt-free core.

The GUI calls the core's public API and nothing else: sources, the pipeline,
the classifier, the detector registry and the renderer. Keeping the imports
here makes the boundary easy to see (and to adapt if a core name changes).
"""
from __future__ import annotations

from kise_desktop.core.classifier import EmotionClassifier, ModelError, find_sidecar  # noqa: F401
from kise_desktop.core.detectors import (DETECT_WIDTHS, MODES, DetectorError, DetectorSettingsModel,  # noqa: F401
                                         get_kind, kind_names, kind_of, kinds, opencv_threads_for, preset,
                                         settings_from_dict, settings_to_dict)
from kise_desktop.core.pipeline import DETECT_RATE_CHOICES, LIVE_DETECT_RATE, Pipeline  # noqa: F401
from kise_desktop.core.labels import LIVE_LABELS  # noqa: F401
from kise_desktop.core.report import ReportCollector, ReportError, settings_text, write_report  # noqa: F401
from kise_desktop.core.render import draw_results, label_text, place_labels  # noqa: F401
from kise_desktop.core.sources import (IMAGE_SUFFIXES, Frame, ImageError, SourceError, camera_name,  # noqa: F401
                                      list_cameras, list_images, load_image, open_source)
from kise_desktop.core.types import FaceResult, FrameResult  # noqa: F401


def detector_name(kind: str, lang: str, short: bool = False) -> str:
    """A detector kind's display name; `short` drops the parenthesised origin ("YuNet (OpenCV DNN)" -> "YuNet")."""
    name = get_kind(kind).name_in(lang)
    return name.split(" (")[0] if short else name
