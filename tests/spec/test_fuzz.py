"""Mutated scenario files always end in exit code 2 with FILE:LINE messages and no traceback.

Hypothesis mutates a valid scenario: wrong types, unknown keys, out-of-range values, missing
files, malformed YAML. Every mutant that is not valid must be rejected by ``validate`` as a user
error (exit 2), each message starting with the file name and a position, and nothing may escape
as an exception.
"""

from __future__ import annotations

import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main

VALID = {
    "schema_version": 1, "name": "fuzz", "kind": "sobol", "seed": 7,
    "models": [{"model": "clm5_firstorder", "variants": {"normalize_q10": [True]}}],
    "baseline": {"c_input": 400.0, "temperature": 15.0},
    "drivers": {"c_input": {"relative": [0.5, 1.5], "group": "input"},
                "temperature": {"range": [5.0, 25.0], "group": "environment"}},
    "sobol": {"n": 64, "bootstrap": 50, "confidence": 0.95},
    "outputs": ["soc"],
}
PATHS = [("schema_version",), ("name",), ("kind",), ("seed",), ("models", 0, "model"),
         ("models", 0, "variants", "normalize_q10"), ("baseline", "c_input"), ("baseline", "temperature"),
         ("drivers", "c_input", "relative"), ("drivers", "temperature", "range"), ("sobol", "n"),
         ("sobol", "bootstrap"), ("sobol", "confidence"), ("outputs",), ("drivers",), ("models",)]
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                      st.integers(), max_size=2),
)
LINE = re.compile(r"^\S+?(:\d+:\d+)?: ")


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _check_rejected(tmp_path, text: str, capsys) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    if code == 0:
        return  # the mutant happens to be valid
    assert code == 2, out.err
    lines = out.err.strip().splitlines()
    assert lines[-1].endswith("nothing was run."), out.err
    for line in lines[:-1]:
        assert line.startswith(str(path)) and LINE.match(line), line


FUZZ = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(path=st.sampled_from(PATHS), value=BAD_VALUES)
def test_wrong_values(tmp_path, capsys, path, value):
    data = yaml.safe_load(yaml.safe_dump(VALID))
    _set(data, path, value)
    _check_rejected(tmp_path, yaml.safe_dump(data), capsys)


@FUZZ
@given(where=st.sampled_from([(), ("sobol",), ("drivers", "c_input"), ("models", 0), ("baseline",)]),
       key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10))
def test_unknown_keys(tmp_path, capsys, where, key):
    data = yaml.safe_load(yaml.safe_dump(VALID))
    target = data
    for part in where:
        target = target[part]
    target.setdefault(key, 1)
    _check_rejected(tmp_path, yaml.safe_dump(data), capsys)


@FUZZ
@given(cut=st.integers(0, 400), junk=st.sampled_from([":", "[", "{", "- ", "\t", "'", '"', ": :", "&a *b"]))
def test_malformed_yaml(tmp_path, capsys, cut, junk):
    text = yaml.safe_dump(VALID)
    cut = min(cut, len(text))
    _check_rejected(tmp_path, text[:cut] + junk + text[cut:], capsys)


def test_missing_files(tmp_path, capsys):
    code = main(["validate", str(tmp_path / "absent.yaml")])
    assert code == 2 and "cannot read scenario file" in capsys.readouterr().err
    points = dict(VALID, kind="points", cases="nowhere.csv")
    for key in ("drivers", "sobol"):
        points.pop(key)
    _check_rejected(tmp_path, yaml.safe_dump(points), capsys)
