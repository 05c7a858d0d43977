"""Opening a study in the app (which verifies it in a child process) runs nothing from the study's folder and
leaves nothing beside a WAL-mode study (issue 16, Majors 3 and 4). The real `optgui-app` launcher runs with the
study's folder as its current folder; its test-only smoke report says when the badge has settled."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

OPTGUI = str(Path(sys.executable).parent / "optgui")
OPTGUI_APP = str(Path(sys.executable).parent / "optgui-app")
PLANTED = 'import os\nwith open({marker!r}, "a") as f:\n    f.write(f"{{__name__}} {{os.getpid()}}\\n")\n'


def _state(folder: Path) -> tuple:
    names = sorted(os.listdir(folder))
    files = [name for name in names if (folder / name).is_file()]
    return names, {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in files}


def test_opening_a_wal_study_from_its_folder_runs_nothing_there_and_creates_nothing_beside_it(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    study_path = folder / "wal.db"
    made = subprocess.run(
        [OPTGUI, "run", str(study_path), "--study", "w", "--objective", "builtin:quadratic", "--n-trials", "5"]
        + ["--sampler", "RandomSampler(seed=2)", "--quiet"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert made.returncode == 0, made.stderr
    conn = sqlite3.connect(study_path)
    conn.execute("PRAGMA journal_mode=WAL").fetchall()
    conn.close()
    marker = tmp_path / "marker.txt"
    for name in ("numpy", "optuna", "sqlalchemy"):
        (folder / f"{name}.py").write_text(PLANTED.format(marker=str(marker)))
    (folder / "optgui").mkdir()
    (folder / "optgui" / "__init__.py").write_text(PLANTED.format(marker=str(marker)))
    before = _state(folder)

    base = tmp_path / "app"
    for name in ("data", "cache", "config", "runtime"):
        (base / name).mkdir(parents=True)
    os.chmod(base / "runtime", 0o700)
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OPTGUI_"))}
    env.update(
        OPTGUI_DATA_DIR=str(base / "data"),
        OPTGUI_CACHE_DIR=str(base / "cache"),
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_RUNTIME_DIR=str(base / "runtime"),
        QT_QPA_PLATFORM="offscreen",
        OPTGUI_SMOKE_REPORT=str(report),
    )
    proc = subprocess.run([OPTGUI_APP, "wal.db"], cwd=folder, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(report.read_text())
    assert result["how"] == "done" and result["trials"] == 5, result
    assert result["badge"] == "verified", result
    assert not marker.exists(), marker.read_text()
    assert _state(folder) == before  # no -wal, no -shm, nothing changed
