"""Command line: `optgui [STORAGE] [--study NAME]` opens the GUI; subcommands run headless.

The headless commands (run, inspect, verify, worker, control) never import PySide6: a worker machine may have no libGL.
Each subcommand lives in optgui/commands/<name>.py with `add_arguments(parser)` and `execute(args) -> int`.
Errors are one line on stderr with exit code 3 (docs/cli.md), or a traceback with --debug.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from optgui import __version__
from optgui.commands.output import print_line, silence
from optgui.core.errors import EXIT_ERROR, EXIT_OK, OptguiError

SUBCOMMANDS = {
    "run": ("optgui.commands.run", "run a study headless: pause with Ctrl-C, rerun to resume"),
    "inspect": ("optgui.commands.inspect", "print the studies of a storage, or a study's trials (read-only)"),
    "verify": ("optgui.commands.verify", "replay a study's sampler and report whether its trials reproduce"),
    "worker": ("optgui.commands.worker", "evaluate trials of a parallel run (any number, on any machine)"),
    "control": ("optgui.commands.control", "pause, resume or stop every process of a parallel run; show status"),
    "reproduce": ("optgui.commands.reproduce", "write a standalone script that re-runs one trial and prints its value"),
    "recipe": ("optgui.commands.recipe", "write a study's recipe (TOML): everything that defines its run"),
    "compare": ("optgui.commands.compare", "compare 2-8 studies of any storages: definitions and results (read-only)"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 3, as every other error does (docs/cli.md)
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optgui", description="A desktop application for Optuna studies.")
    parser.add_argument("--version", action="version", version=f"optgui {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
        try:
            command_module = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # A build without this command (e.g. a partial checkout) must not break the other commands.
            if exc.name != module:
                raise
            continue
        command_module.add_arguments(sp)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="optgui",
        description="Open the optgui desktop application. "
        f"Headless commands: {', '.join(SUBCOMMANDS)} (see `optgui COMMAND --help`).",
    )
    parser.add_argument("--version", action="version", version=f"optgui {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "storage", nargs="?", metavar="STORAGE", help="study file, storage URL or folder of study files to open"
    )
    parser.add_argument("--study", metavar="NAME", help="study to open in STORAGE")
    parser.add_argument("--demo", action="store_true", help="open (creating if needed) the demo study")
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add optgui to this user's application menu and file associations (Linux), then exit",
    )
    desktop.add_argument(
        "--uninstall-desktop-entry", action="store_true", help="remove what --install-desktop-entry added, then exit"
    )
    return parser


def print_help() -> None:
    """The app's own options (the GUI parser's), then the headless commands with what each does."""
    width = max(len(name) for name in SUBCOMMANDS)
    commands = "\n".join(f"  {name:<{width}}  {help_text}" for name, (_, help_text) in SUBCOMMANDS.items())
    print(build_gui_parser().format_help().rstrip("\n"))
    print(f"\ncommands (headless; `optgui COMMAND --help` for each):\n{commands}")


def _run_guarded(func, args) -> int:
    try:
        code = int(func(args) or 0)
        sys.stdout.flush()  # inside the guard: a closed pipe shows up here for short outputs
        return code
    except BrokenPipeError:
        # Whoever read our output has all it wanted: not an error of ours, and no traceback. Commands whose exit
        # code carries a result (verify) or that must finish cleanly (run) handle it where they print.
        silence(sys.stdout)
        silence(sys.stderr)  # `2>&1 | head`: nothing more is printed, and the flush at exit must not fail
        return EXIT_OK
    except OptguiError as exc:
        if getattr(args, "debug", False):
            raise
        print_line(f"optgui: error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if argv and argv[0] in ("-h", "--help") and first not in SUBCOMMANDS:
        print_help()  # `optgui --help` is about the app and its commands alike
        return 0
    if first in SUBCOMMANDS:
        args = build_parser().parse_args(argv)
        module = importlib.import_module(SUBCOMMANDS[args.command][0])
        return _run_guarded(module.execute, args)
    args = build_gui_parser().parse_args(argv)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from optgui import desktop_entry  # Qt-free: works where Qt cannot start

        return _run_guarded(desktop_entry.execute, args)
    return _run_guarded(_open_gui, args)


def _open_gui(args) -> int:
    from optgui.qt.window.app import run_app  # imported only here: headless commands never load Qt

    return run_app(storage=args.storage, study=args.study, demo=args.demo)


def main_gui() -> int:
    """Entry point of the `optgui-app` gui-script (launchers, file managers)."""
    return main()
