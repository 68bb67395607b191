"""Multi-crop test-time averaging on a real slice of FER+ validation, read by the real bundled model."""
from __future__ import annotations

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from training import crop_tta
from training.data.ferplus import load_split


def test_views_move_the_face_and_face_plus_mirror_is_the_mirror_averaging(ferplus_root, bundled_model, capsys):
    data = str(ferplus_root.parent)
    images = load_split("valid", "majority", data).images[:200]
    for name in crop_tta.VIEWS:
        view = crop_tta.view_of(images, name)
        assert view.shape == images.shape and view.dtype == images.dtype
        assert (name == "face") == np.array_equal(view, images), name
    one_pass = EmotionClassifier(bundled_model, mirror="off")
    read = crop_tta.read_view_sets(one_pass, images, [("face",), ("face", "mirror")])
    np.testing.assert_allclose(read[("face",)], one_pass.predict(images), atol=1e-6)
    mirrored = EmotionClassifier(bundled_model, mirror="on").predict(images)
    np.testing.assert_allclose(read[("face", "mirror")], mirrored, atol=1e-5)

    assert crop_tta.main([str(bundled_model), "--limit", "200", "--data", data]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert [int(row[-3]) for row in rows] == [len(views) for views in crop_tta.VIEW_SETS]
    labels = load_split("valid", "majority", data).labels[:200]
    assert float(rows[1][-2]) == pytest.approx((mirrored.argmax(1) == labels).mean(), abs=1e-4)
