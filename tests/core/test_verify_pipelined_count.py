"""A pipelined fleet's next batch is replayed before its trials finish: the verifier counts such a trial when it is
told, so a verification continued from a checkpoint (or fed a running study in parts) counts every trial once.

The compat fixture `fleet-crashed` (a pipelined fleet whose coordinator died with trial 9 RUNNING and trials 10-11
asked) is verified, recovered by rerunning its command, and verified again from the cached checkpoint: before the
fix the second verdict said "19/19 · trials 0–19" although 20 trials exist (trial 9, asked unfinished by the first
verification, was never counted)."""

from __future__ import annotations

import json

import pytest

from tests.core.test_compat_fixtures import EXPECTED, install_signing_key, optgui, unpack

pytestmark = pytest.mark.slow

NAME = "fleet-crashed"


def _verified(path, *extra: str) -> dict:
    proc = optgui("verify", str(path), "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_verification_continued_after_the_recovery_counts_every_trial_once(tmp_path):
    path = unpack(NAME, tmp_path)
    before = _verified(path)  # caches a checkpoint: trials 0-8 checked, trial 9 and the batch 10-11 asked
    assert (before["n_checked"], before["pending"]) == (9, 3)
    install_signing_key()
    proc = optgui("run", str(path), "--study", NAME, "--quiet", *EXPECTED[NAME]["resume_args"], timeout=240)
    assert proc.returncode == 0, proc.stderr

    continued = _verified(path)
    fresh = _verified(path, "--no-cache")

    n_trials = EXPECTED[NAME]["definition"]["n_trials"]
    for verdict in (continued, fresh):
        assert verdict["kind"] == "verified" and verdict["equivalent"], verdict
        assert verdict["n_checked"] == n_trials, verdict
        assert (verdict["first_trial"], verdict["last_trial"]) == (0, n_trials - 1), verdict
