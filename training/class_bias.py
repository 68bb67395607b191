"""Can a per-class bias lift the rare classes? Fit one on validation, report it on test.

    python -m training.class_bias resources/models/kise_emotion.tflite@off resources/models/kise_emotion.tflite@on

Post-hoc logit adjustment: each probability is multiplied by exp(bias[class]) and
the row renormalised, which moves the decision boundaries towards (bias > 0) or
away from a class without retraining. The bias is fitted on the FER+ *validation*
set by coordinate ascent on macro-F1 over a grid, never letting validation
accuracy fall more than `--max-accuracy-drop`; the test set only reports what the
fitted bias does there. A table per model and JSON in runs/class_bias/.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kise_desktop.core.classifier import ModelError
from kise_desktop.core.machine import cpu_description
from kise_desktop.core.results import write_json_document
from kise_desktop.emotions import EMOTION_KEYS
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import load_split, one_line_errors
from training.evaluate import classification_metrics, read_8class, spec_label

GRID = np.round(np.arange(-1.0, 3.0001, 0.1), 2)


def apply_bias(probs: np.ndarray, bias: np.ndarray) -> np.ndarray:
    weighted = probs * np.exp(bias)
    return weighted / weighted.sum(1, keepdims=True)


def summary(probs: np.ndarray, labels: np.ndarray) -> dict:
    metrics = classification_metrics(probs, labels, list(EMOTION_KEYS))
    recalls = {k: v["recall"] for k, v in metrics["per_class"].items()}
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "min_recall": min(recalls.values()), "recall": recalls}


def fit_bias(probs: np.ndarray, labels: np.ndarray, max_accuracy_drop: float, sweeps: int = 4) -> np.ndarray:
    """The bias (neutral's fixed at 0: only differences matter) with the best macro-F1 whose accuracy
    stays within `max_accuracy_drop` of the unbiased one's; ties keep the smaller change."""
    floor = summary(probs, labels)["accuracy"] - max_accuracy_drop
    bias, best = np.zeros(len(EMOTION_KEYS)), summary(probs, labels)["macro_f1"]
    for _ in range(sweeps):
        changed = False
        for c in range(1, len(EMOTION_KEYS)):
            for value in GRID:
                trial = bias.copy()
                trial[c] = value
                scores = summary(apply_bias(probs, trial), labels)
                if scores["accuracy"] >= floor and scores["macro_f1"] > best + 1e-9:
                    best, bias, changed = scores["macro_f1"], trial, True
        if not changed:
            break
    return bias


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json][@on|@off|@auto]")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--max-accuracy-drop", type=float, default=0.0,
                        help="validation accuracy the bias may give up, as a fraction (default 0)")
    parser.add_argument("--limit", type=int, help="only the first N faces of each split (quick checks)")
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "class_bias"), help="folder for the JSON")
    args = parser.parse_args(argv)
    splits = {name: load_split(name, "majority", args.data) for name in ("valid", "test")}
    faces = {name: (s.images[:args.limit], s.labels[:args.limit]) for name, s in splits.items()}
    results = []
    for spec in args.models:
        probs = {name: read_8class(spec, images) for name, (images, _) in faces.items()}
        bias = fit_bias(probs["valid"], faces["valid"][1], args.max_accuracy_drop)
        row = {"model": spec_label(spec), "bias": dict(zip(EMOTION_KEYS, bias.round(2).tolist()))}
        for name, (_, labels) in faces.items():
            row[name] = {"before": summary(probs[name], labels), "after": summary(apply_bias(probs[name], bias), labels)}
        results.append(row)
    print(f"bias fitted on FER+ validation ({len(faces['valid'][1])} faces, accuracy may drop "
          f"{args.max_accuracy_drop * 100:.1f} points), reported on test ({len(faces['test'][1])} faces)\n")
    header = f"{'model':<34} {'split':<5} {'acc':>15} {'macro-F1':>13} {'min recall':>12}"
    print(header + "\n" + "-" * len(header))
    for row in results:
        for name in ("valid", "test"):
            b, a = row[name]["before"], row[name]["after"]
            print(f"{row['model'][:34]:<34} {name:<5} {b['accuracy'] * 100:6.2f} -> {a['accuracy'] * 100:5.2f} "
                  f"{b['macro_f1']:.3f} -> {a['macro_f1']:.3f} {b['min_recall']:.2f} -> {a['min_recall']:.2f}")
        print(f"  bias: " + ", ".join(f"{k} {v:+.1f}" for k, v in row["bias"].items() if v)
              + "  |  test recall after: " + ", ".join(f"{k} {v:.2f}" for k, v in row["test"]["after"]["recall"].items()))
    out = Path(args.out) / "class_bias.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_document(out, {"cpu": cpu_description(), "max_accuracy_drop": args.max_accuracy_drop,
                              "models": results})
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
