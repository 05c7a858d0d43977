"""Sharing what a study proves: reproduce one trial as a standalone script, or a whole study as a recipe.

`reproduce_trial(storage, study, number)` returns a Python script that re-runs the objective with exactly that
trial's params (optuna.trial.FixedTrial) and prints its value; `recipe_of_study(storage, study)` returns the
`Recipe` that defines the study's run (`to_toml()` writes it, `read_recipe` reads it back) and `recipe_request`
makes the RunRequest of a new study from one. Both read the study read-only; nothing is executed or written.
Above the engine (it builds RunRequests), beside verify and fleet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optgui.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from optgui.core.share._recipe import (
        RECIPE_FORMAT,
        Recipe,
        RecipeError,
        RecipeOptions,
        explain_environment,
        parse_recipe,
        read_recipe,
        recipe_of_study,
        recipe_request,
        write_recipe,
    )
    from optgui.core.share._reproduce import TrialToReproduce, read_trial, reproduce_script, reproduce_trial
    from optgui.core.share._toml import dump_toml

__all__ = [
    "RECIPE_FORMAT",
    "Recipe",
    "RecipeError",
    "RecipeOptions",
    "TrialToReproduce",
    "dump_toml",
    "explain_environment",
    "parse_recipe",
    "read_recipe",
    "read_trial",
    "recipe_of_study",
    "recipe_request",
    "reproduce_script",
    "reproduce_trial",
    "write_recipe",
]

_HOMES = {
    "optgui.core.share._recipe": (
        "RECIPE_FORMAT",
        "Recipe",
        "RecipeError",
        "RecipeOptions",
        "explain_environment",
        "parse_recipe",
        "read_recipe",
        "recipe_of_study",
        "recipe_request",
        "write_recipe",
    ),
    "optgui.core.share._reproduce": ("TrialToReproduce", "read_trial", "reproduce_script", "reproduce_trial"),
    "optgui.core.share._toml": ("dump_toml",),
}
_EXPORTS = {name: module for module, names in _HOMES.items() for name in names}


# Lazy, as every core subpackage: importing optgui.core.share loads nothing until a name is used.
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS, __all__)
