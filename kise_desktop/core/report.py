"""Session reports: what each face showed over a video or a recording, as one HTML file.

`ReportCollector` follows a run frame by frame (`kise video --report`, the
app's recorder): per face, the timeline of smoothed probabilities, the
displayed label and, for each emotion, the strongest moment with a thumbnail
of the face cut from that frame. `read_session_csv` rebuilds the same from a
session CSV (columns read by name, unknown ones ignored; thumbnails only when
the video is given again). `write_report` writes one self-contained HTML file
(images embedded as base64, the Hangul text in a subset of the bundled
NanumGothic font) and a PNG beside it, in Korean or English.
"""
from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kise_desktop.core.types import Box, FrameResult
from kise_desktop.emotions import EMOTION_INDEX, EMOTION_KEYS, EMOTIONS, NUM_EMOTIONS
from kise_desktop.paths import FONTS_DIR

FONT_PATH = FONTS_DIR / "NanumGothic.ttf"
THUMB_SIDE = 112          # thumbnail side, pixels
MINOR_PEAK = 0.15        # an emotion that never led is listed only if it rose this high
MIN_TRACK_S = 0.5         # faces seen for less than this are listed, not reported (detector false alarms)


class ReportError(Exception):
    """A session CSV or video that cannot be reported on; the message names the file."""


@dataclass
class Moment:
    """The strongest moment of one emotion on one face."""
    value: float                       # smoothed probability at that moment
    time_s: float
    frame: int
    box: Box
    thumbnail: np.ndarray | None = None   # BGR, THUMB_SIDE px, when frames were seen


@dataclass
class FaceTimeline:
    track_id: int
    times: list[float] = field(default_factory=list)
    smoothed: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    best: dict[int, Moment] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0

    def shares(self) -> np.ndarray:
        """Share of this face's time each emotion was the displayed label (sums to 1).

        Each frame counts for the time until the next one (the last for the median step),
        so a stretch where the detector lost the face for a while counts only once seen again."""
        times = np.asarray(self.times, dtype=np.float64)
        if len(times) > 1:
            steps = np.diff(times)
            step = float(np.median(steps)) if np.all(np.isfinite(steps)) else 0.0
            weights = np.append(np.minimum(steps, 4 * step if step > 0 else np.inf), step)
        else:
            weights = np.ones(len(times))
        if not np.any(weights > 0):
            weights = np.ones(len(times))
        shares = np.zeros(NUM_EMOTIONS)
        np.add.at(shares, np.asarray(self.labels, dtype=int), weights)
        return shares / shares.sum()


@dataclass
class Session:
    faces: dict[int, FaceTimeline]
    settings: dict[str, str]          # what the run used: model, detector, smoothing... (display text)
    source: str = ""
    has_frames: bool = False          # thumbnails could be cut (a video was seen)


