"""`kise annotate` never loses or overwrites data: inputs, earlier runs, interruptions, full disks, cores."""
from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kise_desktop.core import results as results_module
from kise_desktop.paths import REPO_DIR

FAST = ("--detector", "haar", "--preset", "live", "--lang", "en")   # the cheapest real pipeline
PHOTOS = ("2008_001322.jpg", "2008_002079.jpg", "2008_001009.jpg")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("kise: error:")]


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def comparable(report: dict) -> list[dict]:
    """Image records without what legitimately differs between runs (timings, output folder)."""
    return [{k: v for k, v in image.items() if k not in ("timings_ms", "output")} | {"file": Path(image["file"]).name}
            for image in report["images"]]


def load(out: Path) -> tuple[dict, list[dict], list[dict]]:
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))
    with (out / "results.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    journal = list(results_module.read_journal(out / "results.jsonl"))
    return report, rows, journal


@pytest.fixture
def photo_dir(tmp_path, dlib_faces_dir) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in PHOTOS:
        shutil.copy(dlib_faces_dir / name, folder / name)
    return folder


def test_annotating_a_folder_into_itself_keeps_user_files_and_never_reannotates(run_kise, model_args, photo_dir):
    # A user's own photo that happens to have the name KISE would give an output.
    shutil.copy(photo_dir / PHOTOS[1], photo_dir / "2008_001322_kise.jpg")
    before = checksums(photo_dir)
    code, _, err = run_kise("annotate", photo_dir, "-o", photo_dir, *FAST, *model_args)
    assert code == 0, err
    after_first = checksums(photo_dir)
    assert {name: after_first[name] for name in before} == before      # no input touched
    assert "2008_001322_kise-2.jpg" in after_first                     # the user's name was taken: numbered
    code, _, err = run_kise("annotate", photo_dir, "-o", photo_dir, *FAST, *model_args)
    assert code == 0, err
    assert checksums(photo_dir) == after_first                         # outputs never taken as inputs
    report, rows, _ = load(photo_dir)
    assert sorted(Path(i["file"]).name for i in report["images"]) == sorted(before)
    assert len({i["output"] for i in report["images"]}) == len(before)
    assert "(4 done by an earlier run)" in err


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_results_file_linked_to_an_input_is_refused_before_writing(run_kise, model_args, photo_dir, tmp_path, link):
    out = tmp_path / "out"
    out.mkdir()
    target = photo_dir / PHOTOS[0]
    (os.symlink if link == "symlink" else os.link)(target, out / "results.json")
    before = checksums(photo_dir)
    code, _, err = run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)
    assert code == 1 and len(error_lines(err)) == 1 and "results.json" in err and "Traceback" not in err
    assert checksums(photo_dir) == before
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]    # nothing written


def test_earlier_run_with_other_settings_is_refused_then_replaced_with_overwrite(run_kise, model_args, photo_dir,
                                                                                 tmp_path):
    out = tmp_path / "out"
    assert run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)[0] == 0
    first = checksums(out)
    code, _, err = run_kise("annotate", photo_dir, "-o", out, "--detector", "hog", "--preset", "live", *model_args)
    assert code == 1 and len(error_lines(err)) == 1 and "--overwrite" in err and "detector" in err
    assert checksums(out) == first                                      # refused: nothing mixed in
    code, _, err = run_kise("annotate", photo_dir, "-o", out, "--detector", "hog", "--preset", "live",
                            "--overwrite", *model_args)
    assert code == 0, err
    report, rows, journal = load(out)
    assert {i["detector"] for i in report["images"]} == {"hog"} and report["detectors"][0]["kind"] == "hog"
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(f"{Path(n).stem}_kise.jpg" for n in PHOTOS)
    assert len(journal) == 1 + len(PHOTOS)                              # header + one line each, no old lines


def test_legacy_results_without_a_journal_are_not_mixed(run_kise, model_args, photo_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"images": [], "detector": {"kind": "haar"}}', encoding="utf-8")
    code, _, err = run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)
    assert code == 1 and "--overwrite" in err and len(error_lines(err)) == 1


def test_parallel_run_gives_the_single_process_results(run_kise, model_args, dlib_faces_dir, tmp_path):
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        code, _, err = run_kise("annotate", dlib_faces_dir, "-o", out, "--jobs", jobs, "--lang", "en", *model_args)
        assert code == 0, err
        runs[jobs] = load(out)
    (one, rows_one, _), (two, rows_two, _) = runs["1"], runs["2"]
    assert len(one["images"]) == len(list(dlib_faces_dir.glob("*.jpg"))) and one["complete"]
    assert comparable(one) == comparable(two)
    assert [r | {"file": Path(r["file"]).name} for r in rows_one] == [r | {"file": Path(r["file"]).name}
                                                                      for r in rows_two]
    assert sum(len(i["faces"]) for i in one["images"]) == len(rows_one) > 0


