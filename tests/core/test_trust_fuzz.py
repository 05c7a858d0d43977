"""Seeded fuzzing of what a study file from someone else can carry: crafted `optgui:` study records (run record,
target, segments, states, checkpoint, lease, schema) and trial system attributes (`optgui:*`, Optuna's `cma:*`
and `nsga*` keys).

The study is real: plain Optuna's CmaEsSampler makes 6 trials, `optgui run` adopts them and adds 6 more in two
segments. Each mutation edits one attribute of a copy, then inspect (the real entry point, in process), the app's
reader and verify (the code its child process runs) read it. For every mutation:

* nothing crashes: the only exceptions are optgui's own one-line errors (CLI exit codes 0-4, one line on stderr),
  whose message is not a bare Python exception;
* the file is byte-identical afterwards and nothing was created beside it;
* a planted pickle never runs (it would create a marker file).

The seed is printed and can be changed with OPTGUI_FUZZ_SEED (OPTGUI_FUZZ_N: mutations per kind); a failure names
the seed, the kind and the mutation so that it can be replayed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import random
import re
import shutil
import sqlite3
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest

from optgui.core.errors import OptguiError
from tests.support.trust import assert_clean_exit, deep_json, folder_state, optgui
from tests.support.verify import run_in_process

SEED = int(os.environ.get("OPTGUI_FUZZ_SEED", "20261203"))
PER_KIND = int(os.environ.get("OPTGUI_FUZZ_N", "4"))
STUDY = "fuzz"
SAMPLER = "CmaEsSampler(seed=3, popsize=4)"
N_HISTORY = 6  # trials 0-5 by plain Optuna, 6-11 by optgui
RAW_EXCEPTION = re.compile(r"^[A-Za-z_.]*(Error|Exception)\b")

STUDY_KEYS = [
    "optgui:run",
    "optgui:target",
    "optgui:segment:0",
    "optgui:segment:1",
    "optgui:state:9",
    "optgui:checkpoint",
    "optgui:lease",
    "optgui:schema",
    "optgui:segment:7",  # not written by the run: an inserted record
    "optgui:state:4",
]
TRIAL_KEYS = [
    "optgui:error",
    "optgui:abandoned",
    "optgui:recovered",
    "cma:optimizer:0",
    "cma:generation",
    "cma:n_restarts",
    "nsga2:generation",
    "nsga2:parents",
]


# --- the study -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-base") / "study.db"
    from optgui.core.engine._samplers import parse_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        plain = optuna.create_study(storage=f"sqlite:///{path}", study_name=STUDY, sampler=parse_spec(SAMPLER).build())
        plain.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_float("y", -5, 5) ** 2, N_HISTORY)
    # The history's CMA-ES pickles were written by plain Optuna: adopting them needs the user's trust.
    run_in_process(path, SAMPLER, "builtin:quadratic", 12, pause_after=8, study_name=STUDY, trust_pickles=True)
    return path


@pytest.fixture(scope="module")
def marker(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-marker") / "PLANTED_PICKLE_RAN"


class PlantedPickle:
    """Unpickling calls open(marker, "w"): the marker file proves that code from the study ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# --- mutations -------------------------------------------------------------------------------------------------
@dataclass
class Mutation:
    kind: str
    table: str  # "study" or "trial"
    key: str
    number: int | None  # trial number for trial attributes
    value_json: str | None  # None: delete the attribute

    def describe(self) -> str:
        where = f"trial {self.number} " if self.number is not None else ""
        shown = "deleted" if self.value_json is None else self.value_json[:120]
        return (
            f"{self.kind}: {where}{self.key} = {shown} ({0 if self.value_json is None else len(self.value_json)} chars)"
        )


def random_value(rng: random.Random, depth: int = 0):
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 1, 7, 2**31, 2**63, -(2**70), 10**30])
    if choice == 3:
        return rng.choice([0.5, -1e308, 1e308, 3.0])
    if choice == 4:
        return rng.choice(["", "x", "minimize", "TPESampler", "optgui:state:3", "2026-01-01T00:00:00+00:00", "é\u0000"])
    if choice == 5:
        return rng.choice([float("nan"), float("inf")])
    if choice == 6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["index", "start_trial", "end", "last_trial", "sampler", "seed", "boundary", "sampler_state", "pid", "x"]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def retype(rng: random.Random, value):
    """The same record with one field (or element) of another type."""
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        return {**value, key: random_value(rng)}
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        return [*value[:i], random_value(rng), *value[i + 1 :]]
    return random_value(rng)


