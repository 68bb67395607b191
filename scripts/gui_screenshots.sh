#!/usr/bin/env bash
# Regenerate the README's screenshots of kise-desktop from real inputs (offscreen, no display needed):
#   docs/screenshots/live.png     live view on a video assembled from ../shared/data/dlib-faces, history plot
#   docs/screenshots/compare.png  Haar and HOG side by side on the same frames, both timings
#   docs/screenshots/photo.png    photo mode on the dlib-faces folder, probability bars
# Usage: scripts/gui_screenshots.sh [MODEL.tflite [SIDECAR.json]]   (default: the bundled model)
# The video goes to /tmp (never commit it or the photos); only our screenshots are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${KISE_DATA_DIR:-../shared/data}
VIDEO=${VIDEO:-/tmp/kise_demo.mp4}
OUT=docs/screenshots
MODEL_ARGS=()
if [[ $# -ge 1 ]]; then MODEL_ARGS+=(--model "$1"); fi
if [[ $# -ge 2 ]]; then MODEL_ARGS+=(--sidecar "$2"); fi
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
mkdir -p "$OUT"
[[ -f "$VIDEO" ]] || "$PY" scripts/make_demo_video.py "$VIDEO" --photos "$DATA/dlib-faces"
APP=("$PY" -m kise_desktop.gui.app --fresh --size 1280x800 "${MODEL_ARGS[@]}")
"${APP[@]}" --source "$VIDEO" --detector haar --lang ko --screenshot "$OUT/live.png" --quit-after 14
"${APP[@]}" --source "$VIDEO" --compare --lang en --screenshot "$OUT/compare.png" --quit-after 12
"${APP[@]}" --source "$DATA/dlib-faces" --detector hog --lang ko --screenshot "$OUT/photo.png" --quit-after 8
ls -l "$OUT"
