"""Robustness benchmark: TFLite emotion models on FER+ faces under webcam degradations.

    python -m training.robustness resources/models/kise_emotion.tflite \
        ../shared/anchors/seed_mini_xception_7class.tflite:training/anchors/seed_mini_xception_7class.json

(`python -m training.evaluate --corruptions MODEL...` runs the same.) Each
MODEL is a .tflite path, optionally ':SIDECAR.json', run through the app's
EmotionClassifier. Every model sees the same images: the FER+ test set
(majority labels) clean and under each corruption of training/corruptions.py
at severities 1-3, made once with a fixed seed. An 8-class model is scored on
8 classes, a 7-class one (the seed) after mapping contempt to disgust; the
JSON also holds every model's 7-class figures. Also reported: ms per face at
batch 1 on one thread for each model in the same run, with the CPU's
instruction sets (latency depends on them: AVX-512/VNNI vs AVX2 only).
Writes robustness.json and robustness.md to --out.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.core.machine import cpu_description, cpu_line
from kise_desktop.emotions import to_seed7
from kise_desktop.paths import REPO_DIR
from training.corruptions import CORRUPTIONS, LEVELS, SEVERITIES, corrupt
from training.data.ferplus import DataError, load_split, one_line_errors
from training.evaluate import latency_ms, read_faces, restore_ms, spec_label, split_spec

def corrupted_sets(images: np.ndarray, seed: int, names: tuple[str, ...] = CORRUPTIONS,
                   levels: tuple[int, ...] = LEVELS) -> dict[tuple[str, int], np.ndarray]:
    """Clean images under ("clean", 0), then every (corruption, severity)."""
    sets = {("clean", 0): images}
    for name in names:
        for level in levels:
            sets[(name, level)] = corrupt(images, name, level, seed)
    return sets


def score_model(spec: str, sets: dict, labels: np.ndarray, threads: int = 1) -> dict:
    model_path, sidecar, mirror = split_spec(spec)
    classifier = EmotionClassifier(model_path, sidecar, num_threads=threads, mirror=mirror)
    eight_class = "contempt" in classifier.labels
    labels7 = to_seed7(labels)
    result: dict = {"model": model_path, "label": spec_label(spec), "name": classifier.name,
                    "classes": 8 if eight_class else 7, "accuracy": {}, "accuracy_7class": {}}
    t0 = time.perf_counter()
    for (name, level), faces in sets.items():
        probs = read_faces(classifier, faces)
        key = name if name == "clean" else f"{name}/{level}"
        acc7 = float((to_seed7(probs).argmax(1) == labels7).mean())
        result["accuracy_7class"][key] = acc7
        result["accuracy"][key] = float((probs.argmax(1) == labels).mean()) if eight_class else acc7
    result["scoring_seconds"] = round(time.perf_counter() - t0, 1)
    corrupted = [v for k, v in result["accuracy"].items() if k != "clean"]
    result["mean_corrupted"] = float(np.mean(corrupted)) if corrupted else float("nan")
    result["mirror"] = classifier.mirror
    timed = EmotionClassifier(model_path, sidecar, num_threads=1, mirror=mirror)
    result["latency_ms_batch1_1thread"] = latency_ms(timed, sets[("clean", 0)][0], repeats=500)
    # What the sidecar's crop restoration adds per face: on clean faces (mostly the checks) and on noisy ones.
    noise_levels = [level for name, level in sets if name == "sensor_noise"]
    noisy = sets[("sensor_noise", max(noise_levels))] if noise_levels else sets[("clean", 0)]
    result["restore_ms_per_face"] = {"clean": restore_ms(timed, sets[("clean", 0)]), "noisy": restore_ms(timed, noisy)}
    result["size_bytes"] = Path(model_path).stat().st_size
    return result


def table_rows(results: list[dict], names: tuple[str, ...], levels: tuple[int, ...]) -> list[list[str]]:
    """[[row label, cell per model...]]: clean, each corruption's severities and their mean, the mean."""
    def pct(x: float) -> str:
        return f"{100 * x:.2f}"

    rows = [["clean"] + [pct(r["accuracy"]["clean"]) for r in results]]
    for name in names:
        per_level = [[r["accuracy"][f"{name}/{lv}"] for lv in levels] for r in results]
        cells = [" / ".join(pct(a) for a in accs) + f"  (mean {pct(float(np.mean(accs)))})" for accs in per_level]
        rows.append([f"{name} ({', '.join(f'{SEVERITIES[name][lv - 1]:g}' for lv in levels)})"] + cells)
    rows.append(["mean under corruption"] + [pct(r["mean_corrupted"]) for r in results])
    rows.append(["drop vs clean (points)"] + [f"{100 * (r['mean_corrupted'] - r['accuracy']['clean']):+.2f}"
                                                for r in results])
    rows.append(["ms/face, batch 1, 1 thread"] + [f"{r['latency_ms_batch1_1thread']:.3f}" for r in results])
    if any(r.get("restore_ms_per_face", {}).get("clean") for r in results):
        rows.append(["+ crop restoration, ms/face (clean / noisiest)"] + [
            "{clean:.3f} / {noisy:.3f}".format(**r["restore_ms_per_face"]) if r["restore_ms_per_face"]["clean"]
            else "-" for r in results])
    return rows