def many_photos(folder: Path, dlib_faces_dir: Path, n: int) -> Path:
    folder.mkdir()
    sources = sorted(dlib_faces_dir.glob("2008_*.jpg"))
    for i in range(n):
        shutil.copy(sources[i % len(sources)], folder / f"p{i:03d}.jpg")
    return folder


def _ctrl_c_as_at_a_terminal() -> None:
    # A shell starts background jobs (`cmd &`, as CI runners may run pytest) with SIGINT ignored, children
    # inherit that, and Python then installs no KeyboardInterrupt handler: Ctrl-C would never reach the run.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def kise_process(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kise_desktop.cli", *args], cwd=REPO_DIR,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_DIR)}, preexec_fn=_ctrl_c_as_at_a_terminal)


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux /proc); [] where that cannot be read."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_for_records(journal: Path, n: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and len(list(results_module.read_journal(journal))) >= n + 1:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{journal}: fewer than {n} records after {timeout} s")


@pytest.mark.parametrize("sig, jobs", [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGKILL, 1), (signal.SIGINT, 2)],
                         ids=["ctrl-c", "term", "kill", "ctrl-c-2-processes"])
def test_interrupted_run_leaves_valid_files_and_a_rerun_completes_them(model_args, dlib_faces_dir, tmp_path, sig, jobs):
    folder = many_photos(tmp_path / "in", dlib_faces_dir, 12)
    out = tmp_path / "out"
    args = ("annotate", str(folder), "-o", str(out), "--jobs", str(jobs), *FAST, *model_args)
    process = kise_process(*args, "--debug-photo-delay", "0.3")
    wait_for_records(out / "results.jsonl", 3, process)
    if jobs > 1:
        process.send_signal(sig)     # Ctrl-C reaches the whole process group: the workers too
        for child in _children(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)
    else:
        process.send_signal(sig)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        for child in _children(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the run did not stop within 60 s of the signal ({jobs} process(es))") from None
    journal = list(results_module.read_journal(out / "results.jsonl"))
    done = [r for r in journal[1:] if "output" in r]
    assert 3 <= len(done) < 12
    for record in done:
        assert Path(record["output"]).is_file()                       # every journaled photo has its image
    if sig != signal.SIGKILL:
        assert process.returncode == 130 and "Traceback" not in err and "rerun the same command" in err
        report, rows, _ = load(out)
        assert report["complete"] is False and len(report["images"]) == len(done)
        assert len(rows) == sum(len(i["faces"]) for i in report["images"])

    done_before = len(done)
    finished = subprocess.run([sys.executable, "-m", "kise_desktop.cli", *args], cwd=REPO_DIR, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO_DIR)})
    assert finished.returncode == 0, finished.stderr
    assert f"({done_before} done by an earlier run)" in finished.stderr
    report, rows, journal = load(out)
    assert report["complete"] is True
    files = [Path(i["file"]).name for i in report["images"]]
    assert files == sorted(p.name for p in folder.iterdir())              # each input once, in input order
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(f"{Path(f).stem}_kise.jpg" for f in files)
    assert not list(out.glob(".*kise-tmp"))

    reference = tmp_path / "reference"
    code = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", str(folder), "-o", str(reference),
                           "--jobs", "1", *FAST, *model_args], cwd=REPO_DIR, capture_output=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO_DIR)}).returncode
    assert code == 0
    want, want_rows, _ = load(reference)
    assert comparable(report) == comparable(want)
    assert len(rows) == len(want_rows)


def test_full_disk_on_the_final_write_keeps_the_earlier_results(run_kise, model_args, photo_dir, tmp_path,
                                                                monkeypatch, dlib_faces_dir):
    out = tmp_path / "out"
    assert run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)[0] == 0
    earlier = (out / "results.json").read_bytes()
    shutil.copy(dlib_faces_dir / "2008_002470.jpg", photo_dir / "z_new.jpg")
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).name in ("results.json", "results.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr(results_module.os, "replace", replace)
    code, _, err = run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)
    assert code == 1 and "Traceback" not in err
    assert any(str(out / "results.json") in line and "No space left" in line for line in error_lines(err))
    assert (out / "results.json").read_bytes() == earlier                 # atomic: the old file, whole
    assert not list(out.glob(".*kise-tmp"))
    monkeypatch.setattr(results_module.os, "replace", real_replace)
    code, _, err = run_kise("annotate", photo_dir, "-o", out, *FAST, *model_args)
    assert code == 0, err
    report, _, _ = load(out)
    assert len(report["images"]) == len(PHOTOS) + 1 and report["complete"]


