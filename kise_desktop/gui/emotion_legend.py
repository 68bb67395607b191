"""The history plot's legend: a plain Qt widget beside the plot, one colour line and name per emotion.

It is not pyqtgraph's LegendItem on purpose. LegendItem's rows are QGraphicsWidgets
that it takes out and makes again on every change of text, and PySide deletes the
old ones whenever Python's garbage collector gets to them. One such deletion,
landing while Qt resized the plot, crashed the test suite in two runs out of three
(a segfault after "Internal C++ object (LabelItem) already deleted" in
LabelItem.resizeEvent), and would crash the app the same way. Here the rows are
made once, for all eight emotions, and never deleted: a model's emotions show
or hide them, a language sets their text, the height sets the number of columns.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QWidget

from kise_desktop.emotions import EMOTIONS, NUM_EMOTIONS

TEXT_RGB = (40, 40, 40)       # dark grey on the plot's white
SWATCH_SIZE = (16, 3)         # px: a short thick line in the curve's colour
ROW_SPACING = 2


def fill_background(widget: QWidget, rgb: tuple[int, int, int]) -> QWidget:
    """Paint the widget's background in this colour (and return the widget)."""
    widget.setAutoFillBackground(True)
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor(*rgb))
    widget.setPalette(palette)
    return widget


class EmotionLegend(QWidget):
    """Rows of (colour, name), laid out top to bottom in as many columns as the height needs."""

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        fill_background(self, (255, 255, 255))
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(4, 6, 6, 6)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(ROW_SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        font = self.font()
        font.setPointSizeF(8.0)
        self.swatches: list[QFrame] = []
        self.labels: list[QLabel] = []
        for emo in EMOTIONS:
            swatch = fill_background(QFrame(self), emo.color_rgb)
            swatch.setFixedSize(*SWATCH_SIZE)
            label = QLabel(self)
            label.setFont(font)
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(*TEXT_RGB))
            label.setPalette(palette)
            self.swatches.append(swatch)
            self.labels.append(label)
        self.emotions: list[int] = list(range(NUM_EMOTIONS))
        self.columns = 1
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.set_language(lang)
        self._arrange()

    @property
    def row_px(self) -> int:
        return max(self.labels[0].sizeHint().height(), SWATCH_SIZE[1]) + ROW_SPACING

    def names(self) -> list[str]:
        """The names listed, in order (the model's emotions only)."""
        return [self.labels[i].text() for i in self.emotions]

    def set_language(self, lang: str) -> None:
        for emo, label in zip(EMOTIONS, self.labels):
            label.setText(emo.name(lang))
        self.updateGeometry()          # wider or narrower names: the same rows, a new width

    def set_emotions(self, indices: Sequence[int]) -> None:
        self.emotions = sorted(set(int(i) for i in indices)) or list(range(NUM_EMOTIONS))
        self._arrange()

    def fit_height(self, height: int) -> None:
        """As many columns as `height` needs (one when it is tall enough)."""
        margins = self._grid.contentsMargins()
        rows = max(1, (height - margins.top() - margins.bottom() + ROW_SPACING) // self.row_px)
        columns = max(1, -(-len(self.emotions) // rows))
        if columns != self.columns:
            self.columns = columns
            self._arrange()

    def _arrange(self) -> None:
        # removeWidget only takes a widget out of the grid; the widget itself lives on.
        for widget in self.swatches + self.labels:
            self._grid.removeWidget(widget)
            widget.hide()
        per_column = -(-len(self.emotions) // self.columns)
        for k, i in enumerate(self.emotions):
            row, column = k % per_column, 2 * (k // per_column)
            self._grid.addWidget(self.swatches[i], row, column, Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(self.labels[i], row, column + 1)
            self.swatches[i].show()
            self.labels[i].show()
        self.updateGeometry()
