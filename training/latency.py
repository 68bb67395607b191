"""Classifier latency per face, several models side by side, interleaved so that a busy machine slows all alike.

    python -m training.latency resources/models/kise_emotion.tflite@off resources/models/kise_emotion.tflite@on \
        training/anchors/kise_emotion_v2_folded.tflite training/anchors/kise_emotion_v1.tflite \
        ../shared/anchors/seed_mini_xception_7class.tflite:training/anchors/seed_mini_xception_7class.json

Each model is a spec as in `training.evaluate` (MODEL[:SIDECAR][@on|@off|@auto]). The measurement is the
app's EmotionClassifier on one real FER+ face: batch 1, one thread, crop restoration off (it depends on the
face; `training.evaluate` times it apart). The models take turns: every round times a block of faces on each
model in turn, and the table gives, per model, the median over rounds of the block's median, the spread of
the round medians (min-max), and the ratio to the first model's median in the same round. On a shared VM the
ratios are the figure to trust; the milliseconds move with the neighbours by 10-30%.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from kise_desktop.core.classifier import ModelError
from kise_desktop.core.machine import cpu_description, cpu_line
from kise_desktop.core.results import write_json_document
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import DataError, load_split, one_line_errors
from training.evaluate import spec_label, split_spec


def load_classifiers(specs: list[str]) -> list:
    from kise_desktop.core.classifier import EmotionClassifier
    from kise_desktop.core.restore import Restoration

    classifiers = []
    for spec in specs:
        model_path, sidecar, mirror = split_spec(spec)
        classifier = EmotionClassifier(model_path, sidecar, num_threads=1, mirror=mirror)
        classifier.restore = Restoration()
        classifiers.append(classifier)
    return classifiers


def mirror_kind(classifier) -> str:
    """'runtime' (the classifier averages with the mirror image), 'folded' (the graph does) or 'none'."""
    if classifier.mirror:
        return "runtime"
    return "folded" if classifier.sidecar.get("test_time_flip") else "none"


def time_block(classifier, face: np.ndarray, faces: int) -> float:
    """Median ms of `faces` single-face predictions."""
    times = np.empty(faces)
    for i in range(faces):
        t0 = time.perf_counter()
        classifier.predict(face)
        times[i] = time.perf_counter() - t0
    return float(np.median(times) * 1000)


def measure(specs: list[str], face: np.ndarray, rounds: int, faces: int) -> list[dict]:
    classifiers = load_classifiers(specs)
    for classifier in classifiers:          # warm-up: XNNPACK packs weights on the first invoke
        time_block(classifier, face, 20)
    table = np.empty((rounds, len(specs)))
    for r in range(rounds):
        for m, classifier in enumerate(classifiers):
            table[r, m] = time_block(classifier, face, faces)
    ratios = table / table[:, :1]
    return [{"spec": spec, "label": spec_label(spec), "mirror": mirror_kind(classifier),
             "median_ms": float(np.median(table[:, m])), "min_ms": float(table[:, m].min()),
             "max_ms": float(table[:, m].max()), "ratio_vs_first": float(np.median(ratios[:, m]))}
            for m, (spec, classifier) in enumerate(zip(specs, classifiers))]


def print_table(rows: list[dict], rounds: int, faces: int, budget_ms: float | None) -> None:
    print(cpu_line())
    print(f"ms per face, batch 1, 1 thread, the model alone; median of {rounds} interleaved rounds of "
          f"{faces} faces (min-max of the round medians)")
    width = max(len("model"), *(len(r["label"]) for r in rows))
    head = f"{'model':<{width}}  {'mirror':>7}  {'ms/face':>8}  {'min-max':>13}  {'vs first':>8}"
    if budget_ms:
        head += f"  {'<= ' + format(budget_ms, 'g') + ' ms':>9}"
    print(head)
    print("-" * len(head))
    for r in rows:
        line = (f"{r['label']:<{width}}  {r['mirror']:>7}  {r['median_ms']:8.3f}  "
                f"{r['min_ms']:6.3f}-{r['max_ms']:<6.3f}  {r['ratio_vs_first']:7.2f}x")
        if budget_ms:
            line += f"  {'yes' if r['median_ms'] <= budget_ms else 'NO':>9}"
        print(line)


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classifier latency per face, models interleaved.")
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json][@on|@off|@auto]")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--faces", type=int, default=100, help="faces per model per round")
    parser.add_argument("--budget", type=float, help="ms per face to check each model against")
    parser.add_argument("--data", help="data folder holding ferplus/")
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "latency" / "latency.json"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.faces < 1:
        parser.error("--rounds and --faces must be at least 1")
    for spec in args.models:
        if not Path(split_spec(spec)[0]).is_file():
            raise DataError(f"{split_spec(spec)[0]}: model file not found")
    face = load_split("test", "majority", args.data).images[:1]
    rows = measure(args.models, face, args.rounds, args.faces)
    print_table(rows, args.rounds, args.faces, args.budget)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_document(out, {"cpu": cpu_description(), "rounds": args.rounds, "faces": args.faces, "models": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
