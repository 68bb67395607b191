"""The groups of controls on the side panel's tabs: source, emotion model, recording.

Each box builds its widgets and its texts (in either language) and nothing
more; the window connects the buttons to what they do, so a box holds no
state of the run.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, \
    QVBoxLayout, QWidget

from kise_desktop.about_info import sidecar_accuracy as model_accuracy  # one reader of sidecar metrics, shared with About
from kise_desktop.emotions import EMOTIONS

from .history_plot import emotion_indices
from .i18n import tr

MIRROR_CHOICES = (None, "on", "off")     # None: as the model's sidecar says


class SourceBox(QGroupBox):
    """Camera list, Start/Stop, Open video/photos/folder, and (photos only) the photo navigation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera_combo = QComboBox()
        self.camera_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_btn = QPushButton()
        self.start_camera_btn = QPushButton()
        self.stop_btn = QPushButton()
        self.stop_btn.setEnabled(False)     # until a source opens
        self.open_video_btn = QPushButton()
        self.open_photos_btn = QPushButton()
        self.open_folder_btn = QPushButton()
        layout = QVBoxLayout(self)
        cam_row = QHBoxLayout()
        cam_row.addWidget(self.camera_combo, 1)
        cam_row.addWidget(self.refresh_btn)
        layout.addLayout(cam_row)
        run_row = QHBoxLayout()
        run_row.addWidget(self.start_camera_btn)
        run_row.addWidget(self.stop_btn)
        layout.addLayout(run_row)
        open_grid = QGridLayout()
        open_grid.addWidget(self.open_video_btn, 0, 0, 1, 2)
        open_grid.addWidget(self.open_photos_btn, 1, 0)
        open_grid.addWidget(self.open_folder_btn, 1, 1)
        layout.addLayout(open_grid)
        # photo navigation (photo mode only)
        self.photo_box = QWidget()
        photo_layout = QVBoxLayout(self.photo_box)
        photo_layout.setContentsMargins(0, 0, 0, 0)
        self.photo_label = QLabel(wordWrap=True)
        self.prev_btn = QPushButton()
        self.next_btn = QPushButton()
        self.save_photo_btn = QPushButton()
        nav = QHBoxLayout()
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.next_btn)
        photo_layout.addWidget(self.photo_label)
        photo_layout.addLayout(nav)
        photo_layout.addWidget(self.save_photo_btn)
        self.photo_box.setVisible(False)
        layout.addWidget(self.photo_box)

    def set_cameras(self, cameras: list[tuple[int, str]], lang: str) -> None:
        """(index, name or "") per camera found; none: a placeholder, and Start camera greyed out."""
        self.camera_combo.clear()
        if not cameras:
            self.camera_combo.addItem(tr("no_cameras", lang), None)
        for i, name in cameras:
            label = tr("camera_n", lang, n=i)
            self.camera_combo.addItem(f"{label}: {name}" if name else label, i)
        self.start_camera_btn.setEnabled(bool(cameras))

    def show_probing(self, lang: str) -> None:
        self.camera_combo.clear()
        self.camera_combo.addItem(tr("probing", lang), None)

    def retranslate(self, lang: str) -> None:
        self.setTitle(tr("grp_source", lang))
        for button, key in ((self.refresh_btn, "btn_refresh"), (self.start_camera_btn, "btn_start_camera"),
                            (self.stop_btn, "btn_stop"), (self.open_video_btn, "act_open_video"),
                            (self.open_photos_btn, "act_open_photos"), (self.open_folder_btn, "act_open_folder"),
                            (self.prev_btn, "btn_prev"), (self.next_btn, "btn_next"),
                            (self.save_photo_btn, "btn_save_photo")):
            button.setText(tr(key, lang))


