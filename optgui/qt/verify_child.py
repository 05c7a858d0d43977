"""Child process behind the determinism badge: `python -m optgui.qt.verify_child STORAGE STUDY [--objective]`.

Prints JSON lines: {"progress": [checked, total]} while replaying and one {"verdict": {...}} at the end (the shape
optgui.qt.verification.BadgeState.from_verdict reads). Running in a child keeps the replay's CPU and garbage
collection off the GUI's interpreter.

Until the verifier (optgui.core.verifier) is part of this tree, the stand-in below re-enacts each recorded
segment from its saved sampler state with the engine's own replay (optgui.core.replay) and takes equivalence from
what the engine recorded (recoveries, foreign trials, accepted changes).
"""

from __future__ import annotations

import json
import sys
import warnings


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


def stand_in_verdict(storage_text: str, study_name: str, check_objective: bool) -> dict:
    import optuna
    from optuna.trial import FixedTrial, TrialState

    from optgui.core import metadata as md
    from optgui.core.objectives import ObjectiveRef, load_objective
    from optgui.core.replay import Reenactor, float_bits
    from optgui.core.samplers import parse_spec
    from optgui.core.storage import parse_storage
    from optgui.core.versions import current_versions, version_differences

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    ref = parse_storage(storage_text)
    if ref.kind == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        storage = JournalStorage(JournalFileBackend(str(ref.path)))
    else:
        storage = optuna.storages.RDBStorage(ref.url, skip_compatibility_check=False)
    study_id = storage.get_study_id_from_name(study_name)
    meta = md.read_metadata(storage, study_id)
    if not meta.present:
        return {"status": "unverifiable", "reason": "no optgui run record (the study was not run by optgui, so "
                                                    "its sampler and seed are unknown)"}
    if not meta.segments:
        return {"status": "unverifiable", "reason": "the study has not been run yet"}
    trials = storage.get_all_trials(study_id, deepcopy=False)
    run = meta.run
    sampler_spec = parse_spec(run["sampler"], "sampler")
    pruner_spec = parse_spec(run["pruner"], "pruner")
    directions = run["directions"]
    finished = [t for t in trials if t.state.is_finished()]
    last_finished = finished[-1].number if finished else -1

    ranges = []
    for i, seg in enumerate(meta.segments):
        start = seg["start_trial"]
        if seg.get("end") and seg["end"].get("reason") != "crashed":
            stop = seg["end"]["last_trial"] + 1
        elif i + 1 < len(meta.segments):
            stop = meta.segments[i + 1]["start_trial"]
        else:
            stop = last_finished + 1
        if i + 1 < len(meta.segments):
            stop = min(stop, meta.segments[i + 1]["start_trial"])
        ranges.append((seg, start, max(start, stop)))
    total = sum(1 for _, a, b in ranges for t in trials[a:b] if t.state.is_finished())
    emit({"progress": [0, total]})
    checked = 0
    divergence = None
    for seg, start, stop in ranges:
        record = meta.states.get(start)
        if record is None:
            return {"status": "unverifiable", "n_total": total,
                    "reason": f"the sampler state saved at trial {start} is missing"}
        reenactor = Reenactor(sampler_spec.build(), study_name=study_name, directions=directions,
                              pruner=pruner_spec.build())
        reenactor.add_history(t for t in trials[:start])
        reenactor.set_study_attrs(record.get("study_attrs", {}))
        reenactor.restore(record["sampler_state"])
        for trial in trials[start:stop]:
            if not trial.state.is_finished():
                break
            mismatch = reenactor.reenact(trial)
            checked += 1
            if mismatch is not None:
                divergence = {"trial": mismatch.number, "param": mismatch.param, "recorded": mismatch.recorded,
                              "replayed": mismatch.replayed, "segment": seg["index"]}
                break
            if checked % 25 == 0:
                emit({"progress": [checked, total]})
        if divergence:
            break
    versions_then = (meta.last_segment or {}).get("versions") or run.get("versions") or {}
    now = current_versions()
    diffs = version_differences(versions_then, now)
    result = {"n_checked": checked, "n_total": total, "versions": {"recorded": versions_then, "current": now},
              "sampler": sampler_spec.to_text(), "seed": run.get("seed"), "segments": len(meta.segments)}
    if divergence:
        cause = ("package versions differ from the recorded ones: " +
                 ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diffs.items())) if diffs else \
            "the recorded history is not what the sampler produces from its seed and saved states"
        result.update(status="diverged", divergence=divergence, cause=cause)
        return result
    reasons = []
    for seg in meta.segments:
        if seg.get("foreign_before"):
            reasons.append(f"trials {seg['foreign_before'][0]}–{seg['foreign_before'][-1]} were added by another "
                           "process")
        if seg.get("recovery") and not seg["recovery"].get("equivalent", True):
            reasons.append(seg["recovery"].get("reason") or f"recovery in segment {seg['index']}")
        if seg.get("accepted"):
            reasons.append(f"segment {seg['index']} accepted changes: {', '.join(seg['accepted'])}")
    result.update(status="verified", equivalent=not reasons, equivalence_reason="; ".join(reasons))
    if check_objective:
        objective = load_objective(ObjectiveRef.from_record(run["objective"]))
        complete = [t for t in finished if t.state == TrialState.COMPLETE and md.TRIAL_ABANDONED not in t.system_attrs]
        ok = 0
        first_bad = None
        for t in complete:
            try:
                value = objective(FixedTrial(t.params, t.number))
            except Exception as exc:  # noqa: BLE001 - a user objective may raise anything
                value = exc
            values = list(value) if isinstance(value, (tuple, list)) else [value]
            same = not isinstance(value, Exception) and len(values) == len(t.values) and all(
                float_bits(a) == float_bits(b) for a, b in zip(values, t.values))
            if same:
                ok += 1
            elif first_bad is None:
                first_bad = {"trial": t.number, "recorded": list(t.values), "reproduced": repr(value)}
        result["objective"] = {"checked": len(complete), "reproduced": ok, "first_mismatch": first_bad}
    return result


def main(argv: list[str]) -> int:
    storage, study = argv[0], argv[1]
    check_objective = "--objective" in argv[2:]
    try:
        verdict = stand_in_verdict(storage, study, check_objective)
    except Exception as exc:  # noqa: BLE001 - reported to the badge as "not verifiable"
        verdict = {"status": "unverifiable", "reason": f"{exc.__class__.__name__}: {exc}"}
    emit({"verdict": verdict})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
