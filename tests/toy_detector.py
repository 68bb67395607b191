"""A toy fourth detector kind, shared by the core and GUI registry tests (no Qt here)."""
from __future__ import annotations

from dataclasses import dataclass

from kise_desktop.core.detectors import DetectorKind
from kise_desktop.core.detectors.base import setting
from kise_desktop.core.types import Detection


# A toy fourth detector kind (used by tests/core/test_registry.py and the GUI tests): one box in the middle of the frame.
# Registered by the `fourth_kind` fixture, it must get a chooser entry and a form with no GUI code.
@dataclass(frozen=True)
class CentreSettings:
    fraction: float = setting(0.5, label={"en": "Box size", "ko": "상자 크기"}, minimum=0.1, maximum=1.0,
                              step=0.1, decimals=1)
    margin: int = setting(3, label={"en": "Margin", "ko": "여백"}, minimum=0, maximum=9, step=1)
    shape: str = setting("square", label={"en": "Shape", "ko": "모양"}, choices=("square", "wide"))
    mirrored: bool = setting(False, label={"en": "Mirrored", "ko": "좌우 반전"})


class CentreDetector:
    kind = "centre"

    def __init__(self, settings: CentreSettings) -> None:
        self.settings = settings

    def detect(self, frame):
        h, w = frame.shape[:2]
        side = int(min(h, w) * self.settings.fraction)
        return [Detection(((w - side) // 2, (h - side) // 2, side, side))]


CENTRE_KIND = DetectorKind(
    name="centre", display_name={"en": "Centre box (toy)", "ko": "가운데 상자 (장난감)"}, settings_class=CentreSettings,
    factory=CentreDetector, presets={"live": CentreSettings(0.5), "photo": CentreSettings(0.8, shape="wide")},
    summary={"en": "one box in the middle", "ko": "가운데 상자 하나"})