class ModelBox(QGroupBox):
    """What the emotion model is (from its sidecar), the mirror-averaging choice, and Open model."""

    def __init__(self, mirror_choice: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(wordWrap=True)
        self.open_model_btn = QPushButton()
        self.mirror_combo = QComboBox()
        for choice in MIRROR_CHOICES:
            self.mirror_combo.addItem("", choice)
        self.mirror_label = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        mirror_row = QFormLayout()
        mirror_row.addRow(self.mirror_label, self.mirror_combo)
        layout.addLayout(mirror_row)
        layout.addWidget(self.open_model_btn)
        self.show_mirror_choice(mirror_choice)

    def show_mirror_choice(self, choice: str | None) -> None:
        """Select `choice` without emitting: the window asked for it, the user did not."""
        if self.mirror_combo.currentData() != choice or self.mirror_combo.currentIndex() < 0:
            self.mirror_combo.blockSignals(True)
            self.mirror_combo.setCurrentIndex(self.mirror_combo.findData(choice))
            self.mirror_combo.blockSignals(False)

    def show_model(self, classifier: Any, error: str, mirror_choice: str | None, lang: str) -> None:
        """The model's name, classes and accuracy, its emotions where not all eight, training data,
        licence and notes from the sidecar; `error` (a model that failed to load) in red below."""
        if classifier is None:
            text = tr("no_model", lang)
            if error:
                text += "\n" + error
            self.label.setStyleSheet("color: #c0392b;")
            self.label.setText(text)
            return
        sidecar = classifier.sidecar
        acc = model_accuracy(sidecar, mirrored=classifier.mirror)
        acc_text = f"{acc * 100:.1f}%" if acc is not None and acc <= 1 else (
            f"{acc:.1f}%" if acc is not None else tr("model_unknown_acc", lang))
        tip = ""
        # a model that can mirror says whether it does, and so does a choice made under Mirror averaging
        if classifier.mirror or sidecar.get("mirror", "off") != "off" or mirror_choice:
            state = "on" if classifier.mirror else "off"
            acc_text += f" ({tr('model_mirror_' + state, lang)})"
            # off by choice is not off for want of an int8 dot product
            tip = tr("model_mirror_tip_chosen_off" if mirror_choice == "off" else "model_mirror_tip_" + state, lang)
        self.label.setToolTip(tip)
        text = tr("model_info", lang, name=classifier.name, classes=len(sidecar.get("labels", [])), acc=acc_text)
        # which emotions, where not all eight ("8 classes" says it otherwise, and the room goes to the controls)
        shown = emotion_indices(classifier.labels)
        if len(shown) < len(EMOTIONS):
            names = ", ".join(EMOTIONS[i].name(lang) for i in shown)
            text += "\n" + tr("model_emotions", lang, names=names)
        for key, field in (("model_trained_on", "training_data"), ("model_licence", "license"),
                           ("model_notes", "label_notes")):
            value = sidecar.get(field)
            if isinstance(value, str) and value:
                text += "\n" + tr(key, lang, what=value, licence=value, notes=value)
        if error:
            text += "\n" + error
        self.label.setStyleSheet("" if not error else "color: #c0392b;")
        self.label.setText(text)

    def retranslate(self, lang: str) -> None:
        self.setTitle(tr("grp_model", lang))
        self.open_model_btn.setText(tr("act_open_model", lang))
        self.mirror_label.setText(tr("mirror_choice", lang))
        self.mirror_label.setToolTip(tr("mirror_choice_tip", lang))
        self.mirror_combo.setToolTip(tr("mirror_choice_tip", lang))
        for i in range(self.mirror_combo.count()):
            self.mirror_combo.setItemText(i, tr(f"mirror_choice_{self.mirror_combo.itemData(i) or 'auto'}", lang))


class RecordBox(QGroupBox):
    """Record CSV / Stop recording, Snapshot PNG, Session report (after a recording with faces)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recording = False
        self.record_btn = QPushButton()
        self.snapshot_btn = QPushButton()
        self.report_btn = QPushButton()
        self.report_btn.setEnabled(False)        # after a recording with faces
        self.record_label = QLabel()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.record_btn)
        row.addWidget(self.snapshot_btn)
        layout.addLayout(row)
        layout.addWidget(self.report_btn)
        layout.addWidget(self.record_label)

    def set_recording(self, recording: bool, lang: str, report_ready: bool) -> None:
        self.recording = recording
        self.record_btn.setText(tr("btn_stop_record" if recording else "btn_record", lang))
        self.report_btn.setEnabled(report_ready and not recording)
        if not recording:
            self.record_label.setText("")

    def show_rows(self, rows: int, lang: str) -> None:
        self.record_label.setText(tr("recording", lang, n=rows))

    def retranslate(self, lang: str) -> None:
        self.setTitle(tr("grp_record", lang))
        self.record_btn.setText(tr("btn_stop_record" if self.recording else "btn_record", lang))
        self.snapshot_btn.setText(tr("btn_snapshot", lang))
        self.report_btn.setText(tr("btn_report", lang))
        self.report_btn.setToolTip(tr("report_tip", lang))     # says why it is greyed out before a recording
