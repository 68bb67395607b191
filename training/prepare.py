"""Turn a Korean AIHub dump (format A or B) into sharded 48x48 training faces.

    python -m training.prepare aihub-a ROOT -o OUT            # Ray, local cluster
    python -m training.prepare aihub-b ROOT -o OUT --address HEAD:6379   # a `ray start --head` cluster
    python -m training.prepare aihub-a ROOT -o OUT --no-ray   # one process
    python -m training.prepare aihub-a ROOT -o OUT --face-check haar

One task per clip. Each task streams its clip's frames, writes its own shard
atomically (tmp + os.replace) and returns only a small summary; the driver
appends that summary to OUT/manifest.jsonl and drives a progress bar. Kill it
at any point and rerun the same command: clips whose shard exists are not
redone, so no row is lost or duplicated. With --address the shards are written
by the cluster's workers, so OUT must be a folder they all share.

Load the result with training.data.prepared.load_prepared(OUT, split).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from kise_desktop.core import cluster
from training.data.aihub import REASONS, ClipRef, Options, discover, prepare_clip
from training.data.ferplus import DataError, one_line_errors
from training.data.prepared import append_manifest, read_manifest, repair_output, shard_path, write_meta

FORMAT_NAMES = {"aihub-a": "a", "aihub-b": "b"}
REPO_DIR = Path(__file__).resolve().parent.parent


class SimulatedKill(RuntimeError):
    """Raised by the `stop_after` test hook to interrupt a run like a kill would."""


@dataclass
class Report:
    """What a run did (this run) and what the output folder now holds (total)."""

    clips_found: int = 0
    clips_already_done: int = 0
    clips_done: int = 0
    faces_written: int = 0
    clips_skipped: Counter = field(default_factory=Counter)   # this run, by reason
    skipped: Counter = field(default_factory=Counter)         # this run, faces by reason
    total_faces: int = 0
    total_skipped: Counter = field(default_factory=Counter)   # whole folder
    total_clips_skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    face_check: str = "none"
    face_check_s: float = 0.0
    face_check_n: int = 0
    seconds: float = 0.0            # wall time of the clip work, Ray startup included
    startup_s: float = 0.0          # of which starting/connecting Ray
    repaired: dict[str, int] = field(default_factory=dict)
    mode: str = ""

    @property
    def faces_per_s(self) -> float:
        return self.faces_written / self.seconds if self.seconds > 0 else 0.0

    @property
    def faces_per_s_after_startup(self) -> float:
        busy = self.seconds - self.startup_s
        return self.faces_written / busy if busy > 0 else 0.0

    def add(self, summary: dict[str, Any]) -> None:
        self.clips_done += 1
        self.faces_written += int(summary.get("faces", 0))
        self.skipped.update(summary.get("skipped", {}))
        if summary.get("clip_skipped"):
            self.clips_skipped[summary["clip_skipped"]] += 1
        if summary.get("error"):
            self.errors.append(f"{summary['clip']}: {summary['error']}")
        self.face_check_s += float(summary.get("face_check_s", 0.0))
        self.face_check_n += int(summary.get("face_check_n", 0))

    def format(self) -> str:
        lines = [
            f"prepare ({self.mode}): {self.clips_found} clips found, {self.clips_already_done} already done "
            f"(resumed), {self.clips_done} processed now in {self.seconds:.1f} s",
            f"  faces written now: {self.faces_written} ({self.faces_per_s:.1f} faces/s); "
            f"faces in the output folder: {self.total_faces}",
        ]
        if self.startup_s:
            lines.append(f"  of which Ray startup {self.startup_s:.1f} s; "
                         f"{self.faces_per_s_after_startup:.1f} faces/s after it")
        if self.repaired.get("removed_tmp") or self.repaired.get("relogged"):
            lines.append(f"  repaired after an interruption: {self.repaired}")
        for title, counts in (("clips skipped (whole folder)", self.total_clips_skipped),
                              ("faces skipped (whole folder)", self.total_skipped)):
            if counts:
                lines.append(f"  {title}:")
                for reason, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                    lines.append(f"    {reason:<18} {count:>8}  {REASONS.get(reason, '')}")
            else:
                lines.append(f"  {title}: none")
        if self.face_check != "none":
            per = 1000 * self.face_check_s / self.face_check_n if self.face_check_n else 0.0
            share = 100 * self.face_check_s / self.seconds if self.seconds else 0.0
            lines.append(f"  face check ({self.face_check}): {self.face_check_n} crops, "
                         f"{self.face_check_s:.2f} s of worker time ({per:.2f} ms/crop, ~{share:.0f}% of "
                         f"this run's wall time across workers), rejected {self.skipped.get('face_check', 0)}")
        for error in self.errors[:10]:
            lines.append(f"  error (will be retried on rerun): {error}")
        return "\n".join(lines)


def _progress(total: int, initial: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="clip", desc="clips", disable=not enabled,
                file=sys.stderr, dynamic_ncols=True)


def _run_local(todo: list[ClipRef], out: str, options: Options, delay: float,
               on_done: Callable[[dict[str, Any]], None]) -> None:
    for clip in todo:
        on_done(prepare_clip(clip, out, options, delay))


def _run_ray(todo: list[ClipRef], out: str, options: Options, delay: float,
             on_done: Callable[[dict[str, Any]], None], address: str | None, num_cpus: int | None,
             timings: dict[str, float]) -> None:
    started = time.perf_counter()
    import ray

    # Joining, refusal messages and the bounded task window are shared with `kise annotate`.
    started_here = cluster.connect(address, num_cpus,
                                   py_modules=(REPO_DIR / "training", REPO_DIR / "kise_desktop"))
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(prepare_clip)
        timings["startup_s"] = time.perf_counter() - started  # import + ray.init, paid once per run

        def failed(clip_id: str, exc: BaseException) -> None:
            # A dead worker: no shard, a rerun retries the clip. A task killed mid-write
            # leaves only a .tmp file, which the next run removes.
            on_done({"clip": clip_id, "faces": 0, "clip_skipped": "clip_error", "error": repr(exc)[:300]})

        cluster.run_windowed(task, ((clip.clip_id, (clip, out, options, delay)) for clip in todo),
                             on_done=lambda _clip_id, summary: on_done(summary), on_failure=failed)
    finally:
        if started_here:
            cluster.shutdown()


def run_prepare(fmt: str, root: str | os.PathLike, out: str | os.PathLike, *, use_ray: bool = True,
                address: str | None = None, num_cpus: int | None = None, options: Options | None = None,
                progress: bool = True, delay: float = 0.0, stop_after: int | None = None) -> Report:
    """Prepare (or resume preparing) `root` into `out`; returns the run's report.

    stop_after: test hook, raise SimulatedKill after that many clips were logged.
    """
    options = options or Options()
    root_path = Path(root)
    if not root_path.is_dir():
        raise DataError(f"{root}: AIHub root folder not found")
    out_path = Path(out)
    write_meta(out_path, {"format": fmt, "root": str(root_path.resolve()), "options": options.to_dict()})
    report = Report(face_check=options.face_check, mode="ray" if use_ray else "single process")
    report.repaired = repair_output(out_path)
    clips = discover(fmt, root_path)
    report.clips_found = len(clips)
    todo = [c for c in clips if not shard_path(out_path, c.clip_id).is_file()]
    report.clips_already_done = len(clips) - len(todo)
    bar = _progress(len(clips), report.clips_already_done, progress)

    def on_done(summary: dict[str, Any]) -> None:
        if summary.get("clip_skipped") != "clip_error":
            append_manifest(out_path, [summary])  # the shard is already in place
        report.add(summary)
        bar.update(1)
        if stop_after is not None and report.clips_done >= stop_after:
            raise SimulatedKill(f"stopped after {report.clips_done} clips")

    started = time.perf_counter()
    try:
        if use_ray and todo:
            timings: dict[str, float] = {}
            try:
                _run_ray(todo, str(out_path), options, delay, on_done, address, num_cpus, timings)
            finally:
                report.startup_s = timings.get("startup_s", 0.0)
        else:
            _run_local(todo, str(out_path), options, delay, on_done)
    finally:
        report.seconds = time.perf_counter() - started
        bar.close()
    for record in read_manifest(out_path).values():
        report.total_faces += int(record.get("faces", 0))
        report.total_skipped.update(record.get("skipped", {}))
        if record.get("clip_skipped"):
            report.total_clips_skipped[record["clip_skipped"]] += 1
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.prepare",
        description="Turn a Korean AIHub emotion dump into sharded 48x48 training faces (resumable).")
    parser.add_argument("format", choices=sorted(FORMAT_NAMES),
                        help="aihub-a: clip folders of JPEGs + *_interpolation.json; aihub-b: clip_N.mp4 + clip_N.json")
    parser.add_argument("root", help="the dump's root folder")
    parser.add_argument("-o", "--out", required=True, help="output folder (created; rerun with the same one to resume)")
    parser.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    parser.add_argument("--num-cpus", type=int, default=None,
                        help="CPUs for the local Ray (default: all); ignored with --address")
    parser.add_argument("--no-ray", action="store_true", help="process clips one by one in this process")
    parser.add_argument("--face-check", choices=("none", "haar", "hog"), default="none",
                        help="keep a crop only if a detector still finds a face in it (slower; default none)")
    parser.add_argument("--min-size", type=int, default=None,
                        help="skip faces with a side smaller than this many pixels (default: A 1, B 48)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug-clip-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    return parser


@one_line_errors(cluster.ClusterError)
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = Options(face_check=args.face_check, min_size=args.min_size)
    report = run_prepare(FORMAT_NAMES[args.format], args.root, args.out, use_ray=not args.no_ray,
                         address=args.address, num_cpus=args.num_cpus, options=options,
                         progress=not args.quiet, delay=args.debug_clip_delay)
    print(report.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
