"""Training-time augmentation and the batch stream, in NumPy and OpenCV.

Backend-free on purpose: the same code feeds Keras on TensorFlow (this
laptop's CPU) and on JAX or PyTorch (a GPU machine without TensorFlow), and
every batch is a pure function of (seed, epoch, batch index), so a resumed
run sees exactly the batches an uninterrupted one would have, whatever the
backend or the number of worker threads.
"""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import cv2
import numpy as np

from training import corruptions

SIZE = 48
_CENTRE = (SIZE - 1) / 2.0


class Augmenter:
    """Random flip, rotation, zoom, shift (one affine warp, reflected borders),
    webcam degradations, contrast, brightness and random erasing, for (B, 48, 48) uint8 faces.

    The degradations (training/corruptions.py, the ones the robustness benchmark
    scores) are off unless `degrade_prob` > 0: each enabled kind hits a face with
    probability `degrade_prob`, at a strength drawn uniformly up to its limit
    (blur_sigma px, motion_blur_px px, noise_std grey levels, jpeg_quality down to
    this quality, low_light_gain down to this gain, side_light_depth). With them off
    no extra random numbers are drawn, so older configs get the same batches as before.
    """

    def __init__(self, flip: bool = True, rotation_deg: float = 0.0, zoom: float = 0.0,
                 translate: float = 0.0, contrast: float = 0.0, brightness: float = 0.0,
                 erase_prob: float = 0.0, degrade_prob: float = 0.0, blur_sigma: float = 0.0,
                 motion_blur_px: float = 0.0, noise_std: float = 0.0, jpeg_quality: int = 0,
                 low_light_gain: float = 0.0, side_light_depth: float = 0.0) -> None:
        self.flip, self.rotation_deg, self.zoom, self.translate = flip, rotation_deg, zoom, translate
        self.contrast, self.brightness, self.erase_prob = contrast, brightness, erase_prob
        self.degrade_prob = degrade_prob
        self.blur_sigma, self.motion_blur_px, self.noise_std = blur_sigma, motion_blur_px, noise_std
        self.jpeg_quality, self.low_light_gain, self.side_light_depth = jpeg_quality, low_light_gain, side_light_depth

    def degrade(self, faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Camera order: scene lighting, then optics/motion blur, sensor noise, compression.
        Every draw has the batch's shape whether or not a face is hit, so a batch's
        result depends only on its generator."""
        batch = len(faces)
        out = faces.copy()

        def hits() -> np.ndarray:
            return rng.random(batch) < self.degrade_prob

        if self.low_light_gain:
            hit, gain = hits(), rng.uniform(self.low_light_gain, 1.0, batch)
            for i in np.flatnonzero(hit):
                out[i] = corruptions.low_light(out[i], float(gain[i]))
        if self.side_light_depth:
            hit, depth, left = hits(), rng.uniform(0.0, self.side_light_depth, batch), rng.random(batch) < 0.5
            for i in np.flatnonzero(hit):
                out[i] = corruptions.side_light(out[i], float(depth[i]), bool(left[i]))
        if self.blur_sigma:
            hit, sigma = hits(), rng.uniform(0.3, self.blur_sigma, batch)
            for i in np.flatnonzero(hit):
                out[i] = corruptions.gaussian_blur(out[i], float(sigma[i]))
        if self.motion_blur_px:
            hit, length, angle = hits(), rng.uniform(2.0, self.motion_blur_px, batch), rng.uniform(0, 180, batch)
            for i in np.flatnonzero(hit):
                out[i] = corruptions.motion_blur(out[i], float(length[i]), float(angle[i]))
        if self.noise_std:
            hit, std = hits(), rng.uniform(0.0, self.noise_std, batch)
            noise = rng.standard_normal((batch, SIZE, SIZE)).astype(np.float32)
            for i in np.flatnonzero(hit):
                out[i] = corruptions.sensor_noise(out[i], float(std[i]), noise[i])
        if self.jpeg_quality:
            hit, quality = hits(), rng.integers(int(self.jpeg_quality), 81, batch)
            for i in np.flatnonzero(hit):
                out[i] = corruptions.jpeg(out[i], int(quality[i]))
        return out

    def __call__(self, faces: np.ndarray, rng: np.random.Generator,
                 with_clean: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """(B, 48, 48) uint8 -> (B, 48, 48, 1) float32 in 0..255.

        With `with_clean`, also the same faces before the webcam degradations and the
        random erasing (same flip, warp, contrast and brightness) as (B, 48, 48) uint8:
        what a distillation teacher sees. It draws no extra random numbers."""
        batch = len(faces)
        out = np.empty((batch, SIZE, SIZE), np.float32)
        angles = rng.uniform(-self.rotation_deg, self.rotation_deg, batch)
        scales = 1.0 + rng.uniform(-self.zoom, self.zoom, batch)
        shifts = rng.uniform(-self.translate, self.translate, (batch, 2)) * SIZE
        flips = rng.random(batch) < 0.5 if self.flip else np.zeros(batch, bool)
        warp = bool(self.rotation_deg or self.zoom or self.translate)
        for i in range(batch):
            face = faces[i, :, ::-1] if flips[i] else faces[i]
            if warp:
                matrix = cv2.getRotationMatrix2D((_CENTRE, _CENTRE), float(angles[i]), float(scales[i]))
                matrix[:, 2] += shifts[i]
                face = cv2.warpAffine(np.ascontiguousarray(face), matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REFLECT_101)
            out[i] = face
        clean = out.copy() if with_clean else None
        if self.degrade_prob:
            out = self.degrade(out.astype(np.uint8), rng).astype(np.float32)
        if self.contrast:
            factor = rng.uniform(1 - self.contrast, 1 + self.contrast, (batch, 1, 1)).astype(np.float32)
            out = _scale_contrast(out, factor)
            if clean is not None:
                clean = _scale_contrast(clean, factor)
        if self.brightness:
            shift = rng.uniform(-self.brightness, self.brightness, (batch, 1, 1)).astype(np.float32) * 255.0
            out += shift
            if clean is not None:
                clean += shift
        if self.erase_prob:
            # One rectangle (8..20 px a side) of noise on each chosen face.
            for i in np.flatnonzero(rng.random(batch) < self.erase_prob):
                h, w = rng.integers(8, 21, 2)
                top, left = rng.integers(0, SIZE - h + 1), rng.integers(0, SIZE - w + 1)
                out[i, top:top + h, left:left + w] = rng.uniform(0, 255, (h, w))
        np.clip(out, 0.0, 255.0, out=out)
        if clean is None:
            return out[..., None]
        return out[..., None], np.clip(np.rint(clean), 0, 255).astype(np.uint8)


def _scale_contrast(faces: np.ndarray, factor: np.ndarray) -> np.ndarray:
    mean = faces.mean(axis=(1, 2), keepdims=True)
    return (faces - mean) * factor + mean


class TrainBatches:
    """(images, targets, sample weights) batches for epochs start..epochs-1, in order.

    Whole batches only (TF 2.21 + oneDNN crashed on a partial last batch).
    Batches are made ahead by a few threads (OpenCV and NumPy release the GIL)
    so the accelerator or the training threads never wait on augmentation.

    Distillation: with `make_teacher` (a factory of `predict(faces) -> probabilities`,
    called once per worker thread, since a TFLite interpreter is not thread-safe),
    each target becomes `(1 - teacher_weight) * label + teacher_weight * teacher`,
    where the teacher sees the face before degradations and erasing: the student
    learns to read a blurred, noisy or dark face as the teacher reads the clean one.

    Clean pairs: with `clean_pairs`, every batch holds each face twice, first its clean
    view (before degradations and erasing), then its degraded one, with the same target
    and weight: the webcam degradations are added to the clean faces, not swapped for
    them, so the clean distribution the model was good at stays half of every step.
    """

    def __init__(self, images: np.ndarray, targets: np.ndarray, sample_weights: np.ndarray,
                 augmenter: Augmenter, batch_size: int, seed: int, start_epoch: int, epochs: int,
                 workers: int = 2, prefetch: int = 8,
                 make_teacher: Callable[[], Callable[[np.ndarray], np.ndarray]] | None = None,
                 teacher_weight: float = 0.0, clean_pairs: bool = False) -> None:
        self.clean_pairs = bool(clean_pairs)
        self.images, self.targets, self.sample_weights = images, targets, sample_weights
        self.augmenter, self.batch_size, self.seed = augmenter, batch_size, seed
        self.start_epoch, self.epochs = start_epoch, epochs
        self.steps_per_epoch = len(images) // batch_size
        self.workers, self.prefetch = max(1, workers), max(1, prefetch)
        self.make_teacher, self.teacher_weight = make_teacher, float(teacher_weight)
        self._local = threading.local()

    def __len__(self) -> int:
        return self.steps_per_epoch * max(0, self.epochs - self.start_epoch)

    def epoch_order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def _make(self, idx: np.ndarray, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch, step, 1])
        if self.make_teacher is None and not self.clean_pairs:
            return self.augmenter(self.images[idx], rng), self.targets[idx], self.sample_weights[idx]
        faces, clean = self.augmenter(self.images[idx], rng, with_clean=True)
        targets, weights = self.targets[idx], self.sample_weights[idx]
        if self.make_teacher is not None:
            teacher = getattr(self._local, "teacher", None)
            if teacher is None:
                teacher = self._local.teacher = self.make_teacher()
            w = self.teacher_weight
            targets = ((1.0 - w) * targets + w * teacher(clean)).astype(np.float32)
        if not self.clean_pairs:
            return faces, targets, weights
        pairs = np.concatenate([clean[..., None].astype(np.float32), faces])
        return pairs, np.concatenate([targets, targets]), np.concatenate([weights, weights])

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        bs = self.batch_size
        with ThreadPoolExecutor(self.workers, thread_name_prefix="augment") as pool:
            pending: deque = deque()
            for epoch in range(self.start_epoch, self.epochs):
                order = self.epoch_order(epoch)
                for step in range(self.steps_per_epoch):
                    idx = np.sort(order[step * bs:(step + 1) * bs])
                    pending.append(pool.submit(self._make, idx, epoch, step))
                    if len(pending) >= self.prefetch:
                        yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
