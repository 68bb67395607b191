"""Frame sources and photo loading, with every kind of bad input built in tmp_path."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from kise_desktop.core import sources
from kise_desktop.core.sources import (MAX_IMAGE_SIDE, FolderSource, ImageError, SourceError, load_image,
                                       load_image_info, open_source)

PHOTO = "2008_001322.jpg"


def one_line_naming(exc: Exception, path: Path | str) -> bool:
    return str(path) in str(exc) and "\n" not in str(exc)


# -- photos ---------------------------------------------------------------------------

def test_loads_a_real_jpeg_as_bgr(dlib_faces_dir):
    image = load_image(dlib_faces_dir / PHOTO)
    assert image.shape == (375, 500, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, cv2.imread(str(dlib_faces_dir / PHOTO)))


@pytest.mark.parametrize("name,content,reason", [
    ("notes.jpg", b"these are not pixels\n", "not an image"),
    ("empty.png", b"", "empty"),
])
def test_non_image_and_empty_files(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError, match=reason) as caught:
        load_image(path)
    assert one_line_naming(caught.value, path)


def test_truncated_jpeg(tmp_path, dlib_faces_dir):
    data = (dlib_faces_dir / PHOTO).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated") as caught:
        load_image(path)
    assert one_line_naming(caught.value, path)


def test_missing_file_and_folder_given_as_image(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_16bit_png_is_rescaled_not_clipped(tmp_path, dlib_faces_dir):
    gray8 = cv2.imread(str(dlib_faces_dir / PHOTO), cv2.IMREAD_GRAYSCALE)
    gray16 = gray8.astype(np.uint16) * 257          # the full 16-bit range
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), gray16)
    image = load_image(path)
    assert image.dtype == np.uint8 and image.shape == (375, 500, 3)
    np.testing.assert_array_equal(image[:, :, 0], gray8)

    colour16 = cv2.imread(str(dlib_faces_dir / PHOTO)).astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "deep_colour.png"), colour16)
    colour = load_image(tmp_path / "deep_colour.png")
    assert np.abs(colour.astype(int) - cv2.imread(str(dlib_faces_dir / PHOTO)).astype(int)).max() <= 1


def test_rgba_png_is_composited_on_white(tmp_path, dlib_faces_dir):
    bgr = cv2.imread(str(dlib_faces_dir / PHOTO))
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    bgra[:100, :, 3] = 0                           # top band fully transparent
    path = tmp_path / "alpha.png"
    cv2.imwrite(str(path), bgra)
    image = load_image(path)
    assert image.shape == (375, 500, 3)
    assert (image[:100] == 255).all()
    np.testing.assert_array_equal(image[100:], bgr[100:])


def test_grayscale_photo_becomes_three_channels(tmp_path, dlib_faces_dir):
    path = tmp_path / "gray.png"
    cv2.imwrite(str(path), cv2.imread(str(dlib_faces_dir / PHOTO), cv2.IMREAD_GRAYSCALE))
    assert load_image(path).shape == (375, 500, 3)


def test_exif_orientation_is_honoured(tmp_path, dlib_faces_dir):
    with Image.open(dlib_faces_dir / PHOTO) as img:
        exif = img.getexif()
        exif[0x0112] = 6                           # "rotate 90 degrees clockwise to display"
        path = tmp_path / "rotated.jpg"
        img.save(path, exif=exif, quality=95)
    with Image.open(path) as img:                  # the stored pixels, still sideways
        stored = np.asarray(img.convert("RGB"))[:, :, ::-1]
    loaded = load_image_info(path)
    assert loaded.image_bgr.shape == (500, 375, 3)
    assert loaded.original_size == (375, 500)
    np.testing.assert_array_equal(loaded.image_bgr, cv2.rotate(stored, cv2.ROTATE_90_CLOCKWISE))


def test_huge_image_is_downscaled_and_says_so(tmp_path):
    huge = np.zeros((9000, 12000, 3), np.uint8)
    huge[:, 6000:] = (0, 0, 255)                   # right half red
    path = tmp_path / "huge.jpg"
    cv2.imwrite(str(path), huge, [cv2.IMWRITE_JPEG_QUALITY, 80])
    loaded = load_image_info(path)
    assert loaded.image_bgr.shape == (3072, MAX_IMAGE_SIDE, 3)
    assert loaded.original_size == (12000, 9000)
    assert loaded.scale == pytest.approx(4096 / 12000)
    assert any("downscaled from 12000x9000" in n for n in loaded.notes)
    assert loaded.image_bgr[1500, 3500, 2] > 200 and loaded.image_bgr[1500, 500, 2] < 50


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.zeros((300, 400), np.uint8))
    monkeypatch.setattr(sources, "MAX_IMAGE_PIXELS", 100_000)
    with pytest.raises(ImageError, match="over KISE's limit of 100,000 pixels") as caught:
        load_image(path)
    assert one_line_naming(caught.value, path) and "400x300" in str(caught.value)


# -- sources --------------------------------------------------------------------------

@pytest.fixture
def mixed_folder(tmp_path, dlib_faces_dir) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("2008_001322.jpg", "2008_001009.jpg"):
        shutil.copy(dlib_faces_dir / name, folder / name)
    (folder / "b_empty.jpg").write_bytes(b"")
    (folder / "c_text.png").write_text("not a png")
    data = (dlib_faces_dir / "2008_002079.jpg").read_bytes()
    (folder / "d_cut.jpg").write_bytes(data[:2000])
    (folder / "readme.txt").write_text("ignored: no image suffix")
    return folder


def test_folder_goes_on_past_bad_files_and_keeps_them(mixed_folder):
    with open_source(mixed_folder) as source:
        assert source.kind == "folder" and len(source) == 5
        frames = list(source)
    assert [f.name for f in frames] == ["2008_001009.jpg", "2008_001322.jpg"]
    assert all(f.image_bgr.ndim == 3 for f in frames)
    bad = sorted(str(e) for e in source.errors)
    assert len(bad) == 3
    for name, error in zip(["b_empty.jpg", "c_text.png", "d_cut.jpg"], bad):
        assert str(mixed_folder / name) in error and "\n" not in error


def test_folder_can_raise_each_bad_file_and_continue(mixed_folder):
    source = FolderSource(mixed_folder, skip_bad=False)
    names, errors = [], []
    while True:
        try:
            names.append(next(source).name)
        except ImageError as exc:
            errors.append(exc)
        except StopIteration:
            break
    assert len(names) == 2 and len(errors) == 3


def test_single_image_source(dlib_faces_dir):
    source = open_source(str(dlib_faces_dir / PHOTO))
    frames = list(source)
    assert source.kind == "image" and len(frames) == 1 and frames[0].name == PHOTO


def make_video(path: Path, photos: list[Path], frames_each: int, fps: float = 10.0) -> Path:
    images = [cv2.imread(str(p)) for p in photos]
    h, w = images[0].shape[:2]
    h, w = h - h % 2, w - w % 2                    # MPEG-4 wants even sizes
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for image in images:
        for _ in range(frames_each):
            writer.write(cv2.resize(image, (w, h)))
    writer.release()
    return path


def test_video_file_frames_and_timestamps(tmp_path, dlib_faces_dir):
    video = make_video(tmp_path / "clip.mp4", [dlib_faces_dir / PHOTO], 5)
    with open_source(video) as source:
        assert source.kind == "video" and source.fps == pytest.approx(10.0)
        frames = list(source)
    assert len(frames) == 5
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert frames[0].image_bgr.shape == (374, 500, 3)


def test_missing_paths_and_unreadable_videos(tmp_path):
    with pytest.raises(SourceError, match="no such file") as caught:
        open_source(tmp_path / "gone.mp4")
    assert one_line_naming(caught.value, tmp_path / "gone.mp4")
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    with pytest.raises(SourceError) as caught:
        open_source(fake)
    assert one_line_naming(caught.value, fake)
    with pytest.raises(SourceError, match="no images"):
        open_source(tmp_path)


def test_missing_camera_index():
    with pytest.raises(SourceError, match="camera 97") as caught:
        open_source("97")
    assert "\n" not in str(caught.value)


def test_camera_that_stops_mid_stream(monkeypatch, tmp_path, dlib_faces_dir):
    """A fake camera: OpenCV capture of a short real video, which then runs dry like an unplugged camera."""
    video = make_video(tmp_path / "cam.mp4", [dlib_faces_dir / PHOTO], 3)
    real_capture = cv2.VideoCapture
    monkeypatch.setattr(sources.cv2, "VideoCapture",
                        lambda spec, *a: real_capture(str(video)) if isinstance(spec, int) else real_capture(spec, *a))
    source = open_source(0)
    assert source.kind == "camera"
    frames = [next(source) for _ in range(3)]
    assert all(f.image_bgr.shape == (374, 500, 3) for f in frames)
    assert frames[0].timestamp <= frames[1].timestamp <= frames[2].timestamp
    with pytest.raises(SourceError, match="camera 0: stopped"):
        next(source)
    source.close()


def test_camera_name_comes_from_sysfs_and_is_empty_when_unknown(tmp_path):
    from kise_desktop.core.sources import camera_name

    # The layout Linux's video4linux class uses: /sys/class/video4linux/video0/name
    (tmp_path / "video0").mkdir()
    (tmp_path / "video0" / "name").write_text("Integrated Camera: Integrated C\n", encoding="utf-8")
    assert camera_name(0, sysfs=tmp_path) == "Integrated Camera: Integrated C"
    assert camera_name(1, sysfs=tmp_path) == ""            # no such device
    assert isinstance(camera_name(0), str)                 # the real sysfs (or none) never raises
