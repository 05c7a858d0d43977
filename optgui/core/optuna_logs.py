"""Keep Optuna's INFO log lines ("[I …] A new study created in RDB …", "Trial 3 finished with value …") out of
optgui's own output: the CLI prints its own line per trial, and the child processes' stderr is the user's
terminal. Optuna's warnings and errors still get through.

Called by the commands and the child processes, never on import of the library: a notebook user's logging
configuration is theirs.
"""

from __future__ import annotations


def quiet_optuna_logging() -> None:
    import optuna.logging  # imported here: `optgui inspect` never loads Optuna (start-up time)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
