#!/usr/bin/env bash
# Set up KISE on a fresh Debian/Ubuntu machine: system libraries for Qt (as root, when missing),
# a virtual environment in .venv, and the package with its extras. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-test}"

# Qt (PySide6) needs these shared libraries even offscreen (platform-notes.md).
QT_LIBS="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3"
if ! ldconfig -p | grep -q libEGL.so.1 || ! ldconfig -p | grep -q libxkbcommon.so.0 || ! ldconfig -p | grep -q libfontconfig.so.1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $QT_LIBS >/dev/null
  else
    echo "setup: please install the Qt system libraries first: sudo apt-get install $QT_LIBS" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "$EXTRAS" ]; then .venv/bin/python -m pip install -q -c constraints.txt -e ".[$EXTRAS]"; else .venv/bin/python -m pip install -q -c constraints.txt -e .; fi
