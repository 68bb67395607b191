"""The About dialog and the Help menu, in both languages, from the real resources and package metadata."""
from __future__ import annotations

import json
import re

import pytest

from kise_desktop import about_info
from kise_desktop.gui.about import AboutDialog
from kise_desktop.gui.i18n import tr
from kise_desktop.paths import MODELS_DIR

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture
def sidecar() -> dict:
    return json.loads((MODELS_DIR / "kise_emotion.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_about_shows_models_with_accuracy_and_every_licence(qtbot, lang, sidecar):
    dialog = AboutDialog(lang)
    qtbot.addWidget(dialog)
    dialog.show()
    text = dialog.models_label.text()
    assert sidecar["name"] in text and "kise_emotion.tflite" in text
    assert f"{sidecar['metrics']['accuracy'] * 100:.1f}%" in text
    labels = dialog.entry_labels()
    assert labels[0] == tr("lic_code", lang)
    assert any("kise_emotion.tflite" in label and "FER2013" in label for label in labels)
    assert any("NanumGothic" in label and "1.1" in label for label in labels)
    for library in ("opencv-python-headless", "pyside6-essentials", "ai-edge-litert", "dlib-bin"):
        assert any(library in label for label in labels)
    assert all(bool(HANGUL.search(label)) == (lang == "ko") for label in labels[:3])
    # each entry shows its licence text: Apache for the code, the OFL for the font, the model card for the model
    wanted = {0: "Apache License",
              next(i for i, label in enumerate(labels) if "kise_emotion.tflite" in label): "Model card",
              next(i for i, label in enumerate(labels) if "yunet_n_640_640.onnx" in label): "OpenCV",
              next(i for i, label in enumerate(labels) if "NanumGothic" in label): "SIL OPEN FONT LICENSE"}
    for row, phrase in wanted.items():
        dialog.licence_list.setCurrentRow(row)
        assert phrase.lower() in dialog.text_view.toPlainText().lower(), (row, labels[row])


def test_about_lists_every_licence_file_in_the_resources():
    listed = {path for terms in about_info.bundled_terms() for path in terms.files}
    shipped = {p for p in about_info.RESOURCES_DIR.rglob("*") if p.is_file() and "LICENSE" in p.name.upper()}
    assert shipped and shipped <= listed


def test_help_menu_opens_the_about_dialog_in_the_window_language(qtbot, make_window):
    win = make_window(lang="en")
    assert win.help_menu.title() == tr("menu_help", "en")
    win.set_language("ko")
    assert win.act_about.text() == tr("act_about", "ko")
    dialog = win.show_about()
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.windowTitle() == tr("about_title", "ko")
    dialog.close()
