"""Inputs checked at the door: `kise video` outputs, FIFOs, argument ranges, sidecars, the pixel limit."""
from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import pytest

from kise_desktop.core import sources
from kise_desktop.core.sources import ImageError, load_image_info
from kise_desktop.paths import REPO_DIR


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kise: error:")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clip(tmp_path, dlib_faces_dir) -> Path:
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (500, 374))
    image = cv2.resize(cv2.imread(str(dlib_faces_dir / "2008_001322.jpg")), (500, 374))
    for _ in range(6):
        writer.write(image)
    writer.release()
    return path


@pytest.mark.parametrize("case", ["-o is the input", "--csv is the input", "--csv is -o", "-o links to the input",
                                  "-o hard-links the input", "-o exists"])
def test_video_outputs_that_would_overwrite_are_refused(run_kise, model_args, clip, tmp_path, case):
    extra: list[str] = []
    if case == "-o is the input":
        extra = ["-o", str(clip)]
    elif case == "--csv is the input":
        extra = ["-o", str(tmp_path / "out.mp4"), "--csv", str(clip)]
    elif case == "--csv is -o":
        extra = ["-o", str(tmp_path / "out.mp4"), "--csv", str(tmp_path / "out.mp4")]
    elif case == "-o links to the input":
        os.symlink(clip, tmp_path / "link.mp4")
        extra = ["-o", str(tmp_path / "link.mp4")]
    elif case == "-o hard-links the input":
        os.link(clip, tmp_path / "hard.mp4")
        extra = ["-o", str(tmp_path / "hard.mp4")]
    else:
        (tmp_path / "old.mp4").write_bytes(b"an earlier result")
        extra = ["-o", str(tmp_path / "old.mp4")]
    before = {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file()}
    code, _, err = run_kise("video", clip, *extra, *model_args)
    assert code == 1 and len(error_lines(err)) == 1 and "Traceback" not in err
    assert {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file()} == before


def test_video_overwrite_replaces_an_existing_output_and_uses_the_schema(run_kise, model_args, clip, tmp_path):
    from kise_desktop.core.results import FRAME_CSV_HEADER

    out = tmp_path / "old.mp4"
    out.write_bytes(b"an earlier result")
    code, _, err = run_kise("video", clip, "-o", out, "--overwrite", *model_args)
    assert code == 0, err
    assert cv2.VideoCapture(str(out)).read()[0]
    header = (tmp_path / "old.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == FRAME_CSV_HEADER
    assert not list(tmp_path.glob("*.part.*"))


def test_video_on_a_fifo_is_refused_not_waited_on(tmp_path, model_args):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "video", str(fifo), "-o", str(tmp_path / "o.mp4"),
                           *model_args], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO_DIR)})
    assert done.returncode == 1 and "FIFO" in done.stderr and len(error_lines(done.stderr)) == 1



def test_a_truncated_real_clip_is_one_line_with_nothing_from_ffmpeg(tmp_path, model_args, shared_data):
    """FFmpeg's own complaint ("moov atom not found") would be a second line the user cannot act on."""
    source = shared_data / "videos" / "d0.mp4"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(source.read_bytes()[:5000])        # the start of a real clip: its index never arrives
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "video", str(cut), "-o", str(tmp_path / "o.mp4"),
                           *model_args], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
                          env={**env, "PYTHONPATH": str(REPO_DIR)})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == error_lines(done.stderr) and str(cut) in done.stderr, done.stderr
    assert not (tmp_path / "o.mp4").exists()

BAD_ARGS = [
    ("video", "IN", "-o", "o.mp4", "--smoothing", "1.5"),
    ("video", "IN", "-o", "o.mp4", "--smoothing", "-0.1"),
    ("video", "IN", "-o", "o.mp4", "--tau", "-1"),
    ("video", "IN", "-o", "o.mp4", "--margin", "1"),
    ("video", "IN", "-o", "o.mp4", "--hold", "nan"),
    ("video", "IN", "-o", "o.mp4", "--min-confidence", "1.2"),
    ("video", "IN", "-o", "o.mp4", "--max-frames", "-5"),
    ("video", "IN", "-o", "o.mp4", "--max-frames", "0"),
    ("video", "IN", "-o", "out/nosuffix"),
    ("video", "IN", "-o", "o.webm"),
    ("annotate", "IN", "--threads", "0"),
    ("annotate", "IN", "--threads", "100000"),
    ("annotate", "IN", "--jobs", "0"),
    ("annotate", "IN", "--jobs", "two"),
    ("bench", "--repeats", "0"),
    ("bench", "--sizes", "0x0"),
    ("bench", "--sizes", "99999x480"),
]


