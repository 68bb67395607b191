"""`python -m kise_desktop`: the desktop app, exactly as `kise-desktop` (same options)."""
import sys

from kise_desktop.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
