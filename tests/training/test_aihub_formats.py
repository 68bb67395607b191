"""AIHub formats A and B: parsing, produced faces vs known boxes/labels, skip counts per reason.

Fixtures are generated in a temp folder from the real photos in ../shared/data
(dlib-faces) in the exact layouts of docs/aihub-formats.md, malformed cases
included; the generator records what it injected, and the parser's counts
must match it.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from training.data.aihub import (
    REASONS, FaceChecker, Options, discover, parse_box, to_number, votes_to_target, word_to_target,
)
from training.data.aihub_synth import SynthConfig, Truth, dlib_face_bank, generate
from training.data.prepared import load_prepared
from training.prepare import main, run_prepare

CLIPS, FRAMES = 3, 8


@pytest.fixture(scope="module", params=["a", "b"])
def prepared(request, tmp_path_factory, shared_data: Path) -> tuple[Truth, Path, object]:
    """A malformed-case fixture of one format, prepared once in a single process."""
    fmt = request.param
    base = tmp_path_factory.mktemp(f"aihub_{fmt}")
    truth = generate(fmt, base / "src", SynthConfig(clips=CLIPS, frames=FRAMES, malformed=True),
                     data_root=shared_data)
    report = run_prepare(fmt, base / "src", base / "out", use_ray=False, progress=False)
    return truth, base / "out", report


# ---------------------------------------------------------------- value parsing

@pytest.mark.parametrize("value, expected", [
    (5, 5.0), ("880.0", 880.0), (" 12 ", 12.0), (3.5, 3.5),
    ("abc", None), (None, None), (True, None), ([1], None), ("nan", None), (float("inf"), None),
])
def test_to_number(value, expected) -> None:
    assert to_number(value) == expected


@pytest.mark.parametrize("corners, expected", [
    ((708, 1125, 267, 798), (708, 267, 417, 531)),     # the formats page's example face_rect
    (("880.0", "966.0", "285.0", "371.0"), (880, 285, 86, 86)),  # format B's numeric strings
    ((0, 10, 5, 10), None), ((-1, 10, 5, 10), None), (("x", 10, 5, 10), None),
    ((10, 10, 5, 9), None), ((12, 10, 5, 9), None), ((None, 10, 5, 9), None),
])
def test_parse_box(corners, expected) -> None:
    assert parse_box(*corners) == expected


def test_votes_to_target_uses_afraid_alias_and_normalises() -> None:
    target, reason = votes_to_target({"afraid": 6, "neutral": 2, "happiness": "x", "contempt": None})
    assert reason == ""
    assert target is not None and target.sum() == pytest.approx(1.0)
    assert target.argmax() == 6  # "fear" in the project's order
    assert target[0] == pytest.approx(0.25)
    for bad, why in (([], "no_emotion"), ({}, "no_emotion"), ({"neutral": 0}, "no_emotion"),
                     ({"confused": 3}, "unknown_emotion"), (None, "no_emotion")):
        assert votes_to_target(bad) == (None, why)


def test_word_to_target() -> None:
    target, _ = word_to_target("surprise")
    assert target is not None and target.argmax() == 2 and target.sum() == 1.0
    assert word_to_target("")[1] == "no_emotion"
    assert word_to_target(None)[1] == "no_emotion"
    assert word_to_target("confused")[1] == "unknown_emotion"


def test_discover_a_picks_the_tagging_file_named_after_the_clip(tmp_path: Path) -> None:
    clip = tmp_path / "part1" / "M_F01_007_003"
    clip.mkdir(parents=True)
    (clip / "other_001_001_interpolation.json").write_text("{}")
    (clip / "KSE007_003_interpolation.json").write_text("{}")
    (clips,) = discover("a", tmp_path)
    assert clips.clip_id == "part1/M_F01_007_003"
    assert clips.tagging.endswith("KSE007_003_interpolation.json")


# ---------------------------------------------------------------- end to end

def test_faces_match_known_boxes_labels_and_pixels(prepared) -> None:
    truth, out, _ = prepared
    split = load_prepared(out)
    expected = truth.rows_by_key()
    keys = split.row_keys()
    assert sorted(keys) == sorted(expected), "every labelled face exactly once, at its known box"
    assert split.images.dtype == np.uint8 and split.images.shape == (len(expected), 48, 48)
    np.testing.assert_allclose(split.targets.sum(axis=1), 1.0, rtol=1e-5)
    own, other = [], []
    faces = [expected[k].face for k in keys]
    for i, key in enumerate(keys):
        row = expected[key]
        np.testing.assert_allclose(split.targets[i], row.target, atol=1e-6)
        assert split.labels[i] == row.target.argmax()
        diff = np.abs(split.images[i].astype(np.int16) - row.face.astype(np.int16)).mean()
        own.append(diff)
        j = (i + FRAMES) % len(keys)  # a face of another clip
        other.append(np.abs(split.images[i].astype(np.int16) - faces[j].astype(np.int16)).mean())
    # JPEG (A) / mp4v (B) compression only: a few grey levels, far below another face's distance.
    assert max(own) < 6.0
    assert max(own) < min(other) / 3


def test_skip_counts_per_reason_match_what_was_injected(prepared) -> None:
    truth, _, report = prepared
    assert dict(report.total_skipped) == dict(truth.skipped)
    assert dict(report.total_clips_skipped) == dict(truth.clip_skipped)
    assert report.clips_found == len(truth.clips)
    assert report.faces_written == len(truth.rows)
    assert set(report.total_skipped) <= set(REASONS)
    text = report.format()
    for reason in truth.skipped:
        assert reason in text


def test_provenance_and_frame_numbers(prepared) -> None:
    truth, out, _ = prepared
    split = load_prepared(out)
    if truth.fmt == "a":
        # frames named ..._KM_0000000123.jpg, two levels down in the clip folder
        assert all(s.startswith("RGB/cam1/") and s.endswith(f"_KM_{f:010d}.jpg")
                   for s, f in zip(split.sources, split.frames))
    else:
        assert all(s == c.rsplit("/", 1)[-1] + ".mp4" for s, c in zip(split.sources, split.clips))
        assert split.frames.min() == 1  # format B numbers frames from 1
    assert all(name.startswith(clip) for name, clip in zip(split.names, split.clips))


def test_face_check_keeps_real_faces_and_rejects_non_faces(shared_data: Path) -> None:
    faces, backgrounds = dlib_face_bank(shared_data)
    rng = np.random.default_rng(1)
    for kind in ("haar", "hog"):
        checker = FaceChecker(kind)
        found = [checker(cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY)) for f in faces]
        assert np.mean(found) > 0.5, f"{kind} should still find most real faces"
        assert not checker(np.full((96, 96), 127, np.uint8))
        assert not checker(rng.integers(0, 256, (96, 96), dtype=np.uint8))


def test_face_check_option_counts_rejections_and_cost(tmp_path: Path, shared_data: Path) -> None:
    truth = generate("a", tmp_path / "src", SynthConfig(clips=CLIPS, frames=4), data_root=shared_data)
    report = run_prepare("a", tmp_path / "src", tmp_path / "out", use_ray=False, progress=False,
                         options=Options(face_check="haar"))
    rejected = report.skipped.get("face_check", 0)
    assert report.face_check_n == len(truth.rows)
    assert report.faces_written + rejected == len(truth.rows)
    assert report.faces_written > 0
    assert report.face_check_s > 0
    assert "face check (haar)" in report.format()
    kept = load_prepared(tmp_path / "out").row_keys()
    assert set(kept) <= set(truth.rows_by_key())


def test_cli_single_process_prints_summary(tmp_path: Path, shared_data: Path, capsys) -> None:
    truth = generate("b", tmp_path / "src", SynthConfig(clips=2, frames=4, malformed=True), data_root=shared_data)
    assert main(["aihub-b", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--no-ray", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"faces written now: {len(truth.rows)}" in text
    assert "video_unreadable" in text
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["format"] == "b" and meta["options"]["face_check"] == "none"
    # Options are part of the data set: a rerun with others is refused, not mixed in.
    assert main(["aihub-b", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--no-ray", "--quiet",
                 "--face-check", "haar"]) == 2
    assert main(["aihub-a", str(tmp_path / "missing"), "-o", str(tmp_path / "out2"), "--no-ray"]) == 2


def test_discovery_accepts_a_part_or_a_single_clip_as_root(tmp_path: Path, shared_data: Path) -> None:
    for fmt in ("a", "b"):
        truth = generate(fmt, tmp_path / fmt, SynthConfig(clips=2, frames=2, keep_faces=False), data_root=shared_data)
        full = discover(fmt, tmp_path / fmt)
        assert [c.clip_id for c in full] == truth.clips
        part = (tmp_path / fmt / truth.clips[0]).parent
        assert [c.folder for c in discover(fmt, part)] == [c.folder for c in full]
        one = discover(fmt, tmp_path / fmt / truth.clips[1])
        assert [(c.folder, c.tagging) for c in one] == [(full[1].folder, full[1].tagging)]
