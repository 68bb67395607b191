"""Evaluate TFLite emotion models on the FER+ test set (majority protocol).

    python -m training.evaluate resources/models/kise_emotion.tflite \
        ../shared/anchors/seed_mini_xception_7class.tflite:training/anchors/seed_mini_xception_7class.json

Each MODEL is a .tflite path, optionally followed by ':SIDECAR.json' (default:
the .json beside it). Models run through the app's own EmotionClassifier, so
normalisation and label order come from the sidecar exactly as in the app.
Per model: accuracy, macro-F1, per-class precision/recall, expected
calibration error, latency at batch 1 on one thread, a confusion-matrix PNG
and a JSON report. A 7-class model (no contempt, like the seed) is scored
after mapping FER+ labels to its classes (contempt -> disgust); 8-class
models are scored both ways, so the side-by-side table compares like with like.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from kise_desktop.core.classifier import MIRROR_MODES, ModelError
from kise_desktop.core.machine import cpu_description, cpu_line
from kise_desktop.core.results import atomic_write
from kise_desktop.emotions import EMOTION_KEYS, SEED_7CLASS_KEYS, to_seed7
from kise_desktop.paths import REPO_DIR
from training.data.ferplus import DataError, load_split, one_line_errors


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE over equal-width confidence bins of the top-1 probability."""
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def classification_metrics(probs: np.ndarray, labels: np.ndarray, class_names: list[str]) -> dict:
    k = len(class_names)
    pred = probs.argmax(1)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    per_class = {}
    f1s = []
    for i, name in enumerate(class_names):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if confusion[i].sum():
            f1s.append(f1)
        per_class[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                           "support": int(confusion[i].sum())}
    return {
        "accuracy": float((pred == labels).mean()),
        "macro_f1": float(np.mean(f1s)),
        "ece": expected_calibration_error(probs, labels),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "classes": class_names,
        "images": int(len(labels)),
    }


