"""Where KISE finds its data, resources and caches (all overridable)."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
# resources/ sits beside the package in the repo (installs are editable: pip install -e .)
RESOURCES_DIR = Path(os.environ.get("KISE_RESOURCES_DIR", REPO_DIR / "resources"))
MODELS_DIR = RESOURCES_DIR / "models"
FONTS_DIR = RESOURCES_DIR / "fonts"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The shared data folder: CLI option, else $KISE_DATA_DIR, else ../shared/data."""
    if override:
        return Path(override)
    env = os.environ.get("KISE_DATA_DIR")
    if env:
        return Path(env)
    return REPO_DIR.parent / "shared" / "data"


def cache_dir() -> Path:
    """Derived caches (never in git): $KISE_CACHE_DIR, else ~/.cache/kise."""
    env = os.environ.get("KISE_CACHE_DIR")
    path = Path(env) if env else Path.home() / ".cache" / "kise"
    path.mkdir(parents=True, exist_ok=True)
    return path
