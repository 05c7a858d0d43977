"""A study as a recipe: a TOML file with everything that defines its run, and a new run made from it.

`recipe_of_study` reads a study read-only and returns its `Recipe` (the run record's sampler and pruner specs with
the seed, the objective reference and sha256, directions and metric names, the target, the interpreter and
versions recorded, and the search space seen so far: each param's most recent distribution as Optuna's JSON);
`Recipe.to_toml` writes it (optgui.core.share._toml) and `read_recipe` reads it back (tomllib).

`recipe_request` turns a recipe into the RunRequest of a new study. A command-line option that contradicts the
recipe is an error naming both; `n_trials` overrides the target; a different `seed` makes a replicate, recorded
as such in the new study's run record (its `recipe` entry). `explain_environment` says, before anything runs,
how this environment differs from the recipe's: an objective whose content changed is refused unless the user
accepts the change (as a resume is); versions that differ are explained and the run goes on (the version policy
of a resume: recorded with the run and checked by the verifier).
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optgui import __version__
from optgui.core.engine import (
    ObjectiveRef,
    RunRequest,
    Spec,
    check_against_record,
    current_versions,
    describe_differences,
    parse_objective,
    parse_spec,
    used_packages,
    version_differences,
)
from optgui.core.errors import ObjectiveError, OptguiError, StudyStateError
from optgui.core.records import KEY_TARGET, StudyMetadata
from optgui.core.share._toml import dump_toml
from optgui.core.storage import open_reader

RECIPE_FORMAT = 1


class RecipeError(OptguiError):
    """A recipe file that cannot be read, or options that contradict it."""


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a study's run (see the module docstring). Specs are Optuna specs as JSON objects
    (the run record's form); versions map package names to versions (absent: not installed)."""

    sampler: dict[str, Any]
    pruner: dict[str, Any]
    seed: int | None
    objective: dict[str, Any]
    directions: list[str]
    metric_names: list[str] | None = None
    n_trials: int | None = None
    versions: dict[str, Any] = field(default_factory=dict)
    search_space: dict[str, str] = field(default_factory=dict)  # param name -> Optuna's distribution JSON
    source: dict[str, Any] = field(default_factory=dict)  # storage, study, created, optgui_version

    @property
    def sampler_spec(self) -> Spec:
        return parse_spec(self.sampler, "sampler")

    @property
    def pruner_spec(self) -> Spec:
        return parse_spec(self.pruner, "pruner")

    def to_toml(self) -> str:
        source = self.source
        header = (
            f"optgui recipe of study {source.get('study')!r} ({source.get('storage')}), written by optgui "
            f"{__version__}.\nRun it: optgui run STORAGE --study NEW --recipe THIS_FILE "
            "[--n-trials N] [--seed S for a replicate]"
        )
        document: dict[str, Any] = {
            "format": RECIPE_FORMAT,
            "source": dict(source),
            "study": {"directions": self.directions, "metric_names": self.metric_names, "n_trials": self.n_trials},
            "sampler": {"spec": _spec_text(self.sampler_spec), "seed": self.seed},
            "pruner": {"spec": _spec_text(self.pruner_spec)},
            "objective": {k: v for k, v in self.objective.items() if isinstance(v, str)},
            "environment": {k: v for k, v in self.versions.items() if v is not None},
            "search_space": dict(self.search_space),
        }
        return dump_toml(document, header=header)

    @property
    def sha256(self) -> str:
        """A digest of what the recipe defines (not of the file's text or comments)."""
        return hashlib.sha256(self.to_toml().encode()).hexdigest()


def _spec_text(spec: Spec) -> str:
    """Call syntax when it reads back as the same spec (readable), else the spec's JSON (exact)."""
    text = spec.to_text()
    try:
        if parse_spec(text, spec.kind).to_json_obj() == spec.to_json_obj():
            return text
    except OptguiError:
        pass
    return spec.to_json()


