"""The detector settings model: per-mode settings, its listeners, and what it saves and reads back."""
from __future__ import annotations

import dataclasses
import json

import pytest

from kise_desktop.core.detectors import MODES, DetectorSettingsModel, kind_names, preset


def test_starts_from_each_modes_presets_and_switches_modes():
    model = DetectorSettingsModel()
    assert model.mode == "live" and model.kinds == kind_names()
    assert model.all_current() == {k: preset(k, "live") for k in kind_names()}
    heard = []
    model.connect(lambda kind, settings: heard.append((kind, settings)))
    model.set_mode("photo")
    assert model.all_current() == {k: preset(k, "photo") for k in kind_names()}
    # only kinds whose photo preset differs from their live one are announced
    assert heard == [(k, preset(k, "photo")) for k in kind_names() if preset(k, "photo") != preset(k, "live")]
    assert heard, "the built-in kinds search finer on photos"
    model.set_mode("photo")
    assert len(heard) == len([k for k in kind_names() if preset(k, "photo") != preset(k, "live")])


def test_an_edit_stays_in_its_mode_and_reset_restores_that_modes_preset():
    model = DetectorSettingsModel()
    heard = []
    model.connect(lambda kind, settings: heard.append(kind))
    edited = dataclasses.replace(preset("haar", "live"), min_size=77)
    model.set("haar", edited)
    model.set("haar", edited)                     # the same value again is not news
    assert heard == ["haar"] and model.current("haar") == edited
    model.set_mode("photo")
    assert model.current("haar") == preset("haar", "photo")
    model.set_mode("live")
    assert model.current("haar") == edited
    model.reset(["haar"])
    assert model.current("haar") == preset("haar", "live") and heard[-1] == "haar"


def test_refuses_settings_of_another_kind_or_out_of_range():
    model = DetectorSettingsModel()
    with pytest.raises(ValueError, match="hog"):
        model.set("haar", preset("hog", "live"))
    with pytest.raises(ValueError, match="scale_factor"):
        model.set("haar", dataclasses.replace(preset("haar", "live"), scale_factor=50.0))
    assert model.current("haar") == preset("haar", "live")
    with pytest.raises(ValueError, match="mode"):
        model.set_mode("video")


def test_what_it_saves_reads_back_through_json_and_bad_values_fall_back():
    model = DetectorSettingsModel()
    model.set("yunet", dataclasses.replace(preset("yunet", "live"), score_threshold=0.55, enlarge=True))
    model.set_mode("photo")
    model.set("hog", dataclasses.replace(preset("hog", "photo"), detect_width=None))
    saved = json.loads(json.dumps(model.to_dict()))          # what a settings file holds
    assert set(saved) == set(MODES) and "kind" not in saved["live"]["haar"]
    again = DetectorSettingsModel(saved)
    assert again.mode == "live" and again.current("yunet") == model.in_mode("live")["yunet"]
    assert again.in_mode("photo") == model.in_mode("photo")
    # a file from another version: strings, unknown keys, values out of range, an unknown kind
    saved["live"]["haar"] = {"scale_factor": "1.3", "min_size": "nonsense", "colour": "red"}
    saved["live"]["yunet"] = {"score_threshold": 7}
    saved["live"]["no_such_kind"] = {"x": 1}
    odd = DetectorSettingsModel(saved)
    assert odd.current("haar") == dataclasses.replace(preset("haar", "live"), scale_factor=1.3)
    assert odd.current("yunet") == preset("yunet", "live")
