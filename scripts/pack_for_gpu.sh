#!/usr/bin/env bash
# Everything a borrowed GPU machine (JAX, no TensorFlow, no network) needs to run
# scripts/train_on_gpu.sh, in two folders .gitignore keeps out of git (~56 MB):
#   .devdata/  FER+ train/valid, lossless (python -m training.device_pack), and readings/<config>.npy:
#              the teacher's reading of every training face for each distilling config named
#   .whl/      Keras and its two pure-Python/compiled helpers, for that machine's Python 3.12
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
$PY -m training.device_pack pack .devdata
# Configs named here that distil with "once": their teacher readings, since that machine has no TFLite runtime
[ $# -gt 0 ] && $PY -m training.teacher_pack .devdata/readings "$@"
pin() { grep -i "^$1==" constraints.txt; }
$PY -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  -d .whl "$(pin keras)" "$(pin namex)" "$(pin optree)"
du -sh .devdata .whl
