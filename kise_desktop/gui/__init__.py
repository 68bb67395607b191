"""PySide6 desktop app (`kise-desktop`): Qt only; all detection and model logic is in kise_desktop.core."""
from .qt_compat import guard_singleton_refcounts

guard_singleton_refcounts()   # PySide6 6.12.0 + CPython < 3.12 would otherwise abort (see qt_compat)
