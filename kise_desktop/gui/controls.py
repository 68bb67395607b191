"""Detector controls, generated from the core's detector registry.

A chooser lists every registered kind by display name; compare mode has a
checkable list of kinds; each kind gets a small form built from its settings
dataclass's field metadata (label en/ko, range, step, decimals, choices), so a
new detector kind needs no GUI code: register it in the core and it shows up.

The forms keep no settings of their own: they show the core's
DetectorSettingsModel, write each edit into it, and follow its changes (a
reset, a switch between live video and photos).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget)

from . import core_api as core
from .i18n import tr

# Spin-box limits for fields that declare none (a kind may leave its range open).
_OPEN_MIN, _OPEN_MAX = -1_000_000, 1_000_000


def _field_widget(field: dataclasses.Field, default: Any) -> QWidget:
    """The editor a field's metadata asks for: a combo for choices, a check box for bools, else a spin box."""
    meta = field.metadata
    if meta.get("choices"):
        return QComboBox()
    if isinstance(default, bool):
        return QCheckBox()
    lo = meta.get("min") if meta.get("min") is not None else _OPEN_MIN
    hi = meta.get("max") if meta.get("max") is not None else _OPEN_MAX
    step = meta.get("step") or 1
    if isinstance(default, float) or int(meta.get("decimals") or 0) > 0:
        return QDoubleSpinBox(decimals=int(meta.get("decimals") or 2), minimum=float(lo), maximum=float(hi),
                              singleStep=float(step))
    return QSpinBox(minimum=int(lo), maximum=int(hi), singleStep=int(step))


class SettingsForm(QGroupBox):
    """One detector kind's settings as a form, one row per settings field."""

    changed = Signal(str, object)          # kind, settings

    def __init__(self, kind: str, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.lang = lang
        self._kind = core.get_kind(kind)
        self._base = self._kind.presets["live"]
        self._fields = dataclasses.fields(self._kind.settings_class)
        self.widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._loading = False
        form = QFormLayout(self)
        for f in self._fields:
            widget = _field_widget(f, getattr(self._base, f.name))
            if f.metadata.get("help"):
                widget.setToolTip(f.metadata["help"])
            self.widgets[f.name] = widget
            self._labels[f.name] = QLabel()
            form.addRow(self._labels[f.name], widget)
        self.retranslate(lang)
        self.set_settings(self._base, emit=False)
        for widget in self.widgets.values():
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_edited)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._on_edited)
            else:
                widget.valueChanged.connect(self._on_edited)

    def settings(self) -> Any:
        values: dict[str, Any] = {}
        for f in self._fields:
            widget = self.widgets[f.name]
            if isinstance(widget, QComboBox):
                value = widget.currentData()
                if 0 in f.metadata["choices"]:          # 0 = full size = None
                    value = int(value or 0) or None
            elif isinstance(widget, QCheckBox):
                value = widget.isChecked()
            elif isinstance(widget, QDoubleSpinBox):
                value = round(widget.value(), widget.decimals())
            else:
                value = int(widget.value())
            values[f.name] = value
        return dataclasses.replace(self._base, **values)

    def set_settings(self, settings: Any, emit: bool = True) -> None:
        self._loading = True
        try:
            for f in self._fields:
                widget, value = self.widgets[f.name], getattr(settings, f.name)
                if isinstance(widget, QComboBox):
                    data = int(value or 0) if 0 in f.metadata["choices"] else value
                    if widget.findData(data) < 0:                # e.g. a width saved from another screen
                        widget.addItem(self._choice_text(f, data), data)
                    widget.setCurrentIndex(widget.findData(data))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                else:
                    widget.setValue(value)
        finally:
            self._loading = False
        if emit:
            self.changed.emit(self.kind, self.settings())

    def _choice_text(self, field: dataclasses.Field, value: Any) -> str:
        if 0 in field.metadata["choices"]:
            return tr("full_size", self.lang) if not value else f"{value} px"
        return str(value)

    def _fill_choices(self, field: dataclasses.Field, combo: QComboBox) -> None:
        current = combo.currentData()
        values = list(field.metadata["choices"])
        if current is not None and current not in values:
            values.append(current)
        combo.blockSignals(True)
        combo.clear()
        for value in values:
            combo.addItem(self._choice_text(field, value), value)
        if current is not None:
            combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _on_edited(self, *_args) -> None:
        if not self._loading:
            self.changed.emit(self.kind, self.settings())

    def retranslate(self, lang: str) -> None:
        self.lang = lang
        self.setTitle(self._kind.name_in(lang))
        self.setToolTip(self._kind.summary.get(lang) or self._kind.summary.get("en", ""))
        for f in self._fields:
            label = f.metadata.get("label") or {}
            self._labels[f.name].setText(label.get(lang) or label.get("en") or f.name)
            if isinstance(self.widgets[f.name], QComboBox):
                self._fill_choices(f, self.widgets[f.name])


