"""`optgui inspect FOLDER` as a user runs it: good, bad and unreadable files, a symbolic-link loop, depth, JSON,
the options refused with a folder, exit codes, and nothing written beside the studies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.support.permissions import without_permission_bypass
from tests.support.reader_fixtures import file_state

REPO = Path(__file__).resolve().parents[2]


def optgui(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [*prefix, sys.executable, "-m", "optgui", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)


def _study(path: Path, name: str, n_trials: int, directions: tuple[str, ...] = ("minimize",)) -> None:
    storage: str | optuna.storages.BaseStorage = f"sqlite:///{path}"
    if path.suffix == ".log":
        from optuna.storages.journal import JournalFileBackend

        storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    study = optuna.create_study(
        study_name=name, storage=storage, directions=list(directions), sampler=optuna.samplers.RandomSampler(0)
    )
    if len(directions) == 1:
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=n_trials)
    else:
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1 - t.params["x"]), n_trials=n_trials)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """good: a SQLite file with two studies, a journal file in a subfolder, a database named like a text file;
    bad: text named .db, an empty .sqlite, a damaged database, a symbolic-link loop; ignored: notes.txt, deep ones."""
    root = tmp_path_factory.mktemp("workspace")
    _study(root / "runs.db", "alpha", 4)
    _study(root / "runs.db", "beta", 3, ("minimize", "maximize"))
    (root / "journals").mkdir()
    _study(root / "journals" / "j.log", "gamma", 2)
    _study(root / "journals" / "study.data", "delta", 1)  # found by its content, not its name
    (root / "bad.db").write_text("not a database\n")
    (root / "empty.sqlite").write_bytes(b"")
    (root / "damaged.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 200)
    (root / "notes.txt").write_text("lab notes\n")
    (root / "journals" / "loop").symlink_to("..")
    deep = root / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    _study(deep / "deep.db", "epsilon", 1)  # 4 folders down: beyond the default depth of 3
    return root


def _files(root: Path) -> dict[Path, tuple]:
    return {p: file_state(p) for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def test_lists_every_study_with_health_and_names_the_bad_files(folder):
    before = _files(folder)
    result = optgui("inspect", str(folder))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{folder}: 4 studies in 3 files"
    assert lines[1].split() == [
        "file", "study", "directions", "trials", "complete", "pruned", "fail", "running", "best", "last",
        "activity", "health",
    ]  # fmt: skip
    rows = {tuple(line.split()[:4]) for line in lines[2:6]}
    assert rows == {
        ("journals/j.log", "gamma", "minimize", "2"),
        ("journals/study.data", "delta", "minimize", "1"),
        ("runs.db", "alpha", "minimize", "4"),
        ("runs.db", "beta", "minimize,maximize", "3"),
    }
    assert all(line.split()[-1] == "idle" for line in lines[2:6])
    problems = lines[lines.index("not read:") + 1 :]
    assert "  bad.db: neither a SQLite database nor an Optuna journal" in problems
    assert "  empty.sqlite: empty file" in problems
    assert any(p.startswith("  damaged.db: ") and "damaged" in p for p in problems)
    assert f"  journals/loop: symbolic link loop: already read as {folder}" in problems
    assert not any("notes.txt" in line or "deep.db" in line for line in lines)
    assert _files(folder) == before  # nothing written, no -journal or -wal file left beside a study


def test_depth_reaches_deeper_folders(folder):
    shallow = optgui("inspect", str(folder), "--depth", "0", "--json")
    names = [s["name"] for f in json.loads(shallow.stdout)["files"] for s in f["studies"]]
    assert sorted(names) == ["alpha", "beta"]
    deep = json.loads(optgui("inspect", str(folder), "--depth", "4", "--json").stdout)
    assert "a/b/c/d/deep.db" in [f["path"] for f in deep["files"]]


def test_json_has_its_own_schema(folder):
    result = optgui("inspect", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "optgui.inspect.folder/1" and data["depth"] == 3 and data["n_studies"] == 4
    files = {f["path"]: f for f in data["files"]}
    assert files["runs.db"]["kind"] == "sqlite" and files["journals/j.log"]["kind"] == "journal"
    alpha = files["runs.db"]["studies"][0]
    assert alpha["name"] == "alpha" and alpha["n_trials"] == 4 and alpha["health"]["state"] == "idle"
    assert "damaged" in files["damaged.db"]["error"] and files["damaged.db"]["studies"] == []
    assert {s["path"]: s["reason"] for s in data["skipped"]}["bad.db"] == (
        "neither a SQLite database nor an Optuna journal"
    )


@pytest.mark.parametrize("option", [["--study", "alpha"], ["--limit", "2"], ["--upgrade"], ["--jsonl"]])
def test_options_for_one_storage_are_refused_with_a_folder(folder, option):
    result = optgui("inspect", str(folder), *option)
    assert result.returncode == 3 and result.stdout == ""
    assert result.stderr.strip() == f"optgui: error: {option[0]} cannot be used with a folder ({folder})"


def test_depth_needs_a_folder(folder):
    result = optgui("inspect", str(folder / "runs.db"), "--depth", "2")
    assert result.returncode == 3 and result.stderr.strip() == "optgui: error: --depth needs a folder"


def test_a_folder_without_a_readable_study_exits_3_naming_its_files(tmp_path):
    (tmp_path / "bad.db").write_text("text")
    result = optgui("inspect", str(tmp_path))
    assert result.returncode == 3
    assert "  bad.db: neither a SQLite database nor an Optuna journal" in result.stdout.splitlines()
    assert result.stderr.strip() == f"optgui: error: no study could be read under {tmp_path}"


def test_unreadable_files_and_folders_are_named_and_the_rest_is_read(tmp_path):
    prefix = tuple(without_permission_bypass())
    _study(tmp_path / "good.db", "s", 2)
    _study(tmp_path / "private.db", "p", 2)
    (tmp_path / "locked").mkdir()
    _study(tmp_path / "locked" / "inner.db", "i", 1)
    (tmp_path / "private.db").chmod(0o000)
    (tmp_path / "locked").chmod(0o000)
    try:
        result = optgui("inspect", str(tmp_path), prefix=prefix)
    finally:
        (tmp_path / "private.db").chmod(0o600)
        (tmp_path / "locked").chmod(0o700)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{tmp_path}: 1 study in 1 file"
    problems = result.stdout.splitlines()[result.stdout.splitlines().index("not read:") + 1 :]
    assert sorted(problems) == ["  locked: permission denied", "  private.db: permission denied"]
