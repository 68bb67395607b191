"""Where run folders go: --runs-dir, else $KISE_RUNS_DIR, else runs/ in the repo."""
from __future__ import annotations

from pathlib import Path

from kise_desktop.paths import REPO_DIR
from training.train import runs_dir


def test_default_is_runs_in_the_repo(monkeypatch):
    monkeypatch.delenv("KISE_RUNS_DIR", raising=False)
    assert runs_dir() == REPO_DIR / "runs"


def test_environment_variable_moves_runs_outside_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("KISE_RUNS_DIR", str(tmp_path / "runs"))
    assert runs_dir() == tmp_path / "runs"


def test_option_wins_over_the_environment_and_expands_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KISE_RUNS_DIR", str(tmp_path))
    assert runs_dir("~/kise-runs") == Path.home() / "kise-runs"
