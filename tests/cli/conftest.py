"""Fixtures for the command line: model options and runs of `kise` in-process."""
from __future__ import annotations

from pathlib import Path

import pytest

from kise_desktop import cli


@pytest.fixture(scope="session")
def model_args(any_model: tuple[Path, Path]) -> list[str]:
    return ["--model", str(any_model[0]), "--sidecar", str(any_model[1])]


@pytest.fixture
def run_kise(capsys):
    """Run `kise ARGS...` in this process; (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:          # argparse usage errors and --help
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err
    return run