def plot_confusion(metrics: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.asarray(metrics["confusion"], dtype=np.float64)
    rows = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    names = metrics["classes"]
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=110)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{int(confusion[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true (FER+ majority)")
    ax.set_title(f"{title}\naccuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def latency_ms(classifier, image: np.ndarray, repeats: int = 300) -> float:
    """Median ms per face at batch 1, the model alone (the sidecar's crop restoration is
    timed apart by restore_ms: it depends on the face, the model's time does not)."""
    from kise_desktop.core.restore import Restoration

    face = image[None]
    restore, classifier.restore = classifier.restore, Restoration()
    try:
        for _ in range(20):
            classifier.predict(face)
        times = np.empty(repeats)
        for i in range(repeats):
            t0 = time.perf_counter()
            classifier.predict(face)
            times[i] = time.perf_counter() - t0
    finally:
        classifier.restore = restore
    return float(np.median(times) * 1000)


def restore_ms(classifier, images: np.ndarray, faces: int = 200) -> float:
    """Mean ms per face of the sidecar's crop restoration at batch 1 over the first `faces` images
    (0 without one): most crops only pay for the two checks, dark or noisy ones for the repair."""
    if not classifier.restore.active:
        return 0.0
    sample = images[:faces]
    t0 = time.perf_counter()
    for face in sample:
        classifier.restore(face[None])
    return float((time.perf_counter() - t0) / max(len(sample), 1) * 1000)


def split_spec(spec: str) -> tuple[str, str | None, str | None]:
    """'MODEL[:SIDECAR][@on|@off|@auto]' -> (model, sidecar or None, mirror mode or None = the sidecar's)."""
    body, at, mirror = spec.rpartition("@")
    if not at or mirror not in MIRROR_MODES:
        body, mirror = spec, None
    model_path, _, sidecar = body.partition(":")
    return model_path, sidecar or None, mirror


def spec_label(spec: str) -> str:
    """model_label, plus the sidecar's name when it is not the model's own (one model read two ways),
    plus the mirror mode when the spec sets one."""
    model_path, sidecar, mirror = split_spec(spec)
    label = model_label(model_path)
    if sidecar and Path(sidecar).stem != Path(model_path).stem:
        label += f" [{Path(sidecar).stem}]"
    return label + (f" @{mirror}" if mirror else "")


def model_label(model_path: str | Path) -> str:
    """A short name that tells models of the same file name apart: runs/<run>/x.tflite -> <run>/x."""
    path = Path(model_path)
    return path.stem if path.parent.name in ("models", "anchors", "") else f"{path.parent.name}/{path.stem}"


def read_faces(classifier, images: np.ndarray) -> np.ndarray:
    """The classifier's probabilities for every face, in batches of 256."""
    return np.concatenate([classifier.predict(images[i:i + 256]) for i in range(0, len(images), 256)])


def read_8class(spec: str, images: np.ndarray) -> np.ndarray:
    """Probabilities of an 8-class model given as MODEL[:SIDECAR][@mirror] (ModelError for a 7-class one)."""
    from kise_desktop.core.classifier import EmotionClassifier

    model_path, sidecar, mirror = split_spec(spec)
    classifier = EmotionClassifier(model_path, sidecar, num_threads=1, mirror=mirror)
    if "contempt" not in classifier.labels:
        raise ModelError(f"{model_path}: a 7-class model; an 8-class model is needed (its labels have no contempt)")
    return read_faces(classifier, images)


def evaluate_model(spec: str, images: np.ndarray, labels: np.ndarray, out_dir: Path,
                   mirror: str | None = None, threads: int = 1, split: str = "test") -> dict:
    """One model on these faces; `mirror` (auto/on/off) overrides the spec's and the sidecar's mirror mode."""
    from kise_desktop.core.classifier import EmotionClassifier

    model_path, sidecar, spec_mirror = split_spec(spec)
    classifier = EmotionClassifier(model_path, sidecar, num_threads=threads, mirror=mirror or spec_mirror)
    probs = read_faces(classifier, images)
    seven_class = "contempt" not in classifier.labels
    report = {"model": model_path, "label": spec_label(spec), "name": classifier.name, "split": split,
              "classes": 7 if seven_class else 8, "mirror": classifier.mirror, "mirror_mode": classifier.mirror_mode,
              "latency_ms_batch1": latency_ms(classifier, images[0]),
              "restore_ms_per_face": restore_ms(classifier, images),
              "size_bytes": Path(model_path).stat().st_size}
    stem = re.sub(r"[^\w.-]+", "_", report["label"]).strip("_") + ("_mirror" if classifier.mirror else "")
    report["seven_class"] = classification_metrics(to_seed7(probs), to_seed7(labels), list(SEED_7CLASS_KEYS))
    if not seven_class:
        report["eight_class"] = classification_metrics(probs, labels, list(EMOTION_KEYS))
        plot_confusion(report["eight_class"], f"{classifier.name} on FER+ {split}", out_dir / f"confusion_{stem}.png")
    else:
        plot_confusion(report["seven_class"], f"{classifier.name} on FER+ {split} (7 classes)",
                       out_dir / f"confusion_{stem}.png")
    (out_dir / f"report_{stem}.json").write_text(json.dumps(report, indent=2))
    return report


def print_reports(reports: list[dict]) -> None:
    print(f"\nFER+ {reports[0].get('split', 'test')} set, majority labels ({reports[0]['seven_class']['images']} images)")
    print(f"ms/face: the model, batch 1, one thread; +restore: the sidecar's crop restoration, mean per face; "
          f"{cpu_line(reports[0].get('cpu'))}\n")
    header = (f"{'model':<42} {'cls':>3} {'acc-8':>6} {'F1-8':>6} {'acc-7':>6} {'F1-7':>6} {'ECE':>6} {'ms/face':>8} "
              f"{'+restore':>8} {'KB':>6}")
    print(header)
    print("-" * len(header))
    for r in reports:
        eight = r.get("eight_class")
        primary = eight or r["seven_class"]
        name = r.get("label", model_label(r["model"]))
        name += " +mirror" if r.get("mirror") and " @" not in name else ""
        acc8 = f"{eight['accuracy']:.4f}" if eight else "-"
        f1_8 = f"{eight['macro_f1']:.4f}" if eight else "-"
        print(f"{name[:42]:<42} {r['classes']:>3} {acc8:>6} {f1_8:>6} "
              f"{r['seven_class']['accuracy']:6.4f} {r['seven_class']['macro_f1']:6.4f} {primary['ece']:6.4f} "
              f"{r['latency_ms_batch1']:8.3f} {r.get('restore_ms_per_face', 0.0):8.3f} {r['size_bytes'] / 1024:6.0f}")
    print("\nper-class recall (8 classes where the model has them, else 7):")
    for r in reports:
        m = r.get("eight_class") or r["seven_class"]
        cells = ", ".join(f"{k} {v['recall']:.2f}" for k, v in m["per_class"].items())
        print(f"  {r.get('label', model_label(r['model']))}: {cells}")
    print("per-class precision:")
    for r in reports:
        m = r.get("eight_class") or r["seven_class"]
        cells = ", ".join(f"{k} {v['precision']:.2f}" for k, v in m["per_class"].items())
        print(f"  {r.get('label', model_label(r['model']))}: {cells}")


def update_sidecar(spec: str, report: dict) -> None:
    """Record the evaluation in the model's sidecar, which the app shows (name, accuracy)."""
    model_path, sidecar, _ = split_spec(spec)
    path = Path(sidecar) if sidecar else Path(model_path).with_suffix(".json")
    data = json.loads(path.read_text(encoding="utf-8"))
    main_metrics = report.get("eight_class") or report["seven_class"]
    # A model that can mirror at run time keeps its one-pass figures apart (what AVX2-only CPUs get).
    key = "metrics_one_pass" if data.get("mirror", "off") != "off" and not report.get("mirror") else "metrics"
    data.setdefault(key, {}).update({
        "evaluated_on": f"FER+ test set, majority labels, {main_metrics['images']} images",
        "accuracy": round(main_metrics["accuracy"], 4),
        "macro_f1": round(main_metrics["macro_f1"], 4),
        "ece": round(main_metrics["ece"], 4),
        "accuracy_7class": round(report["seven_class"]["accuracy"], 4),
        "per_class_recall": {k: round(v["recall"], 3) for k, v in main_metrics["per_class"].items()},
        "per_class_precision": {k: round(v["precision"], 3) for k, v in main_metrics["per_class"].items()},
        "latency_ms_batch1_1thread": round(report["latency_ms_batch1"], 3),
        "restore_ms_per_face": round(report["restore_ms_per_face"], 3),
        "mirror_averaged": bool(report.get("mirror")),
        "cpu": cpu_line(report.get("cpu")),
        "command": "python -m training.evaluate " + spec + " --update-sidecar",
    })
    # Atomic: a sidecar cut short would break the model.
    atomic_write(path, lambda fh: fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
    print(f"metrics written to {path} ({key})")


@one_line_errors(ModelError)
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate TFLite emotion models on the FER+ test set.")
    parser.add_argument("models", nargs="+", help="MODEL.tflite[:SIDECAR.json][@on|@off|@auto] (@: mirror averaging)")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--out", default=str(REPO_DIR / "runs" / "evaluate"), help="folder for PNGs and JSON")
    parser.add_argument("--split", default="test", choices=("test", "valid"))
    parser.add_argument("--limit", type=int, help="only the first N images (quick checks)")
    parser.add_argument("--mirror", choices=MIRROR_MODES,
                        help="average each face with its mirror image: on, off, or auto (on where the CPU has an "
                             "int8 dot product); default: each model's sidecar, or MODEL@on in a spec")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--corruptions", action="store_true",
                        help="run the robustness benchmark instead (python -m training.robustness: accuracy "
                             "under webcam degradations, same images for every model)")
    parser.add_argument("--update-sidecar", action="store_true",
                        help="write the first model's test metrics into its JSON sidecar (for bundling; "
                             "MODEL@off of a model that mirrors at run time writes them as metrics_one_pass)")
    args = parser.parse_args(argv)
    if args.corruptions:
        from training import robustness

        forwarded = [*args.models, "--split", args.split, "--threads", str(args.threads)]
        if args.data:
            forwarded += ["--data", args.data]
        if args.limit:
            forwarded += ["--limit", str(args.limit)]
        if args.out != parser.get_default("out"):
            forwarded += ["--out", args.out]
        return robustness.main(forwarded)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    split = load_split(args.split, "majority", args.data)
    images, labels = split.images, split.labels
    if args.limit:
        images, labels = images[: args.limit], labels[: args.limit]
    reports = [evaluate_model(spec, images, labels, out_dir, args.mirror, args.threads, args.split)
               for spec in args.models]
    cpu = cpu_description()
    for report in reports:
        report["cpu"] = cpu           # the latency figure means little without it
    print_reports(reports)
    if args.update_sidecar:
        if args.split != "test" or args.limit:
            raise DataError("--update-sidecar records full test-set figures only (no --split valid, no --limit)")
        update_sidecar(args.models[0], reports[0])
    (out_dir / "summary.json").write_text(json.dumps(reports, indent=2))
    print(f"\nreports and confusion matrices in {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
