"""What this KISE is and carries: version, bundled models, main libraries, licences.

Qt-free and cheap to import; one source for `kise --version`,
`kise-desktop --version` and the app's About dialog. Everything is read from
what is actually installed (the resources folder, the sidecars, the packages'
own metadata), so the text never drifts from the files.
"""
from __future__ import annotations

import argparse
import importlib
import json
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from kise_desktop.paths import MODELS_DIR, PACKAGE_DIR, REPO_DIR, RESOURCES_DIR, RESOURCES_FROM
from kise_desktop.version import __version__

DISTRIBUTION = "kise-desktop"
LICENCE_NAMES = re.compile(r"licen[cs]e|copying|notice", re.IGNORECASE)
MODEL_SUFFIXES = (".tflite", ".onnx")
# (distribution, import name): what the app runs on. Versions and licences come from each package's metadata.
MAIN_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("numpy", "numpy"),
    ("opencv-python-headless", "cv2"),
    ("dlib-bin", "dlib"),
    ("ai-edge-litert", "ai_edge_litert"),
    ("pyside6-essentials", "PySide6"),
    ("pyqtgraph", "pyqtgraph"),
    ("pillow", "PIL"),
    ("matplotlib", "matplotlib"),
    ("tqdm", "tqdm"),
)


@dataclass(frozen=True)
class BundledModel:
    file: Path
    kind: str                  # "emotion" or "face_detector" (or "model" when neither can be told)
    name: str
    classes: int | None
    accuracy: float | None     # 0..1, from the sidecar
    evaluated_on: str          # what the accuracy was measured on ("" if the sidecar does not say)
    terms: str                 # training data / licence terms from the sidecar ("" if none)


@dataclass(frozen=True)
class Terms:
    """The licence terms of one bundled thing, with the texts shipped for it."""
    key: str                   # what it is: code, emotion_model_fer, emotion_model, face_detector_yunet, ...
    subject: str               # file (or program) it covers
    licence: str               # short name, in English (the i18n table words it in Korean)
    files: tuple[Path, ...]    # licence texts / model card to show, all existing


@dataclass(frozen=True)
class Library:
    distribution: str
    version: str
    licence: str
    files: tuple[Path, ...] = ()     # licence texts the package ships in its metadata


def sidecar_accuracy(sidecar: dict, mirrored: bool = True) -> float | None:
    """The test accuracy in a sidecar's "metrics": its own key first, else the first accuracy-like one.
    `mirrored=False`: the one-pass figure ("metrics_one_pass") of a model that mirrors at run time, if given."""
    metrics = sidecar.get("metrics") if mirrored or "metrics_one_pass" not in sidecar else sidecar["metrics_one_pass"]
    if not isinstance(metrics, dict):
        return None
    for key in ("accuracy", "test_accuracy", "ferplus_test_accuracy", "acc"):
        if isinstance(metrics.get(key), (int, float)):
            return float(metrics[key])
    for key, value in metrics.items():
        if "acc" in key.lower() and isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, dict):
            nested = sidecar_accuracy({"metrics": value})
            if nested is not None:
                return nested
    return None


