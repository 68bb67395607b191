"""The detector registry: kinds are data, and the CLI follows them (the GUI forms are tested in tests/gui)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop import cli
from kise_desktop.core.detectors import (all_presets, check_settings, describe, get_kind, kind_names,
                                         kind_of, make_detector, preset, register, settings_from_dict,
                                         settings_to_dict, unregister)
from kise_desktop.core.types import Detection
from toy_detector import CENTRE_KIND, CentreSettings


@pytest.fixture
def fourth_kind():
    kind = register(CENTRE_KIND)
    yield kind
    unregister("centre")


def test_built_in_kinds_and_their_presets():
    assert kind_names()[:3] == ("haar", "hog", "yunet")
    names = all_presets()
    assert {"seed-haar", "seed-hog", "live-yunet", "photo-yunet"} <= set(names)
    assert "seed-yunet" not in names               # the seed project never had YuNet
    with pytest.raises(KeyError, match="no 'seed' preset"):
        preset("yunet", "seed")


def test_settings_survive_a_round_trip_through_saved_text():
    for name in kind_names():
        for settings in get_kind(name).presets.values():
            data = settings_to_dict(settings)
            assert data["kind"] == name
            as_text = {k: str(v) if v is not None else "0" for k, v in data.items()}   # what QSettings keeps
            assert settings_from_dict(as_text) == settings


def test_bad_saved_values_fall_back_and_ranges_are_checked():
    live = preset("haar", "live")
    assert settings_from_dict({"kind": "haar", "scale_factor": "wide", "min_neighbors": "7"}).min_neighbors == 7
    assert settings_from_dict({"kind": "haar", "scale_factor": "9.0"}) == live        # out of range: the base
    assert settings_from_dict({"kind": "yunet", "model": "huge"}).model == preset("yunet", "live").model
    with pytest.raises(ValueError, match="scale_factor"):
        check_settings(type(live)(scale_factor=0.5))


def test_describe_names_every_kind():
    assert describe(preset("haar", "live")) == "haar 1.2/4 min20 @320"
    assert describe(preset("hog", "seed")) == "hog up1 @full"
    assert describe(preset("yunet", "live")).startswith("yunet-2023mar score0.7")


def test_a_fourth_kind_is_one_registration_and_the_cli_offers_it(fourth_kind, group_photo, capsys):
    assert kind_of(CentreSettings()) is fourth_kind
    assert describe(CentreSettings()) == "centre fraction=0.5 margin=3 shape=square mirrored=False"
    found = make_detector(preset("centre", "live")).detect(np.zeros((100, 200), np.uint8))
    assert found == [Detection((75, 25, 50, 50))]
    parser = cli.build_parser()
    args = parser.parse_args(["annotate", "x.jpg", "--detector", "centre"])
    assert args.detector == "centre"
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["annotate", "x.jpg", "--detector", "nosuch"])
    assert exit_info.value.code == 2
    assert "centre" in capsys.readouterr().err


def test_opencv_threads_follow_the_running_kinds():
    from kise_desktop.core.detectors import opencv_threads_for

    # YuNet and HOG ask for one OpenCV thread (measured: the pool spins); Haar keeps OpenCV's pool.
    assert opencv_threads_for(["yunet"]) == 1 and opencv_threads_for(["yunet", "hog"]) == 1
    assert opencv_threads_for(["haar"]) == -1 and opencv_threads_for(["yunet", "haar"]) == -1
    assert opencv_threads_for(["no-such-kind"]) == -1


def test_a_kind_registered_at_run_time_works_in_a_pool_of_workers(fourth_kind, dlib_faces_dir, tmp_path, capsys):
    # The spawned workers import the toy's module (to unpickle its settings) but never ran the
    # fixture's register(): the pipeline's config carries the kind itself.
    photos = sorted(dlib_faces_dir.glob("*.jpg"))[:3]
    out = tmp_path / "out"
    code = cli.main(["annotate", *map(str, photos), "-o", str(out), "--detector", "centre", "--jobs", "2",
                     "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 0, err
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert report["detectors"][0]["kind"] == "centre" and report["errors"] == []
    assert len(report["images"]) == 3 and all(len(image["faces"]) == 1 for image in report["images"])
