"""The detector kinds KISE knows, registered once each: the one place that maps a kind to its parts.

A kind is data: its settings class (a frozen dataclass whose fields carry the
label, range and step a form needs, see `base.setting`), the factory that
builds a detector from those settings, its presets (seed where the seed
project had one, live, photo) and its display name. The CLI's `--detector`
choices, the GUI's forms, saved settings, `describe` and the JSON output all
read this registry; adding a fourth detector is one module that calls
`register(...)` (and one import in `detectors/__init__.py`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable

PRESET_NAMES: tuple[str, ...] = ("seed", "live", "photo")


@dataclass(frozen=True)
class DetectorKind:
    name: str                                  # stable key used in files, flags and settings: "haar"
    display_name: dict[str, str]               # {"en": ..., "ko": ...}
    settings_class: type
    factory: Callable[[Any], Any]              # settings -> Detector
    presets: dict[str, Any]                    # "live" and "photo" always; "seed" where the seed had one
    summary: dict[str, str]                    # one line on what it is good at (en/ko), for help texts and tooltips
    describe: Callable[[Any], str] | None = None   # short form for logs and tables; default: generic
    # Detector boxes differ in how much of the head they cover; the classifier's crop
    # margin (from its sidecar) was tuned on boxes like Haar's. Each crop side is
    # multiplied by this, so that every kind gives the classifier the same framing.
    crop_scale: float = 1.0
    # OpenCV threads this kind runs best with in a live app, where the GUI needs the other cores:
    # 1 for a kind whose per-frame jobs are too small for OpenCV's pool (it spins between them),
    # None for one that OpenCV parallelises well (Haar's scales). Measured with bench_gui --paced.
    opencv_threads: int | None = None

    def name_in(self, lang: str) -> str:
        return self.display_name.get(lang) or self.display_name["en"]


_KINDS: dict[str, DetectorKind] = {}
_BY_SETTINGS: dict[type, DetectorKind] = {}


def register(kind: DetectorKind) -> DetectorKind:
    """Add a kind (its module calls this at import). Re-registering a name replaces it."""
    if not dataclasses.is_dataclass(kind.settings_class):
        raise TypeError(f"{kind.name}: settings_class must be a dataclass")
    for required in ("live", "photo"):
        if required not in kind.presets:
            raise ValueError(f"{kind.name}: a '{required}' preset is required")
    old = _KINDS.get(kind.name)
    if old is not None:
        _BY_SETTINGS.pop(old.settings_class, None)
    _KINDS[kind.name] = kind
    _BY_SETTINGS[kind.settings_class] = kind
    return kind


def ensure_registered(kind: DetectorKind) -> None:
    """Register `kind` unless its settings class already is: a spawned worker process imports the
    built-in kinds, but not one its parent registered at run time (a plugin, a test's toy)."""
    if _BY_SETTINGS.get(kind.settings_class) is None:
        register(kind)


def unregister(name: str) -> None:
    """Remove a kind (tests that register a fake one clean up with this)."""
    kind = _KINDS.pop(name, None)
    if kind is not None:
        _BY_SETTINGS.pop(kind.settings_class, None)


def kinds() -> dict[str, DetectorKind]:
    """All registered kinds by name, in registration order."""
    return dict(_KINDS)


def kind_names() -> tuple[str, ...]:
    return tuple(_KINDS)


def get_kind(name: str) -> DetectorKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise KeyError(f"unknown detector {name!r}; known: {', '.join(_KINDS)}") from None


def kind_of(settings: Any) -> DetectorKind:
    """The kind whose settings class `settings` is an instance of."""
    try:
        return _BY_SETTINGS[type(settings)]
    except KeyError:
        raise TypeError(f"not registered detector settings: {settings!r}") from None


def make_detector(settings: Any) -> Any:
    """The detector that these settings describe."""
    return kind_of(settings).factory(settings)


def same_kind(detector: Any, settings: Any) -> bool:
    """Whether `detector` can take `settings` without being rebuilt."""
    return type(detector.settings) is type(settings)


def preset(kind: str, name: str) -> Any:
    """A kind's preset ("seed", "live", "photo"); KeyError naming what exists otherwise."""
    presets = get_kind(kind).presets
    if name not in presets:
        raise KeyError(f"detector {kind!r} has no {name!r} preset; it has {', '.join(presets)}")
    return presets[name]


def all_presets() -> dict[str, Any]:
    """Every preset of every kind as {"live-haar": settings, ...} (the names `kise bench --configs` takes)."""
    return {f"{p}-{k.name}": k.presets[p] for p in PRESET_NAMES for k in _KINDS.values() if p in k.presets}


def settings_fields(settings_class: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(settings_class)


def settings_to_dict(settings: Any) -> dict:
    """Settings as JSON-ready data, with their kind."""
    return {"kind": kind_of(settings).name, **dataclasses.asdict(settings)}


def check_settings(settings: Any) -> Any:
    """`settings` itself if every field lies in its declared range/choices, else ValueError naming the field."""
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        meta = f.metadata
        choices = meta.get("choices")
        if choices and 0 not in choices and value not in choices:
            raise ValueError(f"{kind_of(settings).name} {f.name}={value!r} is not one of {', '.join(map(str, choices))}")
        if choices:
            continue        # widths outside the menu are allowed (saved from a bigger screen), ranges are not
        if value is None:
            continue
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{kind_of(settings).name} {f.name}={value} is outside [{lo}, {hi}]")
    return settings


def settings_from_dict(data: dict, kind: str | None = None, base: Any = None) -> Any:
    """Settings from saved data: known fields converted to the type of the default, the rest from `base`.

    Unknown keys are ignored and values that cannot be read keep the base value,
    so that a settings file from another version never stops the app.
    """
    kind_obj = get_kind(kind or data["kind"])
    base = base if base is not None else kind_obj.presets["live"]
    values = {}
    for f in dataclasses.fields(kind_obj.settings_class):
        if f.name not in data:
            continue
        default = getattr(base, f.name)
        raw = data[f.name]
        choices = f.metadata.get("choices")
        try:
            if choices and 0 in choices:
                values[f.name] = int(float(raw)) if raw is not None else None
                values[f.name] = values[f.name] or None        # 0 / None = full size
            elif choices:
                if raw not in choices:
                    continue
                values[f.name] = raw
            elif isinstance(default, bool):
                values[f.name] = str(raw).lower() in ("1", "true", "yes")
            elif isinstance(default, int):
                values[f.name] = int(float(raw))
            elif isinstance(default, float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        except (TypeError, ValueError):
            continue
    candidate = dataclasses.replace(base, **values)
    try:
        return check_settings(candidate)
    except ValueError:
        return base


def describe(settings: Any) -> str:
    """A short human-readable form, e.g. 'haar 1.2/4 min20 @320'."""
    kind = kind_of(settings)
    if kind.describe is not None:
        return kind.describe(settings)
    parts = [f"{f.name}={getattr(settings, f.name)}" for f in dataclasses.fields(settings)]
    return f"{kind.name} " + " ".join(parts)


def width_text(detect_width: int | None) -> str:
    return f"@{detect_width}" if detect_width else "@full"


def opencv_threads_for(kinds: Iterable[str]) -> int:
    """Threads for cv2.setNumThreads while these kinds run: 1 if every one asks for 1, else -1
    (OpenCV's own default pool)."""
    wanted = {_KINDS[k].opencv_threads if k in _KINDS else None for k in kinds}
    return 1 if wanted == {1} else -1
