"""The page shown instead of the video: no camera, camera lost, end of video, a bad file, stopped.

One line of text and at most two buttons: the one that fits the state (Retry,
Replay, Start camera) and "Open file...". The window decides what they do.
Behind them, dimmed, the last picture the view showed (the end of a video, a
lost camera's last frame), so the faces and labels a demo ended on stay in sight.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .i18n import tr


class MessagePage(QWidget):
    # dark enough that the white message reads on any frame (contrast checked in tests/gui)
    DIM = QColor(24, 24, 28, 200)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backdrop: QPixmap | None = None
        self.setObjectName("messagePage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#messagePage { background: #18181c; }"
                           " QPushButton { padding: 6px 18px; font-size: 14px; }")
        self.label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.label.setObjectName("message")
        self.label.setStyleSheet("font-size: 15px; color: #eee;")
        self.retry_btn = QPushButton()
        self.open_btn = QPushButton()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.retry_btn)
        row.addWidget(self.open_btn)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def show_message(self, text: str, lang: str, retry: bool, retry_text: str | None = None) -> None:
        """`retry_text` names the first button where "Retry" is not what it does (Replay, Start camera)."""
        self.label.setText(text)
        self.retry_btn.setVisible(retry)
        self.retry_btn.setText(retry_text or tr("btn_retry", lang))

    def set_backdrop(self, picture: QPixmap | None) -> None:
        """What the view last showed, drawn dimmed behind the message; None: a plain page."""
        self.backdrop = None if picture is None or picture.isNull() else picture
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        if self.backdrop is None:
            return
        painter = QPainter(self)
        size = self.backdrop.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, self.backdrop)
        painter.fillRect(self.rect(), self.DIM)
        painter.end()

    def retranslate(self, lang: str) -> None:
        self.open_btn.setText(tr("btn_open_file", lang))