def _read_sidecar(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def bundled_models(models_dir: Path = MODELS_DIR) -> list[BundledModel]:
    """Each model file in the resources, described by its sidecar (same stem, .json) where there is one."""
    found: list[BundledModel] = []
    for path in sorted(models_dir.glob("*")) if models_dir.is_dir() else []:
        if path.suffix.lower() not in MODEL_SUFFIXES or not path.is_file():
            continue
        sidecar = _read_sidecar(path.with_suffix(".json"))
        labels = sidecar.get("labels")
        if isinstance(labels, list) and labels:
            kind = "emotion"
        elif path.suffix.lower() == ".onnx" or "detect" in path.stem.lower():
            kind = "face_detector"
        else:
            kind = "model"
        metrics = sidecar.get("metrics") if isinstance(sidecar.get("metrics"), dict) else {}
        found.append(BundledModel(
            file=path, kind=kind, name=str(sidecar.get("name") or path.stem),
            classes=len(labels) if isinstance(labels, list) and labels else None,
            accuracy=sidecar_accuracy(sidecar), evaluated_on=str(metrics.get("evaluated_on", "")),
            terms=str(sidecar.get("license") or sidecar.get("training_data") or "")))
    return found


def code_licence_file() -> Path | None:
    """KISE's own LICENSE: from this installed distribution's metadata, else the repo's (or the bundle's)."""
    from importlib import metadata      # here, not at the top: it costs start-up time and only --version/About need it

    for dist in metadata.distributions(name=DISTRIBUTION):   # the one whose files are this package
        if Path(dist.locate_file("kise_desktop/__init__.py")).resolve() != PACKAGE_DIR / "__init__.py":
            continue
        for entry in dist.files or []:
            if entry.name == "LICENSE" and Path(dist.locate_file(entry)).is_file():
                return Path(dist.locate_file(entry))
    candidate = REPO_DIR / "LICENSE"       # a checkout, or a PyInstaller bundle (its spec puts it there)
    return candidate if candidate.is_file() else None


def bundled_terms() -> list[Terms]:
    """Licence terms of the code and of everything in the resources folder; no licence file goes unlisted."""
    terms: list[Terms] = []
    code = code_licence_file()
    terms.append(Terms("code", "KISE", "Apache-2.0", (code,) if code else ()))
    licence_files = sorted(p for p in RESOURCES_DIR.rglob("*") if p.is_file() and "LICENSE" in p.name.upper())
    claimed: set[Path] = set()
    card = MODELS_DIR / "MODEL_CARD.md"
    models = bundled_models()
    for model in models:
        if model.kind == "emotion":
            fer = "FER2013" in model.terms
            terms.append(Terms("emotion_model_fer" if fer else "emotion_model", model.file.name,
                               "FER2013: research use only; FER+ labels: MIT" if fer else (model.terms or "?"),
                               (card,) if card.is_file() else ()))
    # YuNet: 2023mar is published by OpenCV's zoo (MIT) and is byte-identical to libfacedetection.train's
    # yunet_s (Apache-2.0); the "n" network comes from libfacedetection.train only (YUNET.md).
    yunet = [m for m in models if m.kind != "emotion" and "yunet" in m.file.stem.lower()]
    for model in yunet:
        folder = model.file.parent
        zoo = "2023mar" in model.file.stem
        texts = tuple(p for p in licence_files if p.parent == folder
                      and ("libfacedetection" in p.name or (zoo and "opencv_zoo" in p.name)))
        claimed.update(texts)
        note = folder / "YUNET.md"
        terms.append(Terms("face_detector_yunet" if zoo else "face_detector_yunet_apache", model.file.name,
                           "MIT (OpenCV Zoo) + Apache-2.0 (libfacedetection.train)" if zoo
                           else "Apache-2.0 (libfacedetection.train)",
                           ((note,) if note.is_file() else ()) + texts))
    for model in models:
        if model.kind != "emotion" and model not in yunet:
            terms.append(Terms("model_other", model.file.name, model.terms or "?", ()))
    font = RESOURCES_DIR / "fonts" / "NanumGothic.ttf"
    if font.is_file():
        texts = tuple(p for p in licence_files if p.parent == font.parent and p.name.startswith("NanumGothic"))
        claimed.update(texts)
        terms.append(Terms("font_nanum", font.name, "SIL Open Font License 1.1", texts))
    for path in licence_files:
        if path not in claimed:
            terms.append(Terms("other", path.relative_to(RESOURCES_DIR).as_posix(), path.stem, (path,)))
    return terms


def _declared_licence(meta) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return ", ".join(classifiers) or "?"


def libraries() -> list[Library]:
    """The main libraries as installed: version and the licence each package declares."""
    from importlib import metadata

    found: list[Library] = []
    for distribution, module in MAIN_LIBRARIES:
        try:
            dist = metadata.distribution(distribution)
            texts = tuple(Path(dist.locate_file(f)) for f in dist.files or []
                          if f.parts[0].endswith(".dist-info") and LICENCE_NAMES.search(f.name))
            found.append(Library(distribution, dist.metadata["Version"], _declared_licence(dist.metadata),
                                 tuple(p for p in texts if p.is_file())))
        except metadata.PackageNotFoundError:      # e.g. a bundle without package metadata: ask the module
            try:
                version = str(getattr(importlib.import_module(module), "__version__", "?"))
            except ImportError:
                version = "not installed"
            found.append(Library(distribution, version, "?"))
    return found


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%" if value <= 1 else f"{value:.1f}%"


def version_text() -> str:
    """What `kise --version` and `kise-desktop --version` print."""
    lines = [f"KISE {__version__} ({DISTRIBUTION}), Python {platform.python_version()} on {platform.system()} "
             f"{platform.machine()}", f"resources: {RESOURCES_DIR} (from {RESOURCES_FROM})", "models:"]
    models = bundled_models()
    for m in models:
        detail = f"{m.classes} classes, accuracy {percent(m.accuracy)}" if m.kind == "emotion" else m.kind
        where = f" on {m.evaluated_on}" if m.kind == "emotion" and m.evaluated_on else ""
        lines.append(f"  {m.file.name}: {m.name} ({detail}{where})")
    if not models:
        lines.append(f"  none found in {MODELS_DIR}")
    lines.append("  built in: OpenCV Haar cascade (opencv-python-headless), dlib HOG (dlib-bin)")
    lines.append("libraries: " + ", ".join(f"{lib.distribution} {lib.version}" for lib in libraries()))
    lines.append("licences: " + " | ".join(f"{t.subject}: {t.licence}" for t in bundled_terms()))
    return "\n".join(lines)


class VersionAction(argparse.Action):
    """`--version`: print version_text() and exit (computed only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "print the version, bundled models, library versions and licences, and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


if __name__ == "__main__":
    print(version_text())
    sys.exit(0)
