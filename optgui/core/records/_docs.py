"""docs/storage-format.md, generated from the record classes: the field tables come from each field's `entry(...)`
(JSON key, what the value must be, whether it is required, what it means), the prose around them from here.
`python -m optgui.core.records > docs/storage-format.md` writes it; a test fails when the committed file is stale."""

from __future__ import annotations

import enum
import inspect

from optgui.core.records._base import JsonRecord, record_fields
from optgui.core.records._dashboard import NOTE_CHUNK_LENGTH, ArtifactRecord
from optgui.core.records._fleet import AskedBy, Claim, ControlRecord, FleetRecord, TrialResult, WorkerRecord
from optgui.core.records._history import HistoryRecord
from optgui.core.records._keys import SCHEMA_VERSION
from optgui.core.records._lease import LeaseRecord
from optgui.core.records._run import RunRecord, Target
from optgui.core.records._segment import Segment, SegmentEnd
from optgui.core.records._state import Checkpoint, SavedState
from optgui.core.records._trial import Abandoned, Recovered, TrialError
from optgui.core.records._vocabulary import (
    EndReason,
    FleetCommand,
    FleetMode,
    RecoveryHandling,
    ResultState,
    RunOrigin,
    RunState,
    SegmentStart,
    WorkerState,
)

STUDY_KEYS = [
    ("`optgui:schema`", f"`{SCHEMA_VERSION}`"),
    (
        "`optgui:run`",
        "the immutable [run record](#run-record-optguirun), written once when optgui first runs (or creates) the study",
    ),
    ("`optgui:target`", "the run's [target](#target-optguitarget)"),
    ("`optgui:segment:<i>`", "one per run [segment](#segment-optguisegmenti), `i` = 0, 1, ..."),
    (
        "`optgui:state:<b>`",
        "the [sampler state](#saved-state-optguistateb) at resume boundary *b*, one key per boundary, never "
        "overwritten",
    ),
    (
        "`optgui:checkpoint`",
        "the latest crash-recovery [checkpoint](#checkpoint-optguicheckpoint), overwritten at most every 60 s",
    ),
    ("`optgui:lease`", "the [lease](#lease-optguilease): which process runs the study"),
    (
        "`optgui:trusted_pickles`",
        '`{"<trial number>": {"hmac", "key"}}`: foreign CMA-ES optimizer pickles the user agreed to load '
        "(`--trust-pickles`, the app's question), signed as they were then (see [security.md](security.md))",
    ),
    ("`optgui:fleet`, `optgui:control`, `optgui:worker:<i>`", "parallel runs: [below](#parallel-runs-additive-keys)"),
]

TRIAL_KEYS = [
    ("`optgui:error`", "[trial error](#trial-error-optguierror)"),
    ("`optgui:abandoned`", "[abandoned trial](#abandoned-trial-optguiabandoned)"),
    ("`optgui:recovered`", "[recovered trial](#recovered-trial-optguirecovered)"),
    (
        "`optgui:pickle_sig`",
        '`{"hmac", "key"}`: HMAC-SHA256 (a per-user key in the app data directory) of the CMA-ES optimizer pickle '
        "optgui's sampler stored on the trial, written before tell (see [security.md](security.md))",
    ),
]


def _table(rows: list[tuple[str, str]]) -> str:
    return "\n".join(["| key | content |", "|---|---|", *(f"| {key} | {text} |" for key, text in rows)])


INTRO = f"""# What optgui stores in a study (metadata schema {SCHEMA_VERSION})

<!-- Generated from the record classes in optgui/core/records by
     `python -m optgui.core.records > docs/storage-format.md`; edit those, not this file. -->

Everything optgui records lives in the study's own storage as Optuna *system attributes* whose keys start with
`optgui:`. The database stays a valid Optuna database that `optuna` and optuna-dashboard read unchanged, and a
copied file carries its state. optgui never writes next to a study, and opening a study never writes to it.

Values are JSON objects. Times are ISO 8601 strings in UTC. Each record below is a frozen dataclass in
`optgui/core/records` with `to_json()`/`from_json()`; a field marked *required* must be present, the others may be
absent (records written by older versions lack some), and every present field must have the type shown: a
record that does not is malformed. Code that acts on a study (run, verify) refuses a study with a malformed record
and names it; the app shows what is well formed. Keys a record does not list are kept and written back unchanged.

Contents: [Study attributes](#study-attributes) · [Run record](#run-record-optguirun) ·
[Segments](#segment-optguisegmenti) · [Saved states](#saved-state-optguistateb) ·
[Trial attributes](#trial-attributes) · [Which trials optgui made](#which-trials-optgui-made) ·
[Parallel runs](#parallel-runs-additive-keys) ·
[Notes and artifacts](#notes-and-artifacts-keys-of-optuna-dashboard-and-optuna) · [Vocabularies](#vocabularies) ·
[Outside the study](#outside-the-study)

## Study attributes

{_table(STUDY_KEYS)}
"""

TRIALS = f"""## Trial attributes

{_table(TRIAL_KEYS)}
"""

