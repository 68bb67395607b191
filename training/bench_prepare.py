"""Throughput of `python -m training.prepare` on generated AIHub-shaped data, and resume time.

    python -m training.bench_prepare                      # 40 clips x 300 frames, 1280x720
    python -m training.bench_prepare --clips 8 --frames 50 --size 640x480   # a quick look

Generates format A and B data sets in a temp folder from real face photos in
the shared data folder (FER+ faces upscaled into dlib-faces scenes; nothing is
written into the repo), then runs the real CLI as a subprocess for each
format x {Ray local, single process} and prints a table of faces/s. Finally it
starts a Ray run on format A, kills it (SIGKILL) once half the clips are in
the manifest, and times the rerun that completes it, checking that no row is
lost or duplicated.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training.data.aihub_synth import SynthConfig, generate
from training.data.prepared import MANIFEST, load_prepared, shard_files

REPO_DIR = Path(__file__).resolve().parent.parent


def run_cli(fmt: str, src: Path, out: Path, extra: list[str]) -> tuple[float, str]:
    """Wall time of one prepare command (process start, imports, Ray start included) and its output."""
    command = [sys.executable, "-m", "training.prepare", f"aihub-{fmt}", str(src), "-o", str(out), "--quiet", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_DIR, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout


def parse(stdout: str) -> dict[str, float]:
    """Numbers from prepare's summary."""
    out: dict[str, float] = {}
    m = re.search(r"processed now in ([\d.]+) s", stdout)
    out["work_s"] = float(m.group(1)) if m else float("nan")
    m = re.search(r"faces written now: (\d+) \(([\d.]+) faces/s\)", stdout)
    out["faces"], out["fps"] = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    m = re.search(r"Ray startup ([\d.]+) s; ([\d.]+) faces/s after it", stdout)
    out["startup_s"], out["fps_after"] = (float(m.group(1)), float(m.group(2))) if m else (0.0, out["fps"])
    return out


def kill_half_way(fmt: str, src: Path, out: Path, clips: int, extra: list[str]) -> float:
    """Start prepare, SIGKILL it once half the clips are logged; returns seconds until the kill."""
    command = [sys.executable, "-m", "training.prepare", f"aihub-{fmt}", str(src), "-o", str(out), "--quiet", *extra]
    # Own session: Ray's local processes started by this run can be found (and ended) by it afterwards.
    process = subprocess.Popen(command, cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    started = time.perf_counter()
    manifest = out / MANIFEST
    while process.poll() is None:
        if manifest.is_file() and len(manifest.read_text().splitlines()) >= clips // 2:
            break
        time.sleep(0.02)
    killed_at = time.perf_counter() - started
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(2)  # let Ray's fate-shared processes notice their driver is gone
    leftovers = subprocess.run(["ps", "-o", "pid=", "-s", str(process.pid)], capture_output=True, text=True).stdout.split()
    for sig in (signal.SIGTERM, signal.SIGKILL):  # only processes of the session this benchmark started
        for pid in leftovers:
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass
        time.sleep(1)
    if leftovers:
        print(f"  (ended {len(leftovers)} leftover processes of the killed run's session)", file=sys.stderr)
    return killed_at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.bench_prepare", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1280x720", help="frame WIDTHxHEIGHT")
    parser.add_argument("--face", type=int, default=280, help="face box side in pixels")
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count() or 2, help="CPUs for Ray's local cluster")
    parser.add_argument("--formats", nargs="+", choices=("a", "b"), default=["a", "b"])
    parser.add_argument("--work", help="folder for the generated data (default: a temp folder, deleted)")
    parser.add_argument("--data", help="data folder (default $KISE_DATA_DIR or ../shared/data)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="kise-bench-prepare-"))
    rows: list[tuple[str, str, dict[str, float], float]] = []
    try:
        sources: dict[str, Path] = {}
        for fmt in args.formats:
            started = time.perf_counter()
            cfg = SynthConfig(clips=args.clips, frames=args.frames, width=width, height=height, face=args.face,
                              faces="ferplus", keep_faces=False)
            truth = generate(fmt, work / f"src_{fmt}", cfg, Path(args.data) if args.data else None)
            sources[fmt] = work / f"src_{fmt}"
            print(f"generated format {fmt.upper()}: {len(truth.clips)} clips, {len(truth.rows)} faces, "
                  f"{width}x{height} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for fmt in args.formats:
            for label, extra in ((f"Ray local ({args.num_cpus} CPUs)", ["--num-cpus", str(args.num_cpus)]),
                                 ("single process (--no-ray)", ["--no-ray"])):
                out = work / f"out_{fmt}_{'ray' if extra[0] != '--no-ray' else 'single'}"
                wall, stdout = run_cli(fmt, sources[fmt], out, extra)
                rows.append((fmt.upper(), label, parse(stdout), wall))
                print(f"  {fmt.upper()} {label}: {wall:.1f} s", file=sys.stderr)
        print(f"\nprepare throughput: {args.clips} clips x {args.frames} frames, {width}x{height}, "
              f"{os.cpu_count()} cores")
        print("| format | mode | faces | command wall s | Ray startup s | faces/s (wall) | faces/s (after startup) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for fmt, label, numbers, wall in rows:
            print(f"| {fmt} | {label} | {numbers['faces']:.0f} | {wall:.1f} | {numbers['startup_s']:.1f} | "
                  f"{numbers['faces'] / wall:.0f} | {numbers['fps_after']:.0f} |")
        fmt = args.formats[0]
        out = work / f"out_{fmt}_resume"
        extra = ["--num-cpus", str(args.num_cpus)]
        killed_at = kill_half_way(fmt, sources[fmt], out, args.clips, extra)
        done_before = len(shard_files(out))
        wall, stdout = run_cli(fmt, sources[fmt], out, extra)
        m = re.search(r"(\d+) already done", stdout)
        done_before = int(m.group(1)) if m else done_before  # the rerun's own count
        got = load_prepared(out)
        reference = load_prepared(work / f"out_{fmt}_ray")
        keys = got.row_keys()
        ok = len(keys) == len(set(keys)) and sorted(keys) == sorted(reference.row_keys())
        print(f"\nresume (format {fmt.upper()}, Ray): killed with SIGKILL after {killed_at:.1f} s with "
              f"{done_before}/{args.clips} clip shards written; the rerun finished the remaining "
              f"{args.clips - done_before} clips in {wall:.1f} s (command wall, Ray startup "
              f"{parse(stdout)['startup_s']:.1f} s); rows after resume: {len(keys)} "
              f"({'identical to an uninterrupted run, no duplicates' if ok else 'MISMATCH with the uninterrupted run'})")
        return 0 if ok else 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