def crop_thumbnail(frame_bgr: np.ndarray, box: Box, side: int = THUMB_SIDE) -> np.ndarray:
    """The face with a little context, square, `side` pixels."""
    x, y, w, h = box
    cx, cy, half = x + w / 2, y + h / 2, max(w, h) * 0.65
    H, W = frame_bgr.shape[:2]
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(W, int(cx + half)), min(H, int(cy + half))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((side, side, 3), np.uint8)
    return cv2.resize(frame_bgr[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA)


class ReportCollector:
    """Gathers a session frame by frame. Per frame it only appends numbers; a face is
    cropped (a small copy) only when one of its emotions reaches a new peak."""

    def __init__(self, settings: dict[str, str] | None = None, source: str = "") -> None:
        self.session = Session({}, dict(settings or {}), source)

    def add(self, result: FrameResult, frame_index: int, frame_bgr: np.ndarray | None = None) -> None:
        if frame_bgr is not None:
            self.session.has_frames = True
        for face in result.faces:
            track = self.session.faces.get(face.track_id)
            if track is None:
                track = self.session.faces[face.track_id] = FaceTimeline(face.track_id)
            smoothed = np.asarray(face.smoothed, dtype=np.float32)
            _append(track, result.timestamp, smoothed, face.label_index)
            for e in np.flatnonzero(smoothed > _peaks(track)):
                thumb = crop_thumbnail(frame_bgr, face.box) if frame_bgr is not None else None
                track.best[int(e)] = Moment(float(smoothed[e]), result.timestamp, frame_index, face.box, thumb)


def _append(track: FaceTimeline, time_s: float, smoothed: np.ndarray, label: int) -> None:
    track.times.append(float(time_s))
    track.smoothed.append(smoothed)
    track.labels.append(int(label))


def _peaks(track: FaceTimeline) -> np.ndarray:
    peaks = np.full(NUM_EMOTIONS, -1.0, np.float32)
    for e, m in track.best.items():
        peaks[e] = m.value
    return peaks


# -- from a CSV ---------------------------------------------------------------------

def read_session_csv(path: str | Path) -> Session:
    """A session from a `kise video` or app CSV, by column name (unknown columns are ignored)."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = set(reader.fieldnames or [])
            time_col = "time_s" if "time_s" in columns else "timestamp" if "timestamp" in columns else None
            smooth_cols = [f"smoothed_{k}" for k in EMOTION_KEYS]
            prob_cols = [f"p_{k}" for k in EMOTION_KEYS]
            need = {"frame", "track_id", "label"} | ({time_col} if time_col else {"time_s"})
            missing = sorted(need - columns)
            if missing:
                raise ReportError(f"{path}: not a KISE session CSV (no column {', '.join(missing)})")
            use = smooth_cols if set(smooth_cols) <= columns else prob_cols if set(prob_cols) <= columns else None
            if use is None:
                raise ReportError(f"{path}: no smoothed_<emotion> or p_<emotion> columns")
            has_box = {"x", "y", "w", "h"} <= columns
            faces: dict[int, FaceTimeline] = {}
            details: dict[str, set[str]] = {"detector": set(), "source": set(), "model": set()}
            for n, row in enumerate(reader, start=2):
                try:
                    tid = int(row["track_id"])
                    frame = int(row["frame"])
                    t = float(row[time_col])
                    smoothed = np.array([float(row[c]) for c in use], np.float32)
                    label = EMOTION_INDEX.get(row["label"].strip(), int(np.argmax(smoothed)))
                    box = tuple(int(float(row[c])) for c in "xywh") if has_box else (0, 0, 0, 0)
                except (TypeError, ValueError, KeyError):
                    raise ReportError(f"{path}: line {n} is not a valid row") from None
                track = faces.setdefault(tid, FaceTimeline(tid))
                _append(track, t, smoothed, label)
                for e in np.flatnonzero(smoothed > _peaks(track)):
                    track.best[int(e)] = Moment(float(smoothed[e]), t, frame, box)  # type: ignore[arg-type]
                for key in details:
                    if row.get(key):
                        details[key].add(row[key])
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a text CSV file") from None
    if not faces:
        raise ReportError(f"{path}: no face rows")
    settings = {k: ", ".join(sorted(v)) for k, v in details.items() if v and k != "source"}
    source = ", ".join(sorted(details["source"]))
    return Session(faces, settings, source or path.name)


def thumbnails_from_video(session: Session, video: str | Path) -> None:
    """Cut the strongest moments' thumbnails from the video the CSV was made from."""
    from kise_desktop.core.sources import VideoSource

    wanted: dict[int, list[Moment]] = {}
    for face in session.faces.values():
        for m in face.best.values():
            wanted.setdefault(m.frame, []).append(m)
    if not wanted:
        return
    last = max(wanted)
    with VideoSource(Path(video)) as source:
        for index, frame in enumerate(source):
            for m in wanted.get(index, ()):
                m.thumbnail = crop_thumbnail(frame.image_bgr, m.box)
            if index >= last:
                break
    session.has_frames = True


# -- writing --------------------------------------------------------------------------

TEXT = {
    "en": {
        "title": "KISE session report", "source": "Source", "faces": "Faces", "duration": "Duration",
        "face": "Face #{id}", "seen": "seen {s:.1f} s ({n} frames)", "timeline": "Emotions over time (smoothed)",
        "time": "time (s)", "prob": "probability", "shares": "Share of time each emotion led",
        "strongest": "Strongest moment of each emotion", "at": "{v:.0%} at {t:.1f} s",
        "never": "never led (peak {v:.0%})", "no_thumbs": "No thumbnails: a CSV holds no pixels "
        "(run `kise report CSV --video VIDEO`, or `kise video ... --report`).",
        "settings": "Settings", "short": "{n} short track(s) under {s:g} s left out (detector false alarms "
        "or a face passing by).", "emotion": "Emotion", "share": "Share", "none": "not recorded in this CSV",
        "secs": "{s:.1f} s",
    },
    "ko": {
        "title": "KISE 세션 보고서", "source": "입력", "faces": "얼굴 수", "duration": "길이",
        "face": "얼굴 #{id}", "seen": "{s:.1f}초 동안 보임 ({n} 프레임)", "timeline": "시간에 따른 감정 (평활화)",
        "time": "시간 (초)", "prob": "확률", "shares": "감정별 우세 시간 비율",
        "strongest": "감정별 가장 강한 순간", "at": "{t:.1f}초에 {v:.0%}",
        "never": "우세한 적 없음 (최고 {v:.0%})", "no_thumbs": "썸네일 없음: CSV에는 영상이 없습니다 "
        "(`kise report CSV --video 영상` 또는 `kise video ... --report`).",
        "settings": "설정", "short": "{s:g}초보다 짧은 추적 {n}개는 제외했습니다 (검출 오류 또는 지나간 얼굴).",
        "emotion": "감정", "share": "비율", "none": "이 CSV에는 기록되지 않음", "secs": "{s:.1f}초",
    },
}


def _setup_matplotlib() -> Any:
    import matplotlib
    matplotlib.use("Agg")             # no display, and never a Qt backend from the core
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    if FONT_PATH.is_file():
        font_manager.fontManager.addfont(str(FONT_PATH))
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(FONT_PATH)).get_name()
    plt.rcParams["axes.unicode_minus"] = False   # NanumGothic has no U+2212
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _colour(e: int) -> tuple[float, float, float]:
    r, g, b = EMOTIONS[e].color_rgb
    return (r / 255, g / 255, b / 255)


