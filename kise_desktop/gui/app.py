"""`kise-desktop`: the live emotion-recognition window.

    kise-desktop                                   # first camera found
    kise-desktop --source 0 --detector hog --lang en
    kise-desktop --source clip.mp4 --screenshot shot.png --quit-after 8
    kise-desktop --source ../shared/data/dlib-faces          # photo mode

`--screenshot FILE --quit-after SECONDS` grabs the whole window after that
many seconds and exits (for demos, docs and checks; works offscreen with
QT_QPA_PLATFORM=offscreen). `--quit-after-first-frame` prints the wall-clock
time at which the first analysed frame was painted (and the CPU time used until then) and exits
(scripts/measure_startup.py times start-up with it).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from kise_desktop.about_info import VersionAction
from kise_desktop.paths import FONTS_DIR

FONT_FILE = FONTS_DIR / "NanumGothic.ttf"


def load_fonts(app) -> str | None:
    """Register the bundled Korean font and make it the default, so Hangul never shows as boxes."""
    from PySide6.QtGui import QFont, QFontDatabase

    if not FONT_FILE.is_file():
        print(f"kise-desktop: {FONT_FILE} is missing; Korean text may not render", file=sys.stderr)
        return None
    font_id = QFontDatabase.addApplicationFont(str(FONT_FILE))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        print(f"kise-desktop: could not load {FONT_FILE}", file=sys.stderr)
        return None
    font = QFont(families[0])
    font.setPointSizeF(max(9.0, app.font().pointSizeF()))
    # NanumGothic's hinting at 9-10 pt draws the full stop as a comma-like glyph: "1.20" read as
    # "1,20" and "86.6%" as "86,6%" (seen in screenshots). Unhinted outlines draw a round dot.
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    app.setFont(font)
    return families[0]


# The GUI thread runs Python paint code while the worker waits to re-enter Python between
# OpenCV calls; Python's default 5 ms GIL switch interval lets a paint hold it the whole time.
# 1 ms: +0.6 displayed fps with Haar on 2 cores (bench_gui, 2 x 12 s each way, 49.5 -> 50.1;
# measured before OpenCV's pool was set to sleep in kise_desktop/__init__.py, not re-measured since).
GIL_SWITCH_INTERVAL_S = 0.001


def prepare_app(app) -> str | None:
    """Process-wide set-up shared by the app and its benchmark: fonts, GIL hand-over."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    return load_fonts(app)


MIN_WINDOW = (320, 240)
MAX_WINDOW = (16384, 16384)   # Qt refuses (aborts on) larger widgets


