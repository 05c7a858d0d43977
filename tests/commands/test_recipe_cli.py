"""`optgui recipe` and `optgui run --recipe`: a study re-created from its recipe and run uninterrupted produces the
same trials, and `optgui verify` says equivalent; `--seed` makes a recorded replicate; options that contradict the
recipe and an objective that changed are refused before anything runs; the source study is never written."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path

import optuna
import pytest

from optgui.core.share import parse_recipe, read_recipe, recipe_of_study
from tests.support.trust import assert_clean_exit, optgui

OBJECTIVE = """
def objective(trial):
    x = trial.suggest_float("x", -4.0, 4.0)
    k = trial.suggest_categorical("k", ["a", "b"])
    return (x - 1.0) ** 2 + (0.5 if k == "a" else 0.0)
"""


def _trials(storage: Path, study: str) -> list[tuple]:
    loaded = optuna.load_study(study_name=study, storage=f"sqlite:///{storage}")
    return [(t.state.name, t.params, t.values) for t in loaded.trials]


def _run_record(storage: Path, study: str) -> dict:
    loaded = optuna.load_study(study_name=study, storage=f"sqlite:///{storage}")
    return loaded._storage.get_study_system_attrs(loaded._study_id)["optgui:run"]


@pytest.fixture
def original(tmp_path):
    (tmp_path / "obj.py").write_text(OBJECTIVE)
    source = tmp_path / "source.db"
    proc = optgui(
        "run", str(source), "--study", "orig", "--objective", "obj.py:objective", "--sampler",
        "TPESampler(n_startup_trials=4)", "--seed", "11", "--metric-name", "loss", "--n-trials", "10", "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    assert_clean_exit(proc, {0})
    return source


def test_a_recipe_holds_the_run_definition_and_round_trips(original, tmp_path):
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    proc = optgui("recipe", str(original), "--study", "orig", "-o", "r.toml", cwd=tmp_path)
    assert_clean_exit(proc, {0})
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before  # read-only
    data = tomllib.loads((tmp_path / "r.toml").read_text())
    assert data["format"] == 1
    assert data["sampler"]["seed"] == 11 and "TPESampler" in data["sampler"]["spec"]
    assert data["pruner"]["spec"] == "MedianPruner()"
    assert data["objective"]["kind"] == "file" and data["objective"]["function"] == "objective"
    assert data["objective"]["sha256"] == hashlib.sha256((tmp_path / "obj.py").read_bytes()).hexdigest()
    assert data["study"] == {"directions": ["minimize"], "metric_names": ["loss"], "n_trials": 10}
    assert data["environment"]["optuna"] == optuna.__version__ and "python" in data["environment"]
    space = {name: json.loads(text) for name, text in data["search_space"].items()}
    assert space["x"]["name"] == "FloatDistribution" and space["k"]["attributes"]["choices"] == ["a", "b"]
    recipe = read_recipe(tmp_path / "r.toml")
    assert recipe == recipe_of_study(str(original), "orig")
    assert parse_recipe(recipe.to_toml()) == recipe
    # stdout without -o
    assert optgui("recipe", str(original), "--study", "orig", cwd=tmp_path).stdout == recipe.to_toml()


def test_a_study_recreated_from_its_recipe_has_the_same_trials_and_verifies(original, tmp_path):
    assert_clean_exit(optgui("recipe", str(original), "--study", "orig", "-o", "r.toml", cwd=tmp_path), {0})
    again = tmp_path / "again.db"
    proc = optgui("run", str(again), "--study", "copy", "--recipe", "r.toml", "--quiet", cwd=tmp_path)
    assert_clean_exit(proc, {0})
    assert _trials(again, "copy") == _trials(original, "orig")
    record = _run_record(again, "copy")
    assert record["seed"] == 11 and record["recipe"]["replicate"] is False
    assert record["recipe"]["source_study"] == "orig" and record["recipe"]["recipe_seed"] == 11
    verdict = optgui("verify", str(again), "--study", "copy", "--json", cwd=tmp_path)
    assert verdict.returncode == 0, verdict.stderr
    assert json.loads(verdict.stdout)["equivalent"] is True


def test_a_seed_replicate_differs_and_is_recorded(original, tmp_path):
    assert_clean_exit(optgui("recipe", str(original), "--study", "orig", "-o", "r.toml", cwd=tmp_path), {0})
    proc = optgui(
        "run", str(original), "--study", "rep", "--recipe", "r.toml", "--seed", "12", "--n-trials", "6", "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    assert_clean_exit(proc, {0})
    record = _run_record(original, "rep")
    assert record["seed"] == 12 and record["sampler"]["kwargs"]["seed"] == 12
    assert record["recipe"]["replicate"] is True and record["recipe"]["recipe_seed"] == 11
    replicate = _trials(original, "rep")
    assert len(replicate) == 6 and replicate != _trials(original, "orig")[:6]


def test_options_that_contradict_the_recipe_are_errors_naming_both(original, tmp_path):
    assert_clean_exit(optgui("recipe", str(original), "--study", "orig", "-o", "r.toml", cwd=tmp_path), {0})
    target = tmp_path / "new.db"
    cases = [
        (("--sampler", "RandomSampler"), "--sampler RandomSampler(seed=11) differs from the recipe's sampler"),
        (("--direction", "maximize"), "--direction maximize differs from the recipe's directions minimize"),
        (("--pruner", "NopPruner"), "--pruner NopPruner differs from the recipe's pruner MedianPruner()"),
        (("--metric-name", "acc"), "--metric-name acc differs from the recipe's metric names loss"),
    ]
    for extra, message in cases:
        proc = optgui("run", str(target), "--study", "n", "--recipe", "r.toml", *extra, cwd=tmp_path)
        assert_clean_exit(proc, {3})
        assert message in proc.stderr
    assert not target.exists()  # refused before anything was created


def test_a_changed_objective_is_explained_before_anything_runs(original, tmp_path):
    assert_clean_exit(optgui("recipe", str(original), "--study", "orig", "-o", "r.toml", cwd=tmp_path), {0})
    (tmp_path / "obj.py").write_text(OBJECTIVE.replace("0.5", "0.25"))
    target = tmp_path / "new.db"
    proc = optgui("run", str(target), "--study", "n", "--recipe", "r.toml", cwd=tmp_path)
    assert_clean_exit(proc, {3})
    assert "does not match this environment" in proc.stderr and "changed" in proc.stderr
    assert "--accept-objective-change" in proc.stderr
    assert not target.exists()
    proc = optgui(
        "run", str(target), "--study", "n", "--recipe", "r.toml", "--accept-objective-change", "--n-trials", "2",
        "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert_clean_exit(proc, {0})
    assert "objective file changed since the recipe" in proc.stderr
    assert "objective_changed" in _run_record(target, "n")["recipe"]


def test_differing_versions_are_explained_and_the_run_goes_on(original, tmp_path):
    text = optgui("recipe", str(original), "--study", "orig", cwd=tmp_path).stdout
    (tmp_path / "r.toml").write_text(re.sub(r"(?m)^numpy = .*$", 'numpy = "1.0.0"', text))
    proc = optgui("run", str(tmp_path / "n.db"), "--study", "n", "--recipe", "r.toml", "--n-trials", "1", cwd=tmp_path)
    assert_clean_exit(proc, {0})
    assert f"versions differ from the recipe's (numpy 1.0.0 -> {_numpy()})" in proc.stderr


def _numpy() -> str:
    import numpy

    return numpy.__version__


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format = 1\n[study\n", "is not valid TOML"),
        ("format = 7\n", "format 7"),
        ("format = 1\n", "lacks 'study'"),
    ],
)
def test_a_bad_recipe_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    proc = optgui("run", str(tmp_path / "n.db"), "--study", "n", "--recipe", "bad.toml", cwd=tmp_path)
    assert_clean_exit(proc, {3})
    assert message in proc.stderr
    assert not (tmp_path / "n.db").exists()


def test_a_study_optgui_did_not_run_has_no_recipe(tmp_path):
    storage = tmp_path / "plain.db"
    optuna.create_study(storage=f"sqlite:///{storage}", study_name="p").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    proc = optgui("recipe", str(storage), "--study", "p", cwd=tmp_path)
    assert_clean_exit(proc, {3})
    assert "was not run by optgui" in proc.stderr