def _plot_face(plt: Any, ax_time: Any, ax_share: Any, face: FaceTimeline, lang: str) -> None:
    t = TEXT[lang]
    probs = np.stack(face.smoothed)
    times = np.asarray(face.times)
    for e in range(NUM_EMOTIONS):
        if probs[:, e].max() < 0.02:
            continue              # an emotion the model never gave this face: no flat line at 0
        ax_time.plot(times, probs[:, e], color=_colour(e), lw=1.6, label=EMOTIONS[e].name(lang))
    ax_time.set_ylim(0, 1.0)
    ax_time.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax_time.set_xlabel(t["time"])
    ax_time.set_ylabel(t["prob"])
    ax_time.set_title(t["face"].format(id=face.track_id), loc="left", fontsize=11)
    ax_time.grid(alpha=0.3)
    ax_time.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    shares = face.shares()
    order = [e for e in np.argsort(-shares) if shares[e] > 0]
    ax_share.barh([EMOTIONS[e].name(lang) for e in order][::-1], [shares[e] * 100 for e in order][::-1],
                  color=[_colour(e) for e in order][::-1], edgecolor="#333", linewidth=0.5)
    ax_share.set_xlim(0, 100)
    ax_share.set_xlabel("%")
    ax_share.set_title(t["shares"], loc="left", fontsize=10)
    for i, e in enumerate(order[::-1]):
        ax_share.text(min(shares[e] * 100 + 2, 88), i, f"{shares[e]:.0%}", va="center", fontsize=8)


