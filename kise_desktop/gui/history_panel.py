"""The panel under the view: which face is followed, its emotion history (or a photo's bars), options.

Header row: the title ("Emotion history - face #3", the number drawn on that
face's box), a list to choose the face (or "largest face"), the raw per-frame
option and the time window, whose out-of-range values are refused visibly.
"""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from kise_desktop.emotions import EMOTIONS

from .checked_input import CheckedSpinBox
from .history_plot import HistoryPlot, ProbabilityBars
from .i18n import tr

HISTORY_SECONDS = (5.0, 300.0)      # the time window's allowed range


class PanelTitle(QLabel):
    """"Emotion history - face #24" where it fits, else just "Face #24" (the full text as its tooltip).

    In an 800x600 window the header row leaves the title about 150 px, which cut the
    face number in half; the number is what says which face the plot follows."""

    def __init__(self) -> None:
        super().__init__()
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        self.setMinimumWidth(60)                # gives way first in a narrow window (the buttons do not)
        self._full = self._short = ""

    def set_title(self, group: str, who: str) -> None:
        self._full, self._short = f"{group} - {who}", who[:1].upper() + who[1:]
        self.setToolTip(self._full)
        self.updateGeometry()
        self._fit()

    def sizeHint(self):  # noqa: N802 (Qt name): asks for room for the whole title
        hint = super().sizeHint()
        hint.setWidth(QFontMetrics(self.font()).horizontalAdvance(self._full) + 4)
        return hint

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        fits = QFontMetrics(self.font()).horizontalAdvance(self._full) <= self.width()
        text = self._full if fits else self._short
        if text != self.text():
            self.setText(text)


class HistoryPanel(QWidget):
    face_chosen = Signal(int)        # a track id, or -1: follow the largest face
    seconds_changed = Signal(float)
    refused = Signal(str)            # an out-of-range input, explained

    def __init__(self, lang: str = "ko", seconds: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.track: int | None = None     # the face the plot follows now
        self.track_detector: str | None = None   # its panel's detector name, where panels repeat numbers
        self.photos = False
        self._listed: tuple[int, ...] = ()
        self.history = HistoryPlot(seconds=seconds, lang=lang)
        self.bars = ProbabilityBars(lang=lang)
        self.title = PanelTitle()
        self.face_combo = QComboBox()
        # short in a small window; the list itself opens as wide as its entries
        self.face_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.face_combo.setMinimumContentsLength(9)
        self.face_combo.activated.connect(self._on_face_activated)
        self.raw_box = QCheckBox()
        self.raw_box.toggled.connect(self.history.set_raw)
        self.seconds_label = QLabel()
        self.seconds = CheckedSpinBox(*HISTORY_SECONDS, value=seconds, step=5, lang=lang)
        self.seconds.setSuffix(" s")
        self.seconds.accepted.connect(self._on_seconds)
        self.seconds.refused.connect(self._on_refused)
        self.refusal = QLabel()
        self.refusal.setStyleSheet("color: #c0392b;")
        self.refusal.setWordWrap(True)
        self.refusal.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.face_combo)
        top.addStretch(1)
        top.addWidget(self.raw_box)
        top.addWidget(self.seconds)
        layout.addLayout(top)
        layout.addWidget(self.refusal)
        self.plot_stack = QStackedWidget()
        self.plot_stack.addWidget(self.history)    # live: history over time
        self.plot_stack.addWidget(self.bars)       # photos: this photo's probabilities
        layout.addWidget(self.plot_stack, 1)
        self.retranslate(lang)

    # ------------------------------------------------------------------ state
    def set_photos(self, photos: bool) -> None:
        if photos == self.photos and self.plot_stack.currentIndex() == int(photos):
            return
        self.photos = photos
        self.plot_stack.setCurrentIndex(1 if photos else 0)
        for w in (self.seconds, self.raw_box):
            w.setVisible(not photos)
        self._update_title()

    def set_emotions(self, indices: Sequence[int]) -> None:
        self.history.set_emotions(indices)
        self.bars.set_emotions(indices)

    def set_track(self, track: int | None, detector: str | None = None) -> None:
        """The face the plot follows; `detector` names its panel in compare mode (each panel has a face #1)."""
        if (track, detector) != (self.track, self.track_detector):
            self.track, self.track_detector = track, detector
            self._update_title()

    def set_faces(self, faces: list, selected: int | None) -> None:
        """The list of faces to choose from: rebuilt only when the set of faces changes."""
        ids = tuple(sorted(int(f.track_id) for f in faces))
        if ids == self._listed and self.face_combo.count() == len(ids) + 1:
            self._select(selected)
            return
        self._listed = ids
        by_id = {int(f.track_id): f for f in faces}
        self.face_combo.blockSignals(True)
        self.face_combo.clear()
        self.face_combo.addItem(tr("face_auto", self.lang), -1)
        for tid in ids:
            label = EMOTIONS[by_id[tid].label_index].name(self.lang)
            self.face_combo.addItem(tr("face_item", self.lang, id=tid, label=label), tid)
        self.face_combo.blockSignals(False)
        self._select(selected)

    def _select(self, selected: int | None) -> None:
        i = self.face_combo.findData(-1 if selected is None else int(selected))
        if i >= 0 and i != self.face_combo.currentIndex():
            self.face_combo.blockSignals(True)
            self.face_combo.setCurrentIndex(i)
            self.face_combo.blockSignals(False)

    def _on_face_activated(self, index: int) -> None:
        data = self.face_combo.itemData(index)
        self.face_chosen.emit(-1 if data is None else int(data))

    def _on_seconds(self, value: float) -> None:
        self.refusal.setVisible(False)
        self.history.set_seconds(value)
        self.seconds_changed.emit(value)

    def _on_refused(self, text: str) -> None:
        self.refusal.setText(text)
        self.refusal.setVisible(True)
        self.refused.emit(text)

    # ------------------------------------------------------------------ text
    def _update_title(self) -> None:
        if self.track is None:
            who = tr("history_none", self.lang)
        elif self.track_detector:
            who = tr("history_face_of", self.lang, id=self.track, det=self.track_detector)
        else:
            who = tr("history_face", self.lang, id=self.track)
        self.title.set_title(tr('grp_probs' if self.photos else 'grp_history', self.lang), who)

    def retranslate(self, lang: str) -> None:
        self.lang = lang
        self.seconds.lang = lang
        self.history.set_language(lang)
        self.bars.set_language(lang)
        self.raw_box.setText(tr("history_raw", lang))
        self.raw_box.setToolTip(tr("history_raw_tip", lang))
        self.seconds_label.setText(tr("history_seconds", lang))
        self.seconds.setToolTip(tr("history_seconds", lang))    # the unit is the box's suffix: room in small windows
        self.face_combo.setToolTip(tr("face_choice", lang))
        self._listed = ()                   # the list's words are rebuilt in the new language
        if self.face_combo.count():
            self.face_combo.setItemText(0, tr("face_auto", lang))
        else:                               # before the first frame: "largest face", not a blank box
            self.face_combo.addItem(tr("face_auto", lang), -1)
        self.refusal.setVisible(False)
        self._update_title()
