"""The TFLite classifier on real face crops, through the sidecar, and its errors."""
from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from kise_desktop.core.bench import face_crops
from kise_desktop.core.classifier import EmotionClassifier, ModelError
from kise_desktop.emotions import EMOTION_INDEX, NUM_EMOTIONS, SEED_7CLASS_KEYS


@pytest.fixture(scope="module")
def crops(annotated_photos, classifier) -> np.ndarray:
    faces = face_crops(annotated_photos, classifier.input_size, classifier.crop_margin)
    assert len(faces) == 43
    return faces


def test_predicts_eight_probabilities_per_face(classifier, crops):
    probs = classifier.predict(crops[:6])
    assert probs.shape == (6, NUM_EMOTIONS) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert (probs >= 0).all()
    assert classifier.name and len(classifier.labels) in (7, 8)


def test_batch_gives_the_same_answer_as_one_face_at_a_time(classifier, crops):
    batch = classifier.predict(crops[:5])
    single = np.concatenate([classifier.predict(crops[i:i + 1]) for i in range(5)])
    again = classifier.predict(crops[:3])      # the count changes: the tensor is resized back
    np.testing.assert_allclose(batch, single, atol=1e-5)
    np.testing.assert_allclose(again, batch[:3], atol=1e-5)


def test_no_faces_gives_an_empty_result(classifier):
    w, h = classifier.input_size
    assert classifier.predict(np.zeros((0, h, w), np.uint8)).shape == (0, NUM_EMOTIONS)


def test_seed_columns_are_mapped_onto_the_eight_emotions(seed_model, seed_classifier, annotated_photos):
    """Compare with the raw interpreter fed pixel/255, as the seed's own notebook did."""
    from ai_edge_litert.interpreter import Interpreter

    faces = face_crops(annotated_photos[:2], (48, 48), 0.0)
    interpreter = Interpreter(model_path=str(seed_model[0]), num_threads=1)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    raw = []
    for face in faces:
        interpreter.set_tensor(inp["index"], (face.astype(np.float32) / 255.0)[None, :, :, None])
        interpreter.invoke()
        raw.append(interpreter.get_tensor(out["index"])[0].copy())
    raw = np.array(raw)
    mapped = seed_classifier.predict(faces)
    for seed_col, key in enumerate(SEED_7CLASS_KEYS):
        np.testing.assert_allclose(mapped[:, EMOTION_INDEX[key]], raw[:, seed_col], atol=1e-5)
    assert (mapped[:, EMOTION_INDEX["contempt"]] == 0).all()


def test_sidecar_defaults_to_the_model_path_with_json(tmp_path, seed_model):
    model = tmp_path / "m.tflite"
    shutil.copy(seed_model[0], model)
    shutil.copy(seed_model[1], tmp_path / "m.json")
    classifier = EmotionClassifier(model)
    assert classifier.sidecar_path == tmp_path / "m.json"
    assert classifier.input_size == (48, 48)
    assert classifier.labels == SEED_7CLASS_KEYS


def write_sidecar(path: Path, **changes) -> Path:
    data = {"name": "t", "labels": list(SEED_7CLASS_KEYS), "input": {"shape": [1, 48, 48, 1], "dtype": "float32"},
            "normalization": {"scale": 1 / 255, "offset": 0.0}, "crop_margin": 0.0}
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("case", ["missing model", "empty model", "corrupt model", "missing sidecar",
                                  "bad json", "wrong label count", "unknown label", "no normalization",
                                  "bad mirror mode"])
def test_unusable_model_or_sidecar_raises_one_line_naming_the_file(tmp_path, seed_model, case):
    model, sidecar = tmp_path / "model.tflite", tmp_path / "model.json"
    shutil.copy(seed_model[0], model)
    write_sidecar(sidecar)
    named = model
    if case == "missing model":
        model.unlink()
    elif case == "empty model":
        model.write_bytes(b"")
    elif case == "corrupt model":
        model.write_bytes(b"TFL3" + bytes(range(256)) * 20)
    elif case == "missing sidecar":
        sidecar.unlink()
        named = sidecar
    elif case == "bad json":
        sidecar.write_text("{not json")
        named = sidecar
    elif case == "wrong label count":
        write_sidecar(sidecar, labels=["anger", "happiness"])
        named = sidecar
    elif case == "unknown label":
        write_sidecar(sidecar, labels=["anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"])
        named = sidecar
    elif case == "no normalization":
        data = json.loads(sidecar.read_text())
        del data["normalization"]
        sidecar.write_text(json.dumps(data))
        named = sidecar
    elif case == "bad mirror mode":
        data = json.loads(sidecar.read_text())
        data["mirror"] = "sometimes"
        sidecar.write_text(json.dumps(data))
        named = sidecar
    with pytest.raises(ModelError) as caught:
        EmotionClassifier(model, sidecar)
    message = str(caught.value)
    assert str(named) in message
    assert "\n" not in message