WHICH_TRIALS = """## Which trials optgui made

The segments tell it: trial *k* is optgui's if `start_trial(i) <= k < start_trial(i+1)` (or `k <= end.last_trial`
for the last segment) and *k* is not in any segment's `foreign_before`. A per-trial marker would cost one more
storage commit per trial (about 5% on SQLite).
"""

FLEET = """## Parallel runs (additive keys)

Fleets ([fleet.md](fleet.md)) coordinate only through the study, so a worker on another machine needs nothing but
the storage URL and the study name. Same schema version; the run record gets `fleet`, and these keys are added:
`optgui:fleet`, `optgui:control` and `optgui:worker:<i>` on the study; `optgui:claim:<a>`, `optgui:result` and
`optgui:asked_by` on trials.

A deterministic fleet's coordinator writes the same run record, segments, states and lease as a single process.
A free-running fleet writes the run record and the fleet keys, but no lease and no segments: each worker's sampler
starts from its recorded seed, and the history is the only record of the interleaving.
"""

OUTSIDE = """## Outside the study

Nothing that describes a study's run lives outside it. Two things optgui keeps elsewhere, both disposable:

- **Trial output logs** (`<data folder>/logs/...`, named by each segment's `output_log`): what the objectives
  printed and logged, one file per segment; a trial's part starts with `=== trial N ===`.
- **The verdict cache** (`<cache folder>/verify/`): `verdict-<key>.json` per study content and `resume-<id>.json`
  replay checkpoints ([determinism.md](determinism.md#verifying-a-study)).

The data and cache folders are listed in [packaging.md](packaging.md#where-settings-and-caches-live).
"""

FOREIGN_KEYS = [
    ("`dashboard:note_ver`", "the study note's version, an integer bumped by one on every save"),
    (
        "`dashboard:note_str:<i>`",
        f"the study note's Markdown in chunks of at most {NOTE_CHUNK_LENGTH} characters, `i` = 0, 1, ... (a save "
        'that shortens a note sets the chunks it no longer needs to `""`)',
    ),
    (
        "`dashboard:<trial_id>:note_ver`, `dashboard:<trial_id>:note_str:<i>`",
        "a trial's note, the same way, keyed by the trial's *id* (not its number)",
    ),
    (
        "`artifacts:<artifact_id>` (on the study or on a trial)",
        "the JSON text of an [artifact](#artifact-artifactsartifact_id) record",
    ),
]

FOREIGN = f"""## Notes and artifacts (keys of optuna-dashboard and Optuna)

optgui reads two kinds of keys that are not its own ([notes-and-artifacts.md](notes-and-artifacts.md)), and
writes the first only when the user presses Save on a note:

{_table(FOREIGN_KEYS)}
"""

VOCABULARIES: list[type[enum.StrEnum]] = [
    RunState,
    EndReason,
    SegmentStart,
    RunOrigin,
    RecoveryHandling,
    FleetMode,
    FleetCommand,
    WorkerState,
    ResultState,
]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def record_section(cls: type[JsonRecord], level: str = "###") -> str:
    """A record's heading, description and field table."""
    lines = [f"{level} {cls.TITLE} (`{cls.KEY}`)", "", _cell(inspect.getdoc(cls) or ""), ""]
    lines += ["| field | value | meaning |", "|---|---|---|"]
    for f in record_fields(cls):
        key = f.metadata.get("key") or f.name
        expected = f.metadata["check"][1] + (" (*required*)" if f.metadata["required"] else "")
        lines.append(f"| `{key}` | {_cell(expected)} | {_cell(f.metadata['doc'])} |")
    return "\n".join(lines) + "\n"


def vocabulary_section() -> str:
    lines = ["## Vocabularies", "", "The closed sets of strings stored (StrEnums in `optgui.core.records`).", ""]
    lines += ["| name | values | meaning |", "|---|---|---|"]
    for vocabulary in VOCABULARIES:
        values = ", ".join(f"`{m.value}`" for m in vocabulary)
        lines.append(f"| `{vocabulary.__name__}` | {values} | {_cell(inspect.getdoc(vocabulary) or '')} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole of docs/storage-format.md."""
    parts = [
        INTRO,
        record_section(RunRecord, "##"),
        record_section(Target, "##"),
        record_section(Segment, "##"),
        record_section(SegmentEnd),
        record_section(SavedState, "##"),
        record_section(Checkpoint, "##"),
        record_section(LeaseRecord, "##"),
        record_section(HistoryRecord, "##"),
        TRIALS,
        record_section(TrialError),
        record_section(Abandoned),
        record_section(Recovered),
        WHICH_TRIALS,
        FLEET,
        record_section(FleetRecord),
        record_section(ControlRecord),
        record_section(WorkerRecord),
        record_section(Claim),
        record_section(TrialResult),
        record_section(AskedBy),
        FOREIGN,
        record_section(ArtifactRecord),
        vocabulary_section(),
        OUTSIDE,
    ]
    return "\n".join(parts)
