"""Scrolling plot of one face's smoothed emotion probabilities.

Data lives in a fixed-size numpy ring buffer (`RingBuffer`): appending never
allocates, old samples are overwritten, so the plot costs the same after an
hour as after a minute. A QTimer redraws at a fixed rate, independent of the
frame rate; curves are created once and only get `setData`.

Both plots are built after the window is up, not with it: importing
pyqtgraph and building its widgets is close to 30% of the app's start-up
import time (`scripts/measure_startup.py --importtime`), and nothing is there
to plot before the first analysed frame. A plot builds itself when it is
first given data (after that frame is painted), when a caller needs it, or
`BUILD_WHEN_IDLE_MS` after it is first shown, whichever comes first.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from kise_desktop.emotions import EMOTIONS, NUM_EMOTIONS

from .i18n import tr


class RingBuffer:
    """Fixed-capacity (time, values[width]) samples; oldest dropped first."""

    def __init__(self, capacity: int, width: int) -> None:
        self.capacity = int(capacity)
        self._t = np.zeros(self.capacity, dtype=np.float64)
        self._v = np.zeros((self.capacity, width), dtype=np.float32)
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._next = 0
        self._size = 0

    def append(self, t: float, values: np.ndarray) -> None:
        self._t[self._next] = t
        self._v[self._next] = values
        self._next = (self._next + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    @property
    def last_time(self) -> float | None:
        return None if self._size == 0 else float(self._t[(self._next - 1) % self.capacity])

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the samples, oldest first."""
        if self._size < self.capacity:
            return self._t[: self._size].copy(), self._v[: self._size].copy()
        idx = np.arange(self._next, self._next + self.capacity) % self.capacity
        return self._t[idx], self._v[idx]

    def since(self, t_min: float) -> tuple[np.ndarray, np.ndarray]:
        t, v = self.ordered()
        start = int(np.searchsorted(t, t_min, side="left"))
        return t[start:], v[start:]


# With no source (no frames yet), the empty axes still appear soon after the window.
BUILD_WHEN_IDLE_MS = 1500


class _BlankPanel(QWidget):
    """White, and says when it has been painted (the window's other widgets are painted in the same pass)."""

    def __init__(self, painted) -> None:
        super().__init__()
        self._painted = painted
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(255, 255, 255))
        self.setPalette(palette)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        self._painted()


