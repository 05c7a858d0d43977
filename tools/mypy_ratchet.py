"""The mypy ratchet: the modules listed in pyproject.toml's ignore_errors override may still have type errors; no
other module may, and a listed module that has none must leave the list (so the list only shrinks).

    python tools/mypy_ratchet.py

mypy runs once with the project's settings but without the override, and the errors are counted per module.
The core and the commands may not be listed at all: they have no mypy errors, and keep it so.
Exit 0 when the rules hold, 1 otherwise (with what to fix), 2 when mypy itself could not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Packages that must stay free of mypy errors: they may never join the ratchet list.
ZERO_ERRORS = ("optgui.core", "optgui.commands")
ERROR_LINE = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error:")


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def load_config() -> tuple[dict, set[str]]:
    """The [tool.mypy] settings without overrides, and the modules the ratchet override lists."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    settings = {k: v for k, v in config.items() if k != "overrides"}
    ratchet = [o for o in config.get("overrides", []) if o.get("ignore_errors")]
    if len(ratchet) != 1:
        raise SystemExit("pyproject.toml must have exactly one [[tool.mypy.overrides]] with ignore_errors = true")
    return settings, set(ratchet[0]["module"])


def module_of(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def errors_per_module(settings: dict) -> Counter[str]:
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "mypy.ini"
        ini.write_text("[mypy]\n" + "".join(f"{k} = {_ini_value(v)}\n" for k, v in settings.items()))
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ini), "--no-error-summary", "--no-pretty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    if proc.returncode not in (0, 1) or "error:" in proc.stderr:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(2)
    return Counter(module_of(m["path"]) for line in proc.stdout.splitlines() if (m := ERROR_LINE.match(line)))


def main() -> int:
    settings, listed = load_config()
    errors = errors_per_module(settings)
    new = sorted(m for m in errors if m not in listed)
    fixed = sorted(m for m in listed if m not in errors)
    barred = sorted(m for m in listed if m.startswith(tuple(p + "." for p in ZERO_ERRORS)) or m in ZERO_ERRORS)
    for module in barred:
        print(f"{module}: listed, but {', '.join(ZERO_ERRORS)} must have no mypy errors at all")
    for module in new:
        print(f"{module}: {errors[module]} mypy error(s) in a module outside the ratchet list (run mypy to see them)")
    for module in fixed:
        print(f"{module}: no mypy errors any more: remove it from the ratchet list in pyproject.toml")
    print(f"mypy ratchet: {sum(errors.values())} error(s) in {len(errors)} module(s); {len(listed)} module(s) listed")
    return 1 if new or fixed or barred else 0


if __name__ == "__main__":
    sys.exit(main())
