"""Comparing studies (optgui.core.compare, optgui.core.analysis results): the definition diff of real optgui runs,
seed replicates grouped, results equal to Optuna's own best values, cached verdicts only, nothing written."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import optuna
import pytest

from optgui.core.analysis import FRACTIONS, result_summary, spread_of_bests
from optgui.core.compare import compare_studies, load_studies
from optgui.core.errors import OptguiError
from optgui.core.storage import open_reader
from tests.support.studies import plain_study
from tests.support.verify import run_in_process

pytestmark = pytest.mark.xdist_group("compare")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    for seed in (1, 2, 3):
        run_in_process(folder / f"s{seed}.db", f"TPESampler(seed={seed})", "builtin:mixed", 12, study_name="s")
    run_in_process(folder / "s1.db", "RandomSampler(seed=5)", "builtin:mixed", 12, study_name="r")
    return folder


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_definition_diff_marks_what_differs_and_groups_seed_replicates(runs):
    before = {p: digest(p) for p in runs.glob("*.db")}
    refs = [f"{runs}/s1.db#s", f"{runs}/s2.db", f"{runs}/s3.db", f"{runs}/s1.db#r"]
    comparison = compare_studies(load_studies(refs, verdicts=False))
    rows = {(r.section, r.field): r for r in comparison.rows}
    assert rows["run", "seed"].values == ("1", "2", "3", "5")
    assert rows["run", "sampler (without seed)"].differs
    assert rows["run", "sampler (without seed)"].values[:3] == (rows["run", "sampler (without seed)"].values[0],) * 3
    assert not rows["run", "objective"].differs
    assert rows["trials", "COMPLETE"].values == ("12",) * 4
    assert comparison.labels == ("s1.db#s", "s2.db#s", "s3.db#s", "r")
    [group] = comparison.seed_groups
    assert group.labels == ("s1.db#s", "s2.db#s", "s3.db#s") and group.seeds == (1, 2, 3)
    bests = [r[0].best_value for r in comparison.results[:3]]
    assert group.spread.median == pytest.approx(float(np.median(bests)))
    assert (group.spread.minimum, group.spread.maximum) == (min(bests), max(bests))
    assert comparison.as_json()["schema"] == "optgui.compare/1"
    assert {p: digest(p) for p in runs.glob("*.db")} == before  # read-only


def test_results_equal_optunas_best_and_best_so_far(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.load_study(study_name="s", storage=f"sqlite:///{runs}/s2.db")
    with open_reader(str(runs / "s2.db")) as reader:
        summary = result_summary(reader.trials("s"))
    assert (summary.best_value, summary.best_trial) == (study.best_value, study.best_trial.number)
    values = [t.value for t in study.trials]
    for fraction, counted, best in summary.best_so_far:
        assert counted == int(np.ceil(len(values) * fraction))
        assert best == min(values[:counted])
    assert [f for f, _, _ in summary.best_so_far] == list(FRACTIONS)


def test_a_study_not_run_by_optgui_compares_without_a_definition(tmp_path, runs):
    plain = plain_study(tmp_path / "p.db", trials=5, objective=lambda t: t.suggest_float("only_here", 0, 1))
    comparison = compare_studies(load_studies([str(plain), f"{runs}/s2.db"], verdicts=False))
    rows = {(r.section, r.field): r for r in comparison.rows}
    assert rows["run", "recorded by optgui"].values == ("no", "yes")
    assert rows["search space", "only_here"].values[1] == "—"
    assert comparison.seed_groups == ()


def test_verdicts_come_from_the_cache_only(runs):
    from optgui.core.storage import read_study
    from optgui.core.verify import verify_with_cache

    refs = [f"{runs}/s1.db#s", f"{runs}/s3.db"]
    assert all(s.verdict is None for s in load_studies(refs))
    verify_with_cache(read_study(str(runs / "s3.db"), "s"))
    first, second = load_studies(refs)
    assert first.verdict is None and second.verdict.verified and second.verdict.cached


def test_two_to_eight_studies(runs):
    with pytest.raises(OptguiError, match="2 to 8 studies"):
        load_studies([f"{runs}/s2.db"])
    with pytest.raises(OptguiError, match="named twice"):
        load_studies([f"{runs}/s2.db", f"{runs}/s2.db#s"])


def test_spread_leaves_out_studies_without_a_best():
    spread = spread_of_bests(["a", "b", "c"], [3.0, None, 1.0])
    assert spread.labels == ("a", "c") and spread.median == 2.0
