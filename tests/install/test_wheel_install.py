"""Install KISE as a user would: build the sdist and the wheel, install the wheel (not editable) into a fresh
virtual environment outside the repo, and run `kise` and `kise-desktop` from a temporary folder elsewhere.

The fresh environment gets KISE only from the wheel. Its third-party packages (OpenCV, Qt, LiteRT...) are the
test environment's, seen through a .pth file, so that the test needs no network and takes seconds; a .pth line
only adds a folder to sys.path, so the test environment's editable install of KISE (itself a .pth) stays
inactive there. What proves that nothing comes from the repo: the resolved paths of the package, its resources
and the model each run used, an audit hook that records every file Python opens under the repo, and `import
training` failing.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from kise_desktop.paths import REPO_DIR

SHARED_DIR = REPO_DIR.parent / "shared"
PHOTO = "2008_002506.jpg"            # a dlib-faces group photo
TIMEOUT = 240
# Run inside the fresh environment: everything Python opens under the repo is recorded (imports included),
# except the test environment's third-party packages (CI's .venv lives inside the repo).
AUDITED_RUN = r"""
import json, os, runpy, sys
repo, allowed, log, module = sys.argv[1:5]
allowed = [a for a in allowed.split(os.pathsep) if a]
seen = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.realpath(os.fsdecode(args[0]))
        if path.startswith(repo + os.sep) and not any(path.startswith(a + os.sep) for a in allowed):
            seen.append(path)
sys.addaudithook(hook)
sys.argv = [module, *sys.argv[5:]]
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
finally:
    with open(log, "w") as fh:
        json.dump(seen, fh)
