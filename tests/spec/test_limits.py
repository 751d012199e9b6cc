"""Malformed and hostile scenario files end in exit 2 with a located message, quickly, never a traceback.

Each fault (encoding, size, YAML tags, aliases, nesting, many issues, ``--set`` values, declared
limits of the settings, non-finite numbers, repeats) is written as bytes to a temporary file and
validated through the command line; a deadline turns a hang into a failure.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import signal
import time
from pathlib import Path

import pytest
import yaml

from harness.api import load_scenario
from harness.cli import main
from harness.errors import MAX_ISSUES_SHOWN, ScenarioError, SpecIssue
from harness.spec import positions
from harness.spec.positions import MAX_DEPTH, MAX_NODES, MAX_SCENARIO_BYTES, YamlLoader
from harness.spec.schema import MAX_JOBS, MAX_SEED, MAX_SOBOL_N, Context

HEAD = "schema_version: 1\nname: tiny\nkind: sobol\nseed: 42\n"
BODY = "models: [clm5_firstorder]\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n"
VALID = HEAD + BODY
DEADLINE = 20  # [s] far above the ~1 s any of these takes: only a hang passes it


@contextlib.contextmanager
def _deadline(seconds: float = DEADLINE):
    def expire(*_):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _validate(path: Path, capsys, *overrides: str) -> tuple[int, list[str]]:
    argv = ["validate", str(path)] + [a for o in overrides for a in ("--set", o)]
    with _deadline():
        code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.splitlines()


def _refused(tmp_path: Path, capsys, data: str | bytes, *overrides: str) -> list[str]:
    """The messages of a scenario that must be refused: exit 2, every message located, the footer last."""
    path = tmp_path / "s.yaml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    code, lines = _validate(path, capsys, *overrides)
    assert code == 2, lines
    assert re.fullmatch(rf"\d+ errors? in {re.escape(str(path))}( \(the first \d+ shown\))?; nothing was run\.",
                        lines[-1])
    if not overrides:
        located = re.compile(rf"{re.escape(str(path))}:\d+:\d+: ")
        assert all(located.match(line) for line in lines[:-1]), lines
    return lines[:-1]


def _one(tmp_path: Path, capsys, data: str | bytes, *overrides: str) -> str:
    """The one message of a scenario that must be refused, without the file name."""
    lines = _refused(tmp_path, capsys, data, *overrides)
    assert len(lines) == 1, lines
    return lines[0].split(": ", 1)[1] if overrides else lines[0][len(str(tmp_path / "s.yaml")) + 1:]


# -- encoding -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "expected"), [
    ((HEAD + "description: caf\xe9\n" + BODY).encode("latin-1"),
     "5:17: not UTF-8: the byte 0xE9 cannot be decoded (invalid continuation byte). Hint: save the file as UTF-8"),
    ((VALID + "# \xe2\x82").encode("latin-1"), "8:3: not UTF-8: the byte 0xE2 0x82 cannot be decoded (unexpected "
                                               "end of data). Hint: save the file as UTF-8"),
    ((HEAD + "description: a\0b\n" + BODY).encode(), "5:15: a NUL byte is not allowed in a scenario file"),
    ((HEAD + "description: a\x07b\n" + BODY).encode(), "5:15: the character U+0007 is not allowed"),
    ((HEAD + "description: \x1b[31mred\n" + BODY).encode(), "5:14: the character U+001B is not allowed"),
    ((HEAD + "x: 1\ndescription: a\x01\n").encode().replace(b"\n", b"\r"), "6:15: the character U+0001"),
    (codecs.BOM_UTF8 * 2 + VALID.encode(), "1:1: the character U+FEFF is not allowed"),
    (VALID.encode("utf-16"), "1:1: the file is UTF-16 (it starts with the byte order mark FF FE); a scenario "
                             "file is UTF-8. Hint: save the file as UTF-8"),
    (VALID.encode("utf-16-be"), "1:1: the file looks like UTF-16 (every other byte is NUL)"),
    (VALID.encode("utf-32"), "1:1: the file is UTF-32"),
], ids=["latin1", "truncated", "nul", "bel", "ansi", "cr_lines", "bom_twice", "utf16", "utf16_no_bom", "utf32"])
def test_encoding(tmp_path, capsys, data, expected):
    assert _one(tmp_path, capsys, data).startswith(expected)


@pytest.mark.parametrize("data", [codecs.BOM_UTF8 + VALID.encode(), VALID.replace("\n", "\r\n").encode(),
                                  (HEAD + "description: bétä µmol m⁻²\n" + BODY).encode()],
                         ids=["utf8_bom", "crlf", "accents"])
def test_utf8_with_bom_or_crlf_is_valid(tmp_path, capsys, data):
    path = tmp_path / "s.yaml"
    path.write_bytes(data)
    assert _validate(path, capsys)[0] == 0


# -- size and kind of file ----------------------------------------------------------------------
def test_file_larger_than_the_limit(tmp_path, capsys):
    data = VALID + "description: '" + "x" * MAX_SCENARIO_BYTES + "'\n"
    message = _one(tmp_path, capsys, data)
    assert re.match(r"8:\d+: the file is larger than 1048576 bytes \(1 MiB\), the limit of a scenario file", message)


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_not_a_regular_file(tmp_path, capsys, kind):
    path = tmp_path / "s.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opening it to read would wait for a writer forever
    else:
        path = Path("/dev/zero")  # endless
    code, lines = _validate(path, capsys)
    assert code == 2
    assert lines[0].startswith(f"{path}: cannot read scenario file: it is a ")


# -- YAML tags, keys and merge keys -------------------------------------------------------------
@pytest.mark.parametrize(("line", "expected"), [
    ("description: !!python/name:os.system", "5:14: description: unsupported tag !!python/name:os.system"),
    ("description: !!python/object:os.system {}", "5:14: description: unsupported tag !!python/object:os.system "
                                                  "on a mapping"),
    ('description: !!python/object/apply:os.system ["ls"]', "5:14: description: unsupported tag "
                                                            "!!python/object/apply:os.system on a sequence"),
    ("description: !foo bar", "5:14: description: unsupported tag !foo. Hint: remove the tag"),
    ("description: !!set {a: null}", "5:14: description: unsupported tag !!set on a mapping"),
    ("seed2: !!int abc", "5:8: seed2: cannot read 'abc' as !!int. Hint: fix the value, or quote it"),
    ("seed2: !!float x", "5:8: seed2: cannot read 'x' as !!float"),
    ("seed2: !!timestamp 2024-13-45", "5:8: seed2: cannot read '2024-13-45' as !!timestamp"),
    ("seed2: 2024-13-45", "5:8: seed2: cannot read '2024-13-45' as !!timestamp"),
    ("seed2: !!timestamp yesterday", "5:8: seed2: cannot read 'yesterday' as !!timestamp"),
    ("seed2: !!binary '%%%'", "5:8: seed2: cannot read '%%%' as !!binary"),
    ("seed2: !!bool maybe", "5:8: seed2: cannot read 'maybe' as !!bool"),
    ("? {a: 1}\n: 3", "5:3: keys must be strings; got a mapping"),
    ("? [a]\n: 3", "5:3: keys must be strings; got a list"),
    ("~: 3", "5:1: keys must be strings; got None. Hint: quote the key"),
    ("!!int x: 3", "5:1: cannot read 'x' as !!int"),
    ("x: &a {n: 1}\nsobol:\n  <<: 3", "7:7: sobol: a merge key `<<` takes a mapping or a list of mappings; got '3'"),
    ("sobol:\n  <<: [1, 2]", "6:8: sobol: a merge key `<<` takes a mapping or a list of mappings; got '1'"),
], ids=["python_name", "python_object", "python_apply", "local_tag", "set", "int", "float", "timestamp",
        "implicit_timestamp", "timestamp_text", "binary", "bool", "map_key", "list_key", "null_key", "bad_key_tag",
        "merge_int", "merge_scalars"])
def test_tags_keys_and_merges(tmp_path, capsys, line, expected):
    assert _one(tmp_path, capsys, HEAD + line + "\n" + BODY).startswith(expected)


def test_tag_directive_cannot_reach_python_tags(tmp_path, capsys):
    text = "%TAG !py! tag:yaml.org,2002:python/\n---\n" + HEAD + "seed2: !py!name:os.system\n" + BODY
    assert _one(tmp_path, capsys, text).startswith("7:8: seed2: unsupported tag !!python/name:os.system")


def test_merge_keys_merge_in_yaml_order(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(VALID + "x_a: &a {n: 64, bootstrap: 100}\nx_b: &b {n: 128, confidence: 0.9}\n"
                    "sobol:\n  <<: [*a, *b]\n  bootstrap: 200\nexecutor:\n  <<: {jobs: 2}\n")
    with pytest.raises(ScenarioError) as info:  # only the two helper keys are unknown
        load_scenario(path)
    assert [i.path for i in info.value.issues] == ["x_a", "x_b"]
    path.write_text(VALID + "sobol:\n  <<: [{n: 64, bootstrap: 100}, {n: 128, confidence: 0.9}]\n  bootstrap: 200\n")
    sobol = load_scenario(path).sobol
    assert (sobol.n, sobol.bootstrap, sobol.confidence) == (64, 200, 0.9)


# -- aliases and depth --------------------------------------------------------------------------
def _bomb(levels: int, width: int = 10) -> str:
    lines = ["lol0: &l0 [lol]\n"]
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]\n")
    return "".join(lines)


@pytest.mark.parametrize(("text", "expected"), [
    (HEAD.replace("seed: 42", "seed: &a [*a]") + BODY, "4:11: seed[0]: recursive alias"),
    (HEAD.replace("seed: 42", "seed: &a {x: *a}") + BODY, "4:14: seed.x: recursive alias"),
    (VALID + "baseline: &rb\n  <<: *rb\n", "9:7: baseline: recursive alias"),
    (VALID + "? &rk [*rk]\n: 1\n", "8:3: keys must be strings; got a list"),
    (_bomb(9) + VALID, f"5:52: lol4[8]: aliases expand to more than {MAX_NODES} values"),
    (_bomb(9) + HEAD.replace("seed: 42", "seed: *l9") + BODY, f"5:52: lol4[8]: aliases expand to more than {MAX_NODES}"),
    (_bomb(8) + VALID + "? *l8\n: 1\n", f"5:52: lol4[8]: aliases expand to more than {MAX_NODES}"),
    (VALID + "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100)),
     f"71:12: a63[0]: aliases nest deeper than {MAX_DEPTH} levels"),
    (HEAD.replace("seed: 42", "seed: *nope") + BODY, "4:7: malformed YAML: found undefined alias 'nope'"),
], ids=["recursive_seq", "recursive_map", "recursive_merge", "recursive_key", "bomb", "bomb_as_seed", "bomb_as_key",
        "alias_chain", "undefined"])
def test_aliases(tmp_path, capsys, text, expected):
    start = time.perf_counter()
    assert _one(tmp_path, capsys, text).startswith(expected)
    assert time.perf_counter() - start < 5  # [s] the bomb's 10^9 values are never expanded


def test_bomb_file_is_small(tmp_path):
    assert len(_bomb(9)) < 4000 and 10 ** 9 > MAX_NODES


@pytest.mark.parametrize(("text", "expected"), [
    (HEAD.replace("seed: 42", "seed: " + "[" * 10_000 + "]" * 10_000) + BODY, f"4:70: nests deeper than {MAX_DEPTH}"),
    (HEAD.replace("seed: 42", "seed: " + "[" * 100_000) + BODY, f"4:70: nests deeper than {MAX_DEPTH}"),
    (VALID + "x: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", f"8:253: nests deeper than {MAX_DEPTH}"),
    (VALID + "x:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(200)) + "  " * 201 + "b: 1\n",
     f"71:127: nests deeper than {MAX_DEPTH} levels. Hint: a scenario needs a few levels"),
], ids=["flow_seq", "unclosed", "flow_map", "block_map"])
def test_depth(tmp_path, capsys, text, expected):
    assert _one(tmp_path, capsys, text).startswith(expected)


def test_nesting_up_to_the_limit_is_read(tmp_path, capsys):
    depth = MAX_DEPTH - 1  # the top-level mapping is one level
    lines = _refused(tmp_path, capsys, VALID + "x_deep: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n")
    assert len(lines) == 1 and lines[0].startswith(f"{tmp_path / 's.yaml'}:8:1: x_deep: unknown key 'x_deep'.")


# -- many issues, many values -------------------------------------------------------------------
def test_many_unknown_keys_are_linear_and_capped(tmp_path, capsys):
    n = MAX_NODES // 2 - 100
    start = time.perf_counter()
    lines = _refused(tmp_path, capsys, VALID + "".join(f"x{i:06d}: {i}\n" for i in range(n)))
    assert time.perf_counter() - start < 10  # [s]
    assert len(lines) == MAX_ISSUES_SHOWN
    assert lines[0].endswith("8:1: x000000: unknown key 'x000000'. Hint: known: baseline, calibrate, cases, "
                             "description, drivers, drivers_from, executor, grid, kind, local, models, name, "
                             "on_failure, outputs, published, regression, response, schema_version, seed, sobol, sweep, "
                             "transient")


def test_footer_counts_every_issue(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(VALID + "".join(f"x{i:04d}: {i}\n" for i in range(120)))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.issues) == 120
    assert str(info.value).splitlines()[-1] == f"120 errors in {path} (the first 50 shown); nothing was run."


def test_more_values_than_the_limit(tmp_path, capsys):
    message = _one(tmp_path, capsys, VALID + "".join(f"x{i:06d}: {i}\n" for i in range(MAX_NODES)))
    assert re.match(rf"\d+:\d+: holds more than {MAX_NODES} values. Hint: put large tables in a CSV file", message)


def test_context_add_is_linear():
    ctx = Context({})
    start = time.perf_counter()
    for i in range(50_000):
        ctx.add(f"k{i}", "unknown key")
        ctx.add(f"k{i}", "unknown key")  # the same issue twice is kept once
    assert time.perf_counter() - start < 5  # [s] quadratic: minutes
    assert len(ctx.issues) == 50_000


def test_context_add_skips_an_issue_appended_directly():
    ctx = Context({"a": (1, 2)})
    ctx.issues.append(SpecIssue("a", "bad", "", 1, 2))
    ctx.add("a", "bad")
    assert len(ctx.issues) == 1


# -- --set values -------------------------------------------------------------------------------
@pytest.mark.parametrize(("override", "expected"), [
    ("seed=!!int x", "--set: 'seed=!!int x': cannot read 'x' as !!int"),
    ("a.b=*x", "--set: 'a.b=*x': malformed YAML: found undefined alias 'x'"),
    ("x=[unclosed", "--set: 'x=[unclosed': malformed YAML: while parsing a flow sequence"),
    ("novalue", "--set: 'novalue': expected KEY.PATH=VALUE"),
    ("sobol.n=!!python/name:os.system", "--set: 'sobol.n=!!python/name:os.system': unsupported tag"),
    ("seed=" + "[" * 100, f"--set: 'seed={'[' * 100}': nests deeper than {MAX_DEPTH} levels"),
    ("models.-1.model=x", "--set: 'models.-1.model=x': models is a list of 1 items, which has no entry '-1'"),
])
def test_bad_override(tmp_path, capsys, override, expected):
    assert _one(tmp_path, capsys, VALID, override).startswith(expected)


def test_override_out_of_limit_is_located_and_marked(tmp_path, capsys):
    assert _one(tmp_path, capsys, VALID, "seed=123456789012345678901234567890") == (
        f"seed: must be at most {MAX_SEED} (a limit of soilbench); got 123456789012345678901234567890 (set with "
        f"--set). Hint: use a value in [1, {MAX_SEED}]; see Limits in docs/scenarios.md")


# -- declared limits of the settings ------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    (HEAD.replace("seed: 42", "seed: 123456789012345678901234567890") + BODY,
     f"4:7: seed: must be at most {MAX_SEED} (a limit of soilbench)"),
    (HEAD.replace("seed: 42", "seed: 1" + "0" * 400) + BODY, "4:7: seed: must be at most 9223372036854775807 (a "
                                                          "limit of soilbench); got a number of about 401 digits"),
    (HEAD.replace("seed: 42", "seed: !!int 0x" + "f" * 5000) + BODY, "4:7: seed: must be at most"),
    (HEAD.replace("seed: 42", "seed: 1" + "0" * 5000) + BODY, "4:7: seed: cannot read '1000"),
    (VALID + "sobol: {n: 1099511627776}\n", f"8:12: sobol.n: must be at most {MAX_SOBOL_N}"),
    (VALID + "sobol: {n: 1024, replicates: 1073741824}\n", f"8:30: sobol.replicates: must be at most {MAX_SOBOL_N}"),
    (VALID + "sobol: {bootstrap: 1000000000000}\n", "8:20: sobol.bootstrap: must be at most 100000"),
    (VALID + "sobol: {n: 1048576, intervals: bootstrap, bootstrap: 1000}\n",
     "8:54: sobol.bootstrap: 1000 resamples of sobol.n = 1048576 base samples exceed 67108864"),
    (VALID + "sobol:\n  crossover: {c_input: [" + ", ".join(f"{i / 100:.2f}" for i in range(1, 61)) + "]}\n",
     "9:24: sobol.crossover.c_input: must be a list of 2 to 50 relative half-widths"),
    (VALID + "executor: {type: processes, jobs: 1000000}\n", f"8:35: executor.jobs: must be at most {MAX_JOBS}"),
    (VALID + "executor: {chunk_rows: 1000000000000000}\n", "8:24: executor.chunk_rows: must be at most 1048576"),
    (HEAD.replace("name: tiny", "name: " + "n" * 1000) + BODY, "2:7: name: must be at most 100 characters long"),
    (HEAD + "models:\n  - model: clm5_firstorder\n    variants: {q10: [1.5, 2.5], tau_s2: ["
     + ", ".join(str(2 + i / 100) for i in range(501)) + "]}\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n",
     "6:3: models: give 1002 model x variant members, more than 1000"),
], ids=["seed_30_digits", "seed_401_digits", "seed_huge_hex", "seed_5000_digits", "sobol_n", "replicates",
        "bootstrap", "bootstrap_draws", "crossover_widths", "jobs", "chunk_rows", "name", "members"])
def test_limits(tmp_path, capsys, text, expected):
    assert _one(tmp_path, capsys, text).startswith(expected)


KINDS = {
    "sweep": "kind: sweep\n", "local": "kind: local\n", "regression": "kind: regression\n",
    "calibrate": "kind: calibrate\n",
}


@pytest.mark.parametrize(("kind", "section", "expected"), [
    ("sweep", "sweep:\n  drivers:\n    c_input: {relative: [0.5, 1.5], num: 1000000000}",
     "8:42: sweep.drivers.c_input.num: must be at most 10000"),
    ("sweep", "sweep:\n  drivers:\n    c_input: {relative: [0.5, 1.5], num: 2000}\n"
     "    temperature: {range: [5, 25], num: 2000}", "8:5: sweep.drivers: the grid of these axes has 4000000 rows per "
                                                    "member, more than 100000"),
    ("sweep", "sweep:\n  drivers:\n    c_input: {values: [300, 300.0]}",
     "8:29: sweep.drivers.c_input.values[1]: repeats 300.0, given already as sweep.drivers.c_input.values[0]"),
    ("local", "local: {drivers: [c_input, c_input]}", "6:28: local.drivers[1]: repeats 'c_input'"),
    ("local", "local: {drivers: [c_input], h: 1e400}", "6:32: local.h: must be a finite number; got inf"),
    ("regression", "regression:\n  predictors: [cue]\n  virtual:\n    sites: 1000000000\n"
     "    drivers: {c_input: {relative: [0.5, 1.5]}}", "9:12: regression.virtual.sites: must be at most 1000000"),
    ("regression", "regression:\n  predictors: [cue]\n  virtual:\n    sobol_n: 1099511627776\n"
     "    drivers: {c_input: {relative: [0.5, 1.5]}}", "9:14: regression.virtual.sobol_n: must be at most 65536"),
    ("regression", "regression:\n  predictors: [cue]\n  virtual:\n    noise_sd: .inf\n"
     "    drivers: {c_input: {relative: [0.5, 1.5]}}", "9:15: regression.virtual.noise_sd: must be a finite number"),
    ("calibrate", "calibrate:\n  sampler: {draws: 1000000000000}", "7:20: calibrate.sampler.draws: must be at most "
                                                                    "1000000"),
    ("calibrate", "calibrate:\n  sampler: {chains: 1000000}", "7:21: calibrate.sampler.chains: must be at most 256"),
    ("calibrate", "calibrate:\n  sampler: {tune: .nan}", "7:19: calibrate.sampler.tune: must be an integer >= 0; "
                                                         "got nan"),
])
def test_limits_of_kind_sections(tmp_path, capsys, kind, section, expected):
    text = HEAD.replace("kind: sobol\n", KINDS[kind]) + "models: [clm5_firstorder]\n" + section + "\n"
    lines = _refused(tmp_path, capsys, text)
    assert any(line[len(str(tmp_path / "s.yaml")) + 1:].startswith(expected) for line in lines), lines


# -- non-finite numbers and repeats -------------------------------------------------------------
@pytest.mark.parametrize(("value", "got"), [(".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("1e400", "inf"),
                                            ("1" + "0" * 400, "a number of about 401 digits")])
def test_non_finite_numbers(tmp_path, capsys, value, got):
    assert _one(tmp_path, capsys, VALID + f"baseline: {{c_input: {value}}}\n") == (
        f"8:21: baseline.c_input: must be a finite number; got {got}. Hint: write e.g. 1.5 or 2e-3")


def test_non_finite_variant_value(tmp_path, capsys):
    text = HEAD + "models:\n  - model: clm5_firstorder\n    variants: {q10: [2.0, .nan]}\n" + BODY[BODY.index("drivers"):]
    assert _one(tmp_path, capsys, text) == (
        "7:27: models[0].variants.q10[1]: must be a finite number; got nan. Hint: write e.g. 1.5 or 2e-3")


@pytest.mark.parametrize("values", ["[1.5, 1.5]", "[1.5, 1.50, 15e-1]", "[2, 2.0]"])
def test_repeated_variant_value(tmp_path, capsys, values):
    text = HEAD + f"models:\n  - model: clm5_firstorder\n    variants: {{q10: {values}}}\n" + BODY[BODY.index("drivers"):]
    message = _one(tmp_path, capsys, text)
    assert re.fullmatch(r"7:2[0-9]: models\[0\]\.variants\.q10\[1\]: repeats [0-9.]+, given already as "
                        r"models\[0\]\.variants\.q10\[0\]\. Hint: remove the repeat: equal values give the same member",
                        message), message


def test_repeated_option_value(tmp_path, capsys):
    text = HEAD + "models:\n  - model: clm5_firstorder\n    variants: {normalize_q10: [true, true]}\n" + \
        BODY[BODY.index("drivers"):]
    assert _one(tmp_path, capsys, text).startswith("7:38: models[0].variants.normalize_q10[1]: repeats True")


@pytest.mark.parametrize("models", ["[clm5_firstorder, clm5_firstorder]",
                                    "\n  - &m {model: clm5_firstorder}\n  - *m"])
def test_same_model_twice(tmp_path, capsys, models):
    message = _one(tmp_path, capsys, HEAD + f"models: {models}\n" + BODY[BODY.index("drivers"):])
    assert "models[1]: gives the member 'clm5_firstorder' that models[0] already gives" in message
    assert message.endswith("Hint: add e.g. `label: clm5_firstorder_2` to this entry")


def test_repeated_outputs(tmp_path, capsys):
    assert _one(tmp_path, capsys, VALID + "outputs: [soc, soc, soc]\n") == (
        "8:16: outputs[1]: repeats 'soc', given already as outputs[0]. Hint: remove the repeat")


@pytest.mark.parametrize(("text", "expected"), [
    ("", "1:1: a scenario must be a mapping of keys; got an empty document"),
    ("null\n", "1:1: a scenario must be a mapping of keys; got an empty document"),
    ("- a\n", "1:1: a scenario must be a mapping of keys; got list"),
    (VALID + "---\n" + VALID, "8:1: malformed YAML: expected a single document in the stream"),
])
def test_documents_that_are_not_a_scenario(tmp_path, capsys, text, expected):
    assert _one(tmp_path, capsys, text).startswith(expected)


# -- the loaders ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["!!int x", "!!bool maybe", "!!timestamp 2024-13-45", "!!float x", "[!!int x]"])
def test_yaml_loader_fails_only_with_yaml_errors(text):
    """``YamlLoader`` (for a CSV cell read as YAML) raises ``yaml.YAMLError`` for a value its tag refuses."""
    with pytest.raises(yaml.YAMLError, match="cannot read 'x'|cannot read 'maybe'|cannot read '2024-13-45'"):
        yaml.load(text, Loader=YamlLoader)


def test_recursion_error_while_reading_is_located(monkeypatch):
    def deep(self, node, path):
        self.positions[path] = (3, 4)
        raise RecursionError

    monkeypatch.setattr(positions._Reader, "collection", deep)
    data, _, issues = positions.parse_yaml("a: [1]\n")
    assert data is None and issues == [SpecIssue("", "nests too deeply to be read", "use fewer levels", 3, 4)]


@pytest.mark.parametrize("data", [_bomb(9) + VALID, (HEAD + "description: caf\xe9\n" + BODY).encode("latin-1"),
                                  VALID + "sobol: {n: 1099511627776}\n"], ids=["bomb", "latin1", "sobol_n"])
def test_run_refuses_as_validate_does(tmp_path, capsys, data):
    path = tmp_path / "s.yaml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    with _deadline():
        code = main(["run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"{path}:") and not (tmp_path / "out").exists()
