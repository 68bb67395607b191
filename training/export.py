"""Export a trained Keras model to TFLite (float32, float16, dynamic, int8) with parity checks.

    python -m training.export runs/kise_sepnet/best.keras [--bundle int8]

Each export is run on the FER+ test set (majority labels) next to the Keras
model: top-1 agreement and accuracy delta are printed and stored. With
--bundle, the chosen variant is copied to resources/models/kise_emotion.tflite
with its JSON sidecar (labels, input, normalisation, metrics, sha256).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from kise_desktop.core.restore import VALIDATED_SETTINGS
from kise_desktop.emotions import EMOTIONS, EMOTION_KEYS
from kise_desktop.paths import MODELS_DIR
from training.data.ferplus import DataError, load_split, one_line_errors

# dynamic: int8 weights, float32 activations quantised per call (XNNPACK's QD8 kernels); int8: weights
# and activations int8, calibrated. Which is fastest depends on the CPU (python -m training.avx2_cost).
VARIANTS = ("float32", "float16", "dynamic", "int8")
BUNDLE_NAME = "kise_emotion"


def convert(model, variant: str, representative: np.ndarray | None = None) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        # Full-integer: weights and activations int8, calibrated on training faces;
        # float32 in/out so the app feeds the same pixels to every variant.
        assert representative is not None
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([representative[i:i + 1]] for i in range(len(representative)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif variant != "float32":
        raise ValueError(f"unknown variant {variant!r}")
    # The converter prints a page of tensor specs to stdout; keep the parity table readable.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return converter.convert()


def ensemble(models: list):
    """Average several models' probabilities in one graph (one TFLite file, one invoke)."""
    import keras
    from keras import layers

    if len(models) == 1:
        return models[0]
    inputs = keras.Input(shape=models[0].input_shape[1:], name="gray_pixels")
    for i, member in enumerate(models):
        member.name = f"member{i}_{member.name}"
    outputs = layers.Average(name="ensemble")([member(inputs) for member in models])
    return keras.Model(inputs, outputs, name="ensemble")


def with_flip_averaging(model):
    """Fold test-time augmentation into the model: average the face and its mirror image.

    Both branches share weights, so the file barely grows; latency doubles,
    which the small model can afford (see evaluate's ms/face column).
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=model.input_shape[1:], name="gray_pixels")
    mirrored = layers.Lambda(lambda t: keras.ops.flip(t, axis=2), name="mirror")(inputs)
    outputs = layers.Average(name="probabilities")([model(inputs), model(mirrored)])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_avg")


def tflite_predict(model_bytes: bytes, images: np.ndarray) -> np.ndarray:
    """Run a TFLite model over (N,48,48,1) float32 pixels, one image at a time."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes, num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    result = np.empty((len(images), out["shape"][-1]), np.float32)
    for i in range(len(images)):
        interpreter.set_tensor(inp["index"], images[i:i + 1])
        interpreter.invoke()
        result[i] = interpreter.get_tensor(out["index"])[0]
    return result


def sidecar_for(variant: str, file_name: str, config: dict | None, metrics: dict, sha256: str,
                report: dict | None = None) -> dict:
    return {
        "name": f"KISE {config.get('architecture', 'model') if config else 'model'} ({variant})",
        "file": file_name,
        "labels": list(EMOTION_KEYS),
        "labels_en": [e.en for e in EMOTIONS],
        "labels_ko": [e.ko for e in EMOTIONS],
        "input": {"shape": [1, 48, 48, 1], "dtype": "float32", "color": "gray"},
        # Normalisation is inside the model (its first layer), so the app feeds raw 0..255 pixels.
        "normalization": {"scale": 1.0, "offset": 0.0},
        "crop_margin": 0.1,
        "restore": dict(VALIDATED_SETTINGS),     # dark and noisy crops repaired before the model (core/restore.py)
        "quantization": variant,
        "test_time_flip": bool(report.get("fold_flip")) if report else False,
        "training_data": "FER2013 images (research use) with Microsoft FER+ labels (MIT), train split, "
                         f"label mode {config['datasets'][0].get('mode') if config else '?'}",
        "metrics": metrics,
        "sha256": sha256,
    }


