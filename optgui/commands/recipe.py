"""`optgui recipe STORAGE --study NAME [-o FILE]`: the study's recipe, a TOML file with everything that defines
its run (optgui.core.share._recipe). `optgui run STORAGE --study NEW --recipe FILE` creates a study from it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from optgui.core.errors import OptguiError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("storage", metavar="STORAGE", help="study file or storage URL (read-only)")
    parser.add_argument("--study", metavar="NAME", required=True, help="study name")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the recipe here (default: stdout)")


def execute(args: argparse.Namespace) -> int:
    # imported on use, not with this module: start-up time
    from optgui.core.share import write_recipe

    text = write_recipe(args.storage, args.study)
    if not args.output:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OptguiError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"optgui: wrote {args.output} (optgui run STORAGE --study NEW --recipe {args.output})", file=sys.stderr)
    return 0
