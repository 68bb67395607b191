"""Build the one-folder bundle dist/kise/ (kise-desktop + kise, no Python needed on the target) with PyInstaller.

Same commands on Windows, macOS and Linux, in a virtual environment that has KISE's dependencies and PyInstaller
(PyInstaller is a build tool, not a dependency of the app):

    python -m venv .venv-bundle                       # Windows: py -m venv .venv-bundle
    .venv-bundle/bin/pip install . pyinstaller==6.22.3 # Windows: .venv-bundle\\Scripts\\pip ...
    .venv-bundle/bin/python scripts/build_bundle.py   # -> dist/kise/kise-desktop, dist/kise/kise

After the build it runs `kise --version` from the bundle and prints the folder's size on disk.
A bundle runs only on the system (and CPU architecture) it was built on.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "kise.spec"


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of a folder, links not followed."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def executable(folder: Path, name: str) -> Path:
    return folder / (name + (".exe" if os.name == "nt" else ""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", default=str(ROOT / "dist"), help="where the bundle folder goes (default dist/)")
    p.add_argument("--work", default=str(ROOT / "build" / "pyinstaller"), help="PyInstaller's work folder")
    args = p.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("build_bundle: PyInstaller is not installed here; run: python -m pip install pyinstaller==6.22.3",
              file=sys.stderr)
        return 2
    dist = Path(args.dist)
    bundle = dist / "kise"
    if bundle.exists():
        shutil.rmtree(bundle)
    t0 = time.perf_counter()
    built = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                            "--distpath", str(dist), "--workpath", args.work, str(SPEC)], cwd=ROOT)
    if built.returncode != 0:
        print(f"build_bundle: PyInstaller failed (exit {built.returncode})", file=sys.stderr)
        return built.returncode
    seconds = time.perf_counter() - t0
    cli = executable(bundle, "kise")
    check = subprocess.run([str(cli), "--version"], capture_output=True, text=True, timeout=120)
    if check.returncode != 0:
        print(f"build_bundle: {cli} --version failed:\n{check.stderr}", file=sys.stderr)
        return 1
    print(check.stdout.rstrip())
    size, files = folder_size(bundle)
    print(f"build_bundle: {bundle} built in {seconds:.0f} s: {size / 2**20:.0f} MiB on disk in {files} files; "
          f"run {executable(bundle, 'kise-desktop')} or {cli}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