def _face_figure(plt: Any, face: FaceTimeline, lang: str) -> bytes:
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [3, 1.2], "wspace": 0.55})
    _plot_face(plt, a, b, face, lang)
    data = _png(fig)
    plt.close(fig)
    return data


def _summary_figure(plt: Any, faces: list[FaceTimeline], title: str, lang: str) -> bytes:
    fig, axes = plt.subplots(len(faces), 2, figsize=(10, 2.8 * len(faces) + 0.4), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 1.2], "wspace": 0.55, "hspace": 0.7})
    for row, face in zip(axes, faces):
        _plot_face(plt, row[0], row[1], face, lang)
    # above the first face's own title (bbox_inches="tight" keeps it in the image)
    fig.suptitle(title, x=0.02, y=1.0 + 0.25 / fig.get_figheight(), ha="left", fontsize=12)
    data = _png(fig)
    plt.close(fig)
    return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise ReportError("cannot encode a thumbnail")
    return buf.tobytes()


def _font_face_css(text: str) -> str:
    """@font-face with the bundled font cut down to the characters used (a few kB, not 4.7 MB)."""
    if not FONT_PATH.is_file():
        return ""
    try:
        import logging

        from fontTools import subset
        from fontTools.ttLib import TTFont
        logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "TSI0 NOT subset" chatter
        font = TTFont(str(FONT_PATH))
        options = subset.Options()
        options.flavor = None
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(set(text))))
        subsetter.subset(font)
        buf = io.BytesIO()
        font.save(buf)
    except Exception:           # noqa: BLE001 - the report stays readable with a system font
        return ""
    return ("@font-face { font-family: 'KISE Nanum'; "
            f"src: url(data:font/ttf;base64,{_b64(buf.getvalue())}) format('truetype'); }}")


def report_faces(session: Session) -> tuple[list[FaceTimeline], list[FaceTimeline]]:
    """Faces worth a section (seen at least MIN_TRACK_S), longest first; and the short ones."""
    faces = sorted(session.faces.values(), key=lambda f: -len(f.times))
    long = [f for f in faces if f.duration_s >= MIN_TRACK_S]
    if not long and faces:
        long = faces[:1]          # a very short session: show its main face anyway
    return long, [f for f in faces if f not in long]


