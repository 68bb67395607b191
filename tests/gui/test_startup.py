"""Start-up work: the first analysed frame is painted before pyqtgraph is even imported; the plots follow."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from kise_desktop.gui.history_plot import HistoryPlot, ProbabilityBars
from kise_desktop.paths import REPO_DIR

# Records, at the moment the app takes the first-frame time (right after that paint), what is imported.
PROBE = """
import sys
from kise_desktop.gui import app
clock = app.time.time
class Clock:
    @staticmethod
    def time():
        print('pyqtgraph imported at first frame:', 'pyqtgraph' in sys.modules, flush=True)
        return clock()
    process_time = staticmethod(app.time.process_time)
app.time = Clock
sys.exit(app.main(['--fresh', '--quit-after-first-frame', '--source', sys.argv[1]]))
"""


@pytest.mark.parametrize("source", ["dlib-faces/2008_002506.jpg", "videos/d0.mp4"])
def test_first_frame_is_painted_before_the_plots_are_built(shared_data, tmp_path, source):
    path = shared_data / source
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=REPO_DIR, env=env, capture_output=True,
                          text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pyqtgraph imported at first frame: False" in done.stdout, done.stdout
    assert "first analysed frame on screen at" in done.stdout


def test_plots_build_themselves_when_given_data(qtbot):
    history = HistoryPlot(seconds=10)
    bars = ProbabilityBars(lang="en")
    for widget in (history, bars):
        qtbot.addWidget(widget)
        widget.show()
    assert not history.built and not bars.built
    probs = np.array([0.1, 0.6, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03], np.float32)
    for i in range(5):
        history.add(i * 0.1, probs)
    qtbot.waitUntil(lambda: history.built and history.visible_points() == 5, timeout=5000)   # the 10 Hz refresh
    bars.set_probabilities(probs)
    qtbot.waitUntil(lambda: bars.built, timeout=5000)                                       # after its repaint
    assert np.allclose(bars.bars.opts["height"], probs)
