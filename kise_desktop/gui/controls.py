"""Detector controls: Haar/HOG switch, compare mode and each detector's settings."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget)

from . import core_api as core
from .i18n import tr

DETECT_WIDTHS: tuple[int, ...] = (0, 960, 640, 480, 320, 240)   # 0 = full size


def _width_or_none(value: int) -> int | None:
    return int(value) or None


class DetectorControls(QGroupBox):
    detector_changed = Signal(str)            # "haar" | "hog"
    settings_changed = Signal(str, object)    # kind, HaarSettings | HogSettings
    compare_changed = Signal(bool)

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self._presets = {"haar": core.LIVE_HAAR, "hog": core.LIVE_HOG}
        self.haar_radio = QRadioButton()
        self.hog_radio = QRadioButton()
        self.haar_radio.setChecked(True)
        self.group = QButtonGroup(self)
        self.group.addButton(self.haar_radio)
        self.group.addButton(self.hog_radio)
        self.compare_box = QCheckBox()
        self.scale_spin = QDoubleSpinBox(decimals=2, minimum=1.01, maximum=2.0, singleStep=0.05)
        self.neighbors_spin = QSpinBox(minimum=0, maximum=30)
        self.min_size_spin = QSpinBox(minimum=10, maximum=500, singleStep=5)
        self.haar_width = QComboBox()
        self.upsample_spin = QSpinBox(minimum=0, maximum=3)
        self.hog_width = QComboBox()
        self.defaults_btn = QPushButton()
        self._labels = {k: QLabel() for k in ("scale_factor", "min_neighbors", "min_size", "detect_width",
                                               "upsample", "detect_width_hog")}
        self.haar_box = QGroupBox("Haar")
        haar_form = QFormLayout(self.haar_box)
        haar_form.addRow(self._labels["scale_factor"], self.scale_spin)
        haar_form.addRow(self._labels["min_neighbors"], self.neighbors_spin)
        haar_form.addRow(self._labels["min_size"], self.min_size_spin)
        haar_form.addRow(self._labels["detect_width"], self.haar_width)
        self.hog_box = QGroupBox("HOG")
        hog_form = QFormLayout(self.hog_box)
        hog_form.addRow(self._labels["upsample"], self.upsample_spin)
        hog_form.addRow(self._labels["detect_width_hog"], self.hog_width)
        radios = QHBoxLayout()
        radios.addWidget(self.haar_radio)
        radios.addWidget(self.hog_radio)
        layout = QVBoxLayout(self)
        layout.addLayout(radios)
        layout.addWidget(self.compare_box)
        layout.addWidget(self.haar_box)
        layout.addWidget(self.hog_box)
        layout.addWidget(self.defaults_btn)
        self._loading = False
        self._fill_widths(self.haar_width)
        self._fill_widths(self.hog_width)
        self.set_values(core.LIVE_HAAR, core.LIVE_HOG)
        self.haar_radio.toggled.connect(self._on_detector_toggled)
        self.compare_box.toggled.connect(self._on_compare_toggled)
        for w in (self.scale_spin, self.neighbors_spin, self.min_size_spin):
            w.valueChanged.connect(self._on_haar_changed)
        self.haar_width.currentIndexChanged.connect(self._on_haar_changed)
        self.upsample_spin.valueChanged.connect(self._on_hog_changed)
        self.hog_width.currentIndexChanged.connect(self._on_hog_changed)
        self.defaults_btn.clicked.connect(self._on_defaults_clicked)
        self.retranslate(lang)

    # values -------------------------------------------------------------
    @property
    def detector(self) -> str:
        return "haar" if self.haar_radio.isChecked() else "hog"

    def set_detector(self, kind: str) -> None:
        (self.haar_radio if kind == "haar" else self.hog_radio).setChecked(True)

    def haar_settings(self):
        return core.HaarSettings(scale_factor=round(self.scale_spin.value(), 2),
                                 min_neighbors=self.neighbors_spin.value(),
                                 min_size=self.min_size_spin.value(),
                                 detect_width=_width_or_none(self.haar_width.currentData() or 0))

    def hog_settings(self):
        return core.HogSettings(upsample=self.upsample_spin.value(),
                                detect_width=_width_or_none(self.hog_width.currentData() or 0))

    def set_presets(self, haar, hog) -> None:
        """The values the Defaults button restores (live or photo presets)."""
        self._presets = {"haar": haar, "hog": hog}

    def set_values(self, haar, hog) -> None:
        self._loading = True
        try:
            self.scale_spin.setValue(haar.scale_factor)
            self.neighbors_spin.setValue(haar.min_neighbors)
            self.min_size_spin.setValue(haar.min_size)
            self._select_width(self.haar_width, haar.detect_width)
            self.upsample_spin.setValue(hog.upsample)
            self._select_width(self.hog_width, hog.detect_width)
        finally:
            self._loading = False
        self.settings_changed.emit("haar", self.haar_settings())
        self.settings_changed.emit("hog", self.hog_settings())

    def _fill_widths(self, combo: QComboBox) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        widths = list(DETECT_WIDTHS)
        if current is not None and int(current) not in widths:
            widths.append(int(current))
        for w in widths:
            combo.addItem(tr("full_size", self.lang) if w == 0 else f"{w} px", w)
        combo.setCurrentIndex(max(0, combo.findData(current if current is not None else 0)))
        combo.blockSignals(False)

    def _select_width(self, combo: QComboBox, width: int | None) -> None:
        value = int(width or 0)
        if combo.findData(value) < 0:
            combo.addItem(f"{value} px", value)
        combo.setCurrentIndex(combo.findData(value))

    # handlers -----------------------------------------------------------
    def _on_detector_toggled(self, _checked: bool) -> None:
        self.detector_changed.emit(self.detector)

    def _on_compare_toggled(self, on: bool) -> None:
        self.compare_changed.emit(on)

    def _on_haar_changed(self, *_args) -> None:
        if not self._loading:
            self.settings_changed.emit("haar", self.haar_settings())

    def _on_hog_changed(self, *_args) -> None:
        if not self._loading:
            self.settings_changed.emit("hog", self.hog_settings())

    def _on_defaults_clicked(self) -> None:
        self.set_values(self._presets["haar"], self._presets["hog"])

    # language -----------------------------------------------------------
    def retranslate(self, lang: str) -> None:
        self.lang = lang
        self.setTitle(tr("grp_detector", lang))
        self.haar_radio.setText(tr("det_haar", lang))
        self.hog_radio.setText(tr("det_hog", lang))
        self.compare_box.setText(tr("compare", lang))
        for key, label in self._labels.items():
            label.setText(tr("detect_width" if key == "detect_width_hog" else key, lang))
        self.defaults_btn.setText(tr("btn_defaults", lang))
        self._fill_widths(self.haar_width)
        self._fill_widths(self.hog_width)
