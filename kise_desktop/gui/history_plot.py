"""Scrolling plot of one face's emotion probabilities (smoothed, or raw per frame).

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

Readability: the legend (`EmotionLegend`, a Qt widget) sits outside the data
area (to the right, in as many columns as the plot's height needs), lists only
the emotions the loaded model can output (`set_emotions`), and the probability
axis has fixed ticks from 0 to 100%.
"""
from __future__ import annotations

import time

import numpy as np
from typing import Iterable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QWidget

from kise_desktop.emotions import EMOTION_INDEX, EMOTIONS, NUM_EMOTIONS

from .emotion_legend import EmotionLegend, fill_background
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

# Probability axis: fixed ticks, 0 and 100% included (pyqtgraph's automatic ones skip both ends).
# Percent ticks say what the axis is, in any language, so it has no rotated title: pyqtgraph drew
# "확률" rotated at ~7 px, its glyphs blurred into each other (the 800x600 Korean screenshot).
PROBABILITY_TICKS = [[(0.0, "0"), (0.5, "50%"), (1.0, "100%")], [(0.25, "25%"), (0.75, "75%")]]
AXIS_LABEL_STYLE = {"font-size": "9pt"}
LEFT_AXIS_WIDTH = 44        # px: the widest tick label ("100%"), never clipped


def emotion_indices(labels: Iterable[str] | None) -> list[int]:
    """Our emotion indices for a model's output labels (its sidecar "labels"), in our order.

    A 7-class model with "disgust" (disgust+contempt) never outputs contempt, so contempt is
    left out of its legend. None or unknown labels: all eight."""
    if labels is None:
        return list(range(NUM_EMOTIONS))
    found = sorted({EMOTION_INDEX[k] for k in labels if k in EMOTION_INDEX})
    return found or list(range(NUM_EMOTIONS))


def setup_probability_axis(plot, pg) -> None:
    """0..1 with ticks at both ends, and a left axis wide enough for its rotated label.

    The horizontal grid lines are plain lines, not the axis' grid: with a grid, pyqtgraph
    culls tick labels reaching past the axis' ends, which are exactly the 0 and 1.0 ones."""
    plot.setYRange(0.0, 1.0, padding=0.03)
    # Room above the "1.0" label, and left of the axis: pyqtgraph puts the rotated label 5 px left of
    # the axis (its text box has a margin), which clipped the first pixels of its glyphs.
    plot.getPlotItem().setContentsMargins(6, 8, 4, 0)
    left = plot.getAxis("left")
    left.setTicks(PROBABILITY_TICKS)
    left.setStyle(hideOverlappingLabels=False)
    left.setWidth(LEFT_AXIS_WIDTH)
    pen = pg.mkPen(QColor(0, 0, 0, 40), width=1)
    for value in (0.0, 0.25, 0.5, 0.75, 1.0):
        plot.addItem(pg.InfiniteLine(pos=value, angle=0, pen=pen, movable=False), ignoreBounds=True)


class _BlankPanel(QWidget):
    """White, and says when it has been painted (the window's other widgets are painted in the same pass)."""

    def __init__(self, painted) -> None:
        super().__init__()
        self._painted = painted
        fill_background(self, (255, 255, 255))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        self._painted()