def write_report(session: Session, html_path: str | Path, lang: str = "ko",
                 png_path: str | Path | None = None) -> tuple[Path, Path]:
    """Write the HTML report and its PNG (default: the HTML path with .png). Both atomically."""
    if lang not in TEXT:
        raise ValueError(f"lang must be one of {', '.join(TEXT)}, got {lang!r}")
    t = TEXT[lang]
    html_path = Path(html_path)
    png_path = Path(png_path) if png_path else html_path.with_suffix(".png")
    plt = _setup_matplotlib()
    faces, short = report_faces(session)
    if not faces:
        raise ReportError(f"{session.source}: no faces to report on")
    span = [min(f.times[0] for f in session.faces.values()), max(f.times[-1] for f in session.faces.values())]

    body: list[str] = []
    esc = html.escape
    body.append(f"<h1>{esc(t['title'])}</h1>")
    body.append("<table class='meta'>"
                f"<tr><th>{esc(t['source'])}</th><td>{esc(session.source)}</td></tr>"
                f"<tr><th>{esc(t['duration'])}</th><td>{esc(t['secs'].format(s=span[1] - span[0]))}</td></tr>"
                f"<tr><th>{esc(t['faces'])}</th><td>{len(faces)}</td></tr></table>")
    for face in faces:
        shares = face.shares()
        body.append(f"<section><h2>{esc(t['face'].format(id=face.track_id))} "
                    f"<small>{esc(t['seen'].format(s=face.duration_s, n=len(face.times)))}</small></h2>")
        body.append(f"<img class='plot' alt='{esc(t['timeline'])}' "
                    f"src='data:image/png;base64,{_b64(_face_figure(plt, face, lang))}'>")
        body.append(f"<h3>{esc(t['strongest'])}</h3><div class='moments'>")
        for e in sorted(range(NUM_EMOTIONS), key=lambda e: -shares[e]):
            m = face.best.get(e)
            if m is None or (shares[e] == 0 and m.value < MINOR_PEAK):
                continue
            name = esc(EMOTIONS[e].name(lang))
            colour = "#%02x%02x%02x" % EMOTIONS[e].color_rgb
            img = (f"<img alt='{name}' src='data:image/jpeg;base64,{_b64(_jpeg(m.thumbnail))}'>"
                   if m.thumbnail is not None else "")
            if shares[e] > 0:
                caption = esc(t["at"].format(v=m.value, t=m.time_s))
                body.append(f"<figure style='border-color:{colour}'>{img}<figcaption><b>{name}</b> "
                            f"{shares[e]:.0%}<br>{caption}</figcaption></figure>")
            else:
                body.append(f"<figure class='minor' style='border-color:{colour}'>{img}<figcaption><b>{name}</b>"
                            f"<br>{esc(t['never'].format(v=m.value))}</figcaption></figure>")
        body.append("</div>")
        if not session.has_frames:
            body.append(f"<p class='note'>{esc(t['no_thumbs'])}</p>")
        body.append("</section>")
    if short:
        body.append(f"<p class='note'>{esc(t['short'].format(n=len(short), s=MIN_TRACK_S))}</p>")
    body.append(f"<h2>{esc(t['settings'])}</h2><table class='meta'>")
    for key, value in (session.settings or {"": t["none"]}).items():
        body.append(f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>")
    body.append("</table>")

    text = "".join(body)
    css = _font_face_css(html.unescape(text) + "0123456789%#.,:()/-_ " + "".join(TEXT[lang].values()))
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(t['title'])}</title>
<style>
{css}
body {{ font-family: 'KISE Nanum', 'NanumGothic', 'Noto Sans CJK KR', 'Malgun Gothic', 'Apple SD Gothic Neo',
       sans-serif; margin: 24px auto; max-width: 1100px; color: #222; background: #fafafa; padding: 0 16px; }}
h1 {{ font-size: 26px; margin-bottom: 8px; }}
h2 {{ font-size: 20px; margin-top: 28px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }}
h2 small {{ font-size: 13px; color: #666; font-weight: normal; margin-left: 8px; }}
h3 {{ font-size: 15px; margin: 12px 0 6px; }}
table.meta th {{ text-align: left; padding: 2px 16px 2px 0; color: #555; font-weight: normal; }}
img.plot {{ max-width: 100%; background: #fff; border: 1px solid #ddd; }}
.moments {{ display: flex; flex-wrap: wrap; gap: 10px; }}
figure {{ margin: 0; border: 3px solid #999; border-radius: 6px; background: #fff; width: {THUMB_SIDE + 10}px;
          padding: 4px; font-size: 12px; text-align: center; }}
figure img {{ width: {THUMB_SIDE}px; height: {THUMB_SIDE}px; display: block; margin: 0 auto 4px; }}
figure.minor {{ opacity: 0.75; border-style: dashed; }}
.note {{ color: #666; font-size: 13px; }}
section {{ background: #fff; border: 1px solid #e3e3e3; border-radius: 8px; padding: 4px 16px 16px;
           margin-top: 16px; }}
</style></head><body>
{text}
</body></html>
"""
    png = _summary_figure(plt, faces, f"{t['title']} - {session.source}", lang)
    _write_atomic(png_path, png)
    _write_atomic(html_path, page.encode("utf-8"))
    return html_path, png_path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def settings_text(model: str, detector: str, smoothing: str) -> dict[str, str]:
    """The run's settings as the report shows them."""
    return {"model": model, "detector": detector, "smoothing": smoothing}
