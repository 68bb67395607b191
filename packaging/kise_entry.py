"""Entry point of the bundle's `kise` command-line executable (PyInstaller runs this file as __main__)."""
import sys

from kise_desktop.cli import main

sys.exit(main())
