"""Work around a reference-counting bug of PySide6 6.12.0 on CPython < 3.12.

Measured here (pyside6-essentials 6.12.0, CPython 3.11.7): every time Qt calls
a Python override of a C++ virtual method (`paintEvent`, `event`, pyqtgraph's
`paint`/`boundingRect`...), PySide drops one reference to `None` that it never
took; `True`/`False` lose references too. A live view repaints dozens of
times a second, so after a few seconds the count reaches zero and the
interpreter aborts ("Fatal Python error: none_dealloc" / "bool_dealloc"),
usually at exit, sometimes mid-run. PySide6 6.11.3 does not do this, and
CPython 3.12+ makes these singletons immortal (their count is never used).

On an affected combination we give the three singletons an enormous
reference count (2**40, about 600 years of repaints), which is what 3.12's
immortal objects amount to. The proper fix is a PySide6 without the bug
(pin `pyside6-essentials!=6.12.0`) or Python >= 3.12.
"""
from __future__ import annotations

import ctypes
import sys

_GUARDED = False


def affected() -> bool:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    try:
        import PySide6
    except ImportError:
        return False
    return tuple(PySide6.__version_info__[:2]) == (6, 12)


def guard_singleton_refcounts() -> bool:
    """Apply the workaround once if this PySide6/CPython pair needs it; True if applied."""
    global _GUARDED
    if _GUARDED or not affected():
        return _GUARDED
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in a release build of CPython < 3.12
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _GUARDED = True
    return True
