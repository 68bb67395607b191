"""The one place an app keeps each detector kind's settings, for live video and for photos.

Live video and photos want different settings (photos search finer, at full
size), so each mode keeps its own copy of every kind's settings, starting
from that kind's preset for the mode. Views and consumers do not keep copies:
they read `current(kind)` and subscribe with `connect(callback)`; the model
calls `callback(kind, settings)` whenever what the current mode uses changes
(an edit, a reset, a switch of mode). This is napari's model/view split: the
model imports no Qt, and a Qt form is one of its listeners.

    model = DetectorSettingsModel()
    model.connect(lambda kind, s: print(kind, describe(s)))
    model.set("haar", dataclasses.replace(model.current("haar"), min_size=60))
    model.set_mode("photo")          # every kind now reads its photo settings
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from kise_desktop.core.detectors.registry import (check_settings, kind_names, kind_of, preset, settings_from_dict,
                                                  settings_to_dict)

MODES: tuple[str, ...] = ("live", "photo")

Listener = Callable[[str, Any], None]


class DetectorSettingsModel:
    """Each registered kind's settings per mode (live, photo), and who to tell when they change."""

    def __init__(self, saved: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
                 mode: str = "live") -> None:
        """`saved` is what `to_dict()` gave (mode -> kind -> field -> value); unreadable parts fall back to presets."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self._mode = mode
        self._values: dict[str, dict[str, Any]] = {}
        saved = saved or {}
        for m in MODES:
            by_kind = saved.get(m) or {}
            self._values[m] = {}
            for kind in kind_names():
                base = preset(kind, m)
                data = by_kind.get(kind)
                self._values[m][kind] = settings_from_dict(dict(data), kind, base=base) if data else base
        self._listeners: list[Listener] = []

    # reading --------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._values[self._mode])

    def current(self, kind: str) -> Any:
        """The settings `kind` runs with in the current mode."""
        return self._values[self._mode][kind]

    def all_current(self) -> dict[str, Any]:
        return dict(self._values[self._mode])

    def in_mode(self, mode: str) -> dict[str, Any]:
        """Every kind's settings for `mode` (a copy; the current mode's are `all_current()`)."""
        return dict(self._values[mode])

    def preset(self, kind: str) -> Any:
        """What `reset` restores for `kind` in the current mode."""
        return preset(kind, self._mode)

    # changing -------------------------------------------------------------
    def connect(self, listener: Listener) -> None:
        """Call `listener(kind, settings)` after each change to what the current mode uses."""
        self._listeners.append(listener)

    def disconnect(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def set(self, kind: str, settings: Any) -> None:
        """Use these settings for `kind` in the current mode (ValueError if out of range or of another kind)."""
        if kind_of(settings).name != kind:
            raise ValueError(f"settings of {kind_of(settings).name!r} given for {kind!r}")
        check_settings(settings)
        if self._values[self._mode].get(kind) == settings:
            return
        self._values[self._mode][kind] = settings
        self._emit([kind])

    def reset(self, kinds: Iterable[str] | None = None) -> None:
        """Back to the current mode's presets (every kind, or those named)."""
        for kind in kind_names() if kinds is None else kinds:
            self.set(kind, preset(kind, self._mode))

    def set_mode(self, mode: str) -> None:
        """Switch to the other mode's settings; listeners hear of every kind whose settings differ."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == self._mode:
            return
        before = self._values[self._mode]
        self._mode = mode
        self._emit([k for k, s in self._values[mode].items() if before.get(k) != s])

    def _emit(self, kinds: list[str]) -> None:
        for kind in kinds:
            settings = self._values[self._mode][kind]
            for listener in list(self._listeners):
                listener(kind, settings)

    # saving ---------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, dict[str, Any]]]:
        """mode -> kind -> field -> value (JSON-ready, no "kind" key); what the constructor reads back."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for m, by_kind in self._values.items():
            out[m] = {}
            for kind, settings in by_kind.items():
                data = settings_to_dict(settings)
                data.pop("kind", None)
                out[m][kind] = data
        return out
