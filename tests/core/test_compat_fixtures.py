"""Studies written by an earlier optgui (tests/fixtures/compat, see its README) still open, verify, resume and
recover: the storage format those files pin must keep working whatever the code that reads and writes it becomes.

Every test works on a copy unpacked into tmp_path; the committed files are only read. What each file holds (its
trials as plain Optuna read them, the verdict and the resume outcome of the optgui that made it) is in
expected.json beside them. A resumed study must equal plain Optuna run uninterrupted with the same sampler and seed
(a fleet: the batched plain-Optuna loop of docs/fleet.md).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optgui.cli import main as optgui_main
from optgui.core.reader import open_reader
from tests.support.determinism import first_difference, objective_for, recorded, reference
from tests.support.fleet import batched_reference_of
from tests.support.verify import cli_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compat"
DOCUMENT = json.loads((FIXTURES / "expected.json").read_text())
EXPECTED: dict[str, dict[str, Any]] = DOCUMENT["fixtures"]
SIGNING_KEY = FIXTURES / "cmaes-signing.key"
FLEETS = {name for name, entry in EXPECTED.items() if "batch" in entry["definition"]}


def _params(names):
    """Fleets start worker processes and take longer: marked slow."""
    return [pytest.param(n, id=n, marks=[pytest.mark.slow] if n in FLEETS else []) for n in sorted(names)]


def unpack(name: str, folder: Path) -> Path:
    entry = EXPECTED[name]
    target = folder / entry["file"].removesuffix(".gz")
    with gzip.open(FIXTURES / entry["file"], "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def optgui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, **cli_env()}
    return subprocess.run(
        [sys.executable, "-m", "optgui", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def verdict(path: Path) -> dict[str, Any]:
    proc = optgui("verify", str(path), "--json", "--no-cache")
    data = json.loads(proc.stdout)
    return {
        "exit": proc.returncode,
        "kind": data["kind"],
        "equivalent": data.get("equivalent"),
        "n_checked": data.get("n_checked"),
        "pending": data.get("pending"),
    }


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def same_float(text: str, value: float) -> bool:
    """Bit for bit (expected.json holds floats as repr, which round-trips); NaN equals NaN."""
    expected = float(text)
    return (math.isnan(expected) and math.isnan(value)) or expected.hex() == float(value).hex()


def install_signing_key() -> None:
    """Become the user who made the fixtures: their pickle signing key in this test's app data folder."""
    key = Path(os.environ["OPTGUI_DATA_DIR"]) / "pickle-signing.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SIGNING_KEY, key)
    key.chmod(0o600)


def reference_for(name: str) -> list[tuple]:
    definition = EXPECTED[name]["definition"]
    # builtin:slow is the quadratic plus a sleep that never changes the value: the reference need not wait.
    objective = re.sub(r"sleep=[0-9.]+", "sleep=0", definition["objective"])
    if name in FLEETS:
        evaluate = objective_for(objective)
        return batched_reference_of(
            definition["sampler"],
            evaluate.search_space,
            evaluate,
            definition["n_trials"],
            definition["batch"],
            study_name=name,
            pipeline=definition.get("pipeline", False),
        )
    return reference(definition["sampler"], objective, definition["n_trials"], study_name=name)


