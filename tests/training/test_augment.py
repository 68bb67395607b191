"""Training augmentation and the batch stream, on real FER+ faces."""
from __future__ import annotations

import numpy as np
import pytest

from training.augment import Augmenter, TrainBatches
from training.data.ferplus import load_split


@pytest.fixture(scope="module")
def faces(ferplus_root) -> np.ndarray:
    return load_split("valid", "majority", ferplus_root.parent).images[:256]


def test_no_augmentation_is_the_identity(faces):
    out = Augmenter(flip=False)(faces[:16], np.random.default_rng(0))
    assert out.shape == (16, 48, 48, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], faces[:16].astype(np.float32))


def test_flip_only_mirrors_some_faces_and_keeps_the_rest(faces):
    out = Augmenter(flip=True)(faces[:64], np.random.default_rng(0))[..., 0]
    same = [np.array_equal(o, f) for o, f in zip(out, faces[:64].astype(np.float32))]
    mirrored = [np.array_equal(o, f[:, ::-1]) for o, f in zip(out, faces[:64].astype(np.float32))]
    assert all(s or m for s, m in zip(same, mirrored))
    assert 10 < sum(mirrored) < 54     # about half, seed-fixed


def test_full_augmentation_changes_pixels_but_keeps_the_face(faces):
    aug = Augmenter(flip=False, rotation_deg=10, zoom=0.1, translate=0.08, contrast=0.2, brightness=0.1)
    out = aug(faces[:64], np.random.default_rng(1))[..., 0]
    assert out.min() >= 0.0 and out.max() <= 255.0
    original = faces[:64].astype(np.float32)
    assert np.abs(out - original).mean() > 3.0
    corr = [np.corrcoef(o.ravel(), f.ravel())[0, 1] for o, f in zip(out, original)]
    assert np.median(corr) > 0.6     # still the same face, not noise


def test_random_erasing_blanks_a_rectangle(faces):
    out = Augmenter(flip=False, erase_prob=1.0)(faces[:8], np.random.default_rng(2))[..., 0]
    changed = out != faces[:8].astype(np.float32)
    for mask in changed:
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        assert 8 <= rows.size <= 20 and 8 <= cols.size <= 20


def _stream(faces, start_epoch=0, workers=2):
    targets = np.eye(8, dtype=np.float32)[np.arange(len(faces)) % 8]
    weights = np.linspace(0.5, 2.0, len(faces)).astype(np.float32)
    aug = Augmenter(flip=True, rotation_deg=10, zoom=0.1, translate=0.08, contrast=0.2, brightness=0.1,
                    erase_prob=0.2)
    return TrainBatches(faces, targets, weights, aug, batch_size=64, seed=7, start_epoch=start_epoch, epochs=3,
                        workers=workers, prefetch=3)


