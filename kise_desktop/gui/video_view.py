"""The live view: the frame(s) with boxes, labels and a probability bar per face.

Overlays are painted with QPainter at display resolution on the GUI thread
(crisp at any window size, Hangul through the bundled font, and the worker
thread's time stays with the pipeline). Files saved to disk use the core
renderer instead (`core.render.draw_results`), like the CLI.
In compare mode there is one panel per detector, in the grid that shows the
frames largest (two side by side; three as 2 + 1 or in a row, whichever fits
the view better), each with a caption giving its face count and detection
time. Each panel's track ids are its own: a click names the panel's detector
and the track id, and only that panel marks the face as selected.
Where the detector gives landmarks (YuNet), the five points are drawn as dots.
"""
from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QRegion
from PySide6.QtWidgets import QSizePolicy, QWidget

from kise_desktop.emotions import EMOTIONS

from .core_api import detector_name, place_labels
from .i18n import tr
from .overlay_style import face_label, style_of

CAPTION_H = 24.0
CAPTION_PT = 10.5       # compare mode: each panel's caption
PANEL_GAP = 6.0
LANDMARKS_MIN_FACE_PX = 40.0     # displayed face width below which landmarks are not drawn


def _qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


# Built once: painting runs on the GUI thread for every frame, and each Qt object made
# there is Python work that the worker thread waits for (the GIL).
_EMOTION_COLORS = [_qcolor(e.color_rgb) for e in EMOTIONS]
_EMOTION_PENS = {width: [QPen(c, width) for c in _EMOTION_COLORS] for width in (2, 3)}
_LABEL_TEXT_COLORS = [QColor(0, 0, 0) if sum(e.color_rgb) > 400 else QColor(255, 255, 255) for e in EMOTIONS]
_SELECTED_PEN = QPen(QColor(255, 255, 255), 5)
LANDMARK_RGB = (80, 230, 255)      # (scripts/gui_screenshots.sh keeps it exact in its palette)
_LANDMARK_FILL = _qcolor(LANDMARK_RGB)
_LANDMARK_EDGE = QPen(QColor(0, 0, 0, 150), 0.8)
_BAR_BACKGROUND = QColor(0, 0, 0, 160)
_VIEW_BACKGROUND = QColor(24, 24, 28)
_WHITE = QColor(255, 255, 255)
_NOTICE_BACKGROUND = QColor(192, 57, 43, 220)


def panel_grid(width: float, height: float, panels: int, frame: tuple[int, int] = (4, 3)) -> tuple[int, int]:
    """(rows, columns) that show `panels` frames of this aspect largest in a view of this size."""
    if panels <= 1:
        return 1, 1
    best, best_scale = (1, panels), -1.0
    for rows in range(1, panels + 1):
        cols = math.ceil(panels / rows)
        if (rows - 1) * cols >= panels:       # an empty row: never better than one row fewer
            continue
        cell_w = (width - PANEL_GAP * (cols - 1)) / cols
        cell_h = (height - PANEL_GAP * (rows - 1)) / rows - CAPTION_H
        scale = min(cell_w / frame[0], cell_h / frame[1])
        if scale > best_scale + 1e-9:
            best, best_scale = (rows, cols), scale
    return best


def panel_box(width: int, height: int, panels: int, frame: tuple[int, int] = (4, 3)) -> tuple[int, int]:
    """The room (w, h) one panel's image gets in a view of this size."""
    if panels <= 1:
        return max(1, int(width)), max(1, int(height))
    rows, cols = panel_grid(width, height, panels, frame)
    cell_w = (width - PANEL_GAP * (cols - 1)) / cols
    cell_h = (height - PANEL_GAP * (rows - 1)) / rows - CAPTION_H
    return max(1, int(cell_w)), max(1, int(cell_h))


