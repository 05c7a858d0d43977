"""`optgui inspect --json` includes optuna-dashboard's notes and Optuna's artifact metadata."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.annotated import ARTIFACT_FILES, LONG_NOTE, make_annotated_study

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.needs("optuna_dashboard")


def optgui(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "optgui", *args], capture_output=True, text=True, env=env, cwd=REPO)


def test_inspect_json_has_notes_and_artifacts(tmp_path):
    annotated = make_annotated_study(tmp_path)
    before = hashlib.sha256(Path(annotated.storage).read_bytes()).hexdigest()
    result = optgui("inspect", annotated.storage, "--study", annotated.study_name, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    notes = document["notes"]
    assert notes["study"]["body"].startswith("## Study note") and notes["study"]["version"] == 1
    by_number = {n["trial_number"]: n for n in notes["trials"]}
    assert by_number[0]["body"] == "**Trial 0** note, second version" and by_number[0]["version"] == 2
    assert by_number[2]["body"] == LONG_NOTE
    artifacts = document["artifacts"]
    assert [a["filename"] for a in artifacts["study"]] == ["summary.txt"]
    assert {a["filename"] for a in artifacts["trials"]["1"]} == set(ARTIFACT_FILES)
    png = next(a for a in artifacts["trials"]["1"] if a["filename"] == "plot.png")
    assert png == {
        "artifact_id": annotated.artifact_ids["plot.png"],
        "filename": "plot.png",
        "mimetype": "image/png",
        "encoding": None,
    }
    assert len(document["trials"]) == 4
    assert hashlib.sha256(Path(annotated.storage).read_bytes()).hexdigest() == before


def test_inspect_json_of_a_study_without_notes(tmp_path):
    import optuna

    path = tmp_path / "plain.db"
    optuna.create_study(study_name="plain", storage=f"sqlite:///{path}").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    document = json.loads(optgui("inspect", str(path), "--study", "plain", "--json", "--limit", "1").stdout)
    assert document["notes"] == {"study": None, "trials": []}
    assert document["artifacts"] == {"study": [], "trials": {}}