def render_text(results: list[dict], rows: list[list[str]], header: dict) -> str:
    heads = ["corruption (severity 1 / 2 / 3 parameters)"] + [
        f"{r['label']} ({r['classes']}-class)" for r in results]
    widths = [max(len(row[i]) for row in rows + [heads]) for i in range(len(heads))]
    lines = [f"FER+ {header['split']} set, majority labels, {header['images']} images, corruption seed "
             f"{header['seed']}; accuracy % at severity 1 / 2 / 3",
             cpu_line(header["cpu"]), ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def render_markdown(results: list[dict], rows: list[list[str]], header: dict) -> str:
    heads = ["corruption (severity 1 / 2 / 3 parameters)"] + [
        f"`{r['label']}` ({r['classes']}-class)" for r in results]
    lines = [f"FER+ {header['split']} set, majority labels, {header['images']} images, corruption seed "
             f"{header['seed']}; accuracy % at severity 1 / 2 / 3. CPU: {header['cpu']['model']}, "
             f"ISA {' '.join(header['cpu']['isa'])}.", "",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def run_benchmark(specs: list[str], images: np.ndarray, labels: np.ndarray, out_dir: Path, seed: int = 0,
                  names: tuple[str, ...] = CORRUPTIONS, levels: tuple[int, ...] = LEVELS,
                  threads: int = 1, split: str = "test") -> dict:
    sets = corrupted_sets(images, seed, names, levels)
    results = [score_model(spec, sets, labels, threads) for spec in specs]
    header = {"split": split, "images": int(len(labels)), "seed": seed, "cpu": cpu_description(),
              "severities": {n: list(SEVERITIES[n]) for n in names}}
    rows = table_rows(results, names, levels)
    report = {**header, "models": results, "text": render_text(results, rows, header)}
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in ((out_dir / "robustness.json", json.dumps(report, indent=2)),
                       (out_dir / "robustness.md", render_markdown(results, rows, header))):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)          # atomically: a reader never sees half a report
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--split", default="test", choices=("test", "valid"))
    parser.add_argument("--limit", type=int, help="only the first N images (quick checks)")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads for scoring (latency: 1)")


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score TFLite emotion models on FER+ under webcam degradations.")
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json]")
    add_arguments(parser)
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "robustness"), help="folder for JSON and markdown")
    parser.add_argument("--seed", type=int, default=0, help="seed of the corruptions' random draws")
    parser.add_argument("--only", nargs="+", choices=CORRUPTIONS, metavar="CORRUPTION",
                        help=f"a subset of: {', '.join(CORRUPTIONS)}")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    for spec in args.models:
        if not Path(split_spec(spec)[0]).is_file():
            raise DataError(f"{split_spec(spec)[0]}: model file not found")
    split = load_split(args.split, "majority", args.data)
    images, labels = split.images, split.labels
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    report = run_benchmark(args.models, images, labels, Path(args.out), args.seed,
                           tuple(args.only) if args.only else CORRUPTIONS, LEVELS, args.threads, args.split)
    print(report["text"])
    print(f"\nrobustness.json and robustness.md in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
