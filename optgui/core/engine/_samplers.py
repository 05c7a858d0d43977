"""Sampler and pruner SPECs (docs/cli.md): text or JSON that builds a built-in Optuna sampler or pruner.

Grammar, shared by `run --sampler`, `verify --spec` and the GUI:
  * a class name or alias:            tpe | TPESampler
  * with keyword arguments:           TPESampler(seed=42, multivariate=False)
    values are Python literals parsed with ast.literal_eval (never eval); nested samplers, pruners and strategy
    objects are specs too:           CmaEsSampler(independent_sampler=RandomSampler(seed=1))
  * JSON:                             {"sampler": "TPESampler", "kwargs": {"seed": 42}}
    ({"pruner": ...} for pruners, {"object": ...} for crossover/mutation objects)
Callables (gamma, weights, constraints_func, strategies) cannot be recorded and are rejected, as are unknown names.
A spec is what is recorded in the study, so that the verifier and a resume rebuild the very same sampler.
"""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from optgui.core.errors import SpecError

SAMPLER_ALIASES = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "cmaes": "CmaEsSampler",
    "cma": "CmaEsSampler",
    "qmc": "QMCSampler",
    "nsgaii": "NSGAIISampler",
    "nsga2": "NSGAIISampler",
    "nsgaiii": "NSGAIIISampler",
    "nsga3": "NSGAIIISampler",
    "gp": "GPSampler",
    "grid": "GridSampler",
    "bruteforce": "BruteForceSampler",
    "partialfixed": "PartialFixedSampler",
}
SAMPLER_CLASSES = sorted(set(SAMPLER_ALIASES.values()))

PRUNER_ALIASES = {
    "median": "MedianPruner",
    "nop": "NopPruner",
    "none": "NopPruner",
    "percentile": "PercentilePruner",
    "hyperband": "HyperbandPruner",
    "successivehalving": "SuccessiveHalvingPruner",
    "sha": "SuccessiveHalvingPruner",
    "threshold": "ThresholdPruner",
    "patient": "PatientPruner",
    "wilcoxon": "WilcoxonPruner",
}
PRUNER_CLASSES = sorted(set(PRUNER_ALIASES.values()))

OBJECT_CLASSES = (
    "BLXAlphaCrossover",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
    "PolynomialMutation",
)

# Arguments that only take Python callables or live objects: they cannot be written down in a spec.
CALLABLE_ARGUMENTS = {
    "gamma",
    "weights",
    "constraints_func",
    "elite_population_selection_strategy",
    "child_generation_strategy",
    "after_trial_strategy",
    "source_trials",
}

# Extras each sampler needs beyond Optuna itself (for a clear message instead of an ImportError later).
SAMPLER_REQUIREMENTS = {
    "CmaEsSampler": ("cmaes", "pip install 'optgui[cmaes]'"),
    "QMCSampler": ("scipy", "pip install 'optgui[scipy]'"),
    "GPSampler": ("torch", "pip install torch, then pip install 'optgui[gp]'"),
}


def _kind_of(name: str) -> str | None:
    if name in SAMPLER_CLASSES:
        return "sampler"
    if name in PRUNER_CLASSES:
        return "pruner"
    if name in OBJECT_CLASSES:
        return "object"
    return None


