"""The determinism badge (study view and status bar) and the dialog with the full verdict."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
)

from optgui.core.engine import parse_spec
from optgui.core.errors import SpecError
from optgui.qt import dialogs, theme
from optgui.qt.verify.verification import BadgeState, version_change_explanation

ICONS = {"none": "○", "checking": "◌", "verified": "✔", "diverged": "✖", "unverifiable": "?"}


def badge_color(state: BadgeState, c: theme.Colors) -> str:
    if state.kind == "verified":
        return c.ok if state.equivalent else c.warn
    return {"diverged": c.bad, "unverifiable": c.muted, "checking": c.info}.get(state.kind, c.muted)


class Badge(QPushButton):
    """A flat, coloured button showing the badge text; clicking it opens the verdict."""

    def __init__(self, parent=None, compact: bool = False):
        super().__init__(parent)
        self.compact = compact
        self.state = BadgeState.none()
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        t = theme.current()
        if t is not None:
            t.changed.connect(self._restyle)
        self.set_state(self.state)

    def _restyle(self, _colors) -> None:
        self.set_state(self.state)

    def set_state(self, state: BadgeState) -> None:
        self.state = state
        c = theme.colors()
        color = badge_color(state, c)
        text = state.text
        self._full_text = f"{ICONS.get(state.kind, '')} {text}"
        self._elide()
        self.setToolTip(f"Determinism: {state.text}\nClick for the full verdict")
        pad = "2px 6px" if self.compact else "4px 10px"
        self.setStyleSheet(
            f"QPushButton {{ color: {color}; border: 1px solid {color}; border-radius: 4px; "
            f"padding: {pad}; text-align: left; font-weight: 600; }}"
        )

    # The badge never widens the window: it shows as much of its text as fits and elides the rest (the full
    # text is in the tooltip and the dialog).
    _full_text = ""

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(min(hint.width(), 160))
        return hint

    def sizeHint(self):
        hint = super().sizeHint()
        width = self.fontMetrics().horizontalAdvance(self._full_text) + 32
        hint.setWidth(min(width, 360 if self.compact else 480))
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = max(40, self.width() - 28)
        self.setText(self.fontMetrics().elidedText(self._full_text, Qt.TextElideMode.ElideRight, room))
        self.updateGeometry()


def _fmt(value) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


class VerdictDialog(QDialog):
    """The full verdict: summary, first divergence, versions, cause, and a button to check the objective."""

    check_objective = Signal()
    verify_with_spec = Signal(str)  # the sampler spec a plain-Optuna study was made with

    def __init__(self, state: BadgeState, study: str, parent=None, *, plain: bool = False, spec: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Determinism of {study}")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        c = theme.colors()
        head = QLabel(
            f'<span style="font-size:15px; font-weight:600; color:{badge_color(state, c)}">'
            f"{ICONS.get(state.kind, '')} {state.text}</span>"
        )
        head.setWordWrap(True)
        layout.addWidget(head)
        v = state.verdict
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        if v.get("sampler"):
            form.addRow("Sampler:", QLabel(f"{v['sampler']}"))
        if "n_total" in v:
            form.addRow(
                "Trials replayed:",
                QLabel(f"{v.get('n_checked', 0)} of {v['n_total']} in {v.get('segments', '?')} run segment(s)"),
            )
        if state.kind == "verified":
            form.addRow(
                "Equivalence:",
                self._wrap(
                    "equal to an uninterrupted run with the same seed"
                    if v.get("equivalent")
                    else f"replayable only: {v.get('equivalence_reason') or 'see the run segments'}"
                ),
            )
        d = v.get("divergence")
        if d:
            form.addRow("First divergence:", QLabel(f"trial {d['trial']}, parameter {d['param']!r}"))
            form.addRow("Recorded:", QLabel(_fmt(d["recorded"])))
            form.addRow("Replayed:", QLabel(_fmt(d["replayed"])))
        if v.get("cause"):
            form.addRow("Cause:", self._wrap(v["cause"]))
        if state.kind == "unverifiable":
            form.addRow("Reason:", self._wrap(v.get("reason", state.text)))
        obj = v.get("objective")
        if v.get("objective_error"):
            form.addRow("Objective:", self._wrap(f"the check failed: {v['objective_error']}"))
        elif obj is not None:
            text = f"{obj['reproduced']} of {obj['checked']} values reproduced bit for bit"
            if obj.get("first_mismatch"):
                m = obj["first_mismatch"]
                text += f"; first difference at trial {m['trial']}: recorded {m['recorded']}, now {m['reproduced']}"
            form.addRow("Objective:", self._wrap(text))
        elif state.kind == "verified":
            form.addRow("Objective:", QLabel("not checked (the check calls the objective once per trial)"))
        checks = (v.get("json") or {}).get("version_checks") or []
        if checks:
            form.addRow("Version change:", self._wrap(version_change_explanation(checks)))
        layout.addLayout(form)
        self.spec_field: QLineEdit | None = None
        if plain:
            layout.addLayout(self._spec_row(spec))
        if v.get("summary"):
            layout.addWidget(QLabel("Full verdict:"))
            summary = QPlainTextEdit("\n".join(v["summary"]))
            summary.setReadOnly(True)
            summary.setMaximumHeight(120)
            layout.addWidget(summary)
        versions = v.get("versions")
        if versions:
            box = QPlainTextEdit(json.dumps(versions, indent=1, sort_keys=True))
            box.setReadOnly(True)
            box.setMaximumHeight(140)
            layout.addWidget(QLabel("Package versions (recorded with the run, and now):"))
            layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.objective_button = QPushButton("Check objective")
        self.objective_button.setToolTip("Call the objective again with each trial's parameters and compare values")
        self.objective_button.setEnabled(state.kind == "verified")
        self.objective_button.clicked.connect(self.check_objective)
        self.objective_button.clicked.connect(self.accept)
        buttons.addButton(self.objective_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _spec_row(self, spec: str | None) -> QVBoxLayout:
        """A study made by plain Optuna has no recorded sampler: the user names it (as `optgui verify --spec`)."""
        box = QVBoxLayout()
        box.addWidget(
            self._wrap(
                "This study was made by plain Optuna: optgui can replay it if you name the sampler it was made "
                "with, seed included."
            )
        )
        row = QHBoxLayout()
        self.spec_field = QLineEdit(spec or "")
        self.spec_field.setPlaceholderText("TPESampler(seed=42)")
        self.spec_field.returnPressed.connect(self._verify_spec)
        self.spec_button = QPushButton("Verify with this sampler")
        self.spec_button.clicked.connect(self._verify_spec)
        row.addWidget(QLabel("Sampler:"))
        row.addWidget(self.spec_field, 1)
        row.addWidget(self.spec_button)
        box.addLayout(row)
        return box

    def _verify_spec(self) -> None:
        text = self.spec_field.text().strip() if self.spec_field is not None else ""
        try:
            spec = parse_spec(text, "sampler")
        except SpecError as exc:
            dialogs.error(self, "Sampler not understood", f"{text or '(empty)'}: {exc}")
            return
        self.verify_with_spec.emit(spec.to_text())
        self.accept()

    @staticmethod
    def _wrap(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label
