"""Number inputs that refuse out-of-range values visibly instead of clamping them silently.

A plain QSpinBox with a maximum of 300 turns a typed "999" into "99" (its
validator drops the keystroke) or into 300, and says nothing. `CheckedSpinBox`
lets any number be typed, and when editing ends outside the allowed range it
keeps the previous value, outlines itself in red and emits `refused` with a
sentence saying why (the window shows it beside the box and in the status bar).
"""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

from .i18n import format_number, number_locale, tr

TYPING_LIMIT = 1e6          # what may be typed at all; the real range is checked afterwards
REFUSED_STYLE = "QDoubleSpinBox { border: 2px solid #c0392b; }"
REFUSED_SHOW_MS = 4000


class CheckedSpinBox(QDoubleSpinBox):
    """`value()` is always in [low, high]; other typed values are refused, visibly."""

    refused = Signal(str)          # the message, in the current language
    accepted = Signal(float)       # a new value within range (after editing ends, or set in code)

    def __init__(self, low: float, high: float, value: float, decimals: int = 0, step: float = 1.0,
                 lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.low, self.high = float(low), float(high)
        self.lang = lang
        self.setLocale(number_locale())
        self.setDecimals(decimals)
        self.setSingleStep(step)
        self.setRange(-TYPING_LIMIT, TYPING_LIMIT)
        self.setKeyboardTracking(False)     # check once editing ends, not on every keystroke
        self._good = min(max(float(value), self.low), self.high)
        self.last_refusal = ""
        self.blockSignals(True)
        self.setValue(self._good)
        self.blockSignals(False)
        self.valueChanged.connect(self._check)
        self._restyle = QTimer(self, singleShot=True, interval=REFUSED_SHOW_MS)
        self._restyle.timeout.connect(lambda: self.setStyleSheet(""))

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt name): the arrows stay within range
        self.setValue(min(max(self.value() + steps * self.singleStep(), self.low), self.high))

    def set_checked_value(self, value: float) -> bool:
        """Set from code (saved settings): True if it was in range, else refused like typing."""
        self.setValue(float(value))
        return self._good == float(value)

    def _check(self, value: float) -> None:
        if self.low <= value <= self.high:
            if value != self._good:
                self._good = value
                self.setStyleSheet("")
                self.accepted.emit(value)
            return
        d = self.decimals()
        self.last_refusal = tr("out_of_range", self.lang, value=format_number(value, d),
                               low=format_number(self.low, d), high=format_number(self.high, d),
                               kept=format_number(self._good, d))
        self.blockSignals(True)
        self.setValue(self._good)
        self.blockSignals(False)
        self.setStyleSheet(REFUSED_STYLE)
        self.setToolTip(self.last_refusal)
        self._restyle.start()
        self.refused.emit(self.last_refusal)

    def checked_value(self) -> float:
        return self._good
