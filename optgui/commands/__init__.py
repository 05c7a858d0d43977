"""Subcommands of the optgui CLI: each has add_arguments(parser) and execute(args) -> int."""