FULL_DISK_SCRIPT = r"""
set -u
mount -t tmpfs -o size={size} kise-test-tmpfs "$MNT" || exit 77
run() {{ "$PY" -m kise_desktop.cli annotate "$IN" -o "$MNT/out" {fast} {model}; }}
run 2> "$LOG/first.err"; echo $? > "$LOG/first.rc"
cp "$MNT/out/results.json" "$LOG/first.json"
cp -r "$IN2"/. "$IN"/
head -c 100000000 /dev/zero > "$MNT/filler" 2>/dev/null
run 2> "$LOG/second.err"; echo $? > "$LOG/second.rc"
cp "$MNT/out/results.json" "$LOG/second.json"; cp "$MNT/out/results.jsonl" "$LOG/second.jsonl"
rm "$MNT/filler"
run 2> "$LOG/third.err"; echo $? > "$LOG/third.rc"
cp "$MNT/out/results.json" "$LOG/third.json"
"""


def test_real_full_disk_on_a_small_tmpfs(model_args, dlib_faces_dir, tmp_path):
    """An 8 MB tmpfs in a private mount namespace (root only): the disk fills mid-run."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a private tmpfs (the ENOSPC case is simulated above)")
    first = many_photos(tmp_path / "in", dlib_faces_dir, 2)
    more = many_photos(tmp_path / "more", dlib_faces_dir, 40)
    for p in more.iterdir():
        p.rename(more / f"q{p.name}")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "log").mkdir()
    script = FULL_DISK_SCRIPT.format(size="8m", fast=" ".join(FAST), model=" ".join(model_args))
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR), "PY": sys.executable, "IN": str(first), "IN2": str(more),
           "MNT": str(tmp_path / "mnt"), "LOG": str(tmp_path / "log")}
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script], cwd=REPO_DIR,
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode == 77:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:200]}")
    log = tmp_path / "log"
    assert (log / "first.rc").read_text().strip() == "0"
    assert (log / "second.rc").read_text().strip() == "1"
    second_err = (log / "second.err").read_text()
    assert "No space left on device" in second_err and "Traceback" not in second_err
    assert any(str(tmp_path / "mnt" / "out") in line for line in error_lines(second_err))   # names the file
    second = json.loads((log / "second.json").read_text())        # valid JSON whatever happened
    assert second["images"] and len(second["images"]) <= 42
    journal = list(results_module.read_journal(log / "second.jsonl"))
    assert journal[0]["kind"] == "kise-annotate-journal"
    assert (log / "third.rc").read_text().strip() == "0", (log / "third.err").read_text()
    third = json.loads((log / "third.json").read_text())
    assert third["complete"] and len(third["images"]) == 42
    assert len({i["file"] for i in third["images"]}) == 42


def test_fifo_input_is_refused_not_waited_on(tmp_path, model_args):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "kise_desktop.cli", "annotate", str(fifo), "-o", str(tmp_path / "o"),
                           *FAST, *model_args], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO_DIR)})
    assert done.returncode == 1 and "FIFO" in done.stderr and str(fifo) in done.stderr
    assert len(error_lines(done.stderr)) == 1


def test_a_10000x1_jpeg_is_processed(run_kise, model_args, tmp_path):
    import cv2
    import numpy as np

    strip = tmp_path / "strip.jpg"
    cv2.imwrite(str(strip), np.full((1, 10000, 3), 128, np.uint8))
    code, _, err = run_kise("annotate", strip, "-o", tmp_path / "o", *FAST, *model_args)
    assert code == 0, err
    image = json.loads((tmp_path / "o" / "results.json").read_text())["images"][0]
    assert image["original_size"] == [10000, 1] and image["faces"] == [] and image["width"] == 4096


@pytest.mark.parametrize("size", [(4000, 10), (3000, 20), (5000, 2)])
def test_a_real_photo_squashed_flat_is_processed_by_the_default_detector(run_kise, model_args, dlib_faces_dir,
                                                                          tmp_path, size):
    """YuNet gave infinite boxes on such frames, and the whole batch died with a traceback."""
    import cv2

    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), cv2.resize(cv2.imread(str(dlib_faces_dir / "2008_001322.jpg")), size,
                                      interpolation=cv2.INTER_AREA))
    code, _, err = run_kise("annotate", flat, "-o", tmp_path / "o", "--lang", "en", *model_args)
    assert code == 0 and "Traceback" not in err, err
    image = json.loads((tmp_path / "o" / "results.json").read_text())["images"][0]
    assert image["original_size"] == list(size)


class _FailsOnSmallFrames:
    """A detector with a bug: it raises on frames under 100 px high (as YuNet once did on flat ones)."""

    kind = "buggy"

    def __init__(self, settings) -> None:
        self.settings = settings

    def detect(self, frame):
        if frame.shape[0] < 100:
            raise RuntimeError("index out of range")
        return []


@pytest.fixture
def buggy_kind():
    from kise_desktop.core.detectors import DetectorKind, register, unregister
    from toy_detector import CentreSettings

    yield register(DetectorKind(name="buggy", display_name={"en": "Buggy"}, settings_class=CentreSettings,
                                factory=_FailsOnSmallFrames, summary={"en": "raises on small frames"},
                                presets={"live": CentreSettings(), "photo": CentreSettings()}))
    unregister("buggy")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_photo_the_detector_fails_on_is_one_error_line_and_the_batch_goes_on(run_kise, model_args, photo_dir,
                                                                               tmp_path, buggy_kind, jobs):
    import cv2
    import numpy as np

    small = photo_dir / "small.png"
    cv2.imwrite(str(small), np.full((40, 60, 3), 128, np.uint8))
    # with --jobs 2 the pool's workers register the kind this process registered at run time
    code, _, err = run_kise("annotate", photo_dir, "-o", tmp_path / "o", "--detector", "buggy", "--jobs", jobs,
                            "--lang", "en", *model_args)
    assert code == 0 and "Traceback" not in err, err
    errors = error_lines(err)
    assert len(errors) == 1 and str(small) in errors[0] and "could not be analysed" in errors[0]
    assert "RuntimeError" in errors[0] and "60x40" in errors[0]
    report = json.loads((tmp_path / "o" / "results.json").read_text())
    assert len(report["images"]) == len(list(photo_dir.glob("*.jpg"))) and len(report["errors"]) == 1


class _CannotStartInAWorker:
    """Builds in the driver (the CLI checks the settings there) but not in a pool worker."""

    kind = "failing"

    def __init__(self, settings) -> None:
        import multiprocessing

        if multiprocessing.current_process().name != "MainProcess":
            raise RuntimeError("no device in a worker")
        self.settings = settings

    def detect(self, frame):
        return []


class _DiesOnTheWidePhoto:
    """Kills its own worker process on a photo 300 px wide or more (as the OOM killer would)."""

    kind = "failing"

    def __init__(self, settings) -> None:
        self.settings = settings

    def detect(self, frame):
        if frame.shape[1] >= 300:
            os._exit(9)
        return []


@pytest.fixture
def failing_kind(request):
    from kise_desktop.core.detectors import DetectorKind, register, unregister
    from toy_detector import CentreSettings

    yield register(DetectorKind(name="failing", display_name={"en": "Failing"}, settings_class=CentreSettings,
                                factory=request.param, summary={"en": "fails in a pool worker"},
                                presets={"live": CentreSettings(), "photo": CentreSettings()}))
    unregister("failing")


@pytest.mark.parametrize("failing_kind", [_CannotStartInAWorker, _DiesOnTheWidePhoto], indirect=True)
def test_a_worker_that_cannot_start_or_dies_is_one_line_and_keeps_what_was_done(run_kise, model_args, photo_dir,
                                                                                tmp_path, failing_kind):
    import cv2

    dies = failing_kind.factory is _DiesOnTheWidePhoto
    real = cv2.imread(str(photo_dir / PHOTOS[0]))
    photos = []
    for width in (200, 220, 320) if dies else (200, 220):    # a real photo at three sizes
        photos.append(photo_dir / f"{width}px.png")
        cv2.imwrite(str(photos[-1]), cv2.resize(real, (width, width * real.shape[0] // real.shape[1])))
    code, _, err = run_kise("annotate", *photos, "-o", tmp_path / "o", "--detector", "failing", "--jobs", "2",
                            "--lang", "en", *model_args)
    assert code == 1 and "Traceback" not in err, err
    errors = error_lines(err)
    assert len(errors) == 1, err
    if dies:
        assert "a worker process died" in errors[0] and "rerun the same command" in errors[0]
    else:
        assert "could not build its pipeline (RuntimeError: no device in a worker)" in errors[0]
        assert "--jobs 1" in errors[0]
    report = json.loads((tmp_path / "o" / "results.json").read_text())      # valid, with what was done
    assert f"{len(report['images'])} of {len(photos)} photo(s) done" in errors[0]
