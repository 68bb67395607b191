"""Entry point of the bundle's `kise-desktop` executable (PyInstaller runs this file as __main__)."""
import sys

from kise_desktop.gui.app import main

sys.exit(main())
