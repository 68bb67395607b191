#!/usr/bin/env bash
# Set up (see setup.sh) and run the whole test suite, offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "train,test"
# valgrind runs the AVX2 cost table (training/avx2_cost.py) and its test; that test skips without it.
if ! command -v valgrind >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
