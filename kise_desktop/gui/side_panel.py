"""The controls beside the view, on tabs, so every section stays reachable in a small window.

At 800x600 a single column of every group (source, detector, model, record,
language) is taller than the window: the lower groups scrolled out of sight and
the panel took a third of the width. Here the groups are split over a few tabs
(each short enough for a 600 px window; a tab still scrolls if a font is very
large), and the panel is as wide as its widest page, not as the sum of them.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from .i18n import tr


class SidePanel(QTabWidget):
    """Tabs of control groups. `add_page(key, items)` adds a tab titled `tr(key)`."""

    def __init__(self, lang: str = "ko", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.setUsesScrollButtons(False)
        self._lang = lang
        self._keys: list[str] = []
        self.pages: list[QWidget] = []          # the content widget of each tab
        self.scrolls: list[QScrollArea] = []

    def add_page(self, key: str, items: list[QWidget | QLayout]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 6, 6, 6)
        for item in items:
            if isinstance(item, QLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.addTab(scroll, tr(key, self._lang))
        self._keys.append(key)
        self.pages.append(page)
        self.scrolls.append(scroll)
        return page

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        for i, key in enumerate(self._keys):
            self.setTabText(i, tr(key, lang))
        self.fit_width()

    def page_of(self, widget: QWidget) -> int:
        """The tab index holding `widget`, or -1."""
        for i, page in enumerate(self.pages):
            if page is widget or page.isAncestorOf(widget):
                return i
        return -1

    def show_widget(self, widget: QWidget) -> None:
        """Bring the tab holding `widget` to the front and scroll it into view."""
        i = self.page_of(widget)
        if i >= 0:
            self.setCurrentIndex(i)
            self.scrolls[i].ensureWidgetVisible(widget)

    def fit_width(self) -> None:
        """As wide as the widest page's (translated) contents, never clipping a row."""
        if not self.pages:
            return
        bar = max(s.verticalScrollBar().sizeHint().width() for s in self.scrolls)
        # the minimum: wrapped text (a model's description) wraps instead of widening the panel
        widest = max(page.minimumSizeHint().width() for page in self.pages) + 12
        tabs = self.tabBar().sizeHint().width()
        width = max(widest + bar + 4, tabs)
        self.setMinimumWidth(width)
        self.setMaximumWidth(width + 40)
