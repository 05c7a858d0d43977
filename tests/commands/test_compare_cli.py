"""`optgui compare` end to end: text and --json output, REFs across files, errors on stderr with exit 3."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.support.verify import cli_env, run_in_process

pytestmark = pytest.mark.xdist_group("compare-cli")


def compare(*args):
    return subprocess.run(
        [sys.executable, "-m", "optgui", "compare", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **cli_env()},
        timeout=300,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare-cli")
    for seed in (1, 2):
        run_in_process(folder / f"s{seed}.db", f"TPESampler(seed={seed})", "builtin:quadratic", 8, study_name="s")
    return folder


def test_text_names_the_differences_and_the_seed_replicates(runs):
    before = hashlib.sha256((runs / "s1.db").read_bytes()).hexdigest()
    out = compare(runs / "s1.db", f"{runs}/s2.db#s")
    assert out.returncode == 0, out.stderr
    assert "* seed:" in out.stdout and "[results]" in out.stdout
    assert "[seed replicates] s1.db#s, s2.db#s (seeds 1, 2)" in out.stdout
    assert hashlib.sha256((runs / "s1.db").read_bytes()).hexdigest() == before


def test_json_has_a_schema_definition_and_results(runs):
    out = compare(runs / "s1.db", runs / "s2.db", "--json", "--no-verdicts")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema"] == "optgui.compare/1"
    assert [s["label"] for s in data["studies"]] == ["s1.db#s", "s2.db#s"]
    seed = next(r for r in data["definition"] if r["field"] == "seed")
    assert seed["values"] == ["1", "2"] and seed["differs"]
    assert data["results"][0]["objectives"][0]["best_so_far"][-1]["fraction"] == 1.0


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        (["{d}/s1.db"], "2 to 8 studies"),
        (["{d}/s1.db", "{d}/missing.db#s"], "no such study file"),
        (["{d}/s1.db", "{d}/s2.db#other"], "no study named 'other'"),
    ],
)
def test_errors_are_one_line_and_exit_3(runs, refs, message):
    out = compare(*[r.format(d=runs) for r in refs])
    assert out.returncode == 3
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
