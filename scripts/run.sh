#!/usr/bin/env bash
# Set up (see setup.sh) and run KISE: the desktop app when there is a display,
# otherwise the main CLI job (annotate the sample photos) so a headless machine shows it works.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ""
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
  exec .venv/bin/kise-desktop "$@"
fi
DATA="${KISE_DATA_DIR:-../shared/data}"
echo "run: no display; annotating the photos in $DATA/dlib-faces into kise-annotated/ instead" >&2
exec .venv/bin/kise annotate "$DATA/dlib-faces" -o kise-annotated "$@"
