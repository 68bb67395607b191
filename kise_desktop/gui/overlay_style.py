"""How a face is drawn over the video so it reads on any background, and what its label says.

Each emotion colour alone vanishes somewhere: the grey of "neutral" on a
light wall, the blue of "sadness" on a dark one. So every box line gets a
halo of the opposite lightness (black round light colours, white round dark
ones) and every label sits on a plate of the emotion's colour with a halo
border and black or white text, whichever contrasts more. Whatever the
background, one of the two (the colour or its halo) stands out from it.

A face whose displayed emotion is not confident (`FaceResult.confident`) is
drawn muted: a dashed, greyed line and a "?" after the name, instead of a
confident-looking word. Labels start with the face number ("#3"), the one the
history plot's title names.

Everything here is built once (pens, colours): painting runs on every frame.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from kise_desktop.emotions import EMOTIONS

from .i18n import tr

MUTED_MIX = 0.55            # share of grey mixed into a non-confident face's colour
MUTED_GREY = (128, 128, 128)


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white)."""
    def channel(c: int) -> float:
        v = c / 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours, 1 (same) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def halo_for(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black round a light colour, white round a dark one (whichever contrasts more with it)."""
    return (0, 0, 0) if contrast_ratio(rgb, (0, 0, 0)) >= contrast_ratio(rgb, (255, 255, 255)) else (255, 255, 255)


def text_on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white text on a plate of this colour, whichever reads better."""
    return halo_for(rgb)


def muted(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(round(c * (1 - MUTED_MIX) + g * MUTED_MIX)) for c, g in zip(rgb, MUTED_GREY))  # type: ignore[return-value]


@dataclass(frozen=True)
class FaceStyle:
    """The pens and colours of one emotion in one state (confident or muted)."""
    rgb: tuple[int, int, int]
    line: QPen            # the box, in the emotion's colour
    line_selected: QPen   # thicker, for the face the history follows
    halo: QPen            # drawn first, wider: the box's contrasting edge
    halo_selected: QPen
    plate: QColor         # label background
    plate_border: QPen
    text: QColor


def _style(rgb: tuple[int, int, int], dashed: bool) -> FaceStyle:
    halo_rgb = halo_for(rgb)

    def pen(colour: tuple[int, int, int], width: float, alpha: int = 255) -> QPen:
        p = QPen(QColor(*colour, alpha), width)
        p.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if dashed:
            p.setStyle(Qt.PenStyle.DashLine)
        return p

    border = QPen(QColor(*halo_rgb), 1)
    return FaceStyle(rgb, pen(rgb, 2), pen(rgb, 4), pen(halo_rgb, 4, 200), pen(halo_rgb, 6, 220),
                     QColor(*rgb), border, QColor(*text_on(rgb)))


CONFIDENT_STYLES = [_style(e.color_rgb, dashed=False) for e in EMOTIONS]
MUTED_STYLES = [_style(muted(e.color_rgb), dashed=True) for e in EMOTIONS]


def style_of(face) -> FaceStyle:
    k = face.label_index
    return CONFIDENT_STYLES[k] if getattr(face, "confident", True) else MUTED_STYLES[k]


def face_label(face, lang: str) -> str:
    """'#3 Happiness 82%', or '#3 Happiness? 41%' when the label is not confident."""
    name = EMOTIONS[face.label_index].name(lang)
    if not getattr(face, "confident", True):
        name += tr("uncertain", lang)
    return f"#{face.track_id} {name} {face.confidence * 100:.0f}%"
