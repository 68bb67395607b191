"""`kise report` on a real `kise video` CSV of a real clip, and `kise video --report`."""
from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from kise_desktop.cli import main
from kise_desktop.core.detectors import kind_names
from kise_desktop.core.report import read_session_csv, report_faces
from kise_desktop.emotions import EMOTION_KEYS, EMOTIONS

IMG = re.compile(r"src='data:image/(png|jpeg);base64,([A-Za-z0-9+/=]+)'")


@pytest.fixture(scope="module")
def d12_run(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    clip = shared_data / "videos" / "d12.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    out = tmp_path_factory.mktemp("report")
    rc = main(["video", str(clip), "-o", str(out / "d12.mp4"), "--report", str(out / "live.html"), "--lang", "en"])
    assert rc == 0
    return {"clip": clip, "csv": out / "d12.csv", "live": out / "live.html", "dir": out}


def decoded_images(html: str) -> list[np.ndarray]:
    images = []
    for kind, data in IMG.findall(html):
        image = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.size > 0, f"an embedded {kind} does not decode"
        images.append(image)
    return images


def shown_shares(html: str) -> list[float]:
    """The per-emotion percentages of each face's strongest-moment cards, face by face."""
    sections = html.split("<section>")[1:]
    return [sum(int(p) for p in re.findall(r"</b> (\d+)%<br>", s)) for s in sections]


def test_kise_report_on_a_real_video_csv_writes_a_self_contained_html(d12_run, capsys):
    out = d12_run["dir"] / "from_csv.html"
    rc = main(["report", str(d12_run["csv"]), "-o", str(out), "--lang", "ko", "--video", str(d12_run["clip"])])
    assert rc == 0
    html = out.read_text(encoding="utf-8")
    assert "<img" in html and "http" not in html.replace("http-equiv", "")   # nothing fetched from outside
    images = decoded_images(html)
    session = read_session_csv(d12_run["csv"])
    faces, _ = report_faces(session)
    # one timeline per face, plus a thumbnail per emotion that led
    assert len(images) >= len(faces) + 1
    assert EMOTIONS[0].ko in html or any(e.ko in html for e in EMOTIONS)
    # shares sum to 100% per face: exactly in the data, within rounding on the page
    for face in faces:
        assert face.shares().sum() == pytest.approx(1.0)
    for total in shown_shares(html):
        assert abs(total - 100) <= len(EMOTION_KEYS) // 2
    png = cv2.imread(str(out.with_suffix(".png")))
    assert png is not None and png.shape[0] > 100


def test_the_shares_are_the_displayed_labels_time(d12_run):
    with d12_run["csv"].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    main_face = max({r["track_id"] for r in rows}, key=lambda t: sum(r["track_id"] == t for r in rows))
    labels = [r["label"] for r in rows if r["track_id"] == main_face]
    face = read_session_csv(d12_run["csv"]).faces[int(main_face)]
    shares = dict(zip(EMOTION_KEYS, face.shares()))
    for key in set(labels):   # frame counts, as the clip has a constant rate (gaps aside)
        assert shares[key] == pytest.approx(labels.count(key) / len(labels), abs=0.06)


def test_kise_video_report_has_thumbnails_from_the_frames(d12_run):
    html = d12_run["live"].read_text(encoding="utf-8")
    jpegs = [kind for kind, _ in IMG.findall(html) if kind == "jpeg"]
    assert jpegs, "no face thumbnails in the video's report"
    decoded_images(html)
    assert "No thumbnails" not in html
    # the run's settings: the detector (the CLI's default kind) and the label smoothing
    assert any(f"<td>{kind}" in html for kind in kind_names()) and "tau" in html


def test_a_csv_alone_says_it_has_no_thumbnails(d12_run):
    out = d12_run["dir"] / "no_video.html"
    assert main(["report", str(d12_run["csv"]), "-o", str(out), "--lang", "en"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "No thumbnails" in html and not [k for k, _ in IMG.findall(html) if k == "jpeg"]


def test_bad_input_is_one_line_and_no_overwrite(d12_run, tmp_path, capsys):
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "not a KISE session CSV" in err[0]
    assert main(["report", str(d12_run["csv"]), "-o", str(d12_run["csv"])]) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.html")]) == 1
