"""Where resources are found from a checkout (the repo's resources/) and with KISE_RESOURCES_DIR."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from kise_desktop.paths import REPO_DIR

PROBE = ("import json, sys, kise_desktop.paths as p, kise_desktop.about_info\n"
         "print(json.dumps({'resources': str(p.RESOURCES_DIR), 'from': p.RESOURCES_FROM,"
         " 'qt': 'PySide6' in sys.modules, 'data': str(p.data_dir())}))")


def probe(tmp_path, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KISE_")}
    base["PYTHONPATH"] = str(REPO_DIR)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env={**base, **env},
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_a_checkout_uses_its_own_resources_folder(tmp_path):
    info = probe(tmp_path)
    assert info["from"] == "repo" and info["resources"] == str(REPO_DIR / "resources")
    assert info["data"] == str(REPO_DIR.parent / "shared" / "data")      # ../shared/data beside the repo
    assert not info["qt"]                                                # about_info is Qt-free


def test_kise_resources_dir_overrides_everything(tmp_path):
    (tmp_path / "mine" / "models").mkdir(parents=True)
    info = probe(tmp_path, KISE_RESOURCES_DIR=str(tmp_path / "mine"))
    assert info == {**info, "from": "KISE_RESOURCES_DIR", "resources": str(tmp_path / "mine")}
