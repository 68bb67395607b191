"""Draw faces, emotion labels and probabilities onto an image.

Boxes and bars are drawn with OpenCV (fast); text with Pillow and the bundled
NanumGothic font, because OpenCV's putText has no Hangul glyphs.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kise_desktop.core.types import FrameResult
from kise_desktop.emotions import EMOTIONS
from kise_desktop.paths import FONTS_DIR

FONT_FILE = FONTS_DIR / "NanumGothic.ttf"


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    """The bundled Korean font at `size` px, loaded once per size."""
    try:
        return ImageFont.truetype(str(FONT_FILE), size)
    except OSError:
        # A broken install should still draw (Latin only) rather than crash a live view.
        return ImageFont.load_default(size)


def _font_size(width: int, height: int) -> int:
    # ~1/40 of the short side: readable on a 640x480 frame (12 px) and on a 4000 px photo.
    return max(12, min(width, height) // 40)


def label_text(emotion_index: int, confidence: float, lang: str = "ko") -> str:
    return f"{EMOTIONS[emotion_index].name(lang)} {confidence * 100:.0f}%"


def draw_results(image_bgr: np.ndarray, result: FrameResult, lang: str = "ko",
                 draw_bars: bool = True, copy: bool = True) -> np.ndarray:
    """The image with each face's box, label and confidence (smoothed), and a probability bar.

    The bar under each box is split into the eight emotions' colours in
    proportion to their probabilities. `copy=False` draws in place.
    """
    out = image_bgr.copy() if copy else image_bgr
    if not result.faces:
        return out
    height, width = out.shape[:2]
    size = _font_size(width, height)
    thickness = max(1, size // 8)
    labels: list[tuple[tuple[int, int], str, tuple[int, int, int]]] = []
    text_font = font(size)

    for face in result.faces:
        x, y, w, h = face.box
        emotion = EMOTIONS[face.label_index]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), emotion.color_bgr, thickness, cv2.LINE_AA)
        if draw_bars:
            _draw_bar(out, face.smoothed, x, y + h + thickness, w, max(4, size // 3))
        text = label_text(face.label_index, face.confidence, lang)
        # Label above the box, or inside it at the top when the box touches the upper edge.
        text_y = y - size - 6 if y - size - 6 >= 0 else y + thickness
        labels.append(((x, text_y), text, emotion.color_rgb))

    # One round trip through Pillow for all labels of the frame, on the strip each label needs only.
    for (tx, ty), text, color in labels:
        left, top, right, bottom = text_font.getbbox(text)
        tw, th = right + 6, bottom + 6
        x0, y0 = max(0, min(tx, width - tw)), max(0, min(ty, height - th))
        x1, y1 = min(width, x0 + tw), min(height, y0 + th)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = Image.new("RGB", (x1 - x0, y1 - y0), color)
        ImageDraw.Draw(patch).text((3, 3 - top // 2), text, font=text_font, fill=_text_colour(color))
        out[y0:y1, x0:x1] = np.asarray(patch)[:, :, ::-1]
    return out


def _text_colour(background_rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = background_rgb
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def _draw_bar(out: np.ndarray, probs: np.ndarray, x: int, y: int, w: int, h: int) -> None:
    height, width = out.shape[:2]
    if y + h > height:          # no room below the box: draw it inside, along the bottom
        y = max(0, height - h)
    left = x
    total = float(probs.sum()) or 1.0
    for emotion, p in zip(EMOTIONS, probs):
        seg = int(round(w * float(p) / total))
        if seg > 0:
            cv2.rectangle(out, (left, y), (min(width - 1, left + seg - 1), min(height - 1, y + h - 1)),
                          emotion.color_bgr, -1)
            left += seg