class DeferredPlot(QWidget):
    """A white panel that becomes a pyqtgraph plot (`self.plot`) the first time it is needed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = None
        self._layout = QHBoxLayout(self)      # the plot, and whatever a kind puts beside it (a legend)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
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
        setup_probability_axis(self.plot, pg)
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
    """One line per emotion (overlay colours), x = seconds before the newest sample.

    Each sample keeps both the smoothed and the raw per-frame probabilities;
    `set_raw(True)` draws the raw ones (what the classifier said on each frame)."""

    def __init__(self, seconds: float = 30.0, capacity: int = 8192, refresh_hz: float = 10.0,
                 lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seconds = float(seconds)
        # columns 0..7 smoothed, 8..15 raw
        self.buffer = RingBuffer(capacity, 2 * NUM_EMOTIONS)
        self.points_received = 0
        self.refresh_ms_total = 0.0     # for the benchmark's per-frame breakdown
        self.raw = False
        self.emotions: list[int] = list(range(NUM_EMOTIONS))   # shown in the legend and drawn
        self._dirty = False
        self._lang = lang
        self._sample = np.full(2 * NUM_EMOTIONS, np.nan, np.float32)   # reused by add()
        self.curves: list = []          # pyqtgraph PlotDataItems, one per emotion, once built
        self.legend = None
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / refresh_hz))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build(self, pg) -> None:
        self.plot.setXRange(-self.seconds, 0.0, padding=0.0)
        self.plot.showGrid(x=True, alpha=0.25)
        # pyqtgraph thins long curves to about the plot's width in pixels, keeping each span's
        # minimum and maximum: a one-frame spike (a flash of surprise) stays visible, which
        # dropping every n-th sample did not guarantee.
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        # The legend is a widget right of the plot: it never covers a line, and it lays out
        # again (columns) when the plot's height changes. (Added after the blank panel, which
        # the plot replaces.)
        self.legend = EmotionLegend(self._lang)
        self.legend.set_emotions(self.emotions)
        self._layout.addWidget(self.legend)
        for emo in EMOTIONS:
            # 1 px, not antialiased: measured here, 8 curves of 1,200 points paint in ~6 ms;
            # 2 px lines take ~20 ms and antialiased ones over a second, on the GUI thread.
            pen = pg.mkPen(QColor(*emo.color_rgb), width=1)
            curve = self.plot.plot([], [], pen=pen, connect="finite", skipFiniteCheck=True, antialias=False)
            # pyqtgraph's default keeps ~5 samples per pixel before it thins; 1 keeps the paint time
            # of a long window (8 curves of up to 8,192 samples) near that of a short one.
            curve.opts["autoDownsampleFactor"] = 1.0
            self.curves.append(curve)
        # The axes never change while the lines scroll: keep them as cached pixmaps instead
        # of replaying their drawing (text included) on every refresh.
        for item in (self.plot.getAxis("left"), self.plot.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.set_language(self._lang)
        self._dirty = True

    # data ---------------------------------------------------------------
    def add(self, t: float, probabilities: np.ndarray | None, raw: np.ndarray | None = None) -> None:
        """Append one sample (smoothed, and raw per-frame where given); None (no face) leaves a gap."""
        last = self.buffer.last_time
        if last is not None and t < last:      # new source / rewound video: start over
            self.buffer.clear()
        sample = self._sample
        sample.fill(np.nan)
        if probabilities is not None:
            sample[:NUM_EMOTIONS] = probabilities
            sample[NUM_EMOTIONS:] = probabilities if raw is None else raw
        self.buffer.append(t, sample)
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

    def set_raw(self, on: bool) -> None:
        """Draw the raw per-frame probabilities (True) or the smoothed ones (False)."""
        self.raw = bool(on)
        self._dirty = True

    def set_emotions(self, indices: Sequence[int]) -> None:
        """Only these emotions (the loaded model's) are drawn and listed in the legend."""
        self.emotions = sorted(set(int(i) for i in indices)) or list(range(NUM_EMOTIONS))
        if self.built:
            for i, curve in enumerate(self.curves):
                curve.setVisible(i in self.emotions)
            self.legend.set_emotions(self.emotions)
            self._fit_legend()
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
        x = t - last
        offset = NUM_EMOTIONS if self.raw else 0
        for i, c in enumerate(self.curves):
            if i in self.emotions:
                c.setData(x, v[:, offset + i], connect="finite", skipFiniteCheck=True)
            else:
                c.setData([], [])

    # language / layout ---------------------------------------------------
    def set_language(self, lang: str) -> None:
        self._lang = lang
        if not self.built:
            return
        self.legend.set_language(lang)
        self._fit_legend()
        self.plot.setLabel("bottom", tr("axis_time", lang), **AXIS_LABEL_STYLE)

    def _fit_legend(self) -> None:
        """As many legend columns as the plot's height needs (one column when it is tall)."""
        if self.legend is None:
            return
        self.legend.fit_height(self.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_legend()

    def legend_names(self) -> list[str]:
        self.ensure_built()
        return self.legend.names()


class ProbabilityBars(DeferredPlot):
    """Photo mode: one bar per emotion of the model, for the selected (or main) face of the photo."""

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self.bars = None
        self.emotions: list[int] = list(range(NUM_EMOTIONS))
        self.heights = np.zeros(NUM_EMOTIONS, np.float32)

    def _build(self, pg) -> None:
        self._pg = pg
        self._make_bars()
        self.set_language(self._lang)

    def _make_bars(self) -> None:
        pg = self._pg
        colours = [QColor(*EMOTIONS[i].color_rgb) for i in self.emotions]
        bars = dict(x=np.arange(len(self.emotions)), height=self.heights[self.emotions], width=0.7,
                    brushes=[pg.mkBrush(c) for c in colours], pens=[pg.mkPen(c) for c in colours])
        # One item for the plot's life, changed in place: a removed pyqtgraph item is deleted
        # whenever Python's garbage collector gets to it, which can be in the middle of a repaint.
        if self.bars is None:
            self.bars = pg.BarGraphItem(**bars)
            self.plot.addItem(self.bars)
        else:
            self.bars.setOpts(**bars)
        self.plot.setXRange(-0.6, len(self.emotions) - 0.4, padding=0.0)

    def set_emotions(self, indices: Sequence[int]) -> None:
        """Only these emotions (the loaded model's) get a bar."""
        self.emotions = sorted(set(int(i) for i in indices)) or list(range(NUM_EMOTIONS))
        if self.built:
            self._make_bars()
            self.set_language(self._lang)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        self.heights = (np.zeros(NUM_EMOTIONS, np.float32) if probabilities is None
                        else np.asarray(probabilities, np.float32))
        if self.built:
            self.bars.setOpts(height=self.heights[self.emotions])
        else:
            self.build_after_paint()     # the photo and its labels first

    def set_language(self, lang: str) -> None:
        self._lang = lang
        if not self.built:
            return
        ticks = [(n, EMOTIONS[i].name(lang)) for n, i in enumerate(self.emotions)]
        self.plot.getAxis("bottom").setTicks([ticks])

    def bar_names(self) -> list[str]:
        self.ensure_built()
        return [name for _, name in self.plot.getAxis("bottom")._tickLevels[0]]
