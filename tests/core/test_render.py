"""Boxes, Hangul/English labels and probability bars drawn onto real photos."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kise_desktop.core.pipeline import Pipeline
from kise_desktop.core.presets import PHOTO_HOG
from kise_desktop.core.render import FONT_FILE, draw_results, font, label_text, place_labels
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


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_labels_of_faces_side_by_side_do_not_overlap():
    # Two boxes 30 px apart with 80 px labels: the preferred spots (above each box) collide.
    spots = [[(100, 80, 80, 16), (100, 200, 80, 16)], [(130, 84, 80, 16), (130, 204, 80, 16)]]
    placed = place_labels(spots, (0, 0, 400, 300))
    assert placed[0] == (100, 80, 80, 16)             # the first face keeps its spot
    assert placed[1] == (130, 204, 80, 16)            # the second takes its next choice (below its box)
    # A third face in the same row finds both its spots taken: its label is stacked above the others.
    spots.append([(115, 82, 80, 16), (115, 202, 80, 16)])
    placed = place_labels(spots, (0, 0, 400, 300))
    assert not any(_overlap(a, b) for i, a in enumerate(placed) for b in placed[i + 1:])
    assert placed[2][1] + placed[2][3] <= placed[0][1] and placed[2][0] == 115


def test_labels_keep_off_other_faces_where_they_can():
    # Face 1's label above its box would cover face 0 (standing behind, higher up): it goes below instead.
    boxes = [(100, 50, 50, 50), (120, 110, 50, 50)]
    spots = [[(100, 34, 80, 16), (100, 110, 80, 16)], [(120, 94, 80, 16), (120, 170, 80, 16)]]
    assert place_labels(spots, (0, 0, 300, 300), boxes)[1] == (120, 170, 80, 16)
    assert place_labels(spots, (0, 0, 300, 300))[1] == (120, 94, 80, 16)     # without boxes: above


def test_labels_fall_back_below_and_stay_inside_the_frame():
    # At the top edge there is no room above: the second choice (below the box) is taken.
    placed = place_labels([[(5, -10, 60, 16), (5, 50, 60, 16)]], (0, 0, 100, 100))
    assert placed == [(5, 50, 60, 16)]
    # A label wider than the room left at the right edge is pulled back inside.
    placed = place_labels([[(90, 40, 60, 16)]], (0, 0, 100, 100))
    assert placed == [(40, 40, 60, 16)]
    # No free spot at all: the label still gets its first in-frame spot (overlap rather than vanish).
    full = [[(0, 0, 100, 50)], [(0, 50, 100, 50)], [(0, 0, 100, 50)]]
    assert place_labels(full, (0, 0, 100, 100))[2] == (0, 0, 100, 50)


def test_labels_of_real_crowded_faces_do_not_overlap(classifier, dlib_faces_dir):
    from kise_desktop.core.sources import load_image

    image = load_image(dlib_faces_dir / "2008_007676.jpg")          # seven faces, close together
    faces = Pipeline(classifier, PHOTO_HOG).analyze(image).faces
    assert len(faces) >= 5
    height, width = image.shape[:2]
    text_font = font(max(12, min(width, height) // 40))
    spots = []
    for face in faces:
        x, y, w, h = face.box
        _, _, right, bottom = text_font.getbbox(label_text(face.label_index, face.confidence, "en"))
        spots.append([(x, y - bottom - 6, right + 6, bottom + 6), (x, y + 2, right + 6, bottom + 6)])
    naive = [s[0] for s in spots]
    assert any(_overlap(a, b) for i, a in enumerate(naive) for b in naive[i + 1:]), "photo no longer crowded"
    placed = place_labels(spots, (0, 0, width, height), [f.box for f in faces])
    assert not any(_overlap(a, b) for i, a in enumerate(placed) for b in placed[i + 1:])
    assert all(0 <= x and x + w <= width and 0 <= y and y + h <= height for x, y, w, h in placed)