def test_logits_output_is_softmaxed(tmp_path, seed_model, crops):
    """A sidecar saying "logits" turns outputs into probabilities (here: softmax of probabilities)."""
    model = tmp_path / "m.tflite"
    shutil.copy(seed_model[0], model)
    write_sidecar(tmp_path / "m.json", output="logits")
    plain = EmotionClassifier(*seed_model)
    logits = EmotionClassifier(model)
    faces = cv2.resize(crops[0], (48, 48))[None]
    p, q = plain.predict(faces)[0], logits.predict(faces)[0]
    cols = [EMOTION_INDEX[k] for k in SEED_7CLASS_KEYS]
    expected = np.exp(p[cols]) / np.exp(p[cols]).sum()
    np.testing.assert_allclose(q[cols], expected, atol=1e-5)


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory) -> Path:
    """A tiny real model with int8 input and output, converted by TFLite here."""
    tf = pytest.importorskip("tensorflow")
    folder = tmp_path_factory.mktemp("int8")
    tf.keras.utils.set_random_seed(7)
    model = tf.keras.Sequential([
        tf.keras.Input((48, 48, 1)),
        tf.keras.layers.Conv2D(4, 3, strides=4, activation="relu"),
        tf.keras.layers.GlobalAveragePooling2D(),
        # Large weights: outputs that depend strongly on the input, so a wrong input scale shows.
        tf.keras.layers.Dense(8, activation="softmax",
                              kernel_initializer=tf.keras.initializers.RandomNormal(stddev=3.0, seed=7)),
    ])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(7)
    converter.representative_dataset = lambda: ([rng.random((1, 48, 48, 1), dtype=np.float32)] for _ in range(20))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = folder / "int8.tflite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # TensorFlow's notes on quantization statistics
        path.write_bytes(converter.convert())
    keys = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"]
    write_sidecar(path.with_suffix(".json"), labels=keys)
    model.save(folder / "float.keras")
    return path


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")  # TensorFlow's own
def test_int8_quantized_model_matches_its_float_original(int8_model, crops):
    tf = pytest.importorskip("tensorflow")
    classifier = EmotionClassifier(int8_model)
    faces = np.stack([cv2.resize(c, (48, 48)) for c in crops[:4]])
    quantized = classifier.predict(faces)
    reference = tf.keras.models.load_model(int8_model.parent / "float.keras")(
        faces[..., None].astype(np.float32) / 255.0).numpy()
    assert reference.max() > 0.3                   # not a flat answer that anything would match
    np.testing.assert_allclose(quantized.sum(axis=1), 1.0, atol=0.03)
    np.testing.assert_allclose(quantized, reference, atol=0.05)
    assert (quantized.argmax(axis=1) == reference.argmax(axis=1)).all()


def test_mirror_averages_each_face_with_its_mirror_image_in_one_batch(bundled_model, annotated_photos):
    single = EmotionClassifier(bundled_model, mirror="off")
    mirrored = EmotionClassifier(bundled_model, mirror="on")
    assert mirrored.mirror and not single.mirror and mirrored.mirror_mode == "on"
    faces = face_crops(annotated_photos, single.input_size, single.crop_margin)[:7]
    expected = 0.5 * (single.predict(faces) + single.predict(np.ascontiguousarray(faces[:, :, ::-1])))
    both = mirrored.predict(faces)
    np.testing.assert_allclose(both, expected, atol=1e-5)
    np.testing.assert_allclose(both.sum(axis=1), 1.0, atol=1e-4)
    assert np.abs(both - single.predict(faces)).max() > 0.01          # the mirror changes the reading
    np.testing.assert_allclose(mirrored.predict(faces[2:3]), both[2:3], atol=1e-5)   # batch size changes back
    # A symmetric face reads the same either way: the average of a face and its mirror is mirror-invariant.
    np.testing.assert_allclose(mirrored.predict(np.ascontiguousarray(faces[:, :, ::-1])), both, atol=1e-5)


def test_auto_mirror_follows_the_int8_dot_product_and_the_sidecar_default(bundled_model, seed_model):
    from kise_desktop.core.classifier import mirror_wanted
    from kise_desktop.core.machine import cpu_description

    assert mirror_wanted("auto", {"int8_dot": True}) and not mirror_wanted("auto", {"int8_dot": False})
    assert mirror_wanted("on", {"int8_dot": False}) and not mirror_wanted("off", {"int8_dot": True})
    bundled = EmotionClassifier(bundled_model)
    assert bundled.mirror_mode == "auto" and bundled.mirror == cpu_description()["int8_dot"]
    assert EmotionClassifier(*seed_model).mirror is False                 # no "mirror" in its sidecar: off
    with pytest.raises(ValueError):
        EmotionClassifier(bundled_model, mirror="sometimes")
