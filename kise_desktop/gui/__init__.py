"""PySide6 desktop app (`kise-desktop`): Qt only; all detection and model logic is in kise_desktop.core."""
