"""training.evaluate_pipeline on a real slice of FER+ test with the real YuNet and the bundled model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from kise_desktop.core.classifier import EmotionClassifier
from kise_desktop.core.detectors import get_kind
from training import evaluate_pipeline as ep
from training.data.ferplus import load_split

N_IMAGES = 40


@pytest.fixture(scope="module")
def slice_and_model(ferplus_root, bundled_model):
    split = load_split("test", "majority", ferplus_root.parent)
    return split.images[:N_IMAGES], split.labels[:N_IMAGES], EmotionClassifier(bundled_model)


def test_table_structure_and_ranges(slice_and_model):
    images, labels, classifier = slice_and_model
    table = ep.evaluate_pipeline(classifier, images, labels, angles=(0.0, 30.0))
    assert table["images"] == N_IMAGES
    assert table["crop_scale"] == get_kind("yunet").crop_scale
    assert 0.0 <= table["classifier_alone_all_images"] <= 1.0
    assert [(r["network"], r["angle"]) for r in table["rows"]] == [
        (n, a) for n in ep.NETWORKS for a in (0.0, 30.0)]
    for row in table["rows"]:
        assert 0 <= row["found"] <= N_IMAGES
        assert row["detection_rate"] == pytest.approx(row["found"] / N_IMAGES)
        assert row["found"] > 0, f"YuNet {row['network']} found no FER+ face on the canvas at {row['angle']} deg"
        for key in ("accuracy_plain", "accuracy_aligned", "classifier_alone_same_images"):
            assert 0.0 <= row[key] <= 1.0
            # an accuracy over `found` images is a whole number of them
            assert row[key] * row["found"] == pytest.approx(round(row[key] * row["found"]))
        assert row["aligned_minus_plain"] == pytest.approx(row["accuracy_aligned"] - row["accuracy_plain"])
    markdown = ep.markdown_table(table)
    assert markdown.count("\n") == 1 + len(table["rows"])
    json.dumps(table)       # the report is plain JSON


def test_shared_detection_matches_pipeline_analyze(slice_and_model):
    """The evaluation detects once and crops several ways; that must be what Pipeline.analyze gives."""
    images, _, classifier = slice_and_model
    images = images[:12]
    for network, angle, align in (("n", 15.0, True), ("2023mar", -30.0, False)):
        settings = ep.detector_settings("yunet", network)
        through_pipeline = ep.run_pipeline(classifier, settings, images, angle, align)
        detections, grays = ep.detect_all(settings, images, angle)
        shared = ep.predict_from_detections(classifier, "yunet", detections, grays, align)
        np.testing.assert_array_equal(shared, through_pipeline)
        assert (shared >= 0).any()


def test_canvas_places_the_face_in_the_middle(slice_and_model):
    image = slice_and_model[0][0]
    canvas = ep.make_canvas(image, 0.0)
    assert canvas.shape == (ep.CANVAS_PX, ep.CANVAS_PX, 3)
    pad = (ep.CANVAS_PX - ep.FACE_PX) // 2
    assert (canvas[0, 0] == round(float(image.mean()))).all()
    middle = canvas[pad:pad + ep.FACE_PX, pad:pad + ep.FACE_PX, 0]
    assert np.corrcoef(middle[::25, ::25].ravel().astype(float),
                       image[::6, ::6].ravel().astype(float))[0, 1] > 0.9


def test_sweep_refuses_the_test_split(capsys):
    assert ep.main(["--split", "test", "--sweep"]) == 2
    assert "never runs on the test split" in capsys.readouterr().err
