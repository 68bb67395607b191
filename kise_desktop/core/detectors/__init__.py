"""Face detectors behind one interface, one registry of kinds: Haar (OpenCV), HOG (dlib), YuNet (OpenCV DNN).

    detector = make_detector(preset("yunet", "live"))
    for d in detector.detect(frame_bgr):      # Detection(box, score, landmarks), frame pixels
        ...

Each kind lives in its own module, which registers its settings class,
factory, presets and name (see registry.py); importing this package
registers the built-in ones.
"""
from kise_desktop.core.detectors.base import (DETECT_WIDTHS, Detector, DetectorError, FrameImages,  # noqa: F401
                                              as_frame_images)
from kise_desktop.core.detectors.registry import (PRESET_NAMES, DetectorKind, all_presets, check_settings,  # noqa: F401
                                                  describe, ensure_registered, get_kind, kind_names, kind_of, kinds,
                                                  make_detector, opencv_threads_for, preset, register, same_kind,
                                                  settings_from_dict, settings_to_dict, unregister)
from kise_desktop.core.detectors import haar, hog, yunet  # noqa: F401,E402  (registers the built-in kinds)
from kise_desktop.core.detectors.settings_model import MODES, DetectorSettingsModel  # noqa: F401,E402
from kise_desktop.core.detectors.haar import HaarDetector, HaarSettings  # noqa: F401,E402
from kise_desktop.core.detectors.hog import HogDetector, HogSettings  # noqa: F401,E402
from kise_desktop.core.detectors.yunet import YuNetDetector, YuNetSettings  # noqa: F401,E402
