"""Where KISE finds its data, resources and caches (all overridable).

Resources (emotion and detector models, sidecars, model card, font, licences)
come from the first of:

1. `$KISE_RESOURCES_DIR`;
2. the package's own `kise_desktop/resources/`, through `importlib.resources`:
   a wheel install, a zipped install (copied once to the cache, since TFLite,
   OpenCV and Qt need real files) or a PyInstaller bundle;
3. `resources/` beside the package: a repo checkout or an editable install,
   where `training.export` writes new models.

The wheel maps the repo's `resources/` to `kise_desktop/resources/` (setup.py).
"""
from __future__ import annotations

import importlib.resources
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # importlib.resources.abc is 3.11+; the name is only needed for hints
    from importlib.resources.abc import Traversable

PACKAGE_DIR = Path(__file__).resolve().parent
# In a checkout, the repo root (training/, runs/ and ../shared beside it). Installed, this is
# site-packages or the bundle's folder: code that looks there for repo files finds none and goes on.
REPO_DIR = PACKAGE_DIR.parent


def cache_dir() -> Path:
    """Derived caches (never in git): $KISE_CACHE_DIR, else ~/.cache/kise."""
    env = os.environ.get("KISE_CACHE_DIR")
    path = Path(env) if env else Path.home() / ".cache" / "kise"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _real_folder(resources: Traversable) -> Path:
    """A filesystem folder with the packaged resources (copied out of a zip, once per version)."""
    if isinstance(resources, Path):
        return resources
    from kise_desktop.version import __version__

    target = cache_dir() / f"resources-{__version__}"
    if not target.is_dir():
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        _copy_tree(resources, partial)
        try:
            partial.rename(target)       # atomic: a second process either wins or finds it done
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _packaged_resources() -> Path | None:
    try:
        resources = importlib.resources.files("kise_desktop") / "resources"
        if resources.is_dir():
            return _real_folder(resources)
    except (ModuleNotFoundError, NotImplementedError, TypeError):   # a loader without resource support
        pass
    frozen = getattr(sys, "_MEIPASS", None)                         # PyInstaller, whatever its loader does
    if frozen and (Path(frozen) / "kise_desktop" / "resources").is_dir():
        return Path(frozen) / "kise_desktop" / "resources"
    return None


def _find_resources() -> tuple[Path, str]:
    env = os.environ.get("KISE_RESOURCES_DIR")
    if env:
        return Path(env), "KISE_RESOURCES_DIR"
    packaged = _packaged_resources()
    if packaged is not None:
        return packaged, "package"
    return REPO_DIR / "resources", "repo"


# RESOURCES_FROM says which rule found them: "KISE_RESOURCES_DIR", "package" or "repo".
RESOURCES_DIR, RESOURCES_FROM = _find_resources()
MODELS_DIR = RESOURCES_DIR / "models"
BUNDLED_MODEL = MODELS_DIR / "kise_emotion.tflite"     # the emotion model KISE ships (its sidecar beside it)
FONTS_DIR = RESOURCES_DIR / "fonts"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The shared data folder: CLI option, else $KISE_DATA_DIR, else ../shared/data."""
    if override:
        return Path(override)
    env = os.environ.get("KISE_DATA_DIR")
    if env:
        return Path(env)
    return REPO_DIR.parent / "shared" / "data"
