"""Light and dark appearance: follows the system colour scheme, with a light/dark override.

One palette per scheme (Fusion style, so both look the same on every platform) and one set of plot colours,
including a coherent colour per trial state that the plot, the tables and the badge share.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

MODES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colors:
    dark: bool
    background: str
    foreground: str
    muted: str
    grid: str
    complete: str
    pruned: str
    fail: str
    running: str
    best: str
    pareto: str
    ok: str
    warn: str
    bad: str
    info: str

    def state(self, name: str) -> str:
        return {"COMPLETE": self.complete, "PRUNED": self.pruned, "FAIL": self.fail}.get(name, self.running)


LIGHT = Colors(
    dark=False,
    background="#ffffff",
    foreground="#1f2328",
    muted="#656d76",
    grid="#d0d7de",
    complete="#2f6db5",
    pruned="#c27c0e",
    fail="#cf222e",
    running="#8250df",
    best="#1a7f37",
    pareto="#d4560b",
    ok="#1a7f37",
    warn="#9a6700",
    bad="#cf222e",
    info="#0969da",
)
DARK = Colors(
    dark=True,
    background="#1e2227",
    foreground="#e6edf3",
    muted="#9198a1",
    grid="#3d444d",
    complete="#6cb6ff",
    pruned="#e3b341",
    fail="#ff7b72",
    running="#bc8cff",
    best="#56d364",
    pareto="#ffa657",
    ok="#56d364",
    warn="#e3b341",
    bad="#ff7b72",
    info="#6cb6ff",
)


def _palette(c: Colors) -> QPalette:
    p = QPalette()
    if c.dark:
        window, base, alt, button, text = "#262a30", "#1e2227", "#2a2f36", "#30363d", c.foreground
        highlight, disabled = "#2f6db5", "#6e7681"
    else:
        window, base, alt, button, text = "#f3f4f6", "#ffffff", "#f6f8fa", "#eef0f3", c.foreground
        highlight, disabled = "#2f6db5", "#8c959f"
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: alt,
        QPalette.ColorRole.ToolTipBase: base,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: button,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: c.info,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Mid: c.grid,
        QPalette.ColorRole.Midlight: alt,
        QPalette.ColorRole.Dark: c.grid,
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled))
    return p


class Theme(QObject):
    """The application's appearance. `changed` is emitted with the new Colors when the scheme changes."""

    changed = Signal(object)

    def __init__(self, app: QApplication, mode: str = "system"):
        super().__init__(app)
        self._app = app
        self.mode = mode if mode in MODES else "system"
        app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(lambda *_: self.mode == "system" and self.apply())
        self.colors = LIGHT
        self.apply()

    def system_is_dark(self) -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in MODES else "system"
        self.apply()

    def apply(self) -> None:
        dark = self.system_is_dark() if self.mode == "system" else self.mode == "dark"
        self.colors = DARK if dark else LIGHT
        self._app.setPalette(_palette(self.colors))
        # Widgets polished under an application style sheet keep the palette they were polished with:
        # re-applying the sheet repolishes every widget with the new colours.
        self._app.setStyleSheet(self._app.styleSheet())
        self.changed.emit(self.colors)


_current: Theme | None = None


def install(app: QApplication, mode: str) -> Theme:
    global _current
    _current = Theme(app, mode)
    return _current


def colors() -> Colors:
    return _current.colors if _current is not None else LIGHT


def current() -> Theme | None:
    return _current
