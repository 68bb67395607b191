"""Train a KISE emotion model, reproducibly and resumably.

    python -m training.train --config training/configs/kise_sepnet.json

The story, top to bottom: read the config; load the data (FER+ and/or
prepared AIHub shards) with the configured label mode; answer class
imbalance; stream augmented batches (NumPy/OpenCV, any Keras backend); build the model; train with a
checkpoint every epoch (rerun the same command after an interruption and it
continues at the next epoch), a progress bar and a CSV log; finally keep the
best-on-validation weights and export TFLite files.

Everything lands in runs/<config name>/ (ignored by git), or in <runs dir>/<config name>/
with --runs-dir or $KISE_RUNS_DIR (e.g. ~/.cache/kise/runs, where checkpoints survive a
fresh checkout of the repo):
    checkpoint.keras   model + optimizer after the last finished epoch
    best.keras         best validation accuracy so far
    state.json         last finished epoch, best epoch/accuracy, wall time
    log.csv            one row per epoch
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from kise_desktop.emotions import EMOTION_KEYS, NUM_EMOTIONS
from kise_desktop.paths import REPO_DIR
from training.augment import Augmenter, TrainBatches
from training.data.ferplus import DataError, Split, load_split, one_line_errors

DEFAULTS: dict = {
    "architecture": "kise_sepnet",
    "model_args": {},
    "datasets": [{"kind": "ferplus", "mode": "probability"}],
    "valid_datasets": None,          # default: the same kinds, majority labels for FER+
    "epochs": 60,
    "batch_size": 128,
    "learning_rate": 3e-3,
    "weight_decay": 5e-4,
    "warmup_epochs": 2,
    "label_smoothing": 0.0,
    "balance": "class_weights",      # none | downsample | class_weights
    "class_weight_power": 0.3,       # weight_c = (n_max / n_c) ** power
    "merge_contempt": False,
    "augment": {"flip": True, "rotation_deg": 12.0, "zoom": 0.12, "translate": 0.1,
                "contrast": 0.3, "brightness": 0.2, "erase_prob": 0.25},
    "limit_train": None,             # use only the first N training images (tests, smoke runs)
    "limit_valid": None,
    "seed": 20261126,
    "export": True,                  # TFLite export at the end (needs the TensorFlow backend)
    "test_time_flip": True,          # fold mirror averaging into the export (twice the cost per face)
    "data_workers": None,            # augmentation threads (default: up to 4)
    "init_from": None,               # start from these weights (.keras, or a kise_sepnet .tflite) with a fresh schedule
    "distill": None,                 # {"teacher": .tflite, "sidecar": .json (optional), "weight": 0..1,
                                     #  "once": true = the teacher reads each face once, before training}
    "freeze_batchnorm": False,       # fine-tunes: keep the initial model's BatchNorm statistics and scales
    "clean_pairs": False,            # each step sees every face clean and degraded (a step costs twice as much)
}


# ---------------------------------------------------------------- config ----
def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    path = Path(path)
    try:
        user = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: config file not found") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    config = {**DEFAULTS, **user, **(overrides or {})}
    config["augment"] = {**DEFAULTS["augment"], **user.get("augment", {})}
    config.setdefault("name", path.stem)
    return config


# ------------------------------------------------------------------ data ----
def load_dataset(spec: dict, split: str, data_root: str | None) -> Split:
    kind = spec.get("kind", "ferplus")
    if kind == "ferplus":
        return load_split(split, spec.get("mode", "majority"), spec.get("root", data_root), verbose=True)
    if kind in ("prepared", "aihub"):
        from training.data import prepared  # AIHub shards written by training.prepare
        return prepared.load_dataset(spec, split)
    raise DataError(f"unknown dataset kind {kind!r} (use 'ferplus' or 'prepared')")


def concat_splits(parts: list[Split]) -> Split:
    if len(parts) == 1:
        return parts[0]
    return Split(
        name="+".join(p.name for p in parts), mode="+".join(p.mode for p in parts),
        images=np.concatenate([p.images for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        names=[n for p in parts for n in p.names],
    )


def merge_contempt_targets(split: Split) -> Split:
    """Fold contempt into disgust (the seed's 7 classes) without changing the output size."""
    from kise_desktop.emotions import merge_contempt

    targets = merge_contempt(split.targets)
    return Split(split.name, split.mode, split.images, targets, targets.argmax(1), split.names, split.dropped)


def downsample_to_rarest(split: Split, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    counts = split.class_counts()
    present = counts[counts > 0]
    n = int(present.min())
    keep = np.concatenate([rng.choice(np.flatnonzero(split.labels == c), n, replace=False)
                           for c in range(NUM_EMOTIONS) if counts[c] > 0])
    keep.sort()
    return Split(split.name, split.mode, split.images[keep], split.targets[keep], split.labels[keep],
                 [split.names[i] for i in keep], split.dropped)


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights (n_max / n_c) ** power, scaled to mean 1 over samples.

    power 0 = no weighting, 1 = full inverse frequency (which costs overall
    accuracy for a few hundred contempt/disgust faces); in between keeps the
    rare classes from being ignored without trading away the common ones.
    """
    counts = np.bincount(labels, minlength=NUM_EMOTIONS).astype(np.float64)
    weights = np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** power, 0.0)
    weights /= (weights[labels]).mean()
    return weights.astype(np.float32)


def prepare_data(config: dict, data_root: str | None) -> tuple[Split, Split, np.ndarray]:
    train = concat_splits([load_dataset(s, "train", data_root) for s in config["datasets"]])
    valid_specs = config["valid_datasets"] or [
        {**s, "mode": "majority"} if s.get("kind", "ferplus") == "ferplus" else s for s in config["datasets"]]
    valid = concat_splits([load_dataset(s, "valid", data_root) for s in valid_specs])
    if config["limit_train"]:
        n = int(config["limit_train"])
        train = Split(train.name, train.mode, train.images[:n], train.targets[:n], train.labels[:n], train.names[:n])
    if config["limit_valid"]:
        n = int(config["limit_valid"])
        valid = Split(valid.name, valid.mode, valid.images[:n], valid.targets[:n], valid.labels[:n], valid.names[:n])
    if config["merge_contempt"]:
        train, valid = merge_contempt_targets(train), merge_contempt_targets(valid)
    balance = config["balance"]
    if balance == "downsample":
        train = downsample_to_rarest(train, config["seed"])
        weights = np.ones(NUM_EMOTIONS, np.float32)
    elif balance == "class_weights":
        weights = class_weights(train.labels, config["class_weight_power"])
    elif balance == "none":
        weights = np.ones(NUM_EMOTIONS, np.float32)
    else:
        raise DataError(f"unknown balance option {balance!r} (none, downsample, class_weights)")
    return train, valid, weights


# ---------------------------------------------------------- augmentation ----
TEACHER_READINGS = "teacher_readings.npy"   # in a run folder: the teacher's reading of each training face


def make_train_batches(train: Split, weights: np.ndarray, config: dict, start_epoch: int,
                       out_dir: Path | None = None) -> TrainBatches:
    """Augmented batches for epochs start_epoch..epochs-1; each epoch's order and each
    batch's augmentation are fixed by (seed, epoch, batch), so a resumed run sees
    exactly the batches an uninterrupted one would have."""
    targets = train.targets
    smoothing = float(config["label_smoothing"])
    if smoothing:
        targets = targets * (1 - smoothing) + smoothing / NUM_EMOTIONS
    workers = int(config.get("data_workers") or min(4, os.cpu_count() or 1))
    distill = config["distill"]
    if distill and distill.get("once"):
        # The teacher's reading of each original face, mixed into the targets once: a long run then costs
        # one teacher pass over the training set instead of one per step (a mirrored teacher reads a face
        # and its flip alike; the other augmentations move a face by a few pixels). Readings already in
        # the run folder need no teacher, so a machine without a TFLite runtime can train from them.
        readings = cached_teacher_readings(out_dir, len(train.images))
        if readings is None:
            make_teacher, _ = teacher_factory(distill)
            readings = teacher_readings(make_teacher, train.images,
                                        out_dir / TEACHER_READINGS if out_dir else None)
        weight = distill_weight(distill)
        targets = (1.0 - weight) * targets + weight * readings
        make_teacher, teacher_weight = None, 0.0
    else:
        make_teacher, teacher_weight = teacher_factory(distill)
    return TrainBatches(train.images, targets.astype(np.float32), weights[train.labels],
                        Augmenter(**config["augment"]), config["batch_size"], config["seed"],
                        start_epoch, config["epochs"], workers=workers,
                        make_teacher=make_teacher, teacher_weight=teacher_weight,
                        clean_pairs=bool(config["clean_pairs"]))


def distill_weight(distill: dict) -> float:
    weight = float(distill.get("weight", 0.5))
    if not 0.0 < weight <= 1.0:
        raise DataError(f"distill weight must be in (0, 1], got {weight}")
    return weight


def teacher_factory(distill: dict | None):
    """(factory of a teacher's predict, its weight in the targets), or (None, 0) without distillation.
    The teacher is any TFLite model with a sidecar, run on the clean view of each face; a list of
    models is an ensemble whose probabilities are averaged."""
    if not distill:
        return None, 0.0
    from kise_desktop.core.classifier import EmotionClassifier, ModelError

    def in_repo(path: str | None) -> Path | None:
        return None if path is None else Path(path) if Path(path).is_absolute() else REPO_DIR / path

    teachers = distill["teacher"] if isinstance(distill["teacher"], list) else [distill["teacher"]]
    sidecars = distill.get("sidecar")
    sidecars = sidecars if isinstance(sidecars, list) else [sidecars] * len(teachers)
    if len(sidecars) != len(teachers):
        raise DataError(f"distill: {len(teachers)} teacher(s) but {len(sidecars)} sidecar(s)")
    members = [(in_repo(model), in_repo(sidecar)) for model, sidecar in zip(teachers, sidecars)]
    weight = distill_weight(distill)
    for model, sidecar in members:
        try:
            EmotionClassifier(model, sidecar)  # fail here, in one line, not in a worker thread
        except ModelError as exc:
            raise DataError(f"distillation teacher: {exc}") from None
    print(f"distilling from {', '.join(str(m) for m, _ in members)} (weight {weight})", file=sys.stderr)

    def make_predict():
        # Mirrored on every CPU, so the targets do not depend on the machine; a model with the mirror
        # folded in reads a face and its mirror alike, so for it this only costs time.
        readers = [EmotionClassifier(model, sidecar, num_threads=1, mirror="on").predict
                   for model, sidecar in members]
        if len(readers) == 1:
            return readers[0]
        return lambda faces: np.mean([read(faces) for read in readers], axis=0)

    return make_predict, weight


def cached_teacher_readings(out_dir: Path | None, count: int) -> np.ndarray | None:
    """The teacher readings a run folder already holds for these faces, else None."""
    cache = out_dir / TEACHER_READINGS if out_dir else None
    if cache and cache.is_file():
        try:
            readings = np.load(cache)
        except (OSError, ValueError):
            return None
        if readings.shape == (count, NUM_EMOTIONS):
            print(f"teacher readings from {cache}", file=sys.stderr)
            return readings
    return None


def teacher_readings(make_teacher, images: np.ndarray, save_to: Path | None) -> np.ndarray:
    """The teacher's probabilities for every training face, saved (a run folder's TEACHER_READINGS,
    which a resumed run reads back: see cached_teacher_readings)."""
    from tqdm import tqdm

    from kise_desktop.core.results import atomic_write_bytes

    predict, chunk = make_teacher(), 256
    readings = np.concatenate([predict(images[i:i + chunk])
                               for i in tqdm(range(0, len(images), chunk), desc="teacher", unit="chunk",
                                             mininterval=2.0, file=sys.stderr)]).astype(np.float32)
    if save_to:
        import io

        buffer = io.BytesIO()
        np.save(buffer, readings)
        atomic_write_bytes(save_to, buffer.getvalue())
    return readings


# -------------------------------------------------------------- training ----
def make_progress_callback(steps: int, epochs: int):
    """A per-epoch tqdm bar as a Keras callback (Keras' own bar floods log files)."""
    import keras
    from tqdm import tqdm

    class TqdmProgress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
                            dynamic_ncols=True, mininterval=2.0, file=sys.stderr)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)
            if logs and batch % 20 == 0:
                self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", acc=f"{logs.get('accuracy', 0):.3f}")

        def on_epoch_end(self, epoch, logs=None):
            self.bar.close()

    return TqdmProgress()


def make_epoch_callback(out_dir: Path, state: dict):
    import keras

    log_path = out_dir / "log.csv"

    class EpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            elapsed = state.get("train_seconds", 0.0) + (time.time() - self.epoch_t0)
            state["train_seconds"] = elapsed
            state["epoch"] = epoch + 1
            val_acc = float(logs.get("val_accuracy", 0.0))
            if val_acc > state.get("best_val_accuracy", -1.0):
                state["best_val_accuracy"] = val_acc
                state["best_epoch"] = epoch + 1
                self.model.save(out_dir / "best.keras")
            # Write the checkpoint before the state, both atomically: a kill at any moment leaves a pair that agrees.
            tmp = out_dir / "checkpoint.tmp.keras"
            self.model.save(tmp)
            os.replace(tmp, out_dir / "checkpoint.keras")
            tmp_state = out_dir / "state.tmp.json"
            tmp_state.write_text(json.dumps(state, indent=2))
            os.replace(tmp_state, out_dir / "state.json")
            row = {"epoch": epoch + 1, "seconds": round(time.time() - self.epoch_t0, 1),
                   "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                   **{k: round(float(v), 5) for k, v in logs.items() if k != "learning_rate"}}
            new = not log_path.exists()
            with open(log_path, "a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)
            print(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "epoch"),
                  file=sys.stderr, flush=True)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_t0 = time.time()

    return EpochEnd()


def jit_compile_setting() -> bool | str:
    """XLA for JAX (its normal mode); none for TensorFlow, whose XLA CPU kernels for
    depthwise convolutions are several times slower than its default ones (measured)."""
    import keras

    return False if keras.backend.backend() == "tensorflow" else "auto"


def compile_model(model, config: dict, steps_per_epoch: int) -> None:
    import keras

    total = steps_per_epoch * config["epochs"]
    warmup = min(steps_per_epoch * config["warmup_epochs"], total // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config["learning_rate"] * 0.05, decay_steps=max(1, total - warmup),
        warmup_target=config["learning_rate"], warmup_steps=warmup, alpha=0.0)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config["weight_decay"])
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")], jit_compile=jit_compile_setting())


def freeze_batchnorm(model) -> int:
    """BatchNorm layers to inference mode: a fine-tune then keeps the statistics the
    model was made with instead of drifting to those of augmented, degraded batches."""
    import keras

    frozen = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in frozen:
        layer.trainable = False
    return len(frozen)


def train(config: dict, out_dir: Path, data_root: str | None = None) -> Path:
    import keras

    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config["seed"])
    train_split, valid_split, weights = prepare_data(config, data_root)
    print("class weights: " + ", ".join(f"{k} {w:.2f}" for k, w in zip(EMOTION_KEYS, weights)), file=sys.stderr)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))

    state_path, ckpt_path = out_dir / "state.json", out_dir / "checkpoint.keras"
    state: dict = {"epoch": 0, "best_val_accuracy": -1.0, "best_epoch": 0, "train_seconds": 0.0}
    if state_path.exists() and ckpt_path.exists():
        state = json.loads(state_path.read_text())
        if not (out_dir / "best.keras").exists():
            # A checkpoint brought back without best.keras (size limits): the next epoch starts the race again.
            state["best_val_accuracy"] = -1.0
        print(f"resuming {out_dir} after epoch {state['epoch']} "
              f"(best val accuracy {state['best_val_accuracy']:.4f} at epoch {state['best_epoch']})", file=sys.stderr)

    start = int(state["epoch"])
    if start < config["epochs"]:
        batches = make_train_batches(train_split, weights, config, start, out_dir)
        steps = batches.steps_per_epoch
        if start > 0:
            model = keras.models.load_model(ckpt_path)
            # A checkpoint keeps the compile settings of the backend that wrote it: one from a JAX
            # run asks for XLA, which made TensorFlow's CPU steps 6x slower here (1.8 s vs 0.28 s).
            model.jit_compile = jit_compile_setting()
        else:
            from training.models import build_model

            model = build_model(config["architecture"], **config["model_args"])
            if config["init_from"]:
                # A warm restart: same architecture, trained weights, a new learning-rate cycle.
                init_path = Path(config["init_from"])
                if not init_path.is_absolute():
                    init_path = REPO_DIR / init_path
                if not init_path.is_file():
                    raise DataError(f"{init_path}: init_from model not found")
                from training.from_tflite import calibration_faces

                calibration = calibration_faces(data_root, seed=config["seed"])
                if init_path.suffix == ".tflite":
                    # A bundled model whose run folder is gone: rebuild its weights from the TFLite file
                    # (always the full-width network; a narrower config is cut from it below).
                    from training.from_tflite import rebuild

                    full_width = {k: v for k, v in config["model_args"].items() if k != "inner_ratio"}
                    source = rebuild(init_path, {**config, "model_args": full_width}, calibration)
                else:
                    source = keras.models.load_model(init_path)
                if [w.shape for w in source.weights] == [w.shape for w in model.weights]:
                    model.set_weights(source.get_weights())
                    print(f"initialised from {init_path}", file=sys.stderr)
                else:
                    from training.prune import prune_into

                    kept = prune_into(source, model, calibration)
                    print(f"initialised from {init_path}, cut to " + ", ".join(
                        f"{name} {k}/{n}" for name, (k, n) in kept.items()), file=sys.stderr)
            if config["freeze_batchnorm"]:
                print(f"BatchNorm frozen in {freeze_batchnorm(model)} layers", file=sys.stderr)
            compile_model(model, config, steps)
        if start == 0:
            model.summary(print_fn=lambda line, **_: print(line, file=sys.stderr))
        valid = (valid_split.images[..., None].astype(np.float32), valid_split.targets)
        model.fit(iter(batches), epochs=config["epochs"], initial_epoch=start, steps_per_epoch=steps,
                  validation_data=valid, validation_batch_size=256, verbose=0, shuffle=False,
                  callbacks=[make_progress_callback(steps, config["epochs"]), make_epoch_callback(out_dir, state)])
    print(f"training done: {state['epoch']} epochs, {state['train_seconds'] / 60:.1f} min of training, "
          f"best val accuracy {state['best_val_accuracy']:.4f} at epoch {state['best_epoch']}", file=sys.stderr)
    best = out_dir / "best.keras"
    if config.get("export", True) and keras.backend.backend() != "tensorflow":
        print(f"not exporting: TFLite export needs the TensorFlow backend, this run used "
              f"{keras.backend.backend()}; run `python -m training.export {best}` where TensorFlow is installed",
              file=sys.stderr)
    elif config.get("export", True):
        from training.export import export_all

        # A smoke run (limit_valid) checks its export on as few test faces as it validated on.
        export_all(best, out_dir, data_root=data_root, config=config, test_limit=config.get("limit_valid"),
                   fold_flip=bool(config.get("test_time_flip", True)))
    return best


def runs_dir(option: str | None = None) -> Path:
    """Where run folders live: the option, else $KISE_RUNS_DIR, else runs/ in the repo."""
    chosen = option or os.environ.get("KISE_RUNS_DIR")
    return Path(chosen).expanduser() if chosen else REPO_DIR / "runs"


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="JSON config (see training/configs/)")
    parser.add_argument("--out", help="run folder (default <runs dir>/<config name>)")
    parser.add_argument("--runs-dir", help="folder of run folders (default $KISE_RUNS_DIR, else runs/ in the repo)")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    parser.add_argument("--epochs", type=int, help="override the config's epoch count")
    parser.add_argument("--no-export", action="store_true", help="skip the TFLite export at the end")
    args = parser.parse_args(argv)
    overrides = {"epochs": args.epochs} if args.epochs else {}
    if args.no_export:
        overrides["export"] = False
    config = load_config(args.config, overrides)
    out_dir = Path(args.out) if args.out else runs_dir(args.runs_dir) / config["name"]
    train(config, out_dir, args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
