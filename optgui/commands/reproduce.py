"""`optgui reproduce STORAGE --study NAME --trial K [-o FILE]`: a standalone script that re-runs trial K.

The script (optgui.core.share._reproduce) gives the objective exactly that trial's params and prints repr() of its
value as its last line. The study is read read-only; nothing of it runs while the script is written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from optgui.core.errors import OptguiError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("storage", metavar="STORAGE", help="study file or storage URL (read-only)")
    parser.add_argument("--study", metavar="NAME", required=True, help="study name")
    parser.add_argument("--trial", metavar="K", type=int, required=True, help="the trial's number")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the script here (default: stdout)")
    parser.add_argument(
        "--objective",
        metavar="REF",
        help="the objective, for a trial optgui did not run (FILE.py:FUNCTION, package.module:FUNCTION, builtin:NAME)",
    )


def execute(args: argparse.Namespace) -> int:
    # imported on use, not with this module: start-up time
    from optgui.core.share import reproduce_trial

    script = reproduce_trial(args.storage, args.study, args.trial, objective=args.objective)
    if not args.output:
        sys.stdout.write(script)
        return 0
    path = Path(args.output)
    try:
        path.write_text(script, encoding="utf-8")
        os.chmod(path, path.stat().st_mode | 0o111)  # runnable as ./script.py (it has a shebang line)
    except OSError as exc:
        raise OptguiError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"optgui: wrote {path} (run it: python {path})", file=sys.stderr)
    return 0
