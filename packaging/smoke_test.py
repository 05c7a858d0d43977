"""Smoke test of the frozen build: build it, then use the real executable as a user would, offscreen.

    python packaging/smoke_test.py              # build (PyInstaller's cache makes rebuilds faster), then test
    python packaging/smoke_test.py --no-build   # test an existing dist/optgui

Checks, each in a fresh app data folder:
  1. `optgui run --demo` creates the demo study and runs trials headless (Optuna's alembic files are in the build);
  2. `optgui --demo` opens the demo in the window, the determinism badge verifies it (the verifier child process
     is the frozen executable again), and the app exits cleanly with status 0;
  3. a journal file made by `optgui run` opens in the window the same way;
  4. `--install-desktop-entry` into a temporary XDG data folder points the launcher at the executable, and
     `--uninstall-desktop-entry` removes it;
  5. a user's file objective runs in a system Python through the bridge (`--python`), and resumes there.
Exit status 0 when everything passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build as builder  # noqa: E402

RUN_TRIALS = 12
TIMEOUT = 300


class Failure(Exception):
    pass


def run(exe: Path, args: list[str], env: dict, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    start = time.monotonic()
    proc = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=timeout)
    print(f"  $ optgui {' '.join(args)}  -> exit {proc.returncode} ({time.monotonic() - start:.1f} s)")
    if proc.returncode != 0:
        raise Failure(f"`optgui {' '.join(args)}` exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def fresh_env(base: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OPTGUI_"))}
    for name in ("data", "cache", "config", "runtime", "xdg-data"):
        (base / name).mkdir(parents=True, exist_ok=True)
    os.chmod(base / "runtime", 0o700)
    env.update(
        OPTGUI_DATA_DIR=str(base / "data"),
        OPTGUI_CACHE_DIR=str(base / "cache"),
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_RUNTIME_DIR=str(base / "runtime"),
        XDG_DATA_HOME=str(base / "xdg-data"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def open_in_window(exe: Path, args: list[str], env: dict, base: Path) -> dict:
    report_path = base / "report.json"
    env = dict(env, OPTGUI_SMOKE_REPORT=str(report_path))
    run(exe, args, env)
    if not report_path.exists():
        raise Failure(f"`optgui {' '.join(args)}` exited without opening anything (no report)")
    report = json.loads(report_path.read_text())
    print(
        f"    window: {report['title']!r}, studies {report['studies']}, {report['trials']} trials, "
        f"badge: {report['badge_text']!r}"
    )
    return report


def check(exe: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="optgui-smoke-") as tmp:
        base = Path(tmp) / "demo"
        env = fresh_env(base)
        print("1. headless run of the demo study")
        run(exe, ["run", "--demo", "--n-trials", str(RUN_TRIALS), "--quiet"], env)
        if not (base / "data" / "demo.db").is_file():
            raise Failure("the demo study file was not created")

        print("2. the window opens the demo study")
        report = open_in_window(exe, ["--demo"], env, base)
        if report["how"] != "done" or report["trials"] != RUN_TRIALS or report["badge"] != "verified":
            raise Failure(f"unexpected window state: {report}")
        if 256 not in report["window_icon_sizes"]:
            raise Failure(f"the window icon is missing: {report}")

        print("3. the window opens an Optuna journal file")
        base = Path(tmp) / "journal"
        env = fresh_env(base)
        journal = base / "study.optuna.log"
        run(
            exe,
            [
                "run",
                str(journal),
                "--study",
                "j",
                "--objective",
                "builtin:quadratic",
                "--sampler",
                "RandomSampler(seed=1)",
                "--n-trials",
                "5",
                "--quiet",
            ],
            env,
        )
        report = open_in_window(exe, [str(journal)], env, base)
        if report["how"] != "done" or report["studies"] != ["j"] or report["trials"] != 5:
            raise Failure(f"unexpected window state: {report}")

        print("4. desktop entry install and uninstall")
        proc = run(exe, ["--install-desktop-entry"], env)
        desktop = base / "xdg-data" / "applications" / "io.github.optgui.optgui.desktop"
        exec_line = next((line for line in desktop.read_text().splitlines() if line.startswith("Exec=")), "")
        if str(exe.resolve()) not in exec_line:
            raise Failure(f"the launcher does not start the frozen executable: {exec_line}\n{proc.stdout}")
        print(f"    {exec_line}")
        run(exe, ["--uninstall-desktop-entry"], env)
        if desktop.exists():
            raise Failure("--uninstall-desktop-entry left the launcher behind")

        print("5. a user's objective runs in a system Python (--python), which has nothing of optgui")
        user_objective(exe, Path(tmp) / "user")


def system_python() -> str | None:
    """A Python on this machine outside the build (the frozen app's own Python is not a program one can run)."""
    import shutil

    for candidate in ("/usr/bin/python3", shutil.which("python3"), shutil.which("python")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def user_objective(exe: Path, base: Path) -> None:
    python = system_python()
    if python is None:
        print("    skipped: no system Python found")
        return
    env = fresh_env(base)
    objective = base / "train.py"
    objective.write_text(
        "import math\n\n\ndef objective(trial):\n    x = trial.suggest_float('x', -3, 3)\n"
        "    print('x =', x)\n    return math.cos(x) + x * x\n"
    )
    storage = base / "user.db"
    args = ["run", str(storage), "--study", "u", "--objective", f"{objective}:objective", "--python", python]
    run(exe, [*args, "--sampler", "TPESampler(seed=1)", "--n-trials", "4", "--quiet"], env)
    run(exe, ["run", str(storage), "--study", "u", "--n-trials", "6", "--quiet"], env)  # resumes in that Python
    proc = run(exe, ["inspect", str(storage), "--study", "u", "--json"], env)
    study = json.loads(proc.stdout)["study"]
    if study["state_counts"] != {"COMPLETE": 6}:
        raise Failure(f"the user objective's study is not 6 complete trials: {study['state_counts']}")
    print(f"    6 trials of a file objective ran in {python}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the frozen app and smoke-test its executable.")
    parser.add_argument("--no-build", action="store_true", help="test the existing build in --dist")
    parser.add_argument("--dist", type=Path, default=builder.ROOT / "dist")
    parser.add_argument("--work", type=Path, default=builder.ROOT / "build" / "pyinstaller")
    args = parser.parse_args(argv)
    folder = args.dist.resolve() / "optgui"
    if not args.no_build:
        start = time.monotonic()
        folder = builder.build(args.dist.resolve(), args.work.resolve())
        print(f"build: {time.monotonic() - start:.0f} s, {builder.folder_size(folder) / 2**20:.0f} MiB")
    exe = builder.executable(folder)
    if not exe.is_file():
        print(f"no build at {folder}: run without --no-build", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        check(exe)
    except (Failure, subprocess.TimeoutExpired) as exc:
        print(f"SMOKE TEST FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"smoke test passed ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