@dataclass(frozen=True)
class Spec:
    """A buildable description of a sampler, pruner or strategy object. Immutable; kwargs are JSON values or
    nested Specs."""

    kind: str  # "sampler" | "pruner" | "object"
    name: str  # the Optuna class name
    kwargs: dict[str, Any] = field(default_factory=dict)

    # --- (de)serialisation -------------------------------------------------------------------------
    def to_json_obj(self) -> dict:
        return {self.kind: self.name, "kwargs": {k: _value_to_json(v) for k, v in self.kwargs.items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_json_obj(), sort_keys=True)

    def to_text(self) -> str:
        """The call-syntax form, e.g. TPESampler(seed=42)."""
        args = ", ".join(f"{k}={_value_to_text(v)}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"

    def __str__(self) -> str:
        return self.to_text()

    # --- seeds -----------------------------------------------------------------------------------------
    @property
    def seed(self) -> int | None:
        return self.kwargs.get("seed")

    def accepts_seed(self) -> bool:
        return "seed" in _signature_params(self.name)

    def with_seed(self, seed: int) -> Spec:
        """This spec with `seed` set here and on every nested sampler that accepts one and has none, so that a
        run is fully determined by what is recorded."""
        kwargs = {}
        for key, value in self.kwargs.items():
            if isinstance(value, Spec) and value.kind == "sampler" and value.seed is None and value.accepts_seed():
                value = value.with_seed(seed)
            kwargs[key] = value
        if self.accepts_seed() and kwargs.get("seed") is None:
            kwargs["seed"] = seed
        return Spec(self.kind, self.name, kwargs)

    # --- equality as Optuna sees it ---------------------------------------------------------------------
    def effective(self, directions: Sequence[str] | None = None) -> Spec:
        """This spec with every argument written out as Optuna uses it for a study with these directions: the
        signature's defaults, the defaults that Optuna resolves from None (TPE's `multivariate` depends on the
        number of objectives), and nested samplers and objects made explicit. Two specs with equal effective
        forms build samplers that suggest the same. Arguments that only control warnings are left out."""
        kwargs: dict[str, Any] = {}
        for name, param in _signature_params(self.name).items():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            if name in self.kwargs:
                value = self.kwargs[name]
            elif param.default is not inspect.Parameter.empty:
                value = _normalise_literal(param.default)
            else:
                continue
            if not name.startswith("warn_"):
                kwargs[name] = value
        kwargs.update({k: v for k, v in self.kwargs.items() if k not in kwargs and not k.startswith("warn_")})
        _resolve_implied_defaults(self.name, kwargs, directions)
        kwargs = {k: (v.effective(directions) if isinstance(v, Spec) else v) for k, v in kwargs.items()}
        return Spec(self.kind, self.name, kwargs)

    def same_as(self, other: Spec, directions: Sequence[str] | None = None) -> bool:
        """True when both specs build samplers (pruners, objects) that behave the same on such a study."""
        return self.effective(directions) == other.effective(directions)

    # --- building -------------------------------------------------------------------------------------
    def build(self):
        cls = _class_for(self.kind, self.name)
        kwargs = {k: (v.build() if isinstance(v, Spec) else _json_to_python(k, v)) for k, v in self.kwargs.items()}
        try:
            return cls(**kwargs)
        except ImportError as exc:
            module, hint = SAMPLER_REQUIREMENTS.get(self.name, (str(exc), ""))
            raise SpecError(f"{self.name} needs the package {module!r}, which is not installed ({hint})") from None
        except (TypeError, ValueError) as exc:
            raise SpecError(f"cannot build {self.to_text()}: {exc}") from None


# Deprecated TPESampler arguments whose None stands for a fixed value (optuna/samplers/_tpe/sampler.py).
_TPE_NONE_MEANS = {
    "consider_prior": True,
    "prior_weight": 1.0,
    "consider_magic_clip": True,
    "consider_endpoints": False,
}
# Samplers whose independent_sampler=None is RandomSampler(seed=seed).
_RANDOM_FALLBACK = ("CmaEsSampler", "GPSampler", "QMCSampler")


def _resolve_implied_defaults(name: str, kwargs: dict[str, Any], directions: Sequence[str] | None) -> None:
    """Replace the None arguments that Optuna's constructors (or, for TPE's multivariate, its first use) turn into
    a fixed value by that value."""
    if name == "TPESampler":
        for key, value in _TPE_NONE_MEANS.items():
            if kwargs.get(key) is None:
                kwargs[key] = value
        if kwargs.get("multivariate") is None:
            if kwargs.get("group"):
                kwargs["multivariate"] = True  # group needs the multivariate TPE, whatever the directions
            elif directions is not None:
                kwargs["multivariate"] = len(directions) == 1  # Optuna 5: multivariate for single-objective
    elif name in _RANDOM_FALLBACK and kwargs.get("independent_sampler") is None:
        kwargs["independent_sampler"] = Spec("sampler", "RandomSampler", {"seed": kwargs.get("seed")})
    elif name in ("NSGAIISampler", "NSGAIIISampler") and kwargs.get("crossover") is None:
        kwargs["crossover"] = Spec("object", "UniformCrossover", {"swapping_prob": kwargs.get("swapping_prob", 0.5)})


def _value_to_json(value):
    return value.to_json_obj() if isinstance(value, Spec) else value


def _value_to_text(value):
    return value.to_text() if isinstance(value, Spec) else repr(value)


def _json_to_python(key: str, value):
    # Grid search spaces and x0 are plain JSON; tuples are not needed by any Optuna argument.
    return value


def _class_for(kind: str, name: str):
    import optuna
    import optuna.samplers.nsgaii as nsgaii

    if kind == "sampler":
        return getattr(optuna.samplers, name)
    if kind == "pruner":
        return getattr(optuna.pruners, name)
    return getattr(nsgaii, name)


def _signature_params(name: str) -> dict[str, inspect.Parameter]:
    kind = _kind_of(name)
    if kind is None:
        return {}
    params = dict(inspect.signature(_class_for(kind, name).__init__).parameters)
    params.pop("self", None)
    return params


def _resolve_name(raw: str, expected: str) -> str:
    aliases = SAMPLER_ALIASES if expected == "sampler" else PRUNER_ALIASES if expected == "pruner" else {}
    name = aliases.get(raw.lower().replace("-", "").replace("_", ""), raw)
    kind = _kind_of(name)
    if kind is None and expected not in ("sampler", "pruner"):
        raise SpecError(
            f"unknown name {raw!r} in spec: only Python literals and nested specs of built-in samplers, "
            f"pruners or {', '.join(OBJECT_CLASSES)} are allowed"
        )
    if kind is None:
        known = SAMPLER_CLASSES if expected == "sampler" else PRUNER_CLASSES if expected == "pruner" else []
        alias_list = ", ".join(sorted(aliases))
        raise SpecError(
            f"unknown {expected} {raw!r}: custom classes cannot be rebuilt from a spec; "
            f"use one of {', '.join(known) or ', '.join(OBJECT_CLASSES)}"
            + (f" (aliases: {alias_list})" if alias_list else "")
        )
    return name


def _check_kwargs(name: str, kwargs: dict) -> None:
    params = _signature_params(name)
    accepts_var = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for key, value in kwargs.items():
        if key in CALLABLE_ARGUMENTS and value is not None:
            raise SpecError(
                f"{name}({key}=...) takes a callable or live objects, which cannot be recorded in a spec; leave it out"
            )
        if key not in params and not accepts_var:
            raise SpecError(f"{name} has no argument {key!r}; it takes: {', '.join(params) or 'nothing'}")
    if "seed" in kwargs and kwargs["seed"] is not None:
        validate_seed(kwargs["seed"])


def validate_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SpecError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= seed < 2**32:
        raise SpecError(f"seed must be between 0 and 2**32-1 (numpy's limit), got {seed}")
    return seed


# --- parsing ----------------------------------------------------------------------------------------------
def parse_spec(text: str | dict, expected: str = "sampler") -> Spec:
    """Parse a SPEC given as call syntax, a bare name, JSON text or an already-decoded JSON object."""
    if isinstance(text, dict):
        return _from_json_obj(text, expected)
    source = text.strip()
    if not source:
        raise SpecError(f"empty {expected} spec")
    if source.startswith("{"):
        try:
            obj = json.loads(source)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{expected} spec is not valid JSON: {exc}") from None
        return _from_json_obj(obj, expected)
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"cannot parse {expected} spec {source!r}: {exc.msg}") from None
    return _from_ast(tree, expected, source)


def _from_json_obj(obj: dict, expected: str) -> Spec:
    if not isinstance(obj, dict):
        raise SpecError(
            f'a JSON {expected} spec must be an object like {{"sampler": "TPESampler", "kwargs": {{"seed": 42}}}}'
        )
    keys = [k for k in ("sampler", "pruner", "object") if k in obj]
    if len(keys) != 1:
        raise SpecError(f'a JSON spec needs exactly one of "sampler", "pruner" or "object", got {sorted(obj)}')
    kind = keys[0]
    if expected != "any" and kind != expected and not (expected == "value" and kind in ("sampler", "pruner", "object")):
        raise SpecError(f"expected a {expected} spec, got a {kind} spec")
    unknown = set(obj) - {kind, "kwargs"}
    if unknown:
        raise SpecError(f"unknown keys in JSON spec: {sorted(unknown)}")
    name = _resolve_name(str(obj[kind]), kind)
    kwargs_in = obj.get("kwargs") or {}
    if not isinstance(kwargs_in, dict):
        raise SpecError('"kwargs" of a JSON spec must be an object')
    kwargs: dict[str, Any] = {}
    for key, value in kwargs_in.items():
        if isinstance(value, dict) and any(k in value for k in ("sampler", "pruner", "object")):
            value = _from_json_obj(value, "value")
        kwargs[key] = value
    _check_kwargs(name, kwargs)
    return Spec(kind, name, kwargs)


def _from_ast(node: ast.AST, expected: str, source: str) -> Spec:
    kwargs: dict[str, Any]
    if isinstance(node, ast.Name):
        name, kwargs = node.id, {}
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        kind_hint = _kind_of(_alias(name, expected)) or expected
        resolved = _resolve_name(name, kind_hint if expected in ("value", "any") else expected)
        params = [
            p
            for p in _signature_params(resolved).values()
            if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]
        if len(node.args) > len(params):
            raise SpecError(f"{resolved} takes at most {len(params)} positional arguments")
        kwargs = {}
        for param, arg in zip(params, node.args, strict=False):
            kwargs[param.name] = _value_from_ast(arg, resolved, param.name)
        for kw in node.keywords:
            if kw.arg is None:
                raise SpecError("**kwargs are not allowed in a spec")
            kwargs[kw.arg] = _value_from_ast(kw.value, resolved, kw.arg)
        name = resolved
    elif isinstance(node, ast.Lambda):
        raise SpecError("a callable (lambda) is not a spec: name a built-in class such as TPESampler(seed=1)")
    else:
        raise SpecError(
            f"cannot parse spec {source!r}: expected a name such as tpe or a call such as TPESampler(seed=42)"
        )
    kind_expected = (
        expected
        if expected in ("sampler", "pruner")
        else (_kind_of(_alias(name, "sampler")) or _kind_of(_alias(name, "pruner")) or "object")
    )
    name = _resolve_name(name, kind_expected)
    kind = _kind_of(name)
    assert kind is not None  # _resolve_name returns only known names
    if expected in ("sampler", "pruner") and kind != expected:
        raise SpecError(f"{name} is a {kind}, not a {expected}")
    _check_kwargs(name, kwargs)
    return Spec(kind, name, kwargs)


def _alias(name: str, expected: str) -> str:
    aliases = SAMPLER_ALIASES if expected == "sampler" else PRUNER_ALIASES
    return aliases.get(name.lower().replace("-", "").replace("_", ""), name)


def _value_from_ast(node: ast.AST, owner: str, key: str):
    if isinstance(node, (ast.Call, ast.Name)) and not (
        isinstance(node, ast.Name) and node.id in ("None", "True", "False")
    ):
        if key in CALLABLE_ARGUMENTS:
            raise SpecError(f"{owner}({key}=...) takes a callable, which cannot be recorded in a spec; leave it out")
        return _from_ast(node, "value", ast.unparse(node))
    if isinstance(node, ast.Lambda):
        raise SpecError(f"{owner}({key}=lambda ...): callables cannot be recorded in a spec")
    try:
        return _normalise_literal(ast.literal_eval(node))
    except (ValueError, SyntaxError):
        raise SpecError(
            f"{owner}({key}={ast.unparse(node)}): only Python literals and nested specs are allowed"
        ) from None


def _normalise_literal(value):
    """Tuples become lists so that the spec equals its JSON round trip."""
    if isinstance(value, tuple):
        return [_normalise_literal(v) for v in value]
    if isinstance(value, list):
        return [_normalise_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise_literal(v) for k, v in value.items()}
    return value


def resolve_seed(spec: Spec, cli_seed: int | None) -> Spec:
    """Apply `--seed`: an error if it disagrees with a seed in the spec; unchanged if equal."""
    if cli_seed is None:
        return spec
    validate_seed(cli_seed)
    if spec.seed is not None and spec.seed != cli_seed:
        raise SpecError(f"--seed {cli_seed} disagrees with seed={spec.seed} in the sampler spec {spec.to_text()}")
    if not spec.accepts_seed():
        raise SpecError(f"{spec.name} takes no seed")
    return spec.with_seed(cli_seed)


def draw_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)


DEFAULT_PRUNER = Spec("pruner", "MedianPruner", {})