def drop_field(rng: random.Random, value):
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        return {k: v for k, v in value.items() if k != key}
    return random_value(rng)


def nest(rng: random.Random, value, at_least: int):
    """Decodable but deep: wrapped in a few hundred lists."""
    depth = rng.randrange(at_least, 900)
    return "[" * depth + json.dumps(value) + "]" * depth


def oversize(rng: random.Random, value):
    big = rng.choice(["x" * 2_000_000, list(range(200_000))])
    if isinstance(value, dict) and value:
        return {**value, rng.choice(sorted(value)): big}
    return big


def json_text(value) -> str:
    return value if isinstance(value, str) and value[:1] == "[" and value.endswith("]") else json.dumps(value)


def make_mutation(kind: str, rng: random.Random, db: Path, marker: Path) -> Mutation:
    table, op = kind.split(":")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if table == "study":
            key, number = rng.choice(STUDY_KEYS), None
            rows = conn.execute("SELECT value_json FROM study_system_attributes WHERE key = ?", (key,)).fetchall()
        else:
            numbers = [n for (n,) in conn.execute("SELECT number FROM trials")]
            if op.endswith("-history"):  # the trials plain Optuna made before optgui adopted the study
                numbers = [n for n in numbers if n < N_HISTORY]
            elif op in ("nested", "pickle"):  # the trials optgui made (the -history kinds cover the others)
                numbers = [n for n in numbers if n >= N_HISTORY]
            if op == "pickle-history":  # CmaEsSampler unpickles the latest trial's optimizer: the last history one
                numbers = [N_HISTORY - 1]
            op = op.removesuffix("-history")
            key = "cma:optimizer:0" if op == "pickle" else rng.choice(TRIAL_KEYS)
            number = rng.choice(numbers)
            rows = conn.execute(
                "SELECT s.value_json FROM trial_system_attributes s JOIN trials t USING (trial_id) "
                "WHERE t.number = ? AND s.key = ?",
                (number, key),
            ).fetchall()
    finally:
        conn.close()
    current = json.loads(rows[0][0]) if rows else random_value(rng)
    if op == "replace":
        value = json.dumps(random_value(rng))
    elif op == "delete":
        value = None
    elif op == "retype":
        value = json.dumps(retype(rng, current))
    elif op == "drop-field":
        value = json.dumps(drop_field(rng, current))
    elif op == "deep":
        value = deep_json(rng.randrange(1500, 5000))
    elif op == "nested":
        value = nest(rng, current, 400 if kind.endswith("-history") else 100)
    elif op == "oversize":
        value = json.dumps(oversize(rng, current))
    elif op == "pickle":
        value = json.dumps(pickle.dumps(PlantedPickle(marker)).hex())
    else:
        raise AssertionError(op)
    return Mutation(kind, table, key, number, value)


def apply(db: Path, m: Mutation) -> None:
    conn = sqlite3.connect(db)
    try:
        if m.table == "study":
            conn.execute("DELETE FROM study_system_attributes WHERE key = ?", (m.key,))
            if m.value_json is not None:
                conn.execute(
                    "INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (1, ?, ?)",
                    (m.key, m.value_json),
                )
        else:
            ((tid,),) = conn.execute("SELECT trial_id FROM trials WHERE number = ?", (m.number,)).fetchall()
            prefix = "cma:optimizer:" if m.key.startswith("cma:optimizer:") else m.key
            conn.execute(  # a planted optimizer replaces all its chunks (Optuna joins chunks 0..n-1)
                "DELETE FROM trial_system_attributes WHERE trial_id = ? AND (key = ? OR key LIKE ?)",
                (tid, m.key, prefix + "%" if prefix != m.key else m.key),
            )
            if m.value_json is not None:
                conn.execute(
                    "INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?)",
                    (tid, m.key, m.value_json),
                )
        conn.commit()
    finally:
        conn.close()


# --- what is checked --------------------------------------------------------------------------------------------
def inspect_in_process(db: Path, *args: str) -> tuple[int, str]:
    from optgui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["inspect", str(db), *args])
    return code, err.getvalue()


