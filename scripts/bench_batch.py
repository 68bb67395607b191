"""Figures for `kise annotate` on many photos: photos/s with 1 job and all cores per detector's
photo preset, peak RSS (whole process tree), a Ray local-cluster run, resume after SIGKILL.

    python scripts/bench_batch.py --photos 1000                   # every figure, one run
    python scripts/bench_batch.py --photos 10000 --only rss --detectors haar

Photos are copies of ../shared/data/dlib-faces in a temporary folder (never committed).
All numbers of one table come from one run: compare them with each other, not across
machines or runs (the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def run_kise(args: list[str], env: dict[str, str] | None = None, kill_at: tuple[Path, int] | None = None
             ) -> dict:
    """Run `kise ARGS`; wall seconds, peak tree RSS; optionally SIGKILL once a journal has N records."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "kise_desktop.cli", *args], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kb(process.pid))
            if kill_at is not None and kill_at[0].exists():
                with kill_at[0].open("rb") as fh:
                    if sum(1 for _ in fh) - 1 >= kill_at[1]:
                        os.killpg(process.pid, signal.SIGKILL)
                        return
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = process.communicate()
    stop.set()
    thread.join()
    return {"rc": process.returncode, "seconds": time.perf_counter() - started, "peak_rss_mb": peak / 1024,
            "stderr_tail": err[-300:]}


def comparable(out: Path) -> list[dict]:
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return [{k: v for k, v in i.items() if k not in ("timings_ms", "output")} for i in report["images"]]


def csv_rows(out: Path) -> list[str]:
    return (out / "results.csv").read_text(encoding="utf-8").splitlines()[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--detectors", default="haar,hog,yunet")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="'all cores' (default: cpu_count)")
    parser.add_argument("--only", default="speed,ray,resume", help="comma list of: speed, rss, ray, resume")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "dlib-faces"))
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    only = set(args.only.split(","))
    model = ["--lang", "en"]
    work = Path(tempfile.mkdtemp(prefix="kise-bench-batch-"))
    figures: dict = {"photos": args.photos, "jobs_all": args.jobs, "cpu_count": os.cpu_count(),
                     "load_avg_start": os.getloadavg()}
    try:
        photos = work / "photos"
        photos.mkdir()
        sources = sorted(Path(args.data).glob("*.jpg"))
        for i in range(args.photos):
            shutil.copy(sources[i % len(sources)], photos / f"p{i:05d}{sources[i % len(sources)].suffix}")
        print(f"{args.photos} photos (copies of {len(sources)} dlib-faces photos) in {photos}", flush=True)

        for kind in args.detectors.split(","):
            base = ["annotate", str(photos), "--detector", kind, "--preset", "photo", *model]
            if "speed" in only or "rss" in only:
                for jobs in sorted({1, args.jobs}):
                    out = work / f"{kind}-j{jobs}"
                    r = run_kise([*base, "-o", str(out), "--jobs", str(jobs)])
                    r["photos_per_s"] = args.photos / r["seconds"]
                    figures[f"{kind} jobs={jobs}"] = r
                    print(f"{kind:6s} jobs={jobs}: rc {r['rc']}, {r['seconds']:.1f} s, {r['photos_per_s']:.2f} photos/s, "
                          f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
                    if jobs != 1 and (work / f"{kind}-j1").is_dir():
                        same = comparable(out) == comparable(work / f"{kind}-j1")
                        figures[f"{kind} jobs={jobs}"]["same_as_1_job"] = same
                        print(f"        same results as 1 job: {same}", flush=True)

        reference_kind = args.detectors.split(",")[0]
        reference = work / f"{reference_kind}-j{args.jobs}"
        base = ["annotate", str(photos), "--detector", reference_kind, "--preset", "photo", *model]
        if ("resume" in only or "ray" in only) and not reference.is_dir():
            r = run_kise([*base, "-o", str(reference), "--jobs", str(args.jobs)])   # the uninterrupted reference
            figures[f"{reference_kind} jobs={args.jobs} (reference)"] = r
            print(f"reference {reference_kind} jobs={args.jobs}: {r['seconds']:.1f} s, "
                  f"{args.photos / r['seconds']:.2f} photos/s", flush=True)
        if "resume" in only:
            out = work / "resume"
            killed = run_kise([*base, "-o", str(out), "--jobs", str(args.jobs)],
                              kill_at=(out / "results.jsonl", args.photos // 2))
            lines = sum(1 for _ in (out / "results.jsonl").open("rb")) - 1
            rerun = run_kise([*base, "-o", str(out), "--jobs", str(args.jobs)])
            files = [i["file"] for i in comparable(out)]
            r = {"killed_rc": killed["rc"], "done_at_kill": lines, "killed_after_s": killed["seconds"],
                 "rerun_rc": rerun["rc"], "rerun_s": rerun["seconds"], "images": len(files),
                 "duplicates": len(files) - len(set(files))}
            if reference.is_dir():
                r["same_as_uninterrupted"] = comparable(out) == comparable(reference)
                r["csv_rows_equal"] = csv_rows(out) == csv_rows(reference)
            figures["resume"] = r
            print(f"resume: SIGKILL (rc {killed['rc']}) after {lines} photos ({killed['seconds']:.1f} s); rerun "
                  f"rc {rerun['rc']} finished the rest in {rerun['seconds']:.1f} s; {len(files)} images, "
                  f"{r['duplicates']} duplicated; same as uninterrupted: {r.get('same_as_uninterrupted')}, "
                  f"CSV rows equal: {r.get('csv_rows_equal')}", flush=True)

        if "ray" in only:
            import local_ray_cluster

            cluster = local_ray_cluster.start(num_cpus=args.jobs, token=True)
            try:
                out = work / "ray"
                r = run_kise([*base, "-o", str(out), "--address", cluster.address], env=cluster.env)
                r["photos_per_s"] = args.photos / r["seconds"]
                if reference.is_dir():
                    r["same_as_process_pool"] = comparable(out) == comparable(reference)
                figures["ray"] = r
                print(f"ray ({cluster.address}, {args.jobs} CPUs, token auth): rc {r['rc']}, {r['seconds']:.1f} s, "
                      f"{r['photos_per_s']:.2f} photos/s (Ray start-up included), same as process pool: "
                      f"{r.get('same_as_process_pool')}", flush=True)
            finally:
                cluster.stop()
        figures["load_avg_end"] = os.getloadavg()
        print(f"load average at start {figures['load_avg_start']}, at end {figures['load_avg_end']}")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
