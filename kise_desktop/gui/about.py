"""The About dialog: version, bundled models with their accuracy, libraries, licences, in Korean or English.

Every fact comes from `kise_desktop.about_info` (Qt-free, also behind
`--version`); this module only lays them out. Licence texts are shown as
shipped, in their original English; what each one covers is said in the
dialog's language.
"""
from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QPlainTextEdit, QSplitter,
                               QVBoxLayout, QWidget)

from kise_desktop import about_info
from kise_desktop.version import __version__

from .i18n import tr


def model_lines(lang: str) -> list[str]:
    lines = []
    for m in about_info.bundled_models():
        if m.kind == "emotion":
            line = tr("about_model_emotion", lang, file=m.file.name, name=m.name, classes=m.classes,
                      acc=about_info.percent(m.accuracy))
            if m.evaluated_on:
                line += f" ({tr('about_evaluated_on', lang, what=m.evaluated_on)})"
        elif m.kind == "face_detector":
            line = tr("about_model_detector", lang, file=m.file.name, name=m.name)
        else:
            line = tr("about_model_other", lang, file=m.file.name, name=m.name)
        lines.append(line)
    return lines or [tr("about_no_models", lang, path=about_info.MODELS_DIR)]


def licence_entries(lang: str) -> list[tuple[str, tuple[Path, ...]]]:
    """(what it covers and under which terms, in `lang`; the texts to show) for everything bundled."""
    entries = [(tr(f"lic_{t.key}", lang, subject=t.subject, licence=t.licence), t.files)
               for t in about_info.bundled_terms()]
    entries += [(tr("lic_library", lang, name=lib.distribution, version=lib.version, licence=lib.licence), lib.files)
                for lib in about_info.libraries()]
    return entries


def read_texts(files: tuple[Path, ...], lang: str) -> str:
    if not files:
        return tr("about_no_text", lang)
    parts = []
    for path in files:
        try:
            body = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            body = f"{path}: {exc.strerror}"
        parts.append(f"==== {path.name} ====\n\n{body.strip()}\n" if len(files) > 1 else body)
    return "\n".join(parts)


class AboutDialog(QDialog):
    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.setWindowTitle(tr("about_title", lang))
        self.resize(820, 640)
        layout = QVBoxLayout(self)

        self.header = QLabel(
            f"<b style='font-size: 15pt'>KISE {__version__}</b><br>{tr('about_intro', lang)}<br>"
            f"{tr('about_version', lang, version=__version__, python=platform.python_version())}")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.header)

        self.models_label = QLabel("<b>" + tr("about_models", lang) + "</b><br>"
                                   + "<br>".join(_escape(line) for line in model_lines(lang))
                                   + "<br>" + _escape(tr("about_builtin", lang)))
        self.models_label.setWordWrap(True)
        self.models_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.models_label)

        layout.addWidget(QLabel("<b>" + tr("about_licences", lang) + "</b> " + _escape(tr("about_licence_hint", lang))))
        self.entries = licence_entries(lang)
        self.licence_list = QListWidget()
        self.licence_list.addItems([label for label, _ in self.entries])
        self.licence_list.setWordWrap(True)
        self.text_view = QPlainTextEdit(readOnly=True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.licence_list)
        split.addWidget(self.text_view)
        split.setSizes([220, 320])
        layout.addWidget(split, 1)
        self.licence_list.currentRowChanged.connect(self.show_entry)

        self.resources_label = QLabel(tr("about_resources", lang, path=about_info.RESOURCES_DIR))
        self.resources_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.resources_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("btn_close", lang))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.licence_list.setCurrentRow(0)

    def show_entry(self, row: int) -> None:
        if 0 <= row < len(self.entries):
            self.text_view.setPlainText(read_texts(self.entries[row][1], self.lang))

    def entry_labels(self) -> list[str]:
        return [label for label, _ in self.entries]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
