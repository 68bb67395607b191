"""Weight-space ensembling of a model and its fine-tune (WiSE-FT, Wortsman et al. 2022).

    python -m training.soup resources/models/kise_emotion.tflite \\
        ~/.cache/kise/runs/kise_v2_robust_ft/best.keras --out ~/.cache/kise/runs/kise_v2_soup

A fine-tune that starts from a model stays in the same basin, so the straight
line between the two sets of weights gives models in between: here the clean
bundled model (alpha 0) and its corruption-augmented fine-tune (alpha 1). One
network, the same size and speed, no training. Each alpha on the line is scored
on the FER+ *validation* set, clean and under the corruptions of
training/corruptions.py. The chosen alpha is the most robust one whose clean
validation accuracy is no more than --max-clean-drop points below the start's
(default 0: a soup must not lose clean accuracy to be bundled); it is written as
`best.keras` (with `soup.json`, every alpha's figures) for training.export.
The test set is never looked at here.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from training.data.ferplus import DataError, load_split, one_line_errors

DEFAULT_ALPHAS = (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0)


def load_weights_source(path: Path, config: dict, data_root: str | None):
    """A Keras model from a .keras file, or rebuilt from a kise_sepnet .tflite (training.from_tflite)."""
    import keras

    if not path.is_file():
        raise DataError(f"{path}: model file not found")
    if path.suffix == ".tflite":
        from training.from_tflite import calibration_faces, rebuild

        return rebuild(path, config, calibration_faces(data_root, seed=config["seed"]))
    return keras.models.load_model(path)


def interpolate(start, end, alpha: float) -> list[np.ndarray]:
    """(1 - alpha) * start + alpha * end, weight by weight (BatchNorm statistics included)."""
    a, b = start.get_weights(), end.get_weights()
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise DataError("the two models have different architectures: a soup needs a model and its own fine-tune")
    return [((1.0 - alpha) * x + alpha * y).astype(x.dtype) for x, y in zip(a, b)]


def flip_averaged_accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy with the mirror image averaged in, as the exported model does."""
    x = images[..., None].astype(np.float32)
    probs = model.predict(x, batch_size=256, verbose=0) + model.predict(x[:, :, ::-1], batch_size=256, verbose=0)
    return float((probs.argmax(1) == labels).mean())


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", help="the original model (.keras, or the bundled kise_sepnet .tflite)")
    parser.add_argument("end", help="its fine-tune (.keras), e.g. runs/kise_v2_robust_ft/best.keras")
    parser.add_argument("--out", required=True, help="folder for best.keras, config.json and soup.json")
    parser.add_argument("--alphas", type=float, nargs="+", default=list(DEFAULT_ALPHAS),
                        help="points on the line, 0 = start, 1 = end")
    parser.add_argument("--config", help="the fine-tune's config.json (default: beside END)")
    parser.add_argument("--data", help="data folder holding ferplus/")
    parser.add_argument("--max-clean-drop", type=float, default=0.0,
                        help="points of clean validation accuracy the soup may lose against START (default 0)")
    parser.add_argument("--limit", type=int, help="score only the first N validation faces (smoke runs)")
    args = parser.parse_args(argv)
    if any(not 0.0 <= a <= 1.0 for a in args.alphas):
        parser.error("--alphas must lie in [0, 1]")
    return run(args)


def run(args: argparse.Namespace) -> int:
    import keras
    from tqdm import tqdm

    from training.robustness import corrupted_sets

    end_path = Path(args.end).expanduser()
    config_path = Path(args.config) if args.config else end_path.parent / "config.json"
    if not config_path.is_file():
        raise DataError(f"{config_path}: the fine-tune's config.json is needed (give --config)")
    config = json.loads(config_path.read_text())
    start = load_weights_source(Path(args.start).expanduser(), config, args.data)
    end = load_weights_source(end_path, config, args.data)
    valid = load_split("valid", "majority", args.data)
    images, labels = valid.images, valid.labels
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    # The corrupted copies are made once (deterministic, fixed seeds) and shared by every alpha.
    corrupted = corrupted_sets(images, seed=0)       # the same draws as `python -m training.robustness`
    del corrupted[("clean", 0)]
    model = keras.models.clone_model(end)
    rows = []
    for alpha in tqdm(args.alphas, desc="alphas", unit="alpha", file=sys.stderr):
        model.set_weights(interpolate(start, end, alpha))
        clean = flip_averaged_accuracy(model, images, labels)
        robust = float(np.mean([flip_averaged_accuracy(model, x, labels) for x in corrupted.values()]))
        rows.append({"alpha": alpha, "valid_clean": clean, "valid_corrupted_mean": robust})
        print(f"alpha {alpha:.2f}: valid clean {100 * clean:.2f}%, under corruption {100 * robust:.2f}%",
              file=sys.stderr)
    start_clean = flip_averaged_accuracy(start, images, labels)
    allowed = [r for r in rows if r["valid_clean"] >= start_clean - args.max_clean_drop / 100 - 1e-9]
    if not allowed:
        print(f"no alpha keeps clean validation accuracy within {args.max_clean_drop:g} points of the start's "
              f"{100 * start_clean:.2f}%; nothing written", file=sys.stderr)
        return 1
    best = max(allowed, key=lambda r: r["valid_corrupted_mean"])
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    model.set_weights(interpolate(start, end, best["alpha"]))
    model.save(out / "best.keras.tmp.keras")
    os.replace(out / "best.keras.tmp.keras", out / "best.keras")
    soup_config = {**config, "name": out.name, "soup": {"start": str(args.start), "end": str(args.end),
                                                        "alpha": best["alpha"]}}
    (out / "config.json").write_text(json.dumps(soup_config, indent=2) + "\n")
    (out / "soup.json").write_text(json.dumps({"rows": rows, "chosen": best}, indent=2) + "\n")
    print("| alpha | valid clean (flip-averaged float) | valid under corruption (mean of 24) |")
    print("|---|---|---|")
    for r in rows:
        mark = " (chosen)" if r is best else ""
        print(f"| {r['alpha']:.2f}{mark} | {100 * r['valid_clean']:.2f} | {100 * r['valid_corrupted_mean']:.2f} |")
    print(f"wrote {out / 'best.keras'}; export with: python -m training.export {out / 'best.keras'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
