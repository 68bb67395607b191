"""YuNet (2023): OpenCV's compact CNN face detector, with a score and five landmarks per face.

Runs on OpenCV's DNN module (`cv2.FaceDetectorYN`), from the bundled ONNX file
(resources/models/YUNET.md says where it comes from). It reads BGR. Its input
size is fixed per network, so it is set only when the frame (or detection)
size changes; thresholds are pushed to the network only when they change.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kise_desktop.core.detectors.base import (DetectorError, Downscaler, FrameImages, as_frame_images, clip_box,
                                              detect_width_setting, setting)
from kise_desktop.core.detectors.registry import DetectorKind, register, width_text
from kise_desktop.core.types import Detection
from kise_desktop.paths import MODELS_DIR

# The two bundled networks (resources/models/YUNET.md): "2023mar" is the faster at 320 px; "n" places
# landmarks that follow a tilted head (2023mar's eye line stays within a few degrees of level when the
# face turns by 20-30 degrees, measured on the dlib-faces photos), which alignment needs.
YUNET_MODEL_FILES: dict[str, str] = {"2023mar": "face_detection_yunet_2023mar.onnx", "n": "yunet_n_640_640.onnx"}


@dataclass(frozen=True)
class YuNetSettings:
    """YuNet face detector (face_detection_yunet_2023mar.onnx)."""
    score_threshold: float = setting(0.6, label={"en": "Score threshold", "ko": "점수 임계값"},
                                     minimum=0.05, maximum=0.99, step=0.05, decimals=2,
                                     help="lower finds more faces and more false ones")
    nms_threshold: float = setting(0.3, label={"en": "Overlap (NMS) threshold", "ko": "겹침(NMS) 임계값"},
                                   minimum=0.05, maximum=0.95, step=0.05, decimals=2,
                                   help="boxes overlapping more than this are merged")
    top_k: int = setting(50, label={"en": "Max faces", "ko": "최대 얼굴 수"}, minimum=1, maximum=500, step=1,
                         help="keep at most this many candidates")
    model: str = setting("2023mar", label={"en": "Network", "ko": "신경망"}, choices=tuple(YUNET_MODEL_FILES),
                         help="2023mar: fastest; n: landmarks that follow a tilted head (for aligned crops)")
    detect_width: int | None = detect_width_setting(320)
    enlarge: bool = setting(False, label={"en": "Enlarge smaller frames", "ko": "작은 영상 확대"},
                            help="bring frames narrower than the detection width up to it (small faces in small photos)")


def model_path_for(model: str) -> Path:
    return MODELS_DIR / YUNET_MODEL_FILES.get(model, model)


class YuNetDetector:
    """Boxes, scores and landmarks from YuNet, in frame pixels."""

    kind = "yunet"

    def __init__(self, settings: YuNetSettings = YuNetSettings(), model_path: str | Path | None = None) -> None:
        self._fixed_path = Path(model_path) if model_path else None    # a file given by the caller wins
        self.settings = settings
        self._loaded_model: str | None = None
        self._downscaler = Downscaler()
        self._load(settings)

    def _load(self, settings: YuNetSettings) -> None:
        path = self._fixed_path or model_path_for(settings.model)
        if not path.is_file():
            raise DetectorError(f"{path}: the YuNet face-detector model is missing")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 240), settings.score_threshold,
                                                  settings.nms_threshold, settings.top_k)
        except cv2.error as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "OpenCV could not read it"
            raise DetectorError(f"{path}: not a usable YuNet ONNX model ({reason})") from None
        self.model_path = path
        self._loaded_model = settings.model
        self._applied = (settings.score_threshold, settings.nms_threshold, settings.top_k)
        self._input_size: tuple[int, int] | None = None

    def _apply_settings(self) -> None:
        s = self.settings
        if s.model != self._loaded_model and self._fixed_path is None:
            self._load(s)           # another network chosen: the only change that rebuilds
        wanted = (s.score_threshold, s.nms_threshold, s.top_k)
        if wanted != self._applied:
            self._net.setScoreThreshold(float(s.score_threshold))
            self._net.setNMSThreshold(float(s.nms_threshold))
            self._net.setTopK(int(s.top_k))
            self._applied = wanted

    def detect(self, frame: np.ndarray | FrameImages) -> list[Detection]:
        bgr = as_frame_images(frame).bgr
        self._apply_settings()
        small, factor = self._downscaler.shrink(bgr, self.settings.detect_width, self.settings.enlarge)
        size = (small.shape[1], small.shape[0])
        if size != self._input_size:
            self._net.setInputSize(size)
            self._input_size = size
        _, rows = self._net.detect(small)
        if rows is None:
            return []
        frame_h, frame_w = bgr.shape[:2]
        out: list[Detection] = []
        for row in rows:
            if not np.isfinite(row[:15]).all():     # very flat frames (e.g. 4000x10) give inf boxes
                continue
            box = clip_box(float(row[0]), float(row[1]), float(row[2]), float(row[3]), factor, frame_w, frame_h)
            if box is None:
                continue
            landmarks = (row[4:14].reshape(5, 2) * factor).astype(np.float32)
            out.append(Detection(box=box, score=float(row[14]), landmarks=landmarks))
        out.sort(key=lambda d: d.box)
        return out


def _describe(s: YuNetSettings) -> str:
    enlarge = "+" if s.enlarge else ""
    return (f"yunet-{s.model} score{s.score_threshold:g} nms{s.nms_threshold:g} top{s.top_k} "
            f"{width_text(s.detect_width)}{enlarge}")


register(DetectorKind(
    name="yunet",
    display_name={"en": "YuNet (OpenCV DNN)", "ko": "YuNet (OpenCV DNN)"},
    settings_class=YuNetSettings,
    factory=YuNetDetector,
    presets={
        # Chosen by measurement on the dlib-faces photos (kise bench; README "Face detectors on this CPU").
        # Live, at 640x480: detect at 320 px wide; score 0.7 kept recall at 100% and cut the false faces
        # that 0.5-0.6 let through (precision 83-90% -> 98%); 240 px missed a face, 480 px cost 2.5x.
        "live": YuNetSettings(score_threshold=0.7, nms_threshold=0.3, top_k=50, detect_width=320),
        # Photos: the "n" network (its landmarks follow tilted heads, for aligned crops) at the photo's own
        # size up to 2048 px; score 0.8: recall 100%, precision 100% on the photos' own size (0.7 let 1 false
        # face in 45 through). Enlarging small photos to 640 px found no more faces and more false ones.
        "photo": YuNetSettings(score_threshold=0.8, nms_threshold=0.3, top_k=500, model="n", detect_width=2048),
    },
    summary={"en": "2023 CNN: finds small, turned and tilted faces, with landmarks; fastest here",
             "ko": "2023년 CNN: 작거나 돌린 얼굴도 찾고 눈·코·입 위치를 줌, 여기서 가장 빠름"},
    describe=_describe,
    # YuNet's boxes take in more of the head than the tight FER+ framing the classifier learnt with its
    # sidecar margin. On 1000 FER+ validation faces on a canvas (python -m training.evaluate_pipeline
    # --split valid --sample 1000 --sweep --scales 0.6 0.7 0.75 0.8 0.85 0.9 --angles 0 30 -30), accuracy
    # over tilts 0/+-30 with aligned crops peaks at 0.8: 2023mar 86.8% (1.0: 84.2%, 0.7: 86.2%), n 87.7%
    # (1.0: 85.4%, 0.7: 86.1%); upright, plain crops: 2023mar 85.9% (1.0: 83.1%), n 87.8% (1.0: 84.8%).
    crop_scale=0.8,
    # OpenCV's pool cost 93% of a core against 74% on one thread for the same 30 fps shown
    # (bench_gui --paced, 2-core VM): its second thread spins between the small DNN layers.
    opencv_threads=1,
))
