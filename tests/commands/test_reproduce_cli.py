"""`optgui reproduce`: the script on stdout or in a file (runnable, and it prints the recorded value); unknown
studies and trials, and a trial whose objective is unknown, are one clear line and exit 3; the study is unchanged."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import optuna

from tests.support.trust import assert_clean_exit, cli_env, optgui


def test_the_script_goes_to_stdout_or_a_file_and_prints_the_recorded_value(tmp_path):
    storage = tmp_path / "s.db"
    proc = optgui(
        "run", str(storage), "--study", "s", "--objective", "builtin:multi", "--seed", "4", "--n-trials", "3",
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert_clean_exit(proc, {0})
    before = hashlib.sha256(storage.read_bytes()).hexdigest()
    shown = optgui("reproduce", str(storage), "--study", "s", "--trial", "2", cwd=tmp_path)
    assert_clean_exit(shown, {0})
    assert shown.stdout.startswith("#!/usr/bin/env python3\n")
    written = optgui("reproduce", str(storage), "--study", "s", "--trial", "2", "-o", "t2.py", cwd=tmp_path)
    assert_clean_exit(written, {0})
    assert (tmp_path / "t2.py").read_text() == shown.stdout
    assert os.access(tmp_path / "t2.py", os.X_OK)
    ran = subprocess.run(
        [sys.executable, "t2.py"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120
    )
    values = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}").trials[2].values
    assert ran.stdout.splitlines()[-1] == repr(values)  # a list, as Optuna's values
    assert hashlib.sha256(storage.read_bytes()).hexdigest() == before


def test_bad_requests_are_one_clear_line_and_exit_3(tmp_path):
    storage = tmp_path / "plain.db"
    optuna.create_study(storage=f"sqlite:///{storage}", study_name="p").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    before = hashlib.sha256(storage.read_bytes()).hexdigest()
    cases = [
        (("--study", "nope", "--trial", "0"), "no study named 'nope'"),
        (("--study", "p", "--trial", "5"), "has no trial 5"),
        (("--study", "p", "--trial", "1"), "was not run by optgui"),
    ]
    for args, message in cases:
        proc = optgui("reproduce", str(storage), *args, cwd=tmp_path)
        assert_clean_exit(proc, {3})
        assert message in proc.stderr
    proc = optgui("reproduce", str(tmp_path / "missing.db"), "--study", "p", "--trial", "0", cwd=tmp_path)
    assert_clean_exit(proc, {3})
    assert not (tmp_path / "missing.db").exists()
    assert hashlib.sha256(storage.read_bytes()).hexdigest() == before
    # With the objective named, a plain Optuna study's trial can be reproduced
    named = optgui(
        "reproduce", str(storage), "--study", "p", "--trial", "1", "--objective", "builtin:quadratic", cwd=tmp_path
    )
    assert_clean_exit(named, {0})
