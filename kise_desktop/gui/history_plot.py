"""Scrolling plot of one face's smoothed emotion probabilities.

Data lives in a fixed-size numpy ring buffer (`RingBuffer`): appending never
allocates, old samples are overwritten, so the plot costs the same after an
hour as after a minute. A QTimer redraws at a fixed rate, independent of the
frame rate; curves are created once and only get `setData`.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
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


class HistoryPlot(QWidget):
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
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.plot.setXRange(-self.seconds, 0.0, padding=0.0)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot.addLegend(offset=(5, 5), labelTextSize="8pt", colCount=4,
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self.curves: list[pg.PlotDataItem] = []
        for emo in EMOTIONS:
            # 1 px, not antialiased: measured here, 8 curves of 1,200 points paint in ~6 ms;
            # 2 px lines take ~20 ms and antialiased ones over a second, on the GUI thread.
            pen = pg.mkPen(QColor(*emo.color_rgb), width=1)
            curve = self.plot.plot([], [], pen=pen, name=emo.name(lang), connect="finite",
                                   skipFiniteCheck=True, antialias=False)
            self.curves.append(curve)
        # The axes and the legend never change while the lines scroll: keep them as cached
        # pixmaps instead of replaying their drawing (text included) on every refresh.
        for item in (self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.legend):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / refresh_hz))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.set_language(lang)

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
        self._dirty = True

    def set_seconds(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.plot.setXRange(-self.seconds, 0.0, padding=0.0)
        self._dirty = True

    def visible_points(self) -> int:
        return int(self.curves[0].xData.size) if self.curves[0].xData is not None else 0

    def refresh(self) -> None:
        if not self._dirty:
            return
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
        self.legend.clear()
        for emo, curve in zip(EMOTIONS, self.curves):
            curve.opts["name"] = emo.name(lang)
            self.legend.addItem(curve, emo.name(lang))
        self.plot.setLabel("bottom", tr("axis_time", lang))
        self.plot.setLabel("left", tr("axis_prob", lang))

    def legend_names(self) -> list[str]:
        return [label.text for _, label in self.legend.items]


class ProbabilityBars(QWidget):
    """Photo mode: one bar per emotion for the selected (or main) face of the current photo."""

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.plot.setXRange(-0.6, NUM_EMOTIONS - 0.4, padding=0.0)
        self.plot.showGrid(y=True, alpha=0.25)
        self.bars = pg.BarGraphItem(x=np.arange(NUM_EMOTIONS), height=np.zeros(NUM_EMOTIONS), width=0.7,
                                    brushes=[pg.mkBrush(QColor(*e.color_rgb)) for e in EMOTIONS],
                                    pens=[pg.mkPen(QColor(*e.color_rgb)) for e in EMOTIONS])
        self.plot.addItem(self.bars)
        self.heights = np.zeros(NUM_EMOTIONS, np.float32)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.set_language(lang)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        self.heights = (np.zeros(NUM_EMOTIONS, np.float32) if probabilities is None
                        else np.asarray(probabilities, np.float32))
        self.bars.setOpts(height=self.heights)

    def set_language(self, lang: str) -> None:
        ticks = [(i, e.name(lang)) for i, e in enumerate(EMOTIONS)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setLabel("left", tr("axis_prob", lang))
