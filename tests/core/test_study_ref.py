"""Study REFs (`optgui compare`, `optgui run --history`): storage, STORAGE#STUDY split at the `#` whose left part
exists, URLs, trial selections, and one clear error for what names nothing."""

from __future__ import annotations

import pytest

from optgui.core.errors import StudyStateError
from optgui.core.storage import StudyRef, StudyRefError, parse_study_ref, parse_trial_selection


def test_an_existing_file_is_a_storage_even_with_a_hash_in_its_name(tmp_path):
    path = tmp_path / "runs#2.db"
    path.write_bytes(b"")
    ref = parse_study_ref(str(path))
    assert (ref.storage, ref.study, ref.trials) == (str(path), None, None)


def test_study_follows_the_hash_whose_left_part_exists(tmp_path):
    path = tmp_path / "a#b.db"
    path.write_bytes(b"")
    ref = parse_study_ref(f"{path}#my#study")
    assert (ref.storage, ref.study) == (str(path), "my#study")


def test_a_url_is_a_storage_and_its_last_hash_names_the_study():
    assert parse_study_ref("postgresql://u:p@host/db").storage == "postgresql://u:p@host/db"
    ref = parse_study_ref("postgresql://u:p@host/db#s1")
    assert (ref.storage, ref.study) == ("postgresql://u:p@host/db", "s1")


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(StudyRefError, match="no such study file") as info:
        parse_study_ref(f"{tmp_path}/nope.db#s")
    assert str(info.value).count("\n") == 0


def test_empty_study_name_after_hash_is_an_error(tmp_path):
    path = tmp_path / "x.db"
    path.write_bytes(b"")
    with pytest.raises(StudyRefError, match="nothing after '#'"):
        parse_study_ref(f"{path}#")


def test_trial_selection_only_where_asked(tmp_path):
    path = tmp_path / "x.db"
    path.write_bytes(b"")
    ref = parse_study_ref(f"{path}#s@0-3,7,2", selection=True)
    assert (ref.study, ref.trials) == ("s", (0, 1, 2, 3, 7))
    assert parse_study_ref(f"{path}#s@0-3").study == "s@0-3"  # without selections, '@' is part of the name
    assert parse_study_ref(f"{path}@5", selection=True).trials == (5,)


@pytest.mark.parametrize("text", ["3-1", "a", "1,,2", "-4"])
def test_bad_selections_are_refused(text):
    with pytest.raises(StudyRefError, match="bad trial selection"):
        parse_trial_selection(text)


def test_choose_the_only_study_or_name_the_choices():
    assert StudyRef("f", "f").choose(["only"]) == "only"
    with pytest.raises(StudyStateError, match="has 2 studies.*'a', 'b'"):
        StudyRef("f", "f").choose(["a", "b"])
    with pytest.raises(StudyStateError, match="no study named 'c'"):
        StudyRef("f#c", "f", "c").choose(["a", "b"])