def test_batches_are_reproducible_and_resume_sees_the_same_batches(faces):
    full = list(_stream(faces, workers=1))
    assert len(full) == 3 * (len(faces) // 64) == len(_stream(faces))
    again = list(_stream(faces, workers=4))                  # thread count does not matter
    resumed = list(_stream(faces, start_epoch=1, workers=3))  # a run resumed after epoch 1
    for a, b in zip(full, again):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert len(resumed) == len(full) - len(faces) // 64
    for a, b in zip(full[len(faces) // 64:], resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_each_epoch_uses_every_face_at_most_once(faces):
    stream = _stream(faces)
    steps = stream.steps_per_epoch
    for epoch in range(3):
        order = stream.epoch_order(epoch)[: steps * 64]
        assert len(set(order.tolist())) == steps * 64
    assert not np.array_equal(stream.epoch_order(0), stream.epoch_order(1))


DEGRADE = {"blur_sigma": 1.5, "motion_blur_px": 7, "noise_std": 20, "jpeg_quality": 10, "low_light_gain": 0.25,
           "side_light_depth": 0.75}
OLD = {"flip": True, "rotation_deg": 10, "zoom": 0.1, "translate": 0.08, "contrast": 0.2, "brightness": 0.1,
       "erase_prob": 0.2}


def test_degradations_off_leave_an_old_configs_batches_unchanged(faces):
    # degrade_prob 0 (the default) draws nothing, whatever limits are set: old runs resume identically.
    old = Augmenter(**OLD)(faces[:64], np.random.default_rng(3))
    with_limits = Augmenter(**OLD, **DEGRADE)(faces[:64], np.random.default_rng(3))
    np.testing.assert_array_equal(old, with_limits)


def test_degradations_hit_about_the_configured_share_and_are_reproducible(faces):
    aug = Augmenter(flip=False, degrade_prob=0.15, **DEGRADE)
    out = aug(faces, np.random.default_rng(4))[..., 0]
    np.testing.assert_array_equal(out, aug(faces, np.random.default_rng(4))[..., 0])
    changed = np.array([not np.array_equal(o, f) for o, f in zip(out, faces.astype(np.float32))])
    # Six kinds, each on 15% of faces: 1 - 0.85**6 = 62% of faces touched by at least one.
    assert 0.5 < changed.mean() < 0.75, changed.mean()
    assert out.min() >= 0.0 and out.max() <= 255.0


_DEGRADING = dict(flip=True, rotation_deg=10, zoom=0.1, translate=0.08, contrast=0.2, brightness=0.1,
                  erase_prob=0.3, degrade_prob=0.5, blur_sigma=1.5, noise_std=20, low_light_gain=0.25)


def test_the_clean_view_draws_nothing_extra_and_skips_only_degradations_and_erasing(faces):
    aug = Augmenter(**_DEGRADING)
    plain = aug(faces[:64], np.random.default_rng(5))
    student, clean = aug(faces[:64], np.random.default_rng(5), with_clean=True)
    np.testing.assert_array_equal(student, plain)          # the student's batch is what it was without a teacher
    assert clean.shape == (64, 48, 48) and clean.dtype == np.uint8
    # Without degradations or erasing the two views are the same face, pixel for pixel (up to rounding).
    geometric = Augmenter(**{k: v for k, v in _DEGRADING.items() if k not in ("erase_prob", "degrade_prob")})
    student, clean = geometric(faces[:64], np.random.default_rng(5), with_clean=True)
    assert np.abs(student[..., 0] - clean.astype(np.float32)).max() <= 0.5
    # With them, some faces differ a lot, and the clean view still tracks the student's geometry.
    student, clean = aug(faces[:64], np.random.default_rng(5), with_clean=True)
    diff = np.abs(student[..., 0] - clean.astype(np.float32)).mean(axis=(1, 2))
    assert (diff > 5).sum() >= 16
    corr = [np.corrcoef(s.ravel(), c.ravel())[0, 1] for s, c in zip(student[..., 0], clean)]
    assert np.median(corr) > 0.8


def test_a_teacher_blends_its_reading_of_the_clean_face_into_the_targets(faces, bundled_model):
    from kise_desktop.core.classifier import EmotionClassifier

    targets = np.eye(8, dtype=np.float32)[np.arange(len(faces)) % 8]
    weights = np.ones(len(faces), np.float32)
    seen: list[np.ndarray] = []

    def make_teacher():
        model = EmotionClassifier(bundled_model, mirror="on")

        def predict(clean):
            seen.append(clean)
            return model.predict(clean)
        return predict

    stream = TrainBatches(faces, targets, weights, Augmenter(**_DEGRADING), batch_size=64, seed=3, start_epoch=0,
                          epochs=1, workers=1, make_teacher=make_teacher, teacher_weight=0.7)
    batches = list(stream)
    assert len(batches) == len(seen) == len(faces) // 64
    plain = list(TrainBatches(faces, targets, weights, Augmenter(**_DEGRADING), batch_size=64, seed=3,
                              start_epoch=0, epochs=1, workers=1))
    teacher = EmotionClassifier(bundled_model, mirror="on")
    for (x, y, _), (x0, y0, _), clean in zip(batches, plain, seen):
        np.testing.assert_array_equal(x, x0)                 # the same student images
        np.testing.assert_allclose(y.sum(axis=1), 1.0, atol=1e-4)
        # 30% of each target is the label, 70% the teacher's probabilities on the clean face
        np.testing.assert_allclose(y, 0.3 * y0 + 0.7 * teacher.predict(clean), atol=1e-5)
        assert not np.array_equal(np.rint(x[..., 0]).astype(np.uint8), clean)    # which is not the student's


def test_clean_pairs_put_each_face_clean_then_degraded_with_the_same_target(faces):
    targets = np.eye(8, dtype=np.float32)[np.arange(len(faces)) % 8]
    weights = np.linspace(0.5, 2.0, len(faces)).astype(np.float32)
    aug = Augmenter(**_DEGRADING)
    paired = list(TrainBatches(faces, targets, weights, aug, batch_size=64, seed=3, start_epoch=0,
                               epochs=1, workers=2, clean_pairs=True))
    plain = list(TrainBatches(faces, targets, weights, aug, batch_size=64, seed=3, start_epoch=0,
                              epochs=1, workers=1))
    assert len(paired) == len(plain) == len(faces) // 64
    for (x, y, w), (x0, y0, w0) in zip(paired, plain):
        assert x.shape == (128, 48, 48, 1) and x.dtype == np.float32
        np.testing.assert_array_equal(x[64:], x0)                 # the second half is the plain degraded batch
        np.testing.assert_array_equal(y, np.concatenate([y0, y0]))
        np.testing.assert_array_equal(w, np.concatenate([w0, w0]))
        clean, degraded = x[:64, ..., 0], x[64:, ..., 0]
        assert np.array_equal(clean, np.rint(clean))               # the clean half is whole grey levels
        diff = np.abs(clean - degraded).mean(axis=(1, 2))
        assert (diff > 5).sum() >= 8                               # many faces were degraded...
        corr = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(clean, degraded)]
        assert np.nanmedian(corr) > 0.8                            # ...but each pair is the same face, same pose
