#!/usr/bin/env bash
# Train several configs at once on a borrowed GPU machine that has JAX but no
# TensorFlow, then bring each run folder back as one tar for export here.
#
# Here, first: bash scripts/pack_for_gpu.sh A.json B.json ...  (FER+ train/valid and each distilling
#   config's teacher readings into .devdata/, Keras wheels into .whl/)
# There (repo root, $OUT = files to bring back):
#   BUDGET_S=470 bash scripts/train_on_gpu.sh training/configs/A.json training/configs/B.json ...
# Back here: tar -xf A.tar -C runs/ ; python -m training.train --config A.json resumes a run that
# the budget cut short (on TensorFlow, same batches); python -m training.export runs/A/best.keras.
set -u
t0=$(date +%s)
budget=${BUDGET_S:-470}
out=${OUT:-/tmp/kise_gpu_out}
mkdir -p "$out"
log() { echo "[$(( $(date +%s) - t0 ))s] $*" | tee -a "$out/driver.log"; }

py=${PYTHON:-python3}
if [ -z "${SKIP_WHEELS:-}" ]; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:${PYTHONPATH:-}:$PWD PYTHONUNBUFFERED=1
export KISE_DATA_DIR=/tmp/kise_data KISE_CACHE_DIR=/tmp/kise_cache
# Several small runs share one GPU: no process may grab most of its memory up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
if [ -n "${KERAS_BACKEND:-}" ]; then
  :  # chosen by the caller
elif KERAS_BACKEND=jax $py -c "import keras, jax; assert jax.devices()[0].platform == 'gpu'" 2>>"$out/driver.log"; then
  export KERAS_BACKEND=jax
else
  export KERAS_BACKEND=torch
fi
log "backend $KERAS_BACKEND; $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null)"

$py -m training.device_pack unpack .devdata "$KISE_DATA_DIR" 2>&1 | tee -a "$out/driver.log"
$py -c "from training.data.ferplus import load_raw_split; [load_raw_split(s) for s in ('train', 'valid')]" || exit 1
log "data ready"

names=()
for config in "$@"; do
  name=$(basename "$config" .json)
  names+=("$name")
  # Teacher readings made here (python -m training.teacher_pack): that machine has no TFLite runtime.
  if [ -f ".devdata/readings/$name.npy" ]; then
    mkdir -p "/tmp/runs/$name" && cp ".devdata/readings/$name.npy" "/tmp/runs/$name/teacher_readings.npy"
  fi
  left=$(( budget - ($(date +%s) - t0) ))
  timeout --signal=KILL "$left" $py -m training.train --config "$config" --out "/tmp/runs/$name" --no-export \
    >"/tmp/runs_$name.log" 2>&1 &
done
wait
log "training finished or stopped"

# One tar per run: best.keras, the logs and, for a run the budget cut short, checkpoint.keras to resume from.
for name in "${names[@]}"; do
  run=/tmp/runs/$name
  cp "/tmp/runs_$name.log" "$run/train.log" 2>/dev/null
  grep -v "it/s\|batch/s" "$run/train.log" | tail -3 | sed "s/^/$name: /" | tee -a "$out/driver.log"
  files=(config.json state.json log.csv train.log best.keras teacher_readings.npy)
  if $py -c "import json,sys; s=json.load(open('$run/state.json')); c=json.load(open('$run/config.json')); sys.exit(s['epoch'] < c['epochs'])" 2>/dev/null; then
    log "$name: finished"
  else
    # the readings too (0.9 MB), so a resumed run here does not need its teacher again
    files=(config.json state.json log.csv train.log checkpoint.keras teacher_readings.npy)
    # best.keras too where both fit one file brought back (16 MiB at most)
    [ $(( $(stat -c %s "$run/checkpoint.keras") + $(stat -c %s "$run/best.keras") )) -lt 15000000 ] && files+=(best.keras)
    log "$name: cut short, bringing the checkpoint"
  fi
  (cd /tmp/runs && tar -cf "$out/$name.tar" $(for f in "${files[@]}"; do [ -e "$name/$f" ] && echo "$name/$f"; done))
done
ls -la "$out" | tee -a "$out/driver.log"