# --------------------------------------------------------------------------------------------- a study's recipe
def recipe_of_study(storage: str, study: str) -> Recipe:
    """The recipe of a study optgui ran, read read-only. Raises StudyStateError when there is none."""
    with open_reader(storage) as reader:
        summary = next((s for s in reader.studies() if s.name == study), None)
        if summary is None:
            names = ", ".join(repr(n) for n in reader.study_names()) or "none"
            raise StudyStateError(f"no study named {study!r} in {reader.display} (studies: {names})")
        table = reader.trials(study, user_attrs=False, datetimes=False)
        display = reader.display
    meta = StudyMetadata.from_system_attrs(dict(summary.optgui_metadata))
    run = meta.run
    if run is None:
        raise StudyStateError(
            f"study {study!r} was not run by optgui: it records no sampler, seed or objective to make a recipe of"
        )
    target = summary.optgui_metadata.get(KEY_TARGET) or {}
    return Recipe(
        sampler=_spec_obj(run["sampler"], "sampler"),
        pruner=_spec_obj(run["pruner"], "pruner"),
        seed=run.get("seed"),
        objective=dict(run["objective"]),
        directions=list(run["directions"]),
        metric_names=list(run["metric_names"]) if run.get("metric_names") else None,
        n_trials=target.get("n_trials") if isinstance(target, dict) else None,
        versions=dict(run.get("versions") or {}),
        search_space={name: column.distribution.json for name, column in table.params.items()},
        source={
            "storage": display,
            "study": study,
            "created": run.get("created"),
            "optgui_version": run.get("optgui_version"),
        },
    )


def _spec_obj(value: Any, kind: str) -> dict[str, Any]:
    return parse_spec(value, kind).to_json_obj()


def write_recipe(storage: str, study: str) -> str:
    """The TOML text of the study's recipe."""
    return recipe_of_study(storage, study).to_toml()