def test_committed_files_are_the_ones_expected_json_describes():
    """The fixtures pin a format: they are never regenerated or edited (README.md)."""
    for entry in EXPECTED.values():
        assert file_digest(FIXTURES / entry["file"]) == entry["sha256"], f"{entry['file']} changed"
    assert DOCUMENT["made_by"]["optgui"] and len(DOCUMENT["made_by"]["commit"]) == 40
    assert {"completed", "paused", "crashed", "multi", "cmaes", "journal", "fleet", "fleet-crashed"} <= set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reader_reads_every_trial_as_optuna_did(tmp_path, name):
    path = unpack(name, tmp_path)
    before = file_digest(path)
    entry = EXPECTED[name]
    trials = entry["trials"]
    with open_reader(str(path)) as reader:
        (summary,) = reader.studies()
        table = reader.trials(name)
    assert summary.name == name and list(summary.directions) == entry["directions"]
    assert summary.n_trials == len(trials)
    assert summary.optgui_metadata["optgui:schema"] == 1
    assert table.number.tolist() == [t["number"] for t in trials]
    assert table.state_names.tolist() == [t["state"] for t in trials]
    for row, trial in enumerate(trials):
        if trial["values"] is None:
            assert np.isnan(table.values[row]).all(), trial
        else:
            assert all(same_float(v, x) for v, x in zip(trial["values"], table.values[row], strict=True)), trial
        for param, text in trial["params"].items():
            value = table.params[param].decoded()[row]
            assert same_float(text, value) if isinstance(value, float) else repr(value) == text, (trial, param)
        absent = set(table.params) - set(trial["params"])
        assert not any(table.params[p].present[row] for p in absent), trial
    assert file_digest(path) == before  # reading never writes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_json_lists_the_trials(tmp_path, capsys, name):
    path = unpack(name, tmp_path)
    assert optgui_main(["inspect", str(path), "--study", name, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    trials = EXPECTED[name]["trials"]
    assert [(t["number"], t["state"]) for t in data["trials"]] == [(t["number"], t["state"]) for t in trials]
    for got, want in zip(data["trials"], trials, strict=True):
        if want["values"] is None:
            assert got["values"] is None
        else:
            assert [float(v) for v in got["values"]] == [float(v) for v in want["values"]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verify_gives_the_recorded_verdict(tmp_path, name):
    path = unpack(name, tmp_path)
    before = file_digest(path)
    assert verdict(path) == EXPECTED[name]["verify"]
    assert file_digest(path) == before


@pytest.mark.parametrize("name", _params(EXPECTED))
def test_resume_finishes_the_run_as_an_uninterrupted_one(tmp_path, name):
    """Rerunning the same command on a copy resumes (or recovers) the run up to its recorded target; the trials
    equal plain Optuna's uninterrupted run, and the study verifies as it did for the optgui that made it."""
    entry = EXPECTED[name]
    expected = entry["after_resume"]
    path = unpack(name, tmp_path)
    unfinished = [t["number"] for t in entry["trials"] if t["state"] == "RUNNING"]
    install_signing_key()
    proc = optgui("run", str(path), "--study", name, "--quiet", *entry["resume_args"], timeout=240)
    assert proc.returncode == expected["exit"] == 0, proc.stderr
    recovered = [line for line in proc.stderr.splitlines() if line.startswith("optgui: recovered")]
    assert bool(recovered) == bool(expected["stderr_lines"]) == bool(unfinished), proc.stderr
    got = recorded(str(path), study_name=name)
    want = reference_for(name)
    assert first_difference(want, got) is None, f"diverged at position {first_difference(want, got)}"
    assert len(got) == entry["definition"]["n_trials"]
    with open_reader(str(path)) as reader:
        table = reader.trials(name)
        tags = reader.trial_system_attrs(name, numbers=unfinished)
    counts = dict(zip(*np.unique(table.state_names.astype(str), return_counts=True), strict=True))
    assert {k: int(v) for k, v in counts.items()} == expected["states"]
    if unfinished and name not in FLEETS:
        # The trial a crash left RUNNING is re-entered (SQL) or abandoned (journal files): never left running.
        tag = "optgui:abandoned" if path.suffix == ".log" else "optgui:recovered"
        assert all(tag in tags.get(n, {}) for n in unfinished), tags
    after = verdict(path)
    assert (after["exit"], after["kind"], after["equivalent"]) == (
        expected["verify"]["exit"],
        expected["verify"]["kind"],
        expected["verify"]["equivalent"],
    )


def test_cmaes_pickles_of_another_user_are_refused_without_trust_and_resume_with_it(tmp_path):
    """Without the signing key that made them, the CMA-ES pickles are foreign: a resume is refused in one line and
    writes nothing; with --trust-pickles it resumes as an uninterrupted run would have gone on."""
    path = unpack("cmaes", tmp_path)
    before = file_digest(path)
    refused = optgui("run", str(path), "--study", "cmaes", "--quiet")
    assert refused.returncode == 3
    assert refused.stderr.count("\n") == 1 and "--trust-pickles" in refused.stderr
    assert file_digest(path) == before
    trusted = optgui("run", str(path), "--study", "cmaes", "--quiet", "--trust-pickles")
    assert trusted.returncode == 0, trusted.stderr
    want = reference_for("cmaes")
    got = recorded(str(path), study_name="cmaes")
    assert first_difference(want, got) is None and len(got) == 20
    after = verdict(path)
    assert (after["exit"], after["kind"]) == (0, "verified")