@pytest.mark.parametrize("argv", BAD_ARGS, ids=[" ".join(a[2:]) or a[0] for a in BAD_ARGS])
def test_out_of_range_arguments_exit_2_with_one_line(run_kise, clip, tmp_path, argv):
    argv = [str(clip) if a == "IN" else a for a in argv]
    argv = [str(tmp_path / a) if a in ("o.mp4", "out/nosuffix", "o.webm") else a for a in argv]
    code, out, err = run_kise(*argv)
    assert code == 2 and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert not list(tmp_path.glob("o*")) and not (tmp_path / "out").exists()


SIDECAR_CASES = {
    "labels": 8,
    "crop_margin": "wide",
    "normalization": {"scale": "x", "offset": 0},
    "output": "softmax",
}


@pytest.mark.parametrize("field", [*SIDECAR_CASES, "labels-duplicate", "labels-unknown"])
def test_sidecar_fields_are_validated_in_one_line(run_kise, any_model, dlib_faces_dir, tmp_path, field):
    data = json.loads(any_model[1].read_text(encoding="utf-8"))
    if field == "labels-duplicate":
        data["labels"] = ["neutral"] * len(data["labels"])
    elif field == "labels-unknown":
        data["labels"] = [*data["labels"][:-1], "joy"]
    else:
        data[field] = SIDECAR_CASES[field]
    sidecar = tmp_path / "bad.json"
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run_kise("annotate", dlib_faces_dir / "2008_001322.jpg", "-o", tmp_path / "o",
                            "--model", any_model[0], "--sidecar", sidecar)
    assert code == 1 and "Traceback" not in err
    lines = error_lines(err)
    name = field.split("-")[0]
    assert len(lines) == 1 and str(sidecar) in lines[0] and f"'{name}" in lines[0]


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with no pixel data: only the header can be read."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20001, 15000), (100000, 100000)])
def test_pixel_limit_is_kises_read_from_the_header_with_size_and_limit(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(*size))
    with pytest.raises(ImageError) as caught:
        load_image_info(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and f"{size[0]}x{size[1]}" in message
    assert f"{sources.MAX_IMAGE_PIXELS:,}" in message


def test_a_photo_at_the_limit_is_decoded_not_refused(tmp_path, monkeypatch):
    import numpy as np

    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), np.full((100, 4000, 3), 255, np.uint8))
    monkeypatch.setattr(sources, "MAX_IMAGE_PIXELS", 4000 * 100)
    assert load_image_info(path).original_size == (4000, 100)
    monkeypatch.setattr(sources, "MAX_IMAGE_PIXELS", 4000 * 100 - 1)
    with pytest.raises(ImageError, match="over KISE's limit"):
        load_image_info(path)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the peak from Linux's /proc/self/status")
def test_big_flat_png_is_reduced_before_conversion(tmp_path):
    """A 17000x10500 PNG: decoded once at full size, then shrunk before the copies (peak RSS well under 3 GB)."""
    path = tmp_path / "flat.png"
    code = ("import numpy as np, cv2, sys; cv2.imwrite(sys.argv[1], np.full((10500, 17000, 3), 200, np.uint8))")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=300)   # 535 MB of pixels to compress: slow on a busy machine
    # VmHWM is this process's own peak. ru_maxrss is not: Linux carries the parent's peak across
    # subprocess's vfork + exec, so after a heavy test run it measured pytest, not the decode.
    probe = ("import re, sys; from kise_desktop.core.sources import load_image_info; "
             "img = load_image_info(sys.argv[1]); "
             "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1); "
             "print(img.image_bgr.shape[1], img.image_bgr.shape[0], hwm)")
    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=REPO_DIR, env={**os.environ, "PYTHONPATH": str(REPO_DIR)})
    assert done.returncode == 0, done.stderr
    width, height, peak_kb = (int(v) for v in done.stdout.split())
    assert (width, height) == (4096, 2530)
    assert peak_kb < 1_500_000, f"peak RSS {peak_kb / 1e6:.2f} GB"


def test_version_into_a_closed_pipe_is_quiet():
    """`kise --version | head -0`: the reader is gone before KISE writes; no BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "--version"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 0
