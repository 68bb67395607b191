"""Readability parts of the window: the history plot's legend, axis and raw option; numbers with a decimal point."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QLocale
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QDoubleSpinBox, QVBoxLayout, QWidget

from kise_desktop.emotions import EMOTION_INDEX, EMOTIONS, NUM_EMOTIONS
from kise_desktop.gui.history_plot import HistoryPlot, ProbabilityBars, emotion_indices
from kise_desktop.gui.i18n import number_locale, use_decimal_point


def _built(qtbot, plot, size=(640, 200)):
    qtbot.addWidget(plot)
    plot.resize(*size)
    plot.show()
    plot.ensure_built()
    qtbot.waitExposed(plot)
    return plot


def test_the_seed_models_legend_lists_its_seven_emotions(qtbot, seed_model):
    from kise_desktop.core.classifier import EmotionClassifier

    classifier = EmotionClassifier(*seed_model)            # the real 7-class seed model and its sidecar
    shown = emotion_indices(classifier.labels)
    assert len(shown) == 7 and EMOTION_INDEX["contempt"] not in shown
    plot = _built(qtbot, HistoryPlot(seconds=10, lang="en"))
    assert len(plot.legend_names()) == NUM_EMOTIONS        # before a model is known: all eight
    plot.set_emotions(shown)
    assert plot.legend_names() == [EMOTIONS[i].en for i in shown]
    assert "Contempt" not in plot.legend_names()
    plot.set_language("ko")                                 # stays the model's seven in either language
    assert plot.legend_names() == [EMOTIONS[i].ko for i in shown]
    bars = _built(qtbot, ProbabilityBars(lang="en"))
    bars.set_emotions(shown)
    assert bars.bar_names() == [EMOTIONS[i].en for i in shown]


@pytest.mark.parametrize("height", [100, 220])
def test_legend_is_outside_the_data_area_and_both_axis_ends_are_labelled(qtbot, height):
    plot = _built(qtbot, HistoryPlot(seconds=10, lang="en"), (560, height))
    rng = np.random.default_rng(0)
    for i in range(100):
        plot.add(i * 0.1, rng.dirichlet(np.ones(NUM_EMOTIONS)).astype(np.float32))
    plot.refresh()
    qtbot.wait(50)
    # the data area, in the HistoryPlot's coordinates, ends left of the legend, and the legend is inside
    view = plot.plot.mapFromScene(plot.plot.getViewBox().sceneBoundingRect()).boundingRect()
    view_right = plot.plot.geometry().left() + view.right()
    legend = plot.legend.geometry()
    assert view_right <= legend.left() + 1, (view_right, legend)     # beside the lines (layout rounding: 1 px)
    assert plot.rect().contains(legend), (plot.rect(), legend)
    # every name is shown whole: its label is as wide as its text and inside the legend
    shown = [label for label in plot.legend.labels if label.isVisible()]
    assert [label.text() for label in shown] == [e.en for e in EMOTIONS]
    for label in shown:
        assert plot.legend.rect().contains(label.geometry()), (label.text(), label.geometry(), plot.legend.rect())
        assert label.width() >= label.sizeHint().width(), (label.text(), label.width(), label.sizeHint())
    assert plot.legend.columns == (1 if height == 220 else 2)        # a short plot: two columns, not clipped
    # the tick labels pyqtgraph would draw: 0 and 1.0 among them
    axis = plot.plot.getAxis("left")
    image = QImage(100, 100, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    texts = [spec[2] for spec in axis.generateDrawSpecs(painter)[2]]
    painter.end()
    assert "0" in texts and "100%" in texts, texts
    # percent ticks instead of a rotated title (rotated Hangul was illegible): none is shown, and the
    # widest tick label fits the axis
    assert not axis.label.isVisible()
    fm = QFontMetricsF(axis.style["tickFont"] or plot.plot.font())
    assert fm.horizontalAdvance("100%") + axis.style["tickTextOffset"][0] <= axis.width()


def test_raw_per_frame_option_plots_the_raw_probabilities(qtbot):
    plot = _built(qtbot, HistoryPlot(seconds=10, lang="en"))
    smoothed = np.full(NUM_EMOTIONS, 1 / NUM_EMOTIONS, np.float32)
    raw = np.eye(NUM_EMOTIONS, dtype=np.float32)[1]         # one frame's own, sure "happiness"
    for i in range(20):
        plot.add(i * 0.1, smoothed, raw)
    plot.refresh()
    happy = plot.curves[EMOTION_INDEX["happiness"]]
    assert np.allclose(happy.yData, smoothed[1])
    plot.set_raw(True)
    plot.refresh()
    assert np.allclose(happy.yData, 1.0)
    plot.add(2.0, None)                                      # no face: a gap in both views
    plot.refresh()
    assert np.isnan(happy.yData[-1])


def test_spin_boxes_use_a_decimal_point_whatever_the_system_locale(qtbot):
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.German, QLocale.Country.Germany))   # writes "1,20"
    try:
        form = QWidget()
        qtbot.addWidget(form)
        layout = QVBoxLayout(form)
        spin = QDoubleSpinBox(decimals=2, maximum=100000.0, value=1.2)
        layout.addWidget(spin)
        assert spin.text() == "1,20"
        use_decimal_point(form)
        spin.setValue(1.2)
        assert spin.text() == "1.20"
        spin.setValue(12345.5)
        assert spin.text() == "12345.50"                      # no group separator either
        assert number_locale().toString(86.6, "f", 1) == "86.6"
        late = QDoubleSpinBox(decimals=2, value=1.2)          # added after: inherits the form's locale
        layout.addWidget(late)
        assert late.text() == "1.20"
    finally:
        QLocale.setDefault(previous)


BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0), "mid grey": (128, 128, 128)}


@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_every_emotion_colour_has_a_contrasting_edge_on_light_and_dark_backgrounds(background):
    from kise_desktop.gui.overlay_style import CONFIDENT_STYLES, MUTED_STYLES, contrast_ratio, halo_for, text_on

    bg = BACKGROUNDS[background]
    for styles in (CONFIDENT_STYLES, MUTED_STYLES):
        for emotion, style in zip(EMOTIONS, styles):
            halo = halo_for(style.rgb)
            best = max(contrast_ratio(style.rgb, bg), contrast_ratio(halo, bg))
            assert best >= 3.0, (emotion.key, style.rgb, background, best)      # WCAG's figure for graphics
            assert contrast_ratio(style.rgb, text_on(style.rgb)) >= 4.5, emotion.key  # label text on its plate
            assert style.halo.width() > style.line.width()                   # the halo shows on both sides


def test_face_labels_carry_the_face_number_and_a_question_mark_when_unsure():
    from kise_desktop.core.types import FaceResult
    from kise_desktop.gui.overlay_style import face_label

    probs = np.eye(NUM_EMOTIONS, dtype=np.float32)[EMOTION_INDEX["happiness"]] * 0.9 + 0.1 / NUM_EMOTIONS
    sure = FaceResult((0, 0, 10, 10), probs, probs, track_id=3, displayed=EMOTION_INDEX["happiness"])
    unsure = FaceResult((0, 0, 10, 10), probs, probs, track_id=12, displayed=EMOTION_INDEX["happiness"],
                        confident=False)
    assert face_label(sure, "en") == f"#3 Happiness {sure.confidence * 100:.0f}%"
    assert face_label(unsure, "en") == f"#12 Happiness? {sure.confidence * 100:.0f}%"
    assert face_label(unsure, "ko").startswith("#12 행복?")


def test_an_out_of_range_history_window_is_refused_visibly(qtbot):
    from PySide6.QtCore import Qt

    from kise_desktop.gui.history_panel import HistoryPanel

    panel = HistoryPanel(lang="en", seconds=30)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    spin = panel.seconds
    spin.lineEdit().selectAll()
    with qtbot.waitSignal(panel.refused, timeout=2000) as refusal:
        qtbot.keyClicks(spin.lineEdit(), "999")
        qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == 30 and panel.history.seconds == 30       # not silently 99 or 300
    assert "999" in refusal.args[0] and "300" in refusal.args[0]
    assert panel.refusal.isVisible() and "999" in panel.refusal.text()
    assert "c0392b" in spin.styleSheet()                            # outlined in red
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "60")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert spin.value() == 60 and panel.history.seconds == 60 and not panel.refusal.isVisible()


def test_frame_health_warns_on_slow_frames_and_on_a_long_time_without_faces():
    from kise_desktop.gui.frame_health import FrameHealth

    health = FrameHealth(slow_ms=100.0, no_face_s=5.0)
    for i in range(30):                        # 3 s at 10 fps, 40 ms frames, a face each time
        health.add(i * 0.1, 40.0, faces=1)
    assert health.warnings() == []
    health.add(3.0, 900.0, faces=1)            # one slow frame is not yet "slow"
    assert not health.slow
    for i in range(31, 90):                    # settings change: 400 ms frames, no face for 5.9 s
        health.add(i * 0.1, 400.0, faces=0)
    keys = [k for k, _ in health.warnings()]
    assert keys == ["warn_slow", "warn_no_face"]
    assert health.seconds_without_face >= 5.0
    health.add(0.0, 40.0, faces=1)             # rewound / new source: measured afresh
    assert health.warnings() == []


def test_a_neighbours_box_line_never_crosses_a_label(qtbot, group_photo):
    """Faces close together (a small compare panel): every label is painted after every box."""
    from kise_desktop.core.sources import load_image
    from kise_desktop.core.types import FaceResult, FrameResult
    from kise_desktop.gui.overlay_style import style_of
    from kise_desktop.gui.video_view import VideoView
    from kise_desktop.gui.worker import DisplayConverter, Panel

    frame = load_image(group_photo)
    h, w = frame.shape[:2]
    sure = {name: np.eye(NUM_EMOTIONS, dtype=np.float32)[EMOTION_INDEX[name]] for name in ("happiness", "neutral")}
    left = FaceResult(box=(100, 120, 60, 60), probabilities=sure["happiness"], smoothed=sure["happiness"], track_id=1)
    # a tall box whose left edge runs through both places the left face's label can go (above and below it)
    tall = FaceResult(box=(150, 30, 60, h - 60), probabilities=sure["neutral"], smoothed=sure["neutral"], track_id=2)
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(w, h)                     # one panel at scale 1: frame pixels are widget pixels
    view.show()
    qtbot.waitExposed(view)
    view.set_frame(DisplayConverter()(frame), [Panel("haar", FrameResult(faces=[left, tall], frame_size=(w, h)))], {})
    qtbot.waitUntil(lambda: len(view.drawn_plates) == 2, timeout=5000)
    plate = view.drawn_plates[0]
    assert plate.left() + 4 < 150 < plate.right() - 4, plate     # the label does lie across the tall box's edge
    image = view.grab().toImage()
    plate_rgb, text_rgb = style_of(left).plate.getRgb()[:3], style_of(left).text.getRgb()[:3]
    line_rgb = style_of(tall).rgb
    for y in range(int(plate.top()) + 2, int(plate.bottom()) - 1):
        for x in range(146, 155):                                # the edge, its halo and their neighbours
            got = image.pixelColor(x, y).getRgb()[:3]
            # only the plate's colour, its text's, or a blend of the two (antialiased glyphs)
            t = np.clip(np.dot(np.subtract(got, plate_rgb), np.subtract(text_rgb, plate_rgb)) /
                        max(1, np.sum(np.subtract(text_rgb, plate_rgb) ** 2)), 0, 1)
            blend = np.add(plate_rgb, t * np.subtract(text_rgb, plate_rgb))
            assert np.abs(np.subtract(got, blend)).max() < 40, ((x, y), got, plate_rgb, text_rgb, line_rgb)