class DetectorControls(QGroupBox):
    """The detector chooser, the compare list and one settings form per registered kind."""

    detector_changed = Signal(str)            # kind
    compare_changed = Signal(list)            # the kinds to compare; [] = compare off (or fewer than two chosen)
    detect_rate_changed = Signal(object)      # detections per second on live video; None = every frame

    def __init__(self, model: core.DetectorSettingsModel, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.model = model
        names = core.kind_names()
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        radios = QVBoxLayout()
        radios.setSpacing(2)
        for kind in names:
            radio = QRadioButton()
            self.group.addButton(radio)
            self.radios[kind] = radio
            radios.addWidget(radio)
        self.radios[names[0]].setChecked(True)
        self.compare_box = QCheckBox()
        self.compare_checks: dict[str, QCheckBox] = {k: QCheckBox() for k in names}
        self.compare_list = QWidget()
        cl = QHBoxLayout(self.compare_list)
        cl.setContentsMargins(18, 0, 0, 0)
        for check in self.compare_checks.values():
            check.setChecked(True)
            cl.addWidget(check)
        cl.addStretch(1)
        self.forms: dict[str, SettingsForm] = {k: SettingsForm(k, lang) for k in names}
        self.defaults_btn = QPushButton()
        self.rate_label = QLabel()
        self.rate_combo = QComboBox()
        for rate in core.DETECT_RATE_CHOICES:
            self.rate_combo.addItem("", rate)
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate_label)
        rate_row.addWidget(self.rate_combo, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(radios)
        layout.addWidget(self.compare_box)
        layout.addWidget(self.compare_list)
        layout.addLayout(rate_row)
        for form in self.forms.values():
            layout.addWidget(form)
        layout.addWidget(self.defaults_btn)
        for kind, radio in self.radios.items():
            radio.toggled.connect(lambda on, kind=kind: on and self._on_detector_chosen(kind))
        self.compare_box.toggled.connect(self._on_compare_edited)
        for check in self.compare_checks.values():
            check.toggled.connect(self._on_compare_edited)
        for kind, form in self.forms.items():
            form.set_settings(model.current(kind), emit=False)
            form.changed.connect(model.set)
        model.connect(self._on_model_changed)
        self.defaults_btn.clicked.connect(self._on_defaults_clicked)
        self.rate_combo.currentIndexChanged.connect(lambda _i: self.detect_rate_changed.emit(self.detect_rate))
        self.retranslate(lang)
        self._show_forms()

    # values -------------------------------------------------------------
    @property
    def detector(self) -> str:
        return next(k for k, r in self.radios.items() if r.isChecked())

    def set_detector(self, kind: str) -> None:
        if kind in self.radios:
            self.radios[kind].setChecked(True)

    @property
    def detect_rate(self) -> float | None:
        return self.rate_combo.currentData()

    def set_detect_rate(self, rate: float | None) -> None:
        """Choose this rate if it is offered (else every frame); emits `detect_rate_changed` on a change."""
        index = self.rate_combo.findData(rate) if rate is not None else 0
        self.rate_combo.setCurrentIndex(max(0, index))

    @property
    def compared(self) -> list[str]:
        """The kinds compare mode runs ([] when it is off or fewer than two are ticked)."""
        if not self.compare_box.isChecked():
            return []
        chosen = [k for k, c in self.compare_checks.items() if c.isChecked()]
        return chosen if len(chosen) >= 2 else []

    def set_compare(self, on: bool, kinds: list[str] | None = None) -> None:
        """Compare mode on/off; `kinds` (when given) ticks exactly those."""
        if kinds is not None:
            for kind, check in self.compare_checks.items():
                check.blockSignals(True)
                check.setChecked(kind in kinds)
                check.blockSignals(False)
        self.compare_box.blockSignals(True)
        self.compare_box.setChecked(bool(on))
        self.compare_box.blockSignals(False)
        self._on_compare_edited()

    def settings(self, kind: str) -> Any:
        """What `kind`'s form shows (always the model's current settings for it)."""
        return self.forms[kind].settings()

    def all_settings(self) -> dict[str, Any]:
        return {k: f.settings() for k, f in self.forms.items()}

    # handlers -----------------------------------------------------------
    def _on_detector_chosen(self, kind: str) -> None:
        self._show_forms()
        self.detector_changed.emit(kind)

    def _on_compare_edited(self, *_args) -> None:
        self.compare_list.setVisible(self.compare_box.isChecked())
        for radio in self.radios.values():           # compare mode runs the ticked kinds, not the chosen one
            radio.setEnabled(not self.compared)
        self._show_forms()
        self.compare_changed.emit(self.compared)

    def _show_forms(self) -> None:
        """Only the forms of the detectors in use: the side panel stays short."""
        shown = set(self.compared or [self.detector])
        for kind, form in self.forms.items():
            form.setVisible(kind in shown)

    def _on_model_changed(self, kind: str, settings: Any) -> None:
        if kind in self.forms:
            self.forms[kind].set_settings(settings, emit=False)

    def _on_defaults_clicked(self) -> None:
        self.model.reset()          # the current mode's presets (live or photo)

    # language -----------------------------------------------------------
    def retranslate(self, lang: str) -> None:
        self.lang = lang
        self.setTitle(tr("grp_detector", lang))
        for kind, radio in self.radios.items():
            k = core.get_kind(kind)
            radio.setText(k.name_in(lang))
            radio.setToolTip(k.summary.get(lang) or k.summary.get("en", ""))
            self.compare_checks[kind].setText(core.detector_name(kind, lang, short=True))
        self.compare_box.setText(tr("compare", lang))
        for form in self.forms.values():
            form.retranslate(lang)
        self.defaults_btn.setText(tr("btn_defaults", lang))
        self.rate_label.setText(tr("detect_rate", lang))
        for i in range(self.rate_combo.count()):
            rate = self.rate_combo.itemData(i)
            self.rate_combo.setItemText(i, tr("rate_every_frame", lang) if rate is None
                                        else tr("rate_per_second", lang, n=rate))
        for widget in (self.rate_label, self.rate_combo):
            widget.setToolTip(tr("detect_rate_tip", lang))
