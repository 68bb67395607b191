"""What each model costs per face on an AVX2-only CPU, measured on any x86-64 machine.

    python -m training.avx2_cost resources/models/kise_emotion.tflite training/anchors/kise_emotion_v1.tflite \
        ../shared/anchors/seed_mini_xception_7class.tflite:training/anchors/seed_mini_xception_7class.json

XNNPACK picks its kernels from the CPU's instruction sets at run time, so a
model timed on an AVX-512 VNNI server says little about an AVX2-only laptop,
and XNNPACK has no switch to pretend. Valgrind does: its virtual CPU reports
AVX2 and no AVX-512 (it cannot run AVX-512), so under valgrind XNNPACK runs
exactly the kernels an AVX2 laptop runs, and callgrind counts the
instructions they execute. The count is the same on every run whatever else
the machine is doing (seconds under valgrind mean nothing).

Each model runs twice in a child process through the app's EmotionClassifier
(batch 1, one thread, crop restoration off, as `training.evaluate` times it):
once with only the warm-up, once with N more faces. The difference over N
is the instruction count of one face. Instructions are not time, so the table
gives ratios against the first model and, with --reference, a time estimate
scaled from a latency measured on a real AVX2 CPU; the model card says how
well the ratio matches the one measured there.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kise_desktop.core.machine import cpu_line
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import DataError, one_line_errors
from training.evaluate import spec_label, split_spec

WARMUP_FACES = 20
ISA = re.compile(r"avx512[a-z]+|avx2|avx(?=_|$)|fma3|sse41|ssse3|sse2")    # in a kernel name's suffix
KERNEL = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\?\?\?:(xnn_\w+)")


def run_faces(spec: str, faces: int, face_png: Path) -> None:
    """The child: the model through the app's classifier, warm-up then `faces` more faces at batch 1."""
    import cv2

    from kise_desktop.core.classifier import EmotionClassifier, mirror_wanted
    from kise_desktop.core.restore import Restoration

    model_path, sidecar, mirror = split_spec(spec)
    classifier = EmotionClassifier(model_path, sidecar, num_threads=1, mirror=mirror)
    # "auto" decides from /proc/cpuinfo, which is the host's: decide as an AVX2-only CPU (no int8 dot) would.
    classifier.mirror = mirror_wanted(classifier.mirror_mode, {"int8_dot": False})
    classifier.restore = Restoration()            # the model alone; restoration depends on the face
    face = cv2.imread(str(face_png), cv2.IMREAD_GRAYSCALE)
    if face is None:
        raise DataError(f"{face_png}: not a readable image")
    face = cv2.resize(face, classifier.input_size)[None]
    for _ in range(WARMUP_FACES + faces):
        classifier.predict(face)


def count_instructions(spec: str, faces: int, face_png: Path, workdir: Path) -> tuple[int, dict[str, int]]:
    """(instructions executed by the whole child, {XNNPACK kernel: instructions}) under callgrind."""
    out = workdir / f"callgrind.{faces}.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "training.avx2_cost",
           "--child", spec, str(faces), str(face_png)]
    # A fixed hash seed keeps the interpreter's own work identical between the two runs of a model.
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        ours = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("==")]
        last = (ours or ["no output"])[-1]
        raise DataError(f"{spec}: the run under valgrind failed ({last})")
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if not collected:
        raise DataError(f"{spec}: valgrind printed no instruction count")
    annotated = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True).stdout
    kernels: dict[str, int] = {}
    for line in annotated.splitlines():
        match = KERNEL.match(line)
        if match:
            kernels[match.group(2)] = kernels.get(match.group(2), 0) + int(match.group(1).replace(",", ""))
    return int(collected.group(1)), kernels


