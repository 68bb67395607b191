"""Boxes, Hangul/English labels and probability bars drawn onto real photos."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import PHOTO_HOG
from kise_desktop.core.render import FONT_FILE, draw_results, font, label_text
from kise_desktop.core.types import FaceResult, FrameResult
from kise_desktop.emotions import EMOTIONS


def text_mask(text: str) -> np.ndarray:
    image = Image.new("L", (200, 40), 0)
    ImageDraw.Draw(image).text((2, 2), text, font=font(24), fill=255)
    return np.asarray(image) > 0


def test_bundled_korean_font_is_used_and_cached():
    assert FONT_FILE.is_file()
    assert font(24) is font(24)
    assert font(24).getname()[0] == "NanumGothic"


def test_hangul_renders_as_distinct_glyphs_not_boxes():
    # A font without Hangul draws the same "tofu" box for every syllable.
    happy, sad = text_mask("행복"), text_mask("슬픔")
    assert happy.any() and sad.any()
    assert (happy != sad).sum() > 50


def test_label_text_in_both_languages():
    assert label_text(1, 0.876, "ko") == f"{EMOTIONS[1].ko} 88%"
    assert label_text(1, 0.876, "en") == "Happiness 88%"


@pytest.fixture(scope="module")
def result(classifier, group_photo) -> FrameResult:
    return Pipeline(classifier, PHOTO_HOG).analyze(group_photo)


def test_draws_boxes_in_the_emotion_colour_without_touching_the_input(group_photo, result):
    before = group_photo.copy()
    out = draw_results(group_photo, result, lang="ko")
    np.testing.assert_array_equal(group_photo, before)
    assert out.shape == group_photo.shape and out.dtype == np.uint8
    for face in result.faces:
        x, y, w, h = face.box
        colour = EMOTIONS[face.label_index].color_bgr
        left_edge = out[y + h // 2, x]
        assert np.abs(left_edge.astype(int) - colour).max() <= 40


def test_languages_and_bars_change_the_drawing(group_photo, result):
    ko = draw_results(group_photo, result, lang="ko")
    en = draw_results(group_photo, result, lang="en")
    bare = draw_results(group_photo, result, lang="en", draw_bars=False)
    assert (ko != en).any()
    assert (en != bare).any()
    # The bar sits just under each box.
    x, y, w, h = result.faces[0].box
    assert (en[y + h + 2: y + h + 6, x:x + w] != bare[y + h + 2: y + h + 6, x:x + w]).any()


def test_faces_at_the_frame_edges_are_drawn_inside_it():
    image = np.zeros((100, 120, 3), np.uint8)
    probs = np.full(8, 1 / 8, np.float32)
    faces = [FaceResult((0, 0, 40, 40), probs, probs, 1), FaceResult((90, 70, 30, 30), probs, probs, 2)]
    out = draw_results(image, FrameResult(faces, frame_size=(120, 100)), lang="ko")
    assert out.shape == image.shape and out.any()


def test_no_faces_returns_an_unchanged_copy(group_photo):
    out = draw_results(group_photo, FrameResult([]))
    np.testing.assert_array_equal(out, group_photo)
    assert out is not group_photo