def window_size(text: str) -> tuple[int, int]:
    """`--size WxH`, checked by the parser (exit 2 with one line, never a Qt abort)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must look like 1280x800, not {text!r}") from None
    if not (MIN_WINDOW[0] <= w <= MAX_WINDOW[0] and MIN_WINDOW[1] <= h <= MAX_WINDOW[1]):
        raise argparse.ArgumentTypeError(f"width must be in [{MIN_WINDOW[0]}, {MAX_WINDOW[0]}] and height in "
                                         f"[{MIN_WINDOW[1]}, {MAX_WINDOW[1]}], not {text!r}")
    return w, h


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"must be in [0, 86400] seconds, not {text}")
    return value


def save_screenshot(window, path: str) -> bool:
    """Grab the window into `path`; a one-line message and False when it cannot be written."""
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"kise-desktop: could not write {out}: {exc.strerror or exc}", file=sys.stderr)
        return False
    if not window.grab().save(str(out)):
        print(f"kise-desktop: could not write {out} (folder not writable, or not a PNG/JPEG name)", file=sys.stderr)
        return False
    print(f"kise-desktop: screenshot {out}")
    return True


def _kind_list(names: tuple[str, ...]):
    """argparse type: 'yunet,haar' -> ['yunet', 'haar'], every name a registered detector, at least two."""
    def parse(text: str) -> list[str]:
        kinds = [k.strip() for k in text.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in names]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown detector {', '.join(unknown)}; known: {', '.join(names)}")
        if len(set(kinds)) < 2:
            raise argparse.ArgumentTypeError("name two or more detectors, e.g. yunet,haar")
        return list(dict.fromkeys(kinds))
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kise-desktop", description="Live facial emotion recognition (offline, CPU).")
    p.add_argument("--source", help="camera index (0, 1, ...), a video file, a photo, or a folder of photos")
    from kise_desktop.core.detectors import get_kind, kind_names   # the registry: every detector kind

    names = kind_names()
    p.add_argument("--detector", choices=names,
                   help="face detector (default: last used, else yunet): "
                        + "; ".join(f"{k} = {get_kind(k).name_in('en')}" for k in names))
    p.add_argument("--compare", nargs="?", const=list(names), type=_kind_list(names), metavar="KIND,KIND...",
                   help=f"run these detectors side by side on the same frames (bare --compare: all of {','.join(names)})")
    p.add_argument("--lang", choices=("ko", "en"), help="interface language (default: last used, else ko)")
    p.add_argument("--model", help="TFLite emotion model (default: the bundled one)")
    p.add_argument("--sidecar", help="the model's JSON sidecar (default: beside the model)")
    p.add_argument("--loop", action="store_true", help="loop a video file")
    p.add_argument("--max-speed", action="store_true",
                   help="process a video as fast as possible instead of in real time")
    p.add_argument("--screenshot", help="save a PNG of the whole window (with --quit-after)")
    p.add_argument("--quit-after", type=positive_seconds, help="quit after this many seconds")
    p.add_argument("--size", type=window_size, default=(1280, 800), help="window size WxH (default 1280x800)")
    p.add_argument("--fresh", action="store_true",
                   help="ignore and do not save remembered settings (reproducible demos)")
    p.add_argument("--quit-after-first-frame", action="store_true",
                   help="print when the first analysed frame is on screen, then quit (start-up timing)")
    p.add_argument("--version", action=VersionAction)
    return p


def report_first_frame(window, then_quit: bool) -> None:
    """Print the wall-clock time once the first analysed frame has been painted (optionally quit)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    def painted(at: float, cpu: float) -> None:
        print(f"kise-desktop: first analysed frame on screen at {at:.6f} (process CPU {cpu:.3f} s)", flush=True)
        if then_quit:
            window.close()

    class PaintWatcher(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Paint and window.packets_shown > 0:
                watched.removeEventFilter(self)
                watched.paintEvent(event)           # draw the frame now, so the time is taken after it
                at, cpu = time.time(), time.process_time()
                QTimer.singleShot(0, lambda: painted(at, cpu))
                return True
            return False

    window.view.installEventFilter(PaintWatcher(window))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("KISE")
    app.setApplicationName("kise-desktop")
    prepare_app(app)

    from .main_window import MainWindow

    settings = QSettings("KISE", "kise-desktop")
    if args.fresh:
        import tempfile

        tmp = tempfile.NamedTemporaryFile(prefix="kise-settings-", suffix=".ini", delete=False)
        tmp.close()
        settings = QSettings(tmp.name, QSettings.Format.IniFormat)
    source: str | int | None = args.source
    if source is not None and str(source).isdigit():
        source = int(source)
    window = MainWindow(settings=settings, source=source, lang=args.lang, detector=args.detector,
                        compare=args.compare, model_path=args.model, sidecar_path=args.sidecar,
                        pace_video=not args.max_speed, loop_video=args.loop)
    if args.size and (args.fresh or args.screenshot):
        window.resize(*args.size)
    if args.quit_after_first_frame:
        report_first_frame(window, then_quit=True)
    window.show()

    failed = []
    if args.quit_after is not None:
        def finish() -> None:
            try:
                if args.screenshot:
                    window.history.refresh()
                    if not save_screenshot(window, args.screenshot):
                        failed.append(args.screenshot)
            finally:
                window.close()     # whatever happened to the screenshot, the app quits
        QTimer.singleShot(int(args.quit_after * 1000), finish)
    elif args.screenshot:
        print("kise-desktop: --screenshot needs --quit-after", file=sys.stderr)
        return 2

    # Ctrl+C in the terminal closes the window cleanly (Python gets a chance to run every 200 ms).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer()
    tick.start(200)
    tick.timeout.connect(lambda: None)
    code = app.exec() or (1 if failed else 0)
    window.shutdown()
    if args.fresh:
        Path(settings.fileName()).unlink(missing_ok=True)
    # Tear the widgets down now, in Qt's order, rather than in the interpreter's
    # finalizer (where PySide6/pyqtgraph objects can be freed in the wrong order).
    tick.stop()
    window.deleteLater()
    del window
    app.processEvents()
    import gc

    gc.collect()
    return code


if __name__ == "__main__":
    sys.exit(main())