def export_all(keras_path: Path | list[Path], out_dir: Path, data_root: str | None = None, config: dict | None = None,
               bundle: str | None = None, test_limit: int | None = None, fold_flip: bool = True) -> dict:
    import keras

    paths = keras_path if isinstance(keras_path, list) else [keras_path]
    model = ensemble([keras.models.load_model(p) for p in paths])
    if fold_flip:
        model = with_flip_averaging(model)
    test = load_split("test", "majority", data_root)
    if test_limit:
        test.images, test.labels = test.images[:test_limit], test.labels[:test_limit]
    x_test = test.images[..., None].astype(np.float32)
    keras_probs = model.predict(x_test, batch_size=256, verbose=0)
    keras_pred = keras_probs.argmax(1)
    keras_acc = float((keras_pred == test.labels).mean())
    train = load_split("train", "majority", data_root)
    rng = np.random.default_rng(0)
    representative = train.images[rng.choice(len(train), 500, replace=False)][..., None].astype(np.float32)

    report: dict = {"keras": {"accuracy": keras_acc, "test_images": int(len(test))}, "fold_flip": fold_flip,
                    "variants": {}}
    print(f"{'variant':<9} {'size KB':>8} {'accuracy':>9} {'delta vs keras':>15} {'top-1 agree':>12}")
    print(f"{'keras':<9} {'':>8} {keras_acc:9.4f}")
    for variant in VARIANTS:
        t0 = time.time()
        data = convert(model, variant, representative)
        path = out_dir / f"{BUNDLE_NAME}_{variant}.tflite"
        path.write_bytes(data)
        probs = tflite_predict(data, x_test)
        pred = probs.argmax(1)
        acc = float((pred == test.labels).mean())
        entry = {"file": str(path), "size_bytes": len(data), "accuracy": acc,
                 "accuracy_delta_vs_keras": acc - keras_acc,
                 "top1_agreement_vs_keras": float((pred == keras_pred).mean()),
                 "convert_seconds": round(time.time() - t0, 1)}
        report["variants"][variant] = entry
        print(f"{variant:<9} {len(data) / 1024:8.0f} {acc:9.4f} {100 * (acc - keras_acc):+14.2f}p "
              f"{entry['top1_agreement_vs_keras']:12.4f}")
    i8, f32 = report["variants"]["int8"], report["variants"]["float32"]
    print(f"int8 vs float32 accuracy delta: {100 * (i8['accuracy'] - f32['accuracy']):+.2f} points")
    (out_dir / "export_report.json").write_text(json.dumps(report, indent=2))
    if bundle:
        bundle_model(out_dir / f"{BUNDLE_NAME}_{bundle}.tflite", bundle, config, report)
    return report


def bundle_model(tflite_path: Path, variant: str, config: dict | None, report: dict,
                 metrics: dict | None = None) -> Path:
    """Copy a TFLite file into resources/models/ with its sidecar."""
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    target = MODELS_DIR / f"{BUNDLE_NAME}.tflite"
    shutil.copyfile(tflite_path, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    merged = {"parity": report["variants"][variant], "keras_accuracy": report["keras"]["accuracy"], **(metrics or {})}
    merged["parity"] = {k: v for k, v in merged["parity"].items() if k != "file"}
    sidecar = sidecar_for(variant, target.name, config, merged, digest, report)
    target.with_suffix(".json").write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    print(f"bundled {target} ({target.stat().st_size / 1024:.0f} KB, sha256 {digest[:12]}...)")
    return target


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export a Keras model to TFLite with parity checks.")
    parser.add_argument("model", nargs="+", help="a .keras file (e.g. runs/kise_sepnet/best.keras); "
                        "several are averaged into one model")
    parser.add_argument("--out", help="folder for the .tflite files (default: beside the model)")
    parser.add_argument("--data", help="data folder holding ferplus/")
    parser.add_argument("--bundle", choices=VARIANTS, help="copy this variant into resources/models/")
    parser.add_argument("--no-flip", action="store_true", help="do not fold mirror-image averaging into the model")
    args = parser.parse_args(argv)
    model_paths = [Path(m) for m in args.model]
    for model_path in model_paths:
        if not model_path.is_file():
            raise DataError(f"{model_path}: model file not found")
    model_path = model_paths[0]
    out_dir = Path(args.out) if args.out else model_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = model_path.parent / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else None
    export_all(model_paths, out_dir, args.data, config, args.bundle, fold_flip=not args.no_flip)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
