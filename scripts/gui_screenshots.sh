#!/usr/bin/env bash
# Regenerate the README's screenshots of kise-desktop from real inputs (offscreen, no display needed):
#   docs/screenshots/live.png     live view (YuNet, the default, with its landmarks) on a video assembled
#                                 from ../shared/data/dlib-faces, history plot
#   docs/screenshots/compare.png  all three detectors (Haar, HOG, YuNet) on the same frames, their timings
#   docs/screenshots/photo.png    photo mode (YuNet's photo preset) on the dlib-faces folder, probability bars
#   docs/screenshots/small_en.png live view in a small 800x600 window, English (side panel on tabs)
#   docs/screenshots/small_ko.png photo mode in a small 800x600 window, Korean
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
"${APP[@]}" --source "$VIDEO" --detector yunet --lang ko --screenshot "$OUT/live.png" --quit-after 14
"${APP[@]}" --source "$VIDEO" --compare haar,hog,yunet --lang en --screenshot "$OUT/compare.png" --quit-after 12
"${APP[@]}" --source "$DATA/dlib-faces" --detector yunet --lang ko --screenshot "$OUT/photo.png" --quit-after 8
SMALL=("$PY" -m kise_desktop.gui.app --fresh --size 800x600 "${MODEL_ARGS[@]}")
"${SMALL[@]}" --source "$VIDEO" --detector yunet --lang en --screenshot "$OUT/small_en.png" --quit-after 12
"${SMALL[@]}" --source "$DATA/dlib-faces" --detector yunet --lang ko --screenshot "$OUT/small_ko.png" --quit-after 8
# A screenshot full of photo can exceed 500 KB. Those (only) are saved losslessly optimised, and if
# still too big, with 256 colours (no dithering) whose palette always holds the 8 emotion colours
# exactly (and the landmark dots' colour), so plot lines and overlays keep the colours the app uses.
"$PY" - "$OUT"/live.png "$OUT"/compare.png "$OUT"/photo.png "$OUT"/small_en.png "$OUT"/small_ko.png <<'PYEOF'
import os
import sys

from PIL import Image

sys.path.insert(0, ".")
from kise_desktop.emotions import EMOTIONS
from kise_desktop.gui.video_view import LANDMARK_RGB

fixed = [e.color_rgb for e in EMOTIONS] + [LANDMARK_RGB, (255, 255, 255), (0, 0, 0), (24, 24, 28)]
for path in sys.argv[1:]:
    if os.path.getsize(path) <= 480_000:
        continue
    image = Image.open(path).convert("RGB")
    image.save(path, optimize=True)
    if os.path.getsize(path) <= 480_000:
        continue
    base = image.quantize(256 - len(fixed), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    colours = [tuple(c) for c in fixed] + [tuple(base.getpalette()[i:i + 3]) for i in range(0, 3 * (256 - len(fixed)), 3)]
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for c in colours for v in c])
    image.quantize(palette=palette, dither=Image.Dither.NONE).save(path, optimize=True)
PYEOF
ls -l "$OUT"
