"""The recipe's TOML writer: what it writes reads back through tomllib unchanged, awkward text included."""

from __future__ import annotations

import math
import tomllib

import pytest

from optgui.core.share import dump_toml
from optgui.core.share._toml import toml_key, toml_string

AWKWARD = [
    "",
    'a "quoted" word',
    "back\\slash \\n not a newline",
    "line one\nline two\r\n",
    "tab\there",
    "nul \x00 bell \x07 esc \x1b del \x7f",
    "''' triple single",
    '""" triple double',
    "unicode é ß 漢字 🎲",
    "# not a comment",
    "[not.a.table]",
    "key = value",
    "\u2028 line separator \u0085 next line",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_a_string_reads_back_unchanged(text):
    assert tomllib.loads(f"v = {toml_string(text)}\n")["v"] == text


@pytest.mark.parametrize("key", AWKWARD[1:] + ["plain_key", "with-dash", "x.y", "1"])
def test_a_key_reads_back_unchanged(key):
    assert list(tomllib.loads(f"{toml_key(key)} = 1\n")) == [key]


def test_a_document_round_trips_through_tomllib():
    document = {
        "format": 1,
        "flag": False,
        "source": {"study": 'study "x"\n', "storage": "C:\\data\\s.db"},
        "numbers": {"big": 2**62, "neg": -3, "f": 0.1, "tiny": 5e-324, "inf": math.inf, "ninf": -math.inf},
        "lists": {"names": ["a", 'b"c', "\n"], "empty": []},
        "space": {name: f'{{"name": "{name}"}}' for name in AWKWARD[1:]},
        "outer": {"k": 1, "inner": {"deep": "yes"}},
    }
    text = dump_toml(document, header="a header\nwith two lines")
    assert text.startswith("# a header\n# with two lines\n")
    back = tomllib.loads(text)
    assert back["numbers"]["f"] == 0.1 and back["numbers"]["tiny"] == 5e-324
    assert back == document


def test_none_is_left_out_and_nan_is_written():
    back = tomllib.loads(dump_toml({"t": {"absent": None, "n": math.nan, "list": [1, None, 2]}}))
    assert "absent" not in back["t"] and math.isnan(back["t"]["n"]) and back["t"]["list"] == [1, 2]


def test_a_value_without_a_toml_form_is_refused():
    with pytest.raises(TypeError):
        dump_toml({"x": object()})
