"""Teacher readings for configs that distil "once", made here for a machine without a TFLite runtime.

    python -m training.teacher_pack .devdata/readings training/configs/A.json B.json ...

Writes <folder>/<config name>.npy: the same array training.train keeps in a run folder as
teacher_readings.npy (train.TEACHER_READINGS). Configs with the same teachers share one reading pass.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from training.data.ferplus import one_line_errors
from training.train import load_config, prepare_data, teacher_factory, teacher_readings


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for <config name>.npy")
    parser.add_argument("configs", nargs="+", help="training configs")
    parser.add_argument("--data", help="data folder holding ferplus/ (default $KISE_DATA_DIR or ../shared/data)")
    args = parser.parse_args(argv)
    made: dict[str, Path] = {}  # teachers and data, as JSON -> readings already written
    for path in args.configs:
        config = load_config(path)
        distill = config["distill"]
        if not (distill and distill.get("once")):
            print(f"{path}: does not distil once, nothing to read")
            continue
        key = json.dumps([distill["teacher"], distill.get("sidecar"), config["datasets"],
                          config["limit_train"], config["merge_contempt"], config["balance"]])
        target = args.out / f"{config['name']}.npy"
        args.out.mkdir(parents=True, exist_ok=True)
        if key in made:
            shutil.copyfile(made[key], target)
        else:
            train, _, _ = prepare_data(config, args.data)
            make_teacher, _ = teacher_factory(distill)
            teacher_readings(make_teacher, train.images, target)
            made[key] = target
        print(f"{target}: readings for {config['name']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
