"""Studies with notes and artifacts made by the real optuna-dashboard and optuna.artifacts APIs."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

LONG_NOTE = "# Long\n\n" + "".join(f"line {i}: ünïcödé text that goes on\n" for i in range(200))  # > 3 chunks


def png_bytes(width: int = 8, height: int = 6) -> bytes:
    """A small valid RGB PNG (red), made without any imaging library."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


ARTIFACT_FILES: dict[str, bytes] = {
    "plot.png": png_bytes(),
    "log.txt": b"epoch 1 loss 0.5\nepoch 2 loss 0.25\n",
    "table.csv": b"epoch,loss\n1,0.5\n2,0.25\n",
    "config.json": json.dumps({"lr": 0.01, "layers": [16, 8]}).encode(),
    "report.md": b"# Report\n\n*fine*\n",
    "weights.bin": bytes(range(256)) * 4,
}


@dataclass
class AnnotatedStudy:
    storage: str  # the SQLite file
    study_name: str
    store: Path  # the FileSystemArtifactStore folder, `artifacts/` beside the file
    artifact_ids: dict[str, str]  # filename -> artifact id (trial 1's artifacts)
    study_artifact_id: str


def make_annotated_study(folder: Path, name: str = "annotated", n_trials: int = 4) -> AnnotatedStudy:
    """A SQLite study: a study note, notes on trials 0 and 2 (trial 2's split over several attributes, trial 0's
    saved twice), trial 1 with one artifact of each kind in ARTIFACT_FILES, a study artifact; `artifacts/` beside
    the file is the FileSystemArtifactStore."""
    import optuna
    from optuna.artifacts import FileSystemArtifactStore, upload_artifact
    from optuna_dashboard import save_note

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = folder / "study.db"
    store = folder / "artifacts"
    store.mkdir()
    sources = folder / "sources"
    sources.mkdir()
    artifact_store = FileSystemArtifactStore(base_path=store)
    study = optuna.create_study(
        study_name=name, storage=f"sqlite:///{storage}", sampler=optuna.samplers.RandomSampler(0)
    )
    ids: dict[str, str] = {}

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        if trial.number == 0:
            save_note(trial, "first draft")
            save_note(trial, "**Trial 0** note, second version")
        if trial.number == 1:
            for filename, content in ARTIFACT_FILES.items():
                path = sources / filename
                path.write_bytes(content)
                ids[filename] = upload_artifact(
                    artifact_store=artifact_store, file_path=str(path), study_or_trial=trial
                )
        if trial.number == 2:
            save_note(trial, LONG_NOTE)
        return x * x

    study.optimize(objective, n_trials=n_trials)
    save_note(study, "## Study note\n\nWritten with *optuna-dashboard*.")
    summary = sources / "summary.txt"
    summary.write_text("study summary\n")
    study_artifact = upload_artifact(artifact_store=artifact_store, file_path=str(summary), study_or_trial=study)
    return AnnotatedStudy(str(storage), name, store, ids, study_artifact)