# --------------------------------------------------------------------------------------------- reading one
def read_recipe(path: str | Path) -> Recipe:
    """Read a recipe file. Raises RecipeError naming the file and what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"cannot read recipe {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RecipeError(f"recipe {path} is not UTF-8 text") from None
    return parse_recipe(text, str(path))


def parse_recipe(text: str, name: str = "recipe") -> Recipe:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{name} is not valid TOML: {exc}") from None
    if data.get("format") != RECIPE_FORMAT:
        raise RecipeError(f"{name} has format {data.get('format')!r}; this optgui reads recipe format {RECIPE_FORMAT}")
    try:
        study, sampler, pruner, objective = (data[k] for k in ("study", "sampler", "pruner", "objective"))
        recipe = Recipe(
            sampler=_spec_obj(sampler["spec"], "sampler"),
            pruner=_spec_obj(pruner["spec"], "pruner"),
            seed=sampler.get("seed"),
            objective={k: objective.get(k) for k in ("kind", "ref", "path", "function", "sha256", "import_root")},
            directions=list(study["directions"]),
            metric_names=list(study["metric_names"]) if study.get("metric_names") else None,
            n_trials=study.get("n_trials"),
            versions=dict(data.get("environment") or {}),
            search_space=dict(data.get("search_space") or {}),
            source=dict(data.get("source") or {}),
        )
    except KeyError as exc:
        raise RecipeError(f"{name} lacks {exc.args[0]!r}") from None
    except OptguiError as exc:
        raise RecipeError(f"{name}: {exc}") from None
    _check_types(recipe, name)
    return recipe


def _check_types(recipe: Recipe, name: str) -> None:
    if recipe.seed is not None and (not isinstance(recipe.seed, int) or isinstance(recipe.seed, bool)):
        raise RecipeError(f"{name}: sampler seed {recipe.seed!r} is not an integer")
    if recipe.n_trials is not None and (not isinstance(recipe.n_trials, int) or recipe.n_trials < 0):
        raise RecipeError(f"{name}: n_trials {recipe.n_trials!r} is not a count")
    if not recipe.directions or any(d not in ("minimize", "maximize") for d in recipe.directions):
        raise RecipeError(f"{name}: directions {recipe.directions!r} are not 'minimize'/'maximize'")
    if recipe.objective.get("kind") not in ("builtin", "file", "module") or not recipe.objective.get("ref"):
        raise RecipeError(f"{name}: the objective needs a kind (builtin, file, module) and a ref")


# --------------------------------------------------------------------------------------------- running one
@dataclass(frozen=True)
class RecipeOptions:
    """What the user gave beside the recipe (None: not given)."""

    objective: str | None = None
    sampler: str | None = None
    pruner: str | None = None
    seed: int | None = None
    directions: list[str] | None = None
    metric_names: list[str] | None = None
    n_trials: int | None = None
    accept_objective_change: bool = False


def explain_environment(recipe: Recipe, options: RecipeOptions) -> tuple[ObjectiveRef, dict | None, list[str]]:
    """How this environment differs from the recipe's, before anything runs: (the objective to run, the
    objective change the user accepted or None, notes on versions that differ). Raises ObjectiveError for a
    changed objective the user did not accept, or one that is missing."""
    given = parse_objective(options.objective) if options.objective else None
    try:
        objective, change = check_against_record(given, recipe.objective, accept_change=options.accept_objective_change)
    except ObjectiveError as exc:
        raise ObjectiveError(f"the recipe's objective does not match this environment: {exc}") from None
    diffs = version_differences(
        recipe.versions, current_versions(), used_packages(recipe.sampler_spec, recipe.pruner_spec)
    )
    notes = []
    if diffs:
        notes.append(
            f"versions differ from the recipe's ({describe_differences(diffs)}): the sampler may suggest other "
            "values than in the original study; recorded with the run and checked by the verifier"
        )
    if change and "objective_changed" in change:
        notes.append("the objective file changed since the recipe was written (accepted; recorded with the run)")
    return objective, change, notes


def _contradictions(recipe: Recipe, options: RecipeOptions) -> None:
    """Options that contradict the recipe: an error naming both (as a rerun's do)."""
    if options.sampler is not None:
        given = parse_spec(options.sampler, "sampler")
        if given.seed is None and recipe.seed is not None:
            given = given.with_seed(options.seed if options.seed is not None else recipe.seed)
        expected = _reseeded(recipe.sampler_spec, recipe.seed, options.seed)
        if not given.same_as(expected, recipe.directions):
            raise RecipeError(f"--sampler {given.to_text()} differs from the recipe's sampler {expected.to_text()}")
    if options.pruner is not None and not parse_spec(options.pruner, "pruner").same_as(recipe.pruner_spec):
        raise RecipeError(f"--pruner {options.pruner} differs from the recipe's pruner {recipe.pruner_spec.to_text()}")
    if options.directions and list(options.directions) != recipe.directions:
        raise RecipeError(
            f"--direction {' '.join(options.directions)} differs from the recipe's directions "
            f"{' '.join(recipe.directions)}"
        )
    if options.metric_names and list(options.metric_names) != (recipe.metric_names or []):
        raise RecipeError(
            f"--metric-name {' '.join(options.metric_names)} differs from the recipe's metric names "
            f"{' '.join(recipe.metric_names or []) or '(none)'}"
        )


def _reseeded(spec: Spec, old: int | None, new: int | None) -> Spec:
    """The spec with seed `new` wherever it had the recipe's seed `old` (nested samplers too)."""
    if new is None or new == old:
        return spec
    kwargs: dict[str, Any] = {}
    for key, value in spec.kwargs.items():
        if isinstance(value, Spec):
            value = _reseeded(value, old, new)
        elif key == "seed" and value == old:
            value = new
        kwargs[key] = value
    return Spec(spec.kind, spec.name, kwargs)


def recipe_request(
    recipe: Recipe, storage: str, study: str, options: RecipeOptions, *, recipe_file: str | None = None
) -> tuple[RunRequest, list[str]]:
    """The RunRequest creating `study` from the recipe, and the notes to show before it runs."""
    _contradictions(recipe, options)
    objective, change, notes = explain_environment(recipe, options)
    replicate = options.seed is not None and options.seed != recipe.seed
    sampler = _reseeded(recipe.sampler_spec, recipe.seed, options.seed)
    provenance: dict[str, Any] = {
        "source_storage": recipe.source.get("storage"),
        "source_study": recipe.source.get("study"),
        "recipe_seed": recipe.seed,
        "replicate": replicate,
        "sha256": recipe.sha256,
    }
    if recipe_file is not None:
        provenance["file"] = str(Path(recipe_file).absolute())
    if change:
        provenance.update(change)
    request = RunRequest(
        storage=storage,
        study_name=study,
        objective=objective.ref,
        sampler=sampler.to_json(),
        pruner=recipe.pruner_spec.to_json(),
        seed=options.seed if options.seed is not None else recipe.seed,
        directions=list(recipe.directions),
        metric_names=list(recipe.metric_names) if recipe.metric_names else None,
        n_trials=options.n_trials if options.n_trials is not None else recipe.n_trials,
        accept_objective_change=options.accept_objective_change,
        objective_import_root=objective.import_root,
        recipe=provenance,
    )
    return request, notes
