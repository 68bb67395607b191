"""Start-up time of kise-desktop: from launch to the first analysed frame on screen, median of several runs.

    python scripts/measure_startup.py                                   # this checkout, this interpreter
    python scripts/measure_startup.py --runs 7 \\
        --app wheel=/tmp/kise-wheel-venv/bin/kise-desktop --app bundle=dist/kise/kise-desktop --importtime

Each run launches the app with `--fresh --quit-after-first-frame --source SOURCE` (offscreen unless
--platform says otherwise); the app prints the wall-clock time at which the first analysed frame was painted
(kise_desktop/gui/app.py), and the time from just before the launch to that moment is the figure. Runs of
all apps and sources are interleaved, so a busy machine slows them alike; the table also gives the CPU time
the app had used by then (all its threads, as the app reports it), which depends much less on what else the
machine is doing.
--importtime adds one run per app with Python's -X importtime and prints where import time goes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kise_desktop.paths import data_dir  # noqa: E402

FIRST_FRAME = re.compile(r"first analysed frame on screen at (\d+\.\d+) \(process CPU (\d+\.\d+) s\)")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def launch(command: list[str], source: Path, env: dict[str, str], timeout: float) -> tuple[float, float, str]:
    """(seconds to the first analysed frame, CPU seconds the app had used by then, stderr)."""
    # From an empty folder, as a user would: `python -m kise_desktop` would otherwise import the copy in the cwd.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryDirectory() as cwd:
        t0 = time.time()
        proc = subprocess.Popen([*command, "--fresh", "--quit-after-first-frame", "--source", str(source)],
                                stdout=out, stderr=err, env=env, cwd=cwd)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    found = FIRST_FRAME.search(stdout)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"{shlex.join(command)} on {source.name}: exit {proc.returncode}, "
                           f"no first-frame line\n{stderr[-2000:]}")
    return float(found.group(1)) - t0, float(found.group(2)), stderr


def import_profile(stderr: str, top: int) -> str:
    """Import time per top-level package (sum of each module's own time) and the slowest top-level imports."""
    per_package: dict[str, int] = {}
    roots: list[tuple[int, str]] = []
    for self_us, cumulative_us, indent, name in IMPORT_LINE.findall(stderr):
        package = name.split(".")[0]
        per_package[package] = per_package.get(package, 0) + int(self_us)
        if len(indent) <= 1:
            roots.append((int(cumulative_us), name))
    total = sum(per_package.values())
    lines = [f"  all imports: {total / 1000:.0f} ms (own time, summed)", "  by package (own time):"]
    for package, us in sorted(per_package.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {package:28s} {us / 1000:7.1f} ms  {100 * us / max(total, 1):4.1f}%")
    lines.append("  slowest top-level imports (cumulative):")
    for us, name in sorted(roots, reverse=True)[:top]:
        lines.append(f"    {name:28s} {us / 1000:7.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--app", action="append", default=[], metavar="LABEL=COMMAND",
                   help="an app to time (repeatable); default: this checkout's app with this Python")
    p.add_argument("--photo", help="photo source (default: <data>/dlib-faces/2008_002506.jpg)")
    p.add_argument("--video", help="video source (default: <data>/videos/d0.mp4)")
    p.add_argument("--runs", type=int, default=5, help="runs per app and source (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per app first (disk cache; default 1)")
    p.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM for the app (default offscreen)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a run counts as failed")
    p.add_argument("--importtime", action="store_true", help="one extra run per app with -X importtime")
    p.add_argument("--top", type=int, default=12, help="rows of the import profile")
    p.add_argument("--json", help="also write the raw figures here")
    args = p.parse_args(argv)

    apps: dict[str, list[str]] = {}
    this_checkout = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                     "from kise_desktop.gui.app import main; sys.exit(main())")
    for spec in args.app or [f"python={shlex.join([sys.executable, '-c', this_checkout])}"]:
        label, _, command = spec.partition("=")
        if not command:
            p.error(f"--app needs LABEL=COMMAND, not {spec!r}")
        apps[label] = shlex.split(command)
    data = data_dir()
    sources = {"photo": Path(args.photo or data / "dlib-faces" / "2008_002506.jpg"),
               "video": Path(args.video or data / "videos" / "d0.mp4")}
    for name, path in sources.items():
        if not path.is_file():
            p.error(f"{path}: no such {name} (pass --{name})")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPROFILEIMPORTTIME",)}
    env["QT_QPA_PLATFORM"] = args.platform

    for label, command in apps.items():
        for _ in range(args.warmup):
            launch(command, sources["photo"], env, args.timeout)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {(a, s): [] for a in apps for s in sources}
    for _ in range(args.runs):                        # interleaved: app x source, round after round
        for label, command in apps.items():
            for source, path in sources.items():
                seconds, cpu, _ = launch(command, path, env, args.timeout)
                results[(label, source)].append((seconds, cpu))

    print(f"launch -> first analysed frame on screen, {args.runs} runs each, QT_QPA_PLATFORM={args.platform}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'app':10s} {'source':6s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'CPU s to frame (median)':>24s}")
    for (label, source), runs in results.items():
        wall = [w for w, _ in runs]
        print(f"{label:10s} {source:6s} {statistics.median(wall):9.2f} {min(wall):7.2f} {max(wall):7.2f} "
              f"{statistics.median(c for _, c in runs):24.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{a}/{s}": r for (a, s), r in results.items()}, indent=1))

    if args.importtime:
        for label, command in apps.items():
            seconds, _, stderr = launch(command, sources["photo"], {**env, "PYTHONPROFILEIMPORTTIME": "1"},
                                        args.timeout)
            print(f"\nimport profile, {label} (photo source, this run {seconds:.2f} s to the first frame):")
            print(import_profile(stderr, args.top) if IMPORT_LINE.search(stderr)
                  else "  (no -X importtime output: this launcher ignores PYTHONPROFILEIMPORTTIME)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