class VideoView(QWidget):
    """Paints the frame (already scaled to fit by the worker) and the overlays.

    `frame_size` is the analysed frame's size: boxes are in its pixels. The
    image may be smaller or larger (the worker resizes it to `display_box()`
    so that the GUI thread only blits it).
    """

    face_clicked = Signal(str, int)    # the panel's detector kind and the track id; ("", -1) for "no face there"
    display_box_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.lang = "ko"
        self.selected: tuple[str, int] | None = None     # (panel's detector kind, track id)
        self.detect_ms: dict[str, float] = {}            # per kind, the times the status bar shows
        self._image: QImage | None = None
        self._frame_size: tuple[int, int] = (0, 0)
        self._panels: list = []         # worker.Panel
        self._timings: dict[str, float] = {}
        self._layout: list[tuple[QRectF, float]] = []   # per panel: image rect, scale
        self.notice = ""                # e.g. "no emotion model": painted over the top of the frame
        self._font_cache: dict[float, tuple[QFont, QFontMetricsF]] = {}
        self.last_paint_ms = 0.0
        self.paint_ms_total = 0.0       # for the benchmark's per-frame breakdown
        self.frames_painted = 0
        self.drawn_labels: list[tuple[int, str]] = []
        self.drawn_plates: list[QRectF] = []      # where those labels' plates are, in widget pixels
        self.drawn_captions: list[str] = []       # compare mode: each panel's caption as painted

    # data -------------------------------------------------------------
    def set_frame(self, image: QImage, panels: list, timings: dict[str, float],
                  frame_size: tuple[int, int] | None = None) -> None:
        self._image = image
        frame_size = frame_size or (image.width(), image.height())
        old_size, self._frame_size = self._frame_size, frame_size
        resized = len(panels) != len(self._panels) or frame_size != old_size
        self._panels = panels
        if resized:
            self._emit_display_box()
        self._timings = timings
        self.update()

    def clear(self) -> None:
        self._image = None
        self._panels = []
        self.update()

    def display_box(self) -> tuple[int, int]:
        frame = self._frame_size if self._frame_size[0] > 0 else (4, 3)
        return panel_box(self.width(), self.height(), max(1, len(self._panels)), frame)

    def _emit_display_box(self) -> None:
        self.display_box_changed.emit(*self.display_box())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._emit_display_box()

    def faces_shown(self) -> int:
        return sum(len(p.result.faces) for p in self._panels)

    # geometry ---------------------------------------------------------
    def _compute_layout(self) -> list[tuple[QRectF, float]]:
        if self._image is None or self._image.isNull():
            return []
        n = max(1, len(self._panels))
        caption = CAPTION_H if n > 1 else 0.0
        iw, ih = self._frame_size if self._frame_size[0] > 0 else (self._image.width(), self._image.height())
        rows, cols = panel_grid(self.width(), self.height(), n, (iw, ih))
        cell_w = (self.width() - PANEL_GAP * (cols - 1)) / cols
        cell_h = (self.height() - PANEL_GAP * (rows - 1)) / rows - caption
        scale = max(1e-3, min(cell_w / iw, cell_h / ih))
        w, h = iw * scale, ih * scale
        y0 = (self.height() - rows * (h + caption) - PANEL_GAP * (rows - 1)) / 2
        out = []
        for i in range(n):
            row, col = divmod(i, cols)
            in_row = min(cols, n - row * cols)          # a short last row is centred
            x0 = (self.width() - in_row * w - PANEL_GAP * (in_row - 1)) / 2
            top = y0 + row * (h + caption + PANEL_GAP) + caption
            out.append((QRectF(x0 + col * (w + PANEL_GAP), top, w, h), scale))
        return out

    # painting ---------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        t0 = time.perf_counter()
        p = QPainter(self)
        self._layout = self._compute_layout()
        self.drawn_labels: list[tuple[int, str]] = []     # (track id, label text) as painted this time
        self.drawn_plates: list[QRectF] = []
        self.drawn_captions: list[str] = []
        if self._image is None:
            p.fillRect(self.rect(), _VIEW_BACKGROUND)
        else:
            # Fill only around the image(s): the frame covers the rest.
            covered = QRegion()
            for rect, _ in self._layout:
                covered = covered.united(rect.toAlignedRect())
            for r in QRegion(self.rect()).subtracted(covered):
                p.fillRect(r, _VIEW_BACKGROUND)
            panels = self._panels or [None]
            for (rect, scale), panel in zip(self._layout, panels):
                if abs(rect.width() - self._image.width()) <= 1 and abs(rect.height() - self._image.height()) <= 1:
                    p.drawImage(rect.topLeft(), self._image)       # already the right size: a plain blit
                else:
                    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                    p.drawImage(rect, self._image)
                if panel is not None:
                    selected = self.selected[1] if self.selected and self.selected[0] == panel.detector else None
                    self._paint_faces(p, rect, scale, panel.result.faces, selected)
                    if len(self._panels) > 1:
                        self._paint_caption(p, rect, panel)
        if self.notice:
            font, fm = self.bold_font(11.0)
            p.setFont(font)
            band = QRectF(0, 0, self.width(), fm.height() * 2.2)
            p.fillRect(band, _NOTICE_BACKGROUND)
            p.setPen(_WHITE)
            p.drawText(band, Qt.AlignmentFlag.AlignCenter, self.notice)
        p.end()
        self.last_paint_ms = (time.perf_counter() - t0) * 1000.0
        self.paint_ms_total += self.last_paint_ms
        self.frames_painted += 1

    def _paint_caption(self, p: QPainter, rect: QRectF, panel) -> None:
        # The status bar's number (an average, refreshed with it), so both always agree.
        ms = self.detect_ms.get(panel.detector, float(panel.result.timings_ms.get("detect", 0.0)))
        n = len(panel.result.faces)
        font, fm = self.bold_font(CAPTION_PT)
        # The longest that fits its panel: small panels (compare at 800x600) drop the detector's
        # origin, then the face count; never text running into the next panel's caption.
        short = detector_name(panel.detector, self.lang, short=True)
        texts = (tr("compare_caption", self.lang, det=detector_name(panel.detector, self.lang), n=n, ms=ms),
                 tr("compare_caption", self.lang, det=short, n=n, ms=ms),
                 f"{short}: {ms:.1f} ms")
        room = rect.width() - 4
        text = next((t for t in texts if fm.horizontalAdvance(t) <= room),
                    fm.elidedText(texts[-1], Qt.TextElideMode.ElideRight, room))
        p.setFont(font)
        p.setPen(_WHITE)
        cap = QRectF(rect.left(), rect.top() - CAPTION_H, rect.width(), CAPTION_H)
        p.drawText(cap, Qt.AlignmentFlag.AlignCenter, text)
        self.drawn_captions.append(text)

    def bold_font(self, size: float) -> tuple[QFont, QFontMetricsF]:
        """The view's font, bold, at `size` points, with its metrics: made once per size."""
        cached = self._font_cache.get(size)
        if cached is None or cached[0].family() != self.font().family():
            font = QFont(self.font())
            font.setPointSizeF(size)
            font.setBold(True)
            cached = self._font_cache[size] = (font, QFontMetricsF(font))
        return cached

    def _paint_faces(self, p: QPainter, rect: QRectF, scale: float, faces: list, selected_track: int | None) -> None:
        # half points between 8 and 12: a handful of fonts
        font, fm = self.bold_font(round(max(8.0, min(12.0, 9.0 + scale * 2)) * 2) / 2)
        p.setFont(font)
        p.setBrush(Qt.BrushStyle.NoBrush)
        boxes, texts, spots = [], [], []
        for face in faces:
            x, y, w, h = face.box
            box = QRectF(rect.left() + x * scale, rect.top() + y * scale, w * scale, h * scale)
            text = face_label(face, self.lang)     # "#3 Happiness 82%": the number the history title names
            tw, th = fm.horizontalAdvance(text) + 8, fm.height() + 2
            # label above the box, below it (past the bar) if there is no room; clear of the other labels
            spots.append(((box.left(), box.top() - th, tw, th), (box.left(), box.bottom() + 10, tw, th)))
            boxes.append(box)
            texts.append(text)
        labels = place_labels(spots, (rect.left(), rect.top(), rect.width(), rect.height()),
                              [(b.left(), b.top(), b.width(), b.height()) for b in boxes])
        # Boxes and bars first, every label after them: a neighbour's box line never crosses a label
        # (faces close together in a small compare panel).
        for face, box, (tx, ty, tw, th) in zip(faces, boxes, labels):
            # a halo of the opposite lightness under each line and plate: readable on any background;
            # a face that is not confident is drawn muted (greyed, dashed) with a "?"
            style = style_of(face)
            selected = selected_track is not None and face.track_id == selected_track
            if selected:
                p.setPen(_SELECTED_PEN)
                p.drawRect(box)
            p.setPen(style.halo_selected if selected else style.halo)
            p.drawRect(box)
            p.setPen(style.line_selected if selected else style.line)
            p.drawRect(box)
            # probability bar: one segment per emotion, width proportional to probability
            bar_h = max(4.0, min(9.0, box.height() * 0.08))
            by = box.bottom() + 2 if ty < box.top() else box.top() - bar_h - 2
            bx = box.left()
            probs = face.smoothed
            total = float(np.sum(probs)) or 1.0
            p.fillRect(QRectF(bx, by, box.width(), bar_h), _BAR_BACKGROUND)
            for i, seg in enumerate((box.width() / total) * np.asarray(probs, dtype=np.float64)):
                if seg > 0.5:
                    p.fillRect(QRectF(bx, by, float(seg), bar_h), _EMOTION_COLORS[i])
                    bx += seg
        self._paint_landmarks(p, rect, scale, faces)
        for face, text, (tx, ty, tw, th) in zip(faces, texts, labels):
            style = style_of(face)
            label = QRectF(tx, ty, tw, th)
            p.fillRect(label, style.plate)
            p.setPen(style.plate_border)
            p.drawRect(label)
            p.setPen(style.text)
            p.drawText(label, Qt.AlignmentFlag.AlignCenter, text)
            self.drawn_labels.append((int(face.track_id), text))
            self.drawn_plates.append(label)

    def _paint_landmarks(self, p: QPainter, rect: QRectF, scale: float, faces: list) -> None:
        """Eyes, nose tip and mouth corners as small dots, where the detector gives them."""
        p.setPen(_LANDMARK_EDGE)
        p.setBrush(_LANDMARK_FILL)
        for face in faces:
            # On faces shown smaller than this the dots only clutter the face (and its expression).
            if face.landmarks is None or face.box[2] * scale < LANDMARKS_MIN_FACE_PX:
                continue
            radius = max(2.0, min(3.5, face.box[2] * scale / 30))
            for x, y in face.landmarks:
                p.drawEllipse(QPointF(rect.left() + float(x) * scale, rect.top() + float(y) * scale), radius, radius)
        p.setBrush(Qt.BrushStyle.NoBrush)

    # interaction ------------------------------------------------------
    def face_at(self, pos: QPointF) -> tuple[str, int]:
        """(the panel's detector kind, track id) of the face under a widget position; ("", -1) if none."""
        for (rect, scale), panel in zip(self._layout, self._panels):
            if not rect.contains(pos):
                continue
            ix, iy = (pos.x() - rect.left()) / scale, (pos.y() - rect.top()) / scale
            for face in panel.result.faces:
                x, y, w, h = face.box
                if x <= ix <= x + w and y <= iy <= y + h:
                    return panel.detector, int(face.track_id)
        return "", -1

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.face_clicked.emit(*self.face_at(event.position()))
        super().mousePressEvent(event)