class DeferredPlot(QWidget):
    """A white panel that becomes a pyqtgraph plot (`self.plot`) the first time it is needed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._blank = _BlankPanel(self._on_blank_painted)
        self._layout.addWidget(self._blank)
        self._build_queued = False
        self._build_after_paint = False

    @property
    def built(self) -> bool:
        return self.plot is not None

    def ensure_built(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg      # here, not at the top: see the module docstring

        self.plot = pg.PlotWidget(background="w")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self._build(pg)
        self._layout.replaceWidget(self._blank, self.plot)
        self._blank.deleteLater()

    def build_after_paint(self) -> None:
        """Build right after the next repaint of the window (which shows the new frame), not before it."""
        self._build_after_paint = True
        self._blank.update()

    def _on_blank_painted(self) -> None:
        if self._build_after_paint:
            self._build_after_paint = False
            self.build_soon()

    def build_soon(self, delay_ms: int = 0) -> None:
        if self.plot is None and not self._build_queued:
            self._build_queued = True
            QTimer.singleShot(delay_ms, self, self._build_queued_now)

    def _build_queued_now(self) -> None:
        self._build_queued = False
        self.ensure_built()

    def _build(self, pg) -> None:
        raise NotImplementedError

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.build_soon(BUILD_WHEN_IDLE_MS)


class HistoryPlot(DeferredPlot):
    """One line per emotion (overlay colours), x = seconds before the newest sample."""

    MAX_DRAWN = 600   # points per curve actually drawn (about one per 2 px): older ones are decimated

    def __init__(self, seconds: float = 30.0, capacity: int = 8192, refresh_hz: float = 10.0,
                 lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds = float(seconds)
        self.buffer = RingBuffer(capacity, NUM_EMOTIONS)
        self.points_received = 0
        self.refresh_ms_total = 0.0     # for the benchmark's per-frame breakdown
        self._dirty = False
        self._lang = lang
        self.curves: list = []          # pyqtgraph PlotDataItems, one per emotion, once built
        self.legend = None
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / refresh_hz))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build(self, pg) -> None:
        self.plot.setXRange(-self.seconds, 0.0, padding=0.0)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot.addLegend(offset=(5, 5), labelTextSize="8pt", colCount=4,
                                          brush=pg.mkBrush(255, 255, 255, 200))
        for emo in EMOTIONS:
            # 1 px, not antialiased: measured here, 8 curves of 1,200 points paint in ~6 ms;
            # 2 px lines take ~20 ms and antialiased ones over a second, on the GUI thread.
            pen = pg.mkPen(QColor(*emo.color_rgb), width=1)
            curve = self.plot.plot([], [], pen=pen, name=emo.name(self._lang), connect="finite",
                                   skipFiniteCheck=True, antialias=False)
            self.curves.append(curve)
        # The axes and the legend never change while the lines scroll: keep them as cached
        # pixmaps instead of replaying their drawing (text included) on every refresh.
        for item in (self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.legend):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.set_language(self._lang)
        self._dirty = True

    # data ---------------------------------------------------------------
    def add(self, t: float, probabilities: np.ndarray | None) -> None:
        """Append one sample; None (no face) leaves a gap in the lines."""
        last = self.buffer.last_time
        if last is not None and t < last:      # new source / rewound video: start over
            self.buffer.clear()
        values = np.full(NUM_EMOTIONS, np.nan, np.float32) if probabilities is None else probabilities
        self.buffer.append(t, values)
        self.points_received += 1
        self._dirty = True

    def clear(self) -> None:
        self.buffer.clear()
        self._dirty = self.built         # nothing drawn yet: nothing to wipe (and no reason to build)

    def set_seconds(self, seconds: float) -> None:
        self.seconds = float(seconds)
        if self.built:
            self.plot.setXRange(-self.seconds, 0.0, padding=0.0)
        self._dirty = True

    def visible_points(self) -> int:
        if not self.curves:
            return 0
        return int(self.curves[0].xData.size) if self.curves[0].xData is not None else 0

    def refresh(self) -> None:
        if not self._dirty:
            return
        self.ensure_built()              # the first refresh with data builds the plot
        t0 = time.perf_counter()
        self._redraw()
        self.refresh_ms_total += (time.perf_counter() - t0) * 1000.0

    def _redraw(self) -> None:
        self._dirty = False
        last = self.buffer.last_time
        if last is None:
            for c in self.curves:
                c.setData([], [])
            return
        t, v = self.buffer.since(last - self.seconds)
        if len(t) > self.MAX_DRAWN:          # decimate, always keeping the newest sample
            step = -(-len(t) // self.MAX_DRAWN)
            keep = np.arange(len(t) - 1, -1, -step)[::-1]
            t, v = t[keep], v[keep]
        x = t - last
        for i, c in enumerate(self.curves):
            c.setData(x, v[:, i], connect="finite", skipFiniteCheck=True)

    # language -----------------------------------------------------------
    def set_language(self, lang: str) -> None:
        self._lang = lang
        if not self.built:
            return
        self.legend.clear()
        for emo, curve in zip(EMOTIONS, self.curves):
            curve.opts["name"] = emo.name(lang)
            self.legend.addItem(curve, emo.name(lang))
        self.plot.setLabel("bottom", tr("axis_time", lang))
        self.plot.setLabel("left", tr("axis_prob", lang))

    def legend_names(self) -> list[str]:
        self.ensure_built()
        return [label.text for _, label in self.legend.items]


class ProbabilityBars(DeferredPlot):
    """Photo mode: one bar per emotion for the selected (or main) face of the current photo."""

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self.bars = None
        self.heights = np.zeros(NUM_EMOTIONS, np.float32)

    def _build(self, pg) -> None:
        self.plot.setXRange(-0.6, NUM_EMOTIONS - 0.4, padding=0.0)
        self.plot.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=np.arange(NUM_EMOTIONS), height=self.heights, width=0.7,
                                    brushes=[pg.mkBrush(QColor(*e.color_rgb)) for e in EMOTIONS],
                                    pens=[pg.mkPen(QColor(*e.color_rgb)) for e in EMOTIONS])
        self.plot.addItem(self.bars)
        self.set_language(self._lang)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        self.heights = (np.zeros(NUM_EMOTIONS, np.float32) if probabilities is None
                        else np.asarray(probabilities, np.float32))
        if self.built:
            self.bars.setOpts(height=self.heights)
        else:
            self.build_after_paint()     # the photo and its labels first

    def set_language(self, lang: str) -> None:
        self._lang = lang
        if not self.built:
            return
        ticks = [(i, e.name(lang)) for i, e in enumerate(EMOTIONS)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setLabel("left", tr("axis_prob", lang))