def first_face(data_root: str | None) -> Path:
    from training.data.ferplus import ferplus_dir

    folder = ferplus_dir(data_root) / "FER2013Test"
    faces = sorted(folder.glob("*.png"))
    if not faces:
        raise DataError(f"{folder}: no FER+ test faces")
    return faces[0]


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        run_faces(argv[1], int(argv[2]), Path(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description="Instructions per face on XNNPACK's AVX2 kernels (valgrind).")
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json]; the first is the baseline")
    parser.add_argument("--faces", type=int, default=10,
                        help="faces counted per model (default 10; the counts are exact, valgrind is slow)")
    parser.add_argument("--reference", metavar="MODEL=MS",
                        help="a latency measured on a real AVX2-only CPU for one of the models (its file stem), "
                             "to turn the ratios into time estimates")
    parser.add_argument("--data", help="data folder holding ferplus/ (one test face is read)")
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "avx2_cost" / "avx2_cost.json"),
                        help="where to write the table as JSON")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        raise DataError("valgrind: not installed (Debian/Ubuntu: apt-get install valgrind)")
    if args.faces < 1:
        parser.error("--faces must be at least 1")
    from kise_desktop.core.classifier import EmotionClassifier, ModelError

    for spec in args.models:
        model_path, sidecar, mirror = split_spec(spec)
        if not Path(model_path).is_file():
            raise DataError(f"{model_path}: model file not found")
        try:    # a bad model or sidecar fails here in one line, not minutes later under valgrind
            EmotionClassifier(model_path, sidecar, num_threads=1, mirror=mirror)
        except ModelError as exc:
            raise DataError(str(exc)) from None
    face_png = first_face(args.data)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kise_avx2_") as tmp:
        for spec in args.models:
            workdir = Path(tmp) / str(len(rows))
            workdir.mkdir()
            base, warmup_kernels = count_instructions(spec, 0, face_png, workdir)
            total, kernels = count_instructions(spec, args.faces, face_png, workdir)
            kernels = {k: n - warmup_kernels.get(k, 0) for k, n in kernels.items()}    # the counted faces only
            per_face = (total - base) / args.faces
            top = max(kernels, key=kernels.get) if kernels else "-"
            isa = sorted({m for k in kernels for m in ISA.findall(k.rpartition("__")[2])})
            rows.append({"label": spec_label(spec), "model": split_spec(spec)[0],
                         "stem": Path(split_spec(spec)[0]).stem, "instructions_per_face": per_face,
                         "ratio_vs_first": 1.0, "largest_kernel": top,
                         "largest_kernel_share": kernels.get(top, 0) / max(total - base, 1), "isa": isa})
    reference = None
    if args.reference:
        stem, _, ms = args.reference.partition("=")
        match = [r for r in rows if r["stem"] == stem]
        if not match or not ms:
            raise DataError(f"--reference {args.reference}: expected MODEL_STEM=MS naming one of the models")
        try:
            reference = (match[0]["instructions_per_face"], float(ms), stem)
        except ValueError:
            raise DataError(f"--reference {args.reference}: {ms!r} is not a number of milliseconds") from None
    for row in rows:
        row["ratio_vs_first"] = row["instructions_per_face"] / rows[0]["instructions_per_face"]
        row["estimated_ms"] = reference[1] * row["instructions_per_face"] / reference[0] if reference else None
    print(cpu_line() + " (the host; valgrind's CPU is what XNNPACK sees)")
    print("Instructions per face on XNNPACK's AVX2 kernels (valgrind's CPU: AVX2, no AVX-512), batch 1, 1 thread; "
          f"{args.faces} faces per model; exact counts, not times")
    width = max(46, *(len(row["label"]) for row in rows))
    head = f"{'model':<{width}} {'M instr/face':>12} {'vs first':>9}"
    if reference:
        head += f" {'est. ms (AVX2)':>15}"
    print(head + "  kernel sets seen; the largest kernel")
    for row in rows:
        line = f"{row['label']:<{width}} {row['instructions_per_face'] / 1e6:12.2f} {row['ratio_vs_first']:8.2f}x"
        if reference:
            line += f" {row['estimated_ms']:15.2f}"
        print(line + f"  {'/'.join(row['isa']) or '-'}; {row['largest_kernel']} "
              f"({100 * row['largest_kernel_share']:.0f}%)")
    if reference:
        print(f"est. ms = {reference[1]} ms measured for {reference[2]} on an AVX2-only CPU x its instruction ratio")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps({"faces": args.faces, "reference": args.reference, "models": rows}, indent=2))
    partial.replace(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
