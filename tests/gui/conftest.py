"""GUI fixtures: a fake camera made of real photos, the real model, an isolated QSettings."""
from __future__ import annotations

from pathlib import Path

import pytest
from gui_fakes import CENTRE_KIND, GROUP_PHOTO, CameraFactory

from kise_desktop.paths import MODELS_DIR


@pytest.fixture(scope="session", autouse=True)
def app_font(qapp):
    """The font the app sets (the bundled NanumGothic, for Latin and Hangul alike), so sizes and
    clipping are measured as users see them, whatever fonts this machine has."""
    from kise_desktop.gui.app import load_fonts

    family = load_fonts(qapp)
    assert family, "the bundled font did not load"
    return family


@pytest.fixture(autouse=True)
def collect_widgets_between_tests(qapp):
    """After each test: delete what it closed, and collect its garbage, here and now.

    A test's widgets (and pyqtgraph's reference cycles) were otherwise freed whenever the
    garbage collector next ran, which could be in the middle of a later test's paint event;
    twice a run of the whole suite crashed there (session 16: in pyqtgraph's LabelItem; later
    in GraphicsView.paintEvent). Freeing them between tests makes that moment the same in every run."""
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    yield
    qapp.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(scope="session")
def model_files(seed_model) -> tuple[Path, Path | None]:
    """The bundled model once it is in the repository, else the seed's (real models both)."""
    bundled = MODELS_DIR / "kise_emotion.tflite"
    if bundled.is_file() and bundled.with_suffix(".json").is_file():
        return bundled, bundled.with_suffix(".json")
    return seed_model


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "kise-settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fourth_kind():
    """A toy detector kind registered for one test (and removed after it)."""
    from kise_desktop.core.detectors import register, unregister

    yield register(CENTRE_KIND)
    unregister(CENTRE_KIND.name)


@pytest.fixture
def group_photo(dlib_faces_dir) -> Path:
    return dlib_faces_dir / GROUP_PHOTO


@pytest.fixture
def short_clip(shared_data) -> Path:
    """d0.mp4: a real person, 78 frames (3.1 s at 25 fps): loops quickly."""
    path = shared_data / "videos" / "d0.mp4"
    if not path.is_file():
        pytest.skip(f"{path} (real video clip) is absent")
    return path


@pytest.fixture
def make_window(qtbot, settings, model_files, group_photo):
    """Build a MainWindow on a fake camera; every window is closed (worker stopped) at teardown."""
    from kise_desktop.gui.main_window import MainWindow

    windows = []

    def make(photos=None, lang="en", detector="haar", settings_=None, loop=False, pace=True, **camera_kwargs):
        factory = CameraFactory(photos or [group_photo], loop=loop, **camera_kwargs)
        win = MainWindow(pace_video=pace, loop_video=loop, settings=settings_ if settings_ is not None else settings, source_factory=factory,
                         camera_lister=lambda: [0], model_path=model_files[0], sidecar_path=model_files[1],
                         lang=lang, detector=detector, auto_camera=False)
        qtbot.addWidget(win)
        win.resize(1100, 760)
        win.show()
        win.factory = factory
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
        assert not win.thread.isRunning()
