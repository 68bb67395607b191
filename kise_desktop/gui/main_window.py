"""KISE's main window: live view, controls, emotion history, performance readout.

Everything here runs on the GUI thread. Analysis happens in `AnalysisWorker`
on its own QThread; the window sends it commands (thread-safe, non-blocking)
and pulls the newest `Packet` when `packet_ready` fires.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QSettings, Qt, QThread, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QLabel, QMainWindow, QMessageBox, QSplitter,
                               QStackedWidget)

from kise_desktop.paths import BUNDLED_MODEL

from . import core_api as core
from .camera_probe import CameraProbe
from .controls import DetectorControls
from .frame_health import FrameHealth
from .history_panel import HistoryPanel
from .history_plot import emotion_indices
from .i18n import LANGUAGE_NAMES, LANGUAGES, error_text, tr, use_decimal_point
from .message_page import MessagePage
from .side_boxes import ModelBox, RecordBox, SourceBox
from .side_panel import SidePanel
from .recorder import CsvRecorder, photo_document, write_image, write_json
from .saved_settings import SavedSettings
from .video_view import VideoView
from .worker import (RateMeter, STATE_ENDED, STATE_IDLE, STATE_LOST, STATE_OPEN_FAILED, STATE_OPENING, STATE_RUNNING,
                     AnalysisWorker, Packet, SourceRequest, request_for)

# The detector that measured best for live video and photos (README, "Face detectors on this CPU").
DEFAULT_DETECTOR = "yunet"


def default_detector() -> str:
    names = core.kind_names()
    return DEFAULT_DETECTOR if DEFAULT_DETECTOR in names else names[0]


def compare_kinds(compare: bool | str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """The kinds to compare from a flag: True = every registered kind, a list = those, None = not given."""
    if compare is None:
        return None
    if compare is True:
        return list(core.kind_names())
    if compare is False:
        return []
    names = [compare] if isinstance(compare, str) else list(compare)
    return [k for k in names if k in core.kind_names()]


# --------------------------------------------------------------------------- window
class MainWindow(QMainWindow):
    def __init__(self, *, settings: QSettings | None = None,
                 source_factory: Callable[[str | int], Any] | None = None,
                 image_loader: Callable[[str], np.ndarray] | None = None,
                 camera_lister: Callable[[], list[int]] | None = None,
                 model_path: str | Path | None = None, sidecar_path: str | Path | None = None,
                 source: str | int | list[str] | None = None, lang: str | None = None,
                 detector: str | None = None, compare: bool | list[str] | None = None,
                 pace_video: bool = True, loop_video: bool = False,
                 auto_camera: bool = True) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("KISE", "kise-desktop")
        self.saved = SavedSettings(self.settings)
        self.lang = lang if lang in LANGUAGES else self.saved.lang(LANGUAGES, "ko")
        self.classifier: Any = None
        self.model_problem: tuple[Path, Exception] | None = None   # the model that failed to load, and why
        # None: the sidecar's mirror mode; "on"/"off": the user's choice, kept across runs
        self.mirror_choice: str | None = self.saved.mirror()
        self.packets_shown = 0
        self.last_packet: Packet | None = None
        self.last_state = None
        self.recorder: CsvRecorder | None = None
        self.selected_face: tuple[str, int] | None = None     # (panel's detector kind, track id) clicked
        self._history_face_key: tuple[str, int] | None = None  # the face the history shows now
        self._request: SourceRequest | None = None
        self._auto_camera = auto_camera and source is None
        self._cameras: list[int] = []
        self._timings_avg: dict[str, float] = {}
        self._display_rate = RateMeter(2.0)
        self.display_fps = 0.0
        self._closed = False
        self.setAcceptDrops(True)

        # worker thread ------------------------------------------------------
        self.worker = AnalysisWorker(source_factory, image_loader, pace_video=pace_video, loop_video=loop_video)
        self.thread = QThread(self)
        self.thread.setObjectName("kise-analysis")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)
        self.worker.packet_ready.connect(self._on_packet_ready)
        self.worker.state_changed.connect(self._on_state_changed)
        self.worker.errored.connect(self._on_worker_errored)
        self.worker.detector_failed.connect(self._on_detector_failed)
        self.detector_error = ""          # the last detector failure shown (empty: none)
        self._detector_box: QMessageBox | None = None
        # Every kind's settings, for live video and for photos: the forms show it, the worker follows it.
        self.detector_settings = core.DetectorSettingsModel(self.saved.detector_values(core.MODES, core.kind_names()))
        self.detector_settings.connect(self.worker.set_detector_settings)
        self.detector_settings.connect(self._on_detector_settings_changed)
        for kind, kind_settings in self.detector_settings.all_current().items():
            self.worker.set_detector_settings(kind, kind_settings)

        self._build_ui()
        self._build_menus()
        self._load_settings(detector, compare)
        self.retranslate()

        self.probe = CameraProbe(camera_lister or core.list_cameras, self)
        self.probe.found.connect(self._on_cameras_found)

        self.perf_timer = QTimer(self)
        self.perf_timer.setInterval(500)
        self.perf_timer.timeout.connect(self._update_perf)
        self.perf_timer.start()

        self.thread.start()
        if model_path is not None:                 # given: its sidecar, or the one found beside it
            self.load_model(model_path, sidecar_path)
        else:                                      # the last model used, else the bundled one
            model, sidecar = self.saved.model()
            self.load_model(model or BUNDLED_MODEL, sidecar, fallback=BUNDLED_MODEL)
        self._show_message(tr("state_idle", self.lang), retry=False)
        self.refresh_cameras()
        if source is not None:
            self.open_source(source)

    # ---------------------------------------------------------------- UI construction
    def _build_ui(self) -> None:
        self.view = VideoView()
        self.view.lang = self.lang
        self.view.face_clicked.connect(self._on_face_clicked)
        self.view.display_box_changed.connect(self._on_display_box_changed)
        # message page (no camera, camera lost, end of video, bad file)
        self.message_page = MessagePage()
        self.message_page.retry_btn.clicked.connect(self._on_retry_clicked)
        self.message_page.open_btn.clicked.connect(self._on_open_file_clicked)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.message_page)

        # history: title with the face number, face list, raw option, window (out-of-range input refused visibly)
        self.history_panel = HistoryPanel(lang=self.lang, seconds=30.0)
        hist_box = self.history_panel
        self.history, self.bars = hist_box.history, hist_box.bars
        self.history_title, self.plot_stack = hist_box.title, hist_box.plot_stack
        self.history_seconds, self.history_seconds_label = hist_box.seconds, hist_box.seconds_label
        hist_box.seconds_changed.connect(self._on_history_seconds_changed)
        hist_box.refused.connect(lambda text: self.statusBar().showMessage(text, 8000))
        hist_box.face_chosen.connect(self._on_face_chosen)
        hist_box.setMinimumHeight(185)     # at 800x600 the legend still fits in two columns

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(hist_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 220])

        # side panel: what a demo clicks (source, record), then the settings (detector, model)
        self.source_box = src = SourceBox()
        src.refresh_btn.clicked.connect(self.refresh_cameras)
        src.start_camera_btn.clicked.connect(self._on_start_camera_clicked)
        src.stop_btn.clicked.connect(self.stop_source)
        src.open_video_btn.clicked.connect(self.open_video_dialog)
        src.open_photos_btn.clicked.connect(self.open_photos_dialog)
        src.open_folder_btn.clicked.connect(self.open_folder_dialog)
        src.prev_btn.clicked.connect(lambda: self.worker.step_photo(-1))
        src.next_btn.clicked.connect(lambda: self.worker.step_photo(+1))
        src.save_photo_btn.clicked.connect(self.save_photo_dialog)
        self.controls = DetectorControls(self.detector_settings, self.lang)
        self.controls.detector_changed.connect(self._on_detector_changed)
        self.controls.compare_changed.connect(self._on_compare_changed)
        self.controls.detect_rate_changed.connect(self._on_detect_rate_changed)
        self.model_box = ModelBox(self.mirror_choice)
        self.model_box.open_model_btn.clicked.connect(self.open_model_dialog)
        self.model_box.mirror_combo.currentIndexChanged.connect(
            lambda _i: self.set_mirror(self.model_box.mirror_combo.currentData()))
        self.record_box = RecordBox()
        self.record_box.record_btn.clicked.connect(self._on_record_clicked)
        self.record_box.snapshot_btn.clicked.connect(self.snapshot_dialog)
        self.record_box.report_btn.clicked.connect(self.report_dialog)
        self._last_recording: CsvRecorder | None = None
        # language
        lang_row = QFormLayout()
        self.lang_combo = QComboBox()
        for code in LANGUAGES:
            self.lang_combo.addItem(LANGUAGE_NAMES[code], code)
        self.lang_combo.setCurrentIndex(self.lang_combo.findData(self.lang))
        self.lang_combo.currentIndexChanged.connect(lambda _i: self.set_language(self.lang_combo.currentData()))
        self.lang_label = QLabel("언어 / Language")
        lang_row.addRow(self.lang_label, self.lang_combo)
        # Tabs, so every section stays reachable at 800x600: what a demo clicks on the first tab,
        # the detector and model settings (and the live warning about them) on the second.
        self.settings_warning = QLabel(wordWrap=True)
        self.settings_warning.setStyleSheet("color: #b03a2e; font-weight: bold;")
        self.settings_warning.setVisible(False)
        self.health = FrameHealth()
        self.side_panel = SidePanel(self.lang)
        self.side_panel.add_page("tab_input", [self.source_box, self.record_box, lang_row])
        self.side_panel.add_page("tab_settings", [self.settings_warning, self.controls, self.model_box])
        scroll = self.side_panel
        self.side, self.side_scroll = self.side_panel, self.side_panel

        central = QSplitter(Qt.Orientation.Horizontal)
        central.addWidget(self.splitter)
        central.addWidget(scroll)
        central.setStretchFactor(0, 1)
        central.setStretchFactor(1, 0)
        self.setCentralWidget(central)

        # status bar: performance readout (updated twice a second, not every frame)
        self.perf_label = QLabel()
        self.stage_label = QLabel()
        self.statusBar().addPermanentWidget(self.stage_label)
        self.statusBar().addPermanentWidget(self.perf_label)
        # A message (an error, "saved ...") needs the room more than the stage times do: in a small
        # window the times pushed it out of sight. They step aside while it shows, and a message
        # still too long for the bar (a bad model's path and reason) is whole in its tooltip.
        self.statusBar().messageChanged.connect(self._on_status_message)
        use_decimal_point(self)       # "1.20", not "1,20", whatever the system's locale
        self.resize(1280, 800)

    def _on_status_message(self, text: str) -> None:
        self.stage_label.setVisible(not text)
        self.statusBar().setToolTip(text)

    def _build_menus(self) -> None:
        self.act_open_video = QAction(self, triggered=self.open_video_dialog, shortcut=QKeySequence.StandardKey.Open)
        self.act_open_photos = QAction(self, triggered=self.open_photos_dialog)
        self.act_open_folder = QAction(self, triggered=self.open_folder_dialog)
        self.act_open_model = QAction(self, triggered=self.open_model_dialog)
        self.act_snapshot = QAction(self, triggered=self.snapshot_dialog, shortcut=QKeySequence("Ctrl+S"))
        self.act_quit = QAction(self, triggered=self.close, shortcut=QKeySequence.StandardKey.Quit)
        self.file_menu = self.menuBar().addMenu("")
        for act in (self.act_open_video, self.act_open_photos, self.act_open_folder, self.act_open_model):
            self.file_menu.addAction(act)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_snapshot)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        self.lang_menu = self.menuBar().addMenu("")
        group = QActionGroup(self)
        self.lang_actions: dict[str, QAction] = {}
        for code in LANGUAGES:
            act = QAction(LANGUAGE_NAMES[code], self, checkable=True)
            act.triggered.connect(lambda _c=False, code=code: self.set_language(code))
            group.addAction(act)
            self.lang_menu.addAction(act)
            self.lang_actions[code] = act
        self.act_about = QAction(self, triggered=self.show_about)
        self.help_menu = self.menuBar().addMenu("")
        self.help_menu.addAction(self.act_about)

    def show_about(self) -> Any:
        """Version, bundled models, libraries and licences (kise_desktop/gui/about.py), non-blocking."""
        from .about import AboutDialog      # built on demand: the licence scan is not start-up work

        dialog = AboutDialog(self.lang, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ---------------------------------------------------------------- settings
    def _load_settings(self, detector: str | None, compare: bool | list[str] | None) -> None:
        saved, kinds = self.saved, core.kind_names()
        geometry = saved.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.controls.set_detector(detector if detector in kinds else saved.detector(kinds, default_detector()))
        self.worker.set_detector(self.controls.detector)
        chosen = compare_kinds(compare)
        if chosen is None:            # not given: as last time
            on, chosen = saved.compare(kinds)
        else:
            on = len(chosen) >= 2
            chosen = chosen if on else list(kinds)
        self.controls.set_compare(on, chosen)
        self.controls.set_detect_rate(saved.detect_rate(core.LIVE_DETECT_RATE))
        self.worker.set_detect_rate(self.controls.detect_rate)
        self.history_seconds.set_checked_value(saved.history_seconds(30.0))

    def save_settings(self) -> None:
        classifier = self.classifier
        self.saved.save(
            geometry=self.saveGeometry(), lang=self.lang, detector=self.controls.detector,
            compare_on=self.controls.compare_box.isChecked(),
            compare_kinds=[k for k, c in self.controls.compare_checks.items() if c.isChecked()],
            detect_rate=self.controls.detect_rate, detector_values=self.detector_settings.to_dict(),
            history_seconds=self.history_seconds.value(),
            model=None if classifier is None else (classifier.model_path, classifier.sidecar_path))

    # ---------------------------------------------------------------- language
    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES or lang == self.lang and self.view.lang == lang:
            return
        self.lang = lang
        self.retranslate()

    def retranslate(self) -> None:
        lang = self.lang
        self.setWindowTitle(tr("app_title", lang))
        self.view.lang = lang
        self.view.update()
        self.history.set_language(lang)
        self.bars.set_language(lang)
        self.controls.retranslate(lang)
        self.source_box.retranslate(lang)
        self.model_box.retranslate(lang)
        self.record_box.retranslate(lang)
        self.message_page.retranslate(lang)
        self.history_panel.retranslate(lang)
        self.side_panel.retranslate(lang)
        self.file_menu.setTitle(tr("menu_file", lang))
        self.lang_menu.setTitle(tr("menu_lang", lang))
        self.act_open_video.setText(tr("act_open_video", lang))
        self.act_open_photos.setText(tr("act_open_photos", lang))
        self.act_open_folder.setText(tr("act_open_folder", lang))
        self.act_open_model.setText(tr("act_open_model", lang))
        self.act_snapshot.setText(tr("act_snapshot", lang))
        self.act_quit.setText(tr("act_quit", lang))
        self.help_menu.setTitle(tr("menu_help", lang))
        self.act_about.setText(tr("act_about", lang))
        self.lang_actions[lang].setChecked(True)
        self.lang_combo.blockSignals(True)
        self.lang_combo.setCurrentIndex(self.lang_combo.findData(lang))
        self.lang_combo.blockSignals(False)
        self._fill_camera_combo()
        self._update_model_label()
        self._update_history_title()
        self._update_photo_label()
        if self.last_state is not None and self.stack.currentIndex() == 1:
            self._on_state_changed(self.last_state)
        self._fit_side_panel()

    def _fit_side_panel(self) -> None:
        """The side panel is as wide as its widest (translated) row, never clipped."""
        self.source_box.camera_combo.adjustSize()     # a new language: the list's width follows its text
        for page in self.side_panel.pages:
            page.updateGeometry()
        self.side_panel.fit_width()

    # ---------------------------------------------------------------- model
    def load_model(self, path: str | Path, sidecar: str | Path | None = None,
                   fallback: Path | None = None) -> bool:
        """Load a TFLite model + sidecar and switch the worker to it; False (and a message) on failure."""
        path = Path(path)
        sidecar_path = Path(sidecar) if sidecar else core.find_sidecar(path)
        try:
            classifier = core.EmotionClassifier(path, sidecar_path, mirror=self.mirror_choice)
        except Exception as exc:  # ModelError, or anything a broken file provokes
            if fallback is not None and Path(fallback) != path:
                return self.load_model(fallback)
            self.model_problem = (path, exc)
            self._update_model_label()
            if self.classifier is None:
                self.worker.set_classifier(None)
            self.statusBar().showMessage(self.model_error.replace("\n", " "), 10000)
            return False
        self.model_problem = None
        self.classifier = classifier
        self.worker.set_classifier(classifier)
        self.history_panel.set_emotions(emotion_indices(classifier.labels))   # the legend: its emotions only
        self._update_model_label()
        self.statusBar().showMessage(tr("model_switched", self.lang, name=classifier.name,
                                        classes=len(classifier.labels)), 8000)
        return True

    def set_mirror(self, choice: str | None) -> None:
        """Mirror averaging on, off, or (None) as the model's sidecar says; the model is read again."""
        if choice == self.mirror_choice:
            return
        self.mirror_choice = choice
        self.saved.set_mirror(choice)
        self.model_box.show_mirror_choice(choice)
        if self.classifier is not None:
            self.load_model(self.classifier.model_path, self.classifier.sidecar_path)

    @property
    def model_error(self) -> str:
        """Why the last model asked for could not be loaded, in the window's language ("" if it loaded)."""
        if self.model_problem is None:
            return ""
        path, exc = self.model_problem
        return tr("model_error", self.lang, path=path.name, error=error_text(str(exc), exc, self.lang, named=path.name))

    def _update_model_label(self) -> None:
        self.view.notice = tr("no_model_notice", self.lang) if self.classifier is None else ""
        self.view.update()
        self.model_box.show_model(self.classifier, self.model_error, self.mirror_choice, self.lang)

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("act_open_model", self.lang),
                                              self.saved.last_dir(), tr("filter_model", self.lang))
        if path:
            if not self.load_model(path):
                QMessageBox.warning(self, tr("error_title", self.lang), self.model_error)

    # ---------------------------------------------------------------- sources
    def refresh_cameras(self) -> None:
        if self.probe.start():
            self.source_box.show_probing(self.lang)

    def _on_cameras_found(self, cameras: list) -> None:
        self._cameras = [int(c) for c in cameras]
        self._fill_camera_combo()
        if self._auto_camera:
            self._auto_camera = False
            if self._cameras:
                self.open_source(self._cameras[0])
            else:
                self._show_message(tr("state_no_camera", self.lang), retry=True)
                self.last_state = None
                self._retry_action = self.refresh_cameras_and_start

    def refresh_cameras_and_start(self) -> None:
        self._auto_camera = True
        self.refresh_cameras()

    def _fill_camera_combo(self) -> None:
        self.source_box.set_cameras([(i, core.camera_name(i)) for i in self._cameras], self.lang)
        if hasattr(self, "side_scroll"):
            self._fit_side_panel()

    def _on_start_camera_clicked(self) -> None:
        index = self.source_box.camera_combo.currentData()
        if index is not None:
            self.open_source(int(index))

    def open_source(self, spec: str | int | list[str] | SourceRequest) -> None:
        request = spec if isinstance(spec, SourceRequest) else request_for(spec)
        if request.spec is None and not request.photos:
            self._show_message(tr("state_bad_file", self.lang, name=str(spec), error="?"), retry=False)
            return
        self._request = request
        self.health.reset()
        self.selected_face = None
        self.view.selected = None
        self.history.clear()
        self._set_mode("photo" if request.is_photos else "live")
        if request.photos:
            self.saved.remember_dir(request.photos[0])
        elif isinstance(request.spec, str):
            self.saved.remember_dir(request.spec)
        self.worker.open_source(request)

    def _set_mode(self, mode: str) -> None:
        """Live video and photos keep their own detector settings (photos search finer, at full size)."""
        self.detector_settings.set_mode(mode)

    def stop_source(self) -> None:
        self.worker.close_source()

    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("act_open_video", self.lang),
                                              self.saved.last_dir(), tr("filter_video", self.lang))
        if path:
            self.open_source(path)

    def open_photos_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, tr("act_open_photos", self.lang),
                                                self.saved.last_dir(), tr("filter_images", self.lang))
        if paths:
            self.open_source(paths)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, tr("act_open_folder", self.lang),
                                                self.saved.last_dir())
        if path:
            self.open_source(path)

    def _on_open_file_clicked(self) -> None:
        """Any video or photo (the message page's button)."""
        path, _ = QFileDialog.getOpenFileName(self, tr("btn_open_file", self.lang),
                                              self.saved.last_dir(), tr("filter_media", self.lang))
        if path:
            self.open_source(path)

    def _on_retry_clicked(self) -> None:
        action = getattr(self, "_retry_action", None)
        if action is not None:
            action()

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_source(paths)
            event.acceptProposedAction()

    # ---------------------------------------------------------------- worker signals
    def _show_message(self, text: str, retry: bool, retry_text: str | None = None,
                      keep_picture: bool = False) -> None:
        """The message page; `keep_picture`: what the view showed stays behind it, dimmed."""
        if not keep_picture:
            self.message_page.set_backdrop(None)
        elif self.stack.currentIndex() == 0 and self.last_packet is not None:
            self.message_page.set_backdrop(self.view.grab())
        self.message_page.show_message(text, self.lang, retry, retry_text)
        self.stack.setCurrentIndex(1)

    def _on_state_changed(self, state) -> None:
        self.last_state = state
        code = state.code
        name = state.name
        error = error_text(state.error, state.problem, self.lang)
        # in every other state the worker has closed the source already: nothing to stop
        self.source_box.stop_btn.setEnabled(code in (STATE_OPENING, STATE_RUNNING))
        if code == STATE_OPENING:
            self._show_message(tr("state_opening", self.lang, name=name), retry=False)
        elif code == STATE_RUNNING:
            photo = state.detail.get("kind") == "photos"
            self.source_box.photo_box.setVisible(photo)
            self.history.setEnabled(not photo)
        elif code == STATE_OPEN_FAILED:
            if state.detail.get("camera"):
                text = tr("state_open_failed", self.lang, name=name, error=error)
            else:
                shown = state.detail.get("photo", name)
                text = tr("state_bad_file", self.lang, name=shown,
                          error=error_text(state.error, state.problem, self.lang, named=shown))
            self._retry_action = self._reopen
            self._show_message(text, retry=True)
        elif code == STATE_LOST:
            self._retry_action = self._reopen
            self._show_message(tr("state_lost", self.lang, error=error), retry=True, keep_picture=True)
        elif code == STATE_ENDED:
            self._retry_action = self._reopen
            self._show_message(tr("state_ended", self.lang, name=name), retry=True,
                               retry_text=tr("btn_replay", self.lang), keep_picture=True)
        elif code == STATE_IDLE:
            self.source_box.photo_box.setVisible(False)
            self._retry_action = self._reopen
            # after Stop: start the same source again (the camera's own words), or open another
            again = None if self._request is None else tr(
                "btn_start_camera" if self._request.is_camera else "btn_replay", self.lang)
            self._show_message(tr("state_idle", self.lang), retry=self._request is not None, retry_text=again,
                               keep_picture=True)
        if code in (STATE_OPEN_FAILED, STATE_LOST, STATE_ENDED, STATE_IDLE):
            self._clear_timings()       # nothing runs now: at once, not at the next status tick

    def _clear_timings(self) -> None:
        """Nothing runs: no old figures in the status bar, no stale warning."""
        self._timings_avg.clear()
        self._display_rate.clear()
        self.stage_label.setText("")
        self.perf_label.setText("")
        self.health.reset()
        self.settings_warning.setVisible(False)

    def _reopen(self) -> None:
        if self._request is not None:
            self.open_source(self._request)

    def _on_worker_errored(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def _on_packet_ready(self) -> None:
        packet = self.worker.take_packet()
        if packet is None or self._closed:
            return
        self.last_packet = packet
        self.packets_shown += 1
        self._display_rate.tick()
        if self.stack.currentIndex() != 0:
            self.stack.setCurrentIndex(0)
        # the selected face (in its own panel), or the main (largest) face of the first panel, feeds the history
        key, face = self._history_face(packet.panels)
        photos = packet.kind == "photos"
        if not photos:
            self.history.add(packet.timestamp, None if face is None else np.asarray(face.smoothed),
                             None if face is None else np.asarray(face.probabilities))
            if packet.panels:
                self.health.add(packet.timestamp, float(packet.timings_ms.get("pipeline", 0.0)),
                                sum(len(p.result.faces) for p in packet.panels))
        else:
            self.bars.set_probabilities(None if face is None else face.smoothed)
        self.history_panel.set_photos(photos)
        if packet.panels:       # the list to choose a face from: the panel the history follows
            panel = next((p for p in packet.panels if key is not None and p.detector == key[0]), packet.panels[0])
            self.history_panel.set_faces(panel.result.faces, None if self.selected_face is None
                                         or self.selected_face[0] != panel.detector else self.selected_face[1])
        self._history_face_key = key
        self._update_history_title()          # a no-op unless the face, its panel or the mode changed
        self.view.selected = self.selected_face
        self.view.set_frame(packet.image, packet.panels, packet.timings_ms, packet.frame_size)
        if len(packet.panels) != getattr(self, "_panels_shown", 0):     # compare on/off: averages start again
            self._panels_shown = len(packet.panels)
            self._timings_avg.clear()
        # Detection times average the frames that ran the detector: with a detection rate, the others reuse
        # boxes in no time, and "detect 5 ms" would halve what one detection costs.
        keys = ["grab", "classify"]
        if all(p.result.detected for p in packet.panels):
            keys += ["detect"] + [f"detect_{p.detector}" for p in packet.panels]
        for key in keys:
            value = packet.timings_ms.get(key, 0.0)
            self._timings_avg[key] = 0.8 * self._timings_avg.get(key, value) + 0.2 * value
        if self.recorder is not None:
            self.recorder.write(packet)
        if packet.kind == "photos":
            self._update_photo_label()

    def _history_face(self, panels: list) -> tuple[tuple[str, int] | None, Any]:
        """((panel kind, track id), face) that the history follows; (None, None) when there is none.

        Track ids are per panel (each detector has its own tracker): the clicked
        face is looked up in the panel of the detector it was clicked in.
        """
        if self.selected_face is not None:
            kind, track = self.selected_face
            for panel in panels:
                if panel.detector == kind:
                    for f in panel.result.faces:
                        if f.track_id == track:
                            return (kind, track), f
        if not panels or not panels[0].result.faces:
            return None, None
        face = max(panels[0].result.faces, key=lambda f: f.box[2] * f.box[3])
        return (panels[0].detector, face.track_id), face

    def _on_display_box_changed(self, width: int, height: int) -> None:
        self.worker.set_display_box(width, height)

    def _on_face_chosen(self, track_id: int) -> None:
        """A face chosen from the history's list (-1: the largest face again)."""
        p = self.last_packet
        kind = self._history_face_key[0] if self._history_face_key else (
            p.panels[0].detector if p is not None and p.panels else self.controls.detector)
        self._on_face_clicked(kind, track_id)

    def _on_face_clicked(self, kind: str, track_id: int) -> None:
        self.selected_face = (kind, track_id) if track_id >= 0 else None
        self.view.selected = self.selected_face
        self.history.clear()
        self.view.update()
        p = self.last_packet
        if p is not None and p.kind == "photos" and p.panels:
            self._history_face_key, face = self._history_face(p.panels)
            self.bars.set_probabilities(None if face is None else face.smoothed)
        self._update_history_title()

    def _update_history_title(self) -> None:
        key = self._history_face_key
        compare = self.last_packet is not None and len(self.last_packet.panels) > 1
        detector = core.detector_name(key[0], self.lang, short=True) if key is not None and compare else None
        self.history_panel.set_track(None if key is None else key[1], detector)

    def _update_photo_label(self) -> None:
        p = self.last_packet
        if p is not None and p.kind == "photos":
            self.source_box.photo_label.setText(tr("photo_pos", self.lang, i=p.index + 1, n=p.count, name=p.name))

    def _update_perf(self) -> None:
        self.display_fps = self._display_rate.rate()
        live = self.last_packet is not None and self.last_packet.kind != "photos" and self.stack.currentIndex() == 0
        pfps = self.last_packet.pipeline_fps if live else 0.0
        if not live:
            self.display_fps = 0.0
        t = self._timings_avg
        panels = self.last_packet.panels if self.last_packet is not None else []
        # Per-detector times: shown once here, and the panel captions show the very same numbers.
        self.view.detect_ms = {p.detector: t.get(f"detect_{p.detector}", 0.0) for p in panels}
        if len(panels) > 1:
            times = ", ".join(f"{core.detector_name(k, self.lang, short=True)} {ms:.1f}"
                              for k, ms in self.view.detect_ms.items())
            detect = tr("perf_detect_each", self.lang, times=times)
        else:
            detect = tr("perf_detect", self.lang, ms=t.get("detect", 0.0))
        self.perf_label.setText(tr("perf", self.lang, fps=self.display_fps, pfps=pfps) if live else "")
        stages = tr("perf_stages", self.lang, grab=t.get("grab", 0.0), detect=detect,
                    classify=t.get("classify", 0.0), draw=self.view.last_paint_ms)
        running = self.stack.currentIndex() == 0 and self.last_packet is not None
        self.stage_label.setText(stages + "  " if running else "")
        self._update_warning(live)
        if len(panels) > 1:
            self.view.update()
        self._update_history_title()
        if self.recorder is not None:
            self.record_box.show_rows(self.recorder.rows, self.lang)

    def _update_warning(self, live: bool) -> None:
        """Beside the settings: frames slower than ~100 ms, or no face for a while (measured live)."""
        hints = self.health.warnings() if live else []
        text = "\n".join("\u26a0 " + tr(key, self.lang, **values) for key, values in hints)
        if text != self.settings_warning.text():
            self.settings_warning.setText(text)
        self.settings_warning.setVisible(bool(text))
        title = tr("tab_settings", self.lang) + (" \u26a0" if text else "")
        if self.side_panel.tabText(1) != title:
            self.side_panel.setTabText(1, title)

    # ---------------------------------------------------------------- detector controls
    def _on_detector_changed(self, kind: str) -> None:
        self.worker.set_detector(kind)

    def _on_detector_settings_changed(self, kind: str, settings: Any) -> None:
        self.health.reset()             # judge the new settings on their own frames

    def _on_compare_changed(self, kinds: list) -> None:
        self.worker.set_compare(kinds)

    def _on_detect_rate_changed(self, rate: float | None) -> None:
        # Called here, on the GUI thread: the worker's thread runs its own loop, not Qt's, so a
        # queued slot call on the worker would never be delivered; set_detect_rate posts a command.
        self.worker.set_detect_rate(rate)

    def _on_detector_failed(self, kind: str, fallback: str, error: str) -> None:
        """A detector's model file is missing or damaged: the worker already switched; say so, follow it."""
        names = {k: core.detector_name(k, self.lang) for k in (kind, fallback)}
        self.detector_error = tr("detector_failed", self.lang, det=names[kind], fallback=names[fallback], error=error)
        self.statusBar().showMessage(self.detector_error.replace("\n", " "), 15000)
        if self.controls.detector == kind:
            self.controls.blockSignals(True)      # the worker has switched already
            self.controls.set_detector(fallback)
            self.controls.blockSignals(False)
        if kind in self.controls.compared:
            self.controls.compare_checks[kind].blockSignals(True)
            self.controls.compare_checks[kind].setChecked(False)
            self.controls.compare_checks[kind].blockSignals(False)
            self.controls.set_compare(self.controls.compare_box.isChecked())
        # Not modal: the video keeps playing behind it (and tests are not blocked).
        if self._detector_box is None:
            self._detector_box = QMessageBox(QMessageBox.Icon.Warning, tr("error_title", self.lang), "",
                                             QMessageBox.StandardButton.Ok, self)
            self._detector_box.setModal(False)
        self._detector_box.setText(self.detector_error)
        self._detector_box.show()

    def _on_history_seconds_changed(self, value: float) -> None:
        self.history.set_seconds(value)

    # ---------------------------------------------------------------- saving
    def annotated_image(self, packet: Packet | None = None) -> np.ndarray | None:
        """The last frame annotated by the core renderer (both panels side by side in compare mode)."""
        packet = packet or self.last_packet
        if packet is None:
            return None
        if not packet.panels:
            return packet.frame_bgr.copy()
        images = [core.draw_results(packet.frame_bgr, p.result, lang=self.lang) for p in packet.panels]
        return images[0] if len(images) == 1 else np.hstack(images)

    def save_snapshot(self, path: str | Path) -> Path:
        image = self.annotated_image()
        if image is None:
            raise RuntimeError(tr("nothing_to_save", self.lang))
        write_image(path, image)
        return Path(path)

    def save_photo(self, image_path: str | Path) -> tuple[Path, Path]:
        """Annotated image + JSON (same stem) of the current photo/frame."""
        packet = self.last_packet
        image = self.annotated_image(packet)
        if packet is None or image is None:
            raise RuntimeError(tr("nothing_to_save", self.lang))
        image_path = Path(image_path)
        write_image(image_path, image)
        json_path = image_path.with_suffix(".json")
        model = self.classifier.name if self.classifier is not None else ""
        model_path = str(self.classifier.model_path) if self.classifier is not None else ""
        write_json(json_path, photo_document(packet, image_path, model, model_path))
        return image_path, json_path

    def snapshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("act_snapshot", self.lang), "kise_snapshot.png",
                                              tr("filter_png", self.lang))
        if path:
            self._save_with_feedback(lambda: [self.save_snapshot(path)], path)

    def save_photo_dialog(self) -> None:
        stem = Path(self.last_packet.name).stem if self.last_packet else "photo"
        path, _ = QFileDialog.getSaveFileName(self, tr("btn_save_photo", self.lang), f"{stem}_kise.png",
                                              tr("filter_png", self.lang))
        if path:
            self._save_with_feedback(lambda: list(self.save_photo(path)), path)

    def _save_with_feedback(self, save: Callable[[], list], path: str) -> None:
        try:
            paths = save()
        except Exception as exc:
            QMessageBox.warning(self, tr("error_title", self.lang), tr("save_failed", self.lang, path=path, error=exc))
            return
        self.statusBar().showMessage(tr("saved", self.lang, path=", ".join(str(p) for p in paths)), 8000)

    def start_recording(self, path: str | Path) -> None:
        self.stop_recording()
        self.recorder = CsvRecorder(path, self._report_settings(), self._request.label if self._request else "")
        self.record_box.set_recording(True, self.lang, report_ready=False)

    def stop_recording(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.statusBar().showMessage(tr("saved", self.lang, path=self.recorder.path), 8000)
            self._last_recording = self.recorder if self.recorder.has_faces else None
            self.recorder = None
        self.record_box.set_recording(False, self.lang, report_ready=self._last_recording is not None)

    def _report_settings(self) -> dict[str, str]:
        """The run's settings as the report lists them (display text)."""
        model = self.classifier.name if self.classifier is not None else ""
        p = self.last_packet
        detector = p.panels[0].detector if p is not None and p.panels else self.controls.detector
        smoothing = core.LIVE_LABELS.describe()
        return core.settings_text(model, core.detector_name(detector, "en"), smoothing)

    def write_session_report(self, html_path: str | Path) -> tuple[Path, Path]:
        """The last recording's session report (HTML + PNG), thumbnails from the frames the window had."""
        if self._last_recording is None:
            raise RuntimeError(tr("report_none", self.lang))
        return self._last_recording.write_report(html_path, self.lang)

    def report_dialog(self) -> None:
        if self._last_recording is None:
            self.statusBar().showMessage(tr("report_none", self.lang), 8000)
            return
        stem = self._last_recording.path.with_suffix("").name
        path, _ = QFileDialog.getSaveFileName(self, tr("btn_report", self.lang), f"{stem}_report.html",
                                              tr("filter_html", self.lang))
        if path:
            self._save_with_feedback(lambda: list(self.write_session_report(path)), path)

    def _on_record_clicked(self) -> None:
        if self.recorder is not None:
            self.stop_recording()
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("btn_record", self.lang), "kise_session.csv",
                                              tr("filter_csv", self.lang))
        if path:
            try:
                self.start_recording(path)
            except OSError as exc:
                QMessageBox.warning(self, tr("error_title", self.lang), tr("save_failed", self.lang, path=path, error=exc))

    # ---------------------------------------------------------------- shutdown
    def shutdown(self) -> None:
        """Stop the worker cooperatively and wait for its thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.perf_timer.stop()
        self.history.timer.stop()
        self.stop_recording()
        self.worker.stop()
        self.thread.quit()
        self.thread.wait(10000)
        self.probe.join(3.0)

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self._closed:
            self.save_settings()
        self.shutdown()
        super().closeEvent(event)
