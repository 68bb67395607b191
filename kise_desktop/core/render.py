"""Draw faces, emotion labels and probabilities onto an image.

Boxes and bars are drawn with OpenCV (fast); text with Pillow and the bundled
NanumGothic font, because OpenCV's putText has no Hangul glyphs.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kise_desktop.core.types import FrameResult
from kise_desktop.emotions import EMOTIONS
from kise_desktop.paths import FONTS_DIR

FONT_FILE = FONTS_DIR / "NanumGothic.ttf"

Rect = tuple[float, float, float, float]          # x, y, width, height


def place_labels(candidates: Sequence[Sequence[Rect]], bounds: Rect, boxes: Sequence[Rect] = ()) -> list[Rect]:
    """One label rectangle per face, chosen so that the labels do not cover each other.

    `candidates[i]` lists face i's preferred label rectangles, best first (say
    above its box, then below it); `boxes[i]`, if given, is face i's box, which
    the other faces' labels keep off where they can. Each face in turn takes its
    first candidate that lies inside `bounds`, clear of the labels already
    placed and of the other faces; failing that, the first one clear of the
    labels. When none is (faces standing close together), its first candidate
    is moved up past the labels in its way, or down where there is no room
    above, so the labels stack instead of hiding each other. Shared by the core
    renderer and the GUI's overlay.
    """
    bx, by, bw, bh = bounds
    placed: list[Rect] = []

    def inside(r: Rect) -> Rect:
        x = min(max(r[0], bx), bx + bw - r[2])
        return (max(x, bx), r[1], r[2], r[3])

    def fits(r: Rect) -> bool:
        return by <= r[1] and r[1] + r[3] <= by + bh

    def hit(r: Rect, others: Sequence[Rect]) -> Rect | None:
        for q in others:
            if r[0] < q[0] + q[2] and q[0] < r[0] + r[2] and r[1] < q[1] + q[3] and q[1] < r[1] + r[3]:
                return q
        return None

    for i, options in enumerate(candidates):
        options = [inside(r) for r in options]
        other_faces = [b for j, b in enumerate(boxes) if j != i]
        chosen = next((r for r in options if fits(r) and hit(r, placed) is None and hit(r, other_faces) is None),
                      None)
        if chosen is None:
            chosen = next((r for r in options if fits(r) and hit(r, placed) is None), None)
        if chosen is None:
            base = next((r for r in options if fits(r)), options[0])
            for direction in (-1, 1):             # up first: labels sit above their boxes
                r = base
                for _ in range(len(placed) + 1):
                    q = hit(r, placed)
                    if q is None or not fits(r):
                        break
                    r = (r[0], q[1] - r[3] if direction < 0 else q[1] + q[3], r[2], r[3])
                if fits(r) and hit(r, placed) is None:
                    chosen = r
                    break
            if chosen is None:
                chosen = base                     # no free spot anywhere: overlap rather than vanish
        placed.append(chosen)
    return placed


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
    text_font = font(size)
    labels: list[tuple[str, tuple[int, int, int], int]] = []      # text, colour, glyph top offset
    spots: list[tuple[Rect, Rect]] = []
    boxes: list[Rect] = []

    for face in result.faces:
        x, y, w, h = face.box
        emotion = EMOTIONS[face.label_index]
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), emotion.color_bgr, thickness, cv2.LINE_AA)
        if draw_bars:
            _draw_bar(out, face.smoothed, x, y + h + thickness, w, max(4, size // 3))
        text = label_text(face.label_index, face.confidence, lang)
        _, top, right, bottom = text_font.getbbox(text)
        tw, th = right + 6, bottom + 6
        labels.append((text, emotion.color_rgb, top))
        # above the box, else inside it at the top when the box touches the upper edge
        spots.append(((x, y - th, tw, th), (x, y + thickness, tw, th)))
        boxes.append((x, y, w, h))

    # One round trip through Pillow per label, on the strip each label needs only.
    for (text, color, top), (tx, ty, tw, th) in zip(labels, place_labels(spots, (0, 0, width, height), boxes)):
        x0, y0 = max(0, int(round(tx))), max(0, int(round(ty)))
        x1, y1 = min(width, x0 + int(tw)), min(height, y0 + int(th))
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
