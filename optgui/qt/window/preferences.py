"""Preferences: appearance, live refresh, defaults for new studies, automatic verification, where objectives run,
and where optgui keeps its files.

Values live in the same INI file as the rest of the settings (optgui.qt.settings), under [preferences] and the
existing view/ keys for theme and live refresh.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from optgui.core import paths
from optgui.core.engine import parse_spec
from optgui.core.errors import OptguiError
from optgui.qt.settings import Settings, settings_path

THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
KEY_SAMPLER = "preferences/default_sampler"
KEY_SEED = "preferences/default_seed"
KEY_VERIFY = "preferences/verify_automatically"
KEY_CHILD = "preferences/objective_in_child_process"
DEFAULT_SAMPLER = "TPESampler"


class Preferences:
    """Typed access to the preferences stored in Settings (INI values come back as strings without `type=`)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._qs = settings._qs

    @property
    def default_sampler(self) -> str:
        return self._qs.value(KEY_SAMPLER, DEFAULT_SAMPLER, type=str) or DEFAULT_SAMPLER

    @property
    def default_seed(self) -> int | None:
        text = self._qs.value(KEY_SEED, "", type=str).strip()
        return int(text) if text.lstrip("-").isdigit() else None

    @property
    def verify_automatically(self) -> bool:
        return self._qs.value(KEY_VERIFY, True, type=bool)

    @property
    def objective_in_child_process(self) -> bool:
        return self._qs.value(KEY_CHILD, False, type=bool)

    def save(
        self,
        *,
        default_sampler: str,
        default_seed: int | None,
        verify_automatically: bool,
        objective_in_child_process: bool,
    ) -> None:
        self._qs.setValue(KEY_SAMPLER, default_sampler)
        self._qs.setValue(KEY_SEED, "" if default_seed is None else str(default_seed))
        self._qs.setValue(KEY_VERIFY, verify_automatically)
        self._qs.setValue(KEY_CHILD, objective_in_child_process)
        self._qs.sync()


def _folder_row(path: Path) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    label = QLabel(str(path))
    label.setObjectName("muted")
    label.setTextInteractionFlags(label.textInteractionFlags().TextSelectableByMouse)
    layout.addWidget(label, 1)
    button = QPushButton("Open")
    button.setToolTip(f"Show {path} in the file manager")

    def open_folder() -> None:
        path.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    button.clicked.connect(open_folder)
    layout.addWidget(button)
    row.open_button = button
    return row


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.prefs = Preferences(settings)
        self.setMinimumWidth(560)
        outer = QVBoxLayout(self)

        view = QGroupBox("Appearance and refresh")
        vf = QFormLayout(view)
        self.theme = QComboBox()
        for mode, label in THEMES:
            self.theme.addItem(label, mode)
        self.theme.setCurrentIndex(
            [m for m, _ in THEMES].index(settings.theme() if settings.theme() in dict(THEMES) else "system")
        )
        vf.addRow("Theme", self.theme)
        live, seconds = settings.live_refresh()
        self.live = QCheckBox("Re-read the open storage every")
        self.live.setChecked(live)
        self.interval = QDoubleSpinBox()
        self.interval.setRange(0.5, 3600)
        self.interval.setDecimals(1)
        self.interval.setSuffix(" s")
        self.interval.setValue(seconds)
        row = QHBoxLayout()
        row.addWidget(self.live)
        row.addWidget(self.interval)
        row.addStretch(1)
        vf.addRow("Live refresh", row)
        outer.addWidget(view)

        run = QGroupBox("Running")
        rf = QFormLayout(run)
        self.sampler = QLineEdit(self.prefs.default_sampler)
        self.sampler.setToolTip("Sampler SPEC for new studies, e.g. TPESampler(multivariate=True), random, cmaes")
        rf.addRow("Default sampler", self.sampler)
        seed = self.prefs.default_seed
        self.seed = QLineEdit("" if seed is None else str(seed))
        self.seed.setPlaceholderText("empty: draw a seed for each new study (recorded)")
        rf.addRow("Default seed", self.seed)
        self.verify = QCheckBox("Check determinism automatically (after opening a study and after each run)")
        self.verify.setChecked(self.prefs.verify_automatically)
        rf.addRow(self.verify)
        self.child = QCheckBox("Run objectives in a separate process (Abort trial stops them at once)")
        self.child.setChecked(self.prefs.objective_in_child_process)
        rf.addRow(self.child)
        outer.addWidget(run)

        # imported on use, not with this module: start-up time
        from optgui.qt.workspace.notifier import KIND_LABELS

        notes = QGroupBox("Desktop notifications")
        nf = QVBoxLayout(notes)
        self.notifications = {}
        for kind, label in KIND_LABELS.items():
            box = QCheckBox(label)
            box.setChecked(settings.notification_enabled(kind))
            nf.addWidget(box)
            self.notifications[kind] = box
        outer.addWidget(notes)

        files = QGroupBox("Files")
        ff = QFormLayout(files)
        self.data_row = _folder_row(paths.data_dir())
        self.cache_row = _folder_row(paths.cache_dir())
        self.settings_row = _folder_row(settings_path().parent)
        ff.addRow("Data (demo, run logs)", self.data_row)
        ff.addRow("Cache (verdicts)", self.cache_row)
        ff.addRow("Settings", self.settings_row)
        outer.addWidget(files)

        self.error = QLabel()
        self.error.setObjectName("filterError")
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def validate(self) -> str | None:

        text = self.sampler.text().strip() or DEFAULT_SAMPLER
        try:
            parse_spec(text, "sampler")
        except OptguiError as exc:
            return f"Default sampler: {exc}"
        seed = self.seed.text().strip()
        if seed and not seed.lstrip("-").isdigit():
            return f"Default seed must be a whole number, not {seed!r}"
        return None

    def accept(self) -> None:
        problem = self.validate()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        self.save()
        super().accept()

    def values(self) -> dict:
        seed = self.seed.text().strip()
        return {
            "theme": self.theme.currentData(),
            "live": self.live.isChecked(),
            "seconds": self.interval.value(),
            "default_sampler": self.sampler.text().strip() or DEFAULT_SAMPLER,
            "default_seed": int(seed) if seed else None,
            "verify_automatically": self.verify.isChecked(),
            "objective_in_child_process": self.child.isChecked(),
        }

    def save(self) -> None:
        v = self.values()
        self.settings.set_theme(v["theme"])
        self.settings.set_live_refresh(v["live"], v["seconds"])
        for kind, box in self.notifications.items():
            self.settings.set_notification_enabled(kind, box.isChecked())
        self.prefs.save(
            default_sampler=v["default_sampler"],
            default_seed=v["default_seed"],
            verify_automatically=v["verify_automatically"],
            objective_in_child_process=v["objective_in_child_process"],
        )


def apply_new_study_defaults(dialog, settings: Settings) -> None:
    """Fill a New study dialog with the preferred sampler and seed."""
    prefs = Preferences(settings)
    dialog.sampler.setText(prefs.default_sampler)
    if prefs.default_seed is not None:
        dialog.seed.setText(str(prefs.default_seed))