"""


def venv_exe(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


def source_files(repo: Path) -> list[str]:
    """What a fresh clone holds: tracked and untracked-but-not-ignored files (git), else the tree minus caches."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                             capture_output=True, check=True, timeout=60).stdout
        return [name for name in out.decode().split("\0") if name and (repo / name).is_file()]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "runs", "build", "dist", "__pycache__", ".pytest_cache", ".devdata", ".whl", ".cache"}
        return [p.relative_to(repo).as_posix() for p in repo.rglob("*")
                if p.is_file() and not skip & set(p.relative_to(repo).parts)]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KISE_", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONSAFEPATH="1", PYTHONNOUSERSITE="1", **extra)
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """sdist and wheel, built by `python -m build` (the wheel from the sdist) from a copy of the checkout."""
    pytest.importorskip("build", reason="the 'build' package (test extra) is needed to build the wheel")
    work = tmp_path_factory.mktemp("kise-build")
    src = work / "src"
    for name in source_files(REPO_DIR):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_DIR / name, src / name)
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"), str(src)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = sorted((work / "dist").glob("kise_desktop-*.whl"))
    sdists = sorted((work / "dist").glob("kise_desktop-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in (work / "dist").iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory) -> dict[str, Path]:
    """A fresh venv (no pip) with the wheel installed by this environment's pip; deps seen through a .pth."""
    root = tmp_path_factory.mktemp("kise-venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv_exe(venv, "python")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "--no-compile", "-q", str(dists["wheel"])], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    deps = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    (site / "zz_kise_test_deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n", encoding="utf-8")
    home = root / "home"                      # QSettings and caches go here, not into the user's home
    home.mkdir()
    elsewhere = root / "elsewhere"            # the folder the commands run in
    elsewhere.mkdir()
    return {"venv": venv, "python": python, "site": site, "deps": Path(deps[0]), "home": home, "cwd": elsewhere}


def run_in_venv(installed, args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=installed["cwd"], capture_output=True, text=True, timeout=TIMEOUT,
                          env=clean_env(HOME=str(installed["home"]), USERPROFILE=str(installed["home"]),
                                        XDG_CONFIG_HOME=str(installed["home"] / "config"),
                                        XDG_CACHE_HOME=str(installed["home"] / "cache"), **env))


def audited(installed, module: str, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    log = installed["cwd"] / f"opened-{module}.json"
    allowed = os.pathsep.join(os.path.realpath(p) for p in {installed["deps"], Path(sys.prefix)})
    done = run_in_venv(installed, [str(installed["python"]), "-c", AUDITED_RUN,
                                   os.path.realpath(REPO_DIR), allowed, str(log), module, *args])
    return done, json.loads(log.read_text()) if log.is_file() else ["<no audit log>"]


# ------------------------------------------------------------------------------------------------- the wheel
def test_wheel_carries_the_resources_and_only_kise_desktop(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        sizes = {info.file_size for info in wheel.infolist()}
        hashes = {hashlib.sha256(wheel.read(n)).hexdigest() for n in names}
        top_level = wheel.read(next(n for n in names if n.endswith(".dist-info/top_level.txt"))).decode().split()
    assert top_level == ["kise_desktop"]
    outside = [n for n in names if not n.startswith("kise_desktop/") and ".dist-info/" not in n]
    assert not outside, f"files outside the package: {outside}"
    assert not [n for n in names if n.startswith(("training/", "tests/", "kise_desktop/training"))]
    # every file of the repo's resources/ (models, sidecars, model card, detector model, font, licences)
    expected = sorted("kise_desktop/resources/" + p.relative_to(REPO_DIR / "resources").as_posix()
                      for p in (REPO_DIR / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert not sorted(set(expected) - set(names)), "resources missing from the wheel"
    for needed in ("models/kise_emotion.tflite", "models/kise_emotion.json", "models/MODEL_CARD.md",
                   "fonts/NanumGothic.ttf", "fonts/NanumGothic-LICENSE.txt"):
        assert "kise_desktop/resources/" + needed in names
    yunet = REPO_DIR / "resources" / "models" / "face_detection_yunet_2023mar.onnx"
    if yunet.is_file():                       # the detector model, once the repo carries it, with both licences
        for needed in (yunet.name, "LICENSE-opencv_zoo-MIT.txt", "LICENSE-libfacedetection.train-Apache-2.0.txt"):
            assert "kise_desktop/resources/models/" + needed in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    # nothing from ../shared's data or anchors (the models/ there are meant to be bundled, via resources/)
    if SHARED_DIR.is_dir():
        copied = []
        for folder in (SHARED_DIR / "data", SHARED_DIR / "anchors"):
            for path in folder.rglob("*") if folder.is_dir() else []:
                if path.is_file() and path.stat().st_size in sizes and path.stat().st_size > 0:
                    if hashlib.sha256(path.read_bytes()).hexdigest() in hashes:
                        copied.append(str(path))
        assert not copied, f"the wheel carries files from ../shared: {copied}"


def test_sdist_builds_the_wheel_with_resources(dists):
    import tarfile

    with tarfile.open(dists["sdist"]) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    for needed in ("setup.py", "pyproject.toml", "LICENSE", "resources/models/kise_emotion.tflite",
                   "resources/fonts/NanumGothic.ttf"):
        assert needed in names
    assert not [n for n in names if n.startswith("training/")]


# ------------------------------------------------------------------------------------------- the installed app
def test_installed_package_reads_nothing_from_the_repo(installed):
    code = ("import json, sys, kise_desktop, kise_desktop.paths as p, kise_desktop.about_info as a\n"
            "try:\n    import training\n    training_from = training.__file__\nexcept ImportError:\n"
            "    training_from = None\n"
            "print(json.dumps({'package': kise_desktop.__file__, 'resources': str(p.RESOURCES_DIR),"
            " 'from': p.RESOURCES_FROM, 'models': str(p.MODELS_DIR), 'fonts': str(p.FONTS_DIR),"
            " 'licence': str(a.code_licence_file()), 'training': training_from, 'path': sys.path}))")
    done = run_in_venv(installed, [str(installed["python"]), "-c", code])
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    site = os.path.realpath(installed["site"])
    for key in ("package", "resources", "models", "fonts", "licence"):
        assert os.path.realpath(info[key]).startswith(site + os.sep), (key, info[key])
    assert info["from"] == "package"
    assert info["training"] is None, f"training importable from {info['training']}"
    repo = os.path.realpath(REPO_DIR)
    deps = os.path.realpath(installed["deps"])
    assert not [p for p in info["path"] if p and os.path.realpath(p).startswith(repo + os.sep)
                and not os.path.realpath(p).startswith(deps)], info["path"]


def test_kise_annotate_from_the_wheel_finds_faces(installed, dlib_faces_dir):
    out = installed["cwd"] / "annotated"
    done, opened = audited(installed, "kise_desktop.cli", "annotate", str(dlib_faces_dir / PHOTO),
                           "-o", str(out), "--lang", "en")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(report["images"]) == 1 and len(report["images"][0]["faces"]) >= 2
    assert os.path.realpath(report["model_path"]).startswith(os.path.realpath(installed["site"]) + os.sep)
    assert (out / (Path(PHOTO).stem + "_kise.jpg")).stat().st_size > 10_000
    assert opened == [], f"files read from the repo: {opened[:10]}"
    # the console script the wheel installed runs too (same code, its own launcher)
    again = run_in_venv(installed, [str(venv_exe(installed["venv"], "kise")), "annotate",
                                    str(dlib_faces_dir / PHOTO), "-o", str(installed["cwd"] / "again")])
    assert again.returncode == 0, again.stderr
    assert json.loads((installed["cwd"] / "again" / "results.json").read_text(encoding="utf-8"))["images"][0]["faces"]


def test_kise_desktop_from_the_wheel_writes_a_screenshot(installed, dlib_faces_dir):
    shot = installed["cwd"] / "shot.png"
    done, opened = audited(installed, "kise_desktop", "--fresh", "--source", str(dlib_faces_dir / PHOTO),
                           "--screenshot", str(shot), "--quit-after", "4", "--size", "1000x700")
    assert done.returncode == 0, done.stderr
    assert opened == [], f"files read from the repo: {opened[:10]}"
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1000, 700)
        colours = image.convert("RGB").resize((50, 35)).getcolors(50 * 35)
    assert colours is not None and len(colours) > 50          # a real window with a photo in it, not a blank
    launched = run_in_venv(installed, [str(venv_exe(installed["venv"], "kise-desktop")), "--fresh", "--source",
                                       str(dlib_faces_dir / PHOTO), "--quit-after-first-frame"])
    assert launched.returncode == 0, launched.stderr
    assert "first analysed frame on screen at" in launched.stdout


@pytest.mark.parametrize("command", [["kise", "--version"], ["kise-desktop", "--version"],
                                     ["python", "-m", "kise_desktop", "--version"]])
def test_version_names_the_bundled_models_and_libraries(installed, command):
    exe = [str(venv_exe(installed["venv"], command[0])), *command[1:]]
    done = run_in_venv(installed, exe)
    assert done.returncode == 0, done.stderr
    sidecar = json.loads((installed["site"] / "kise_desktop/resources/models/kise_emotion.json").read_text("utf-8"))
    from kise_desktop.version import __version__

    assert f"KISE {__version__}" in done.stdout
    assert sidecar["name"] in done.stdout and "kise_emotion.tflite" in done.stdout
    assert f"{sidecar['metrics']['accuracy'] * 100:.1f}%" in done.stdout
    for library in ("numpy", "opencv-python-headless", "ai-edge-litert", "pyside6-essentials", "dlib-bin"):
        assert library in done.stdout
    assert "(from package)" in done.stdout


def test_zipped_install_copies_resources_out_once(dists, tmp_path):
    """A zip-safe install (here: the wheel itself on sys.path) still gives real files for TFLite, OpenCV, Qt."""
    code = ("import json, kise_desktop, kise_desktop.paths as p\n"
            "print(json.dumps({'package': kise_desktop.__file__, 'resources': str(p.RESOURCES_DIR),"
            " 'from': p.RESOURCES_FROM}))")
    env = clean_env(PYTHONPATH=str(dists["wheel"]), KISE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PYTHONSAFEPATH")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr
    info = json.loads(runs[0].stdout)
    assert info["package"].startswith(str(dists["wheel"])) and info["from"] == "package"
    copied = Path(info["resources"])
    assert copied.parent == tmp_path / "cache"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        assert (copied / "models/kise_emotion.tflite").read_bytes() == wheel.read(
            "kise_desktop/resources/models/kise_emotion.tflite")
    assert json.loads(runs[1].stdout)["resources"] == info["resources"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [copied.name]   # no partial copies left
