"""File ▸ New study…: the engine's study definition (storage file, name, directions and metric names, objective,
sampler, pruner, seed, number of trials)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from optgui.core.engine import BUILTINS, DEFAULT_DIRECTIONS
from optgui.qt import dialogs


class NewStudyDialog(QDialog):
    def __init__(self, parent=None, folder: str = ""):
        super().__init__(parent)
        self.setWindowTitle("New study")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.storage = QLineEdit(str(Path(folder) / "study.db") if folder else "")
        self.storage.setPlaceholderText("study.db (SQLite) or study.jsonl (journal file)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.storage, 1)
        row.addWidget(browse)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Storage file", holder)
        self.name = QLineEdit("study")
        form.addRow("Study name", self.name)
        self.objective = QComboBox()
        self.objective.setEditable(True)
        self.objective.addItems([f"builtin:{n}" for n in BUILTINS])
        self.objective.setCurrentText("builtin:quadratic")
        self.objective.currentTextChanged.connect(self._objective_changed)
        form.addRow("Objective", self.objective)
        self.directions = QLineEdit("minimize")
        self.directions.setToolTip("One per objective, separated by spaces: minimize maximize")
        form.addRow("Directions", self.directions)
        self.metric_names = QLineEdit()
        self.metric_names.setPlaceholderText("optional, one per objective: loss accuracy")
        form.addRow("Metric names", self.metric_names)
        self.sampler = QLineEdit("TPESampler")
        self.sampler.setToolTip("Sampler SPEC: tpe, random, cmaes, 'TPESampler(multivariate=True)', …")
        form.addRow("Sampler", self.sampler)
        self.pruner = QLineEdit()
        self.pruner.setPlaceholderText("MedianPruner (Optuna's default)")
        form.addRow("Pruner", self.pruner)
        self.seed = QLineEdit("42")
        self.seed.setPlaceholderText("empty: drawn at random and recorded")
        form.addRow("Seed", self.seed)
        self.n_trials = QSpinBox()
        self.n_trials.setRange(0, 100_000_000)
        self.n_trials.setValue(100)
        self.n_trials.setSpecialValueText("no limit")
        form.addRow("Trials (total)", self.n_trials)
        layout.addLayout(form)
        note = QLabel("The study is created now, with no trials; press Start in the run panel to run it.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path = dialogs.save_file(self, "New study file", self.storage.text())
        if path:
            self.storage.setText(path)

    def _objective_changed(self, text: str) -> None:
        name = text.removeprefix("builtin:").split("(", 1)[0]
        self.directions.setText(" ".join(DEFAULT_DIRECTIONS.get(name, ["minimize"])))

    def values(self) -> dict:
        seed = self.seed.text().strip()
        names = self.metric_names.text().split()
        return {
            "storage": self.storage.text().strip(),
            "study_name": self.name.text().strip(),
            "objective": self.objective.currentText().strip(),
            "directions": self.directions.text().split(),
            "metric_names": names or None,
            "sampler": self.sampler.text().strip() or None,
            "pruner": self.pruner.text().strip() or None,
            "seed": int(seed) if seed else None,
            "n_trials": self.n_trials.value() or None,
        }