def read_like_the_app(db: Path) -> None:
    from optgui.core.errors import StorageError
    from optgui.core.records import StudyMetadata
    from optgui.core.storage._reader import open_reader

    try:
        with open_reader(str(db)) as reader:
            for summary in reader.studies():
                StudyMetadata.from_system_attrs(dict(summary.optgui_metadata))
                reader.trials_with_watermark(summary.name)
                reader.trial_system_attrs(summary.name)
    except StorageError:
        pass


def verify_in_process(db: Path) -> str:
    """What the verifier child runs (with the verdict cache, in this test's own cache folder); returns the verdict
    kind or the one-line error."""
    from optgui.core.verify._verifier import verify_study

    try:
        return verify_study(str(db), None, None, use_cache=True).kind
    except OptguiError as exc:
        assert not RAW_EXCEPTION.match(str(exc)), f"unclear error: {exc}"
        return f"error: {exc}"


def check(db: Path, m: Mutation, marker: Path) -> list[str]:
    """Problems found with one mutated study (empty: all good)."""
    problems = []
    before = folder_state(db)
    steps = {
        "inspect": lambda: inspect_in_process(db, "--json"),
        "inspect --study": lambda: inspect_in_process(db, "--study", STUDY),
        "reader": lambda: read_like_the_app(db),
        "verify": lambda: verify_in_process(db),
    }
    for name, step in steps.items():
        try:
            result = step()
        except Exception:  # noqa: BLE001 - any escaping exception is what the fuzz test looks for
            problems.append(f"{name} crashed: {traceback.format_exc(limit=-3)}")
            continue
        if name.startswith("inspect"):
            code, err = result
            lines = [line for line in err.splitlines() if line.startswith("optgui: error: ")]
            if code not in (0, 3) or (code == 3 and len(lines) != 1) or "Traceback" in err:
                problems.append(f"{name}: exit {code}, stderr {err[-500:]!r}")
            elif lines and RAW_EXCEPTION.match(lines[0][len("optgui: error: ") :]):
                problems.append(f"{name}: unclear error {lines[0]!r}")
        if marker.exists():
            problems.append(f"{name} ran the planted pickle")
            marker.unlink()
    if folder_state(db) != before:
        problems.append("the study file or its folder changed")
    return problems


# --- the tests ---------------------------------------------------------------------------------------------------
# Known failures inside verify's replay, fixed by other items of the trust issue; remove the mark once they are in.
KINDS = [
    "study:replace",
    "study:delete",
    "study:retype",
    "study:drop-field",
    "study:deep",
    "study:nested",
    "study:oversize",
    "trial:replace",
    "trial:delete",
    "trial:retype",
    "trial:deep",
    "trial:nested",
    "trial:nested-history",
    "trial:oversize",
    "trial:pickle",
    "trial:pickle-history",
]


@pytest.mark.parametrize("kind", KINDS)
def test_crafted_attributes_never_crash_write_or_execute(study, marker, tmp_path, kind):
    rng = random.Random(f"{SEED}:{kind}")
    print(f"fuzz seed {SEED} (OPTGUI_FUZZ_SEED), {PER_KIND} mutations of kind {kind}")
    failures = []
    for i in range(PER_KIND):
        folder = tmp_path / f"m{i}"
        folder.mkdir()
        db = Path(shutil.copy(study, folder / "study.db"))
        mutation = make_mutation(kind, rng, db, marker)
        apply(db, mutation)
        problems = check(db, mutation, marker)
        if problems:
            failures.append(f"seed {SEED} mutation {i}: {mutation.describe()}\n  " + "\n  ".join(problems))
    assert not failures, "\n".join(failures)


def test_a_few_mutations_through_the_real_cli(study, marker, tmp_path):
    """The same guarantees through `optgui inspect` and `optgui verify` as a user runs them."""
    rng = random.Random(f"{SEED}:cli")
    for i, kind in enumerate(["study:retype", "study:deep", "trial:retype"]):
        folder = tmp_path / f"m{i}"
        folder.mkdir()
        db = Path(shutil.copy(study, folder / "study.db"))
        mutation = make_mutation(kind, rng, db, marker)
        apply(db, mutation)
        before = folder_state(db)
        for args in (["inspect", str(db)], ["inspect", str(db), "--study", STUDY], ["verify", str(db), "--no-cache"]):
            proc = optgui(*args, cwd=folder)
            try:
                assert_clean_exit(proc)
            except AssertionError as exc:
                raise AssertionError(f"seed {SEED}: {mutation.describe()}: {exc}") from None
        assert folder_state(db) == before, mutation.describe()
        assert not marker.exists(), mutation.describe()
