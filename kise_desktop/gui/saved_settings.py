"""What the window keeps between runs, read back typed and checked.

Every QSettings key the window uses is named here and nowhere else. A value that an
older version, another machine or a hand edit left malformed reads as its default, so a
bad settings file never stops the app from starting.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from PySide6.QtCore import QByteArray, QSettings


class SavedSettings:
    def __init__(self, store: QSettings) -> None:
        self.store = store

    # ------------------------------------------------------------ reading
    def lang(self, languages: Iterable[str], default: str) -> str:
        value = str(self.store.value("lang", default))
        return value if value in tuple(languages) else default

    def mirror(self) -> str | None:
        """"on"/"off": the user's choice; None: as the model's sidecar says."""
        return {"on": "on", "off": "off"}.get(str(self.store.value("mirror", "")))

    def geometry(self) -> QByteArray | None:
        value = self.store.value("geometry")
        return value if isinstance(value, QByteArray) else None

    def detector(self, kinds: Iterable[str], default: str) -> str:
        value = str(self.store.value("detector", default))
        return value if value in tuple(kinds) else default

    def compare(self, kinds: Iterable[str]) -> tuple[bool, list[str]]:
        """(compare mode on, the kinds ticked); every kind when none saved is still registered."""
        kinds = list(kinds)
        on = str(self.store.value("compare", "false")).lower() == "true"
        saved = str(self.store.value("compare_kinds", "") or "").split(",")
        return on, [k for k in saved if k in kinds] or kinds

    def detect_rate(self, default: float | None) -> float | None:
        """Detections per second in live video; None = every frame (saved as 0)."""
        try:
            return float(self.store.value("detect_rate", default or 0) or 0) or None
        except (TypeError, ValueError):
            return default

    def history_seconds(self, default: float) -> float:
        try:
            return float(self.store.value("history_seconds", default))
        except (TypeError, ValueError):
            return default

    def detector_values(self, modes: Iterable[str], kinds: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """What was saved per mode and kind ("live/haar/min_size"), as text; the settings model checks it."""
        kinds = list(kinds)
        saved: dict[str, dict[str, dict[str, Any]]] = {}
        for mode in modes:
            for kind in kinds:
                self.store.beginGroup(f"{mode}/{kind}")
                values = {key: self.store.value(key) for key in self.store.childKeys()}
                self.store.endGroup()
                if values:
                    saved.setdefault(mode, {})[kind] = values
        return saved

    def model(self) -> tuple[str | None, str | None]:
        """The model and sidecar used last, or (None, None)."""
        return self.store.value("model_path") or None, self.store.value("sidecar_path") or None

    def last_dir(self) -> str:
        return str(self.store.value("last_dir", "") or "")

    # ------------------------------------------------------------ writing
    def remember_dir(self, path: str | Path) -> None:
        """The folder the next file dialog opens in: the one holding `path`."""
        self.store.setValue("last_dir", str(Path(path).parent))

    def set_mirror(self, choice: str | None) -> None:
        self.store.setValue("mirror", choice or "")

    def save(self, *, geometry: QByteArray, lang: str, detector: str, compare_on: bool,
             compare_kinds: Iterable[str], detect_rate: float | None,
             detector_values: dict[str, dict[str, dict[str, Any]]], history_seconds: float,
             model: tuple[Path, Path] | None) -> None:
        s = self.store
        s.setValue("geometry", geometry)
        s.setValue("lang", lang)
        s.setValue("detector", detector)
        s.setValue("compare", "true" if compare_on else "false")
        s.setValue("compare_kinds", ",".join(compare_kinds))
        s.setValue("detect_rate", detect_rate or 0)
        for mode, by_kind in detector_values.items():
            for kind, values in by_kind.items():
                for key, value in values.items():
                    s.setValue(f"{mode}/{kind}/{key}", 0 if value is None else value)   # None = full size = 0
        s.setValue("history_seconds", history_seconds)
        if model is not None:
            s.setValue("model_path", str(model[0]))
            s.setValue("sidecar_path", str(model[1]))
        s.sync()
