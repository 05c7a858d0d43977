"""`optgui verify` exit codes for records it cannot replay or that contradict themselves (docs/cli.md: 2 is
unverifiable, 3 an error): a custom pruner in the run record, a run record whose seed field was edited."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from optgui.core.verify._verdict import VALUES_NOT_CHECKED
from tests.support.verify import SAMPLERS, cli_env, edit_run_record, run_in_process, tampered_copy

pytestmark = pytest.mark.xdist_group("verify-cli")
SPEC, OBJECTIVE = SAMPLERS["random"]


def verify(*args):
    return subprocess.run(
        [sys.executable, "-m", "optgui", "verify", "--no-cache", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **cli_env()},
        timeout=300,
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    path = tmp_path_factory.mktemp("exit") / "s.db"
    run_in_process(path, SPEC, OBJECTIVE, 5)
    return path


def test_clean_study_exits_0_and_says_values_were_not_checked(study):
    out = verify(study)
    assert out.returncode == 0, out.stderr
    assert VALUES_NOT_CHECKED in out.stdout


def test_custom_pruner_in_the_record_is_unverifiable_not_an_error(study, tmp_path):
    path = tampered_copy(study, tmp_path / "t.db", edit_run_record(pruner={"pruner": "MyPruner", "kwargs": {}}))
    out = verify(path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Unverifiable: the recorded pruner cannot be rebuilt" in out.stdout and "MyPruner" in out.stdout
    assert "Traceback" not in out.stderr


def test_edited_seed_field_is_unverifiable(study, tmp_path):
    out = verify(tampered_copy(study, tmp_path / "t.db", edit_run_record(seed=99)))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "the run record was edited: its seed 99 differs from seed=11" in out.stdout
