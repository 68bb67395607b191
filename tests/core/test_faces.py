"""Square crops with a margin, clipped to the frame, into a reused buffer."""
from __future__ import annotations

import cv2
import numpy as np

from kise_desktop.core.faces import FaceCropper, crop_box
from kise_desktop.core.types import Detection


def test_crop_box_is_a_square_with_margin_centred_on_the_box():
    assert crop_box((100, 100, 40, 60), 0.0, 640, 480) == (90, 100, 60, 60)
    assert crop_box((100, 100, 40, 40), 0.25, 640, 480) == (90, 90, 60, 60)


def test_crop_box_is_clipped_to_the_frame():
    assert crop_box((0, 0, 40, 40), 0.5, 640, 480) == (0, 0, 60, 60)
    x, y, w, h = crop_box((620, 460, 40, 40), 0.5, 640, 480)
    assert x + w == 640 and y + h == 480
    assert crop_box((700, 500, 40, 40), 0.0, 640, 480)[2:] == (0, 0)


def test_crops_are_the_resized_face_regions(group_photo):
    gray = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    boxes = [(104, 162, 76, 76), (232, 218, 63, 63)]
    cropper = FaceCropper((48, 48), margin=0.0)
    crops = cropper.crop(gray, boxes)
    assert crops.shape == (2, 48, 48) and crops.dtype == np.uint8
    expected = cv2.resize(gray[162:238, 104:180], (48, 48), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crops[0], expected)


def test_buffer_is_reused_between_frames_and_grows_for_crowds(group_photo):
    gray = cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY)
    cropper = FaceCropper((48, 48), capacity=4)
    first = cropper.crop(gray, [(10, 10, 50, 50)])
    second = cropper.crop(gray, [(20, 20, 50, 50), (60, 60, 30, 30)])
    assert np.shares_memory(first, second)                 # no allocation per frame
    crowd = cropper.crop(gray, [(i * 10, 10, 40, 40) for i in range(10)])
    assert crowd.shape == (10, 48, 48)
    assert len(cropper.crop(gray, [])) == 0


def test_an_aligned_crop_of_a_big_box_in_a_two_pixel_high_frame(group_photo):
    """A real photo squashed to 5000x2: the aligned path shrinks the box's neighbourhood first,
    which used to ask OpenCV for a 0-pixel-high image."""
    gray = cv2.resize(cv2.cvtColor(group_photo, cv2.COLOR_BGR2GRAY), (5000, 2), interpolation=cv2.INTER_AREA)
    eyes_level = np.array([[100, 1], [300, 1], [200, 1], [150, 1], [250, 1]], np.float32)
    cropper = FaceCropper((48, 48), margin=0.1, align=True)
    crops = cropper.crop(gray, [Detection(box=(0, 0, 400, 2), score=0.9, landmarks=eyes_level)])
    assert crops.shape == (1, 48, 48)
    row_values = set(np.unique(gray[:, :600]))
    assert set(np.unique(crops)) <= set(range(min(row_values), max(row_values) + 1))   # pixels of that strip
