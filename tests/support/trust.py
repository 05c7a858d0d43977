"""Helpers of the trust tests: the real CLI in a subprocess, checks that its errors are one clear line, and SQL
edits of study attributes in a copy of a real study (what an attacker handing over a file can do)."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXIT_CODES = {0, 1, 2, 3, 4}
# What a crash looks like when it reaches the user: a traceback, or a bare exception as the "clear" message.
CRASH = re.compile(r"Traceback \(most recent call last\)|^optgui: error: [A-Za-z_.]*(Error|Exception)\b", re.M)


def cli_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def optgui(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optgui", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def assert_clean_exit(proc: subprocess.CompletedProcess, allowed=EXIT_CODES) -> None:
    """A documented exit code; on an error exactly one line on stderr naming the problem, never a traceback."""
    shown = f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}"
    assert proc.returncode in allowed, shown
    assert not CRASH.search(proc.stderr), shown
    if proc.returncode == 3:
        errors = [line for line in proc.stderr.splitlines() if line.startswith("optgui: error: ")]
        assert len(errors) == 1, shown


def folder_state(path: Path) -> tuple[str, list[str]]:
    """The file's content hash and the names beside it: what inspect and verify must leave unchanged."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir())


def edit(db: Path, *statements: tuple[str, tuple]) -> None:
    conn = sqlite3.connect(db)
    try:
        for sql, params in statements:
            conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def set_study_attr(db: Path, key: str, value_json: str | None) -> None:
    """Replace (or with None delete) one study system attribute of study 1, as raw JSON text."""
    statements = [("DELETE FROM study_system_attributes WHERE key = ?", (key,))]
    if value_json is not None:
        sql = "INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (1, ?, ?)"
        statements.append((sql, (key, value_json)))
    edit(db, *statements)


def trial_id(db: Path, number: int) -> int:
    conn = sqlite3.connect(db)
    try:
        ((found,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (number,)).fetchall()
    finally:
        conn.close()
    return found


def set_trial_attr(db: Path, number: int, key: str, value_json: str | None, table: str = "trial_system_attributes"):
    """Replace (or with None delete) one trial attribute (system or user) of trial `number`, as raw JSON text."""
    tid = trial_id(db, number)
    statements = [(f"DELETE FROM {table} WHERE trial_id = ? AND key = ?", (tid, key))]
    if value_json is not None:
        statements.append((f"INSERT INTO {table} (trial_id, key, value_json) VALUES (?, ?, ?)", (tid, key, value_json)))
    edit(db, *statements)


def deep_json(depth: int = 3000) -> str:
    return "[" * depth + "]" * depth
