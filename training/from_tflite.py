"""Rebuild trainable Keras weights from a bundled `kise_sepnet` TFLite file.

    python -m training.from_tflite resources/models/kise_emotion.tflite \
        --config training/configs/kise_sepnet_deep3_light.json --out ~/.cache/kise/runs/bundled.keras

Run folders (and so the .keras checkpoints) do not travel with the repo; the
bundled .tflite does. This reads its first (unmirrored) branch, dequantises
every int8 weight (per channel) and undoes the converter's BatchNorm folding:
a folded conv (W', b') becomes conv W' followed by a BatchNorm whose moving
statistics are the real ones of its input on training faces (so that a
fine-tune, which normalises with batch statistics, starts from the same
function) and whose gamma/beta make it compute exactly x + b'. The result is
the shipped network up to int8 weight rounding; `init_from` in a training
config may name the .tflite directly (training.train calls this).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.data.ferplus import DataError, load_split, one_line_errors

BRANCH = "kise_sepnet_1/"    # the first branch of the flip-averaged graph (the mirrored one is kise_sepnet_3/)


def _dequantised(interpreter, detail: dict) -> np.ndarray:
    q = interpreter.get_tensor(detail["index"]).astype(np.float32)
    params = detail["quantization_parameters"]
    scales, zeros = params["scales"], params["zero_points"]
    if scales.size == 0:                        # already float
        return q
    shape = [1] * q.ndim
    if scales.size > 1:
        shape[params["quantized_dimension"]] = -1
    return (q - zeros.reshape(shape)) * scales.reshape(shape).astype(np.float32)


def tflite_layers(tflite_path: Path) -> dict[str, dict[str, np.ndarray]]:
    """{keras layer name: {"kernel": ..., "bias": ...}} in Keras layouts, from the first branch."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(tflite_path))
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found: dict[str, dict[str, np.ndarray]] = {}
    for op in interpreter._get_ops_details():
        kind = op["op_name"]
        if kind not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out_names = tensors[op["outputs"][0]]["name"].split(";")
        in_branch = [n for n in out_names if BRANCH in n]
        if not in_branch:
            continue
        weight = _dequantised(interpreter, tensors[op["inputs"][1]])
        bias = _dequantised(interpreter, tensors[op["inputs"][2]]) if op["inputs"][2] >= 0 else None
        parts = {p for n in in_branch for p in n.split(BRANCH, 1)[1].split("/")[:1]}
        if kind == "DEPTHWISE_CONV_2D":
            (layer,) = {p[:-2] for p in parts if p.endswith("_sep_1")}
            if bias is not None and np.abs(bias).max() > 1e-6:
                raise DataError(f"{tflite_path}: depthwise conv of {layer} has a bias; not a kise_sepnet export")
            found.setdefault(layer, {})["depthwise"] = weight.transpose(1, 2, 3, 0)    # (1,kh,kw,C)->(kh,kw,C,1)
        elif kind == "CONV_2D":
            (bn,) = {p[:-2] for p in parts if p.endswith("_bn_1")}
            # The folded BatchNorm names the conv: stem_bn -> stem_conv, blockN_short_bn -> blockN_short,
            # blockN_a_bn -> blockN_a_sep (the separable conv's pointwise half).
            layer = "stem_conv" if bn == "stem_bn" else bn[:-3] if bn.endswith("_short_bn") else bn[:-3] + "_sep"
            found.setdefault(layer, {}).update(kernel=weight.transpose(1, 2, 3, 0), bias=bias, bn=bn)
        else:
            found["probabilities"] = {"kernel": weight.T, "bias": bias}
    return found


def rebuild(tflite_path: Path, config: dict, calibration: np.ndarray):
    """The config's architecture with the TFLite file's weights and calibrated BatchNorm statistics."""
    import keras

    from training.models import build_model

    model = build_model(config["architecture"], **config["model_args"])
    weights = tflite_layers(tflite_path)
    expected = {layer.name for layer in model.layers if layer.weights and not isinstance(
        layer, keras.layers.BatchNormalization)}
    if set(weights) != expected:
        raise DataError(f"{tflite_path}: its layers do not match the config's network "
                        f"(missing {sorted(expected - set(weights))[:3]}, extra {sorted(set(weights) - expected)[:3]})")
    for name, w in weights.items():
        have = [tuple(v.shape) for v in model.get_layer(name).weights]
        want = {"probabilities": [w["kernel"].shape, w["bias"].shape]}.get(
            name, [w["depthwise"].shape, w["kernel"].shape] if "depthwise" in w else [w["kernel"].shape])
        if have != [tuple(s) for s in want]:
            raise DataError(f"{tflite_path}: its layers do not match the config's network "
                            f"({name}: {[tuple(s) for s in want]} in the file, {have} in the config)")
    bns = {}
    for name, w in weights.items():
        layer = model.get_layer(name)
        if name == "probabilities":
            layer.set_weights([w["kernel"], w["bias"]])
            continue
        kernel = w["kernel"]
        if isinstance(layer, keras.layers.SeparableConv2D):
            layer.set_weights([w["depthwise"], kernel])
        else:
            layer.set_weights([kernel])
        bn = model.get_layer(w["bn"])
        eps = bn.epsilon
        # First "x + b" with unit statistics; the real statistics follow below.
        bn.set_weights([np.ones_like(w["bias"]), w["bias"], np.zeros_like(w["bias"]),
                        np.full_like(w["bias"], 1.0 - eps)])
        bns[bn.name] = w["bias"]
    # Statistics of each BatchNorm's input over the calibration faces (inference mode: the exact function).
    probe = keras.Model(model.input, [model.get_layer(n).input for n in bns])
    outs = probe.predict(calibration, batch_size=256, verbose=0)
    for (name, bias), acts in zip(bns.items(), outs):
        mean = acts.mean(axis=(0, 1, 2))
        var = acts.var(axis=(0, 1, 2))
        bn = model.get_layer(name)
        bn.set_weights([np.sqrt(var + bn.epsilon), mean + bias, mean, var])
    return model


def calibration_faces(data_root: str | None, n: int = 2048, seed: int = 0) -> np.ndarray:
    train = load_split("train", "majority", data_root)
    idx = np.random.default_rng(seed).choice(len(train), min(n, len(train)), replace=False)
    return train.images[np.sort(idx)][..., None].astype(np.float32)


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild Keras weights from a kise_sepnet TFLite file.")
    parser.add_argument("tflite", help="e.g. resources/models/kise_emotion.tflite")
    parser.add_argument("--config", required=True, help="the training config that made it (its architecture)")
    parser.add_argument("--out", required=True, help="where to write the .keras file")
    parser.add_argument("--data", help="data folder holding ferplus/ (calibration faces, test check)")
    args = parser.parse_args(argv)
    tflite = Path(args.tflite)
    if not tflite.is_file():
        raise DataError(f"{tflite}: model file not found")
    from training.train import load_config

    model = rebuild(tflite, load_config(args.config), calibration_faces(args.data))
    out = Path(args.out).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    test = load_split("test", "majority", args.data)
    probs = model.predict(test.images[..., None].astype(np.float32), batch_size=256, verbose=0)
    print(json.dumps({"written": str(out), "test_accuracy_no_flip": round(float((probs.argmax(1) == test.labels)
                                                                               .mean()), 4)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
