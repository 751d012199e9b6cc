"""Exact scenario error messages, pinned in a ``(snippet, message)`` table (the format docs/scenarios.md opens with).

Every line reads ``FILE:LINE:COL: key.path: what is wrong[; got value]. Hint: how to fix.``
``{f}`` in an expected message stands for the scenario file's path. Each snippet holds exactly
one mistake, so each expected text is one message plus the footer: a second line would be a
cascade, which the spec forbids.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.api import load_scenario
from harness.cli import main
from harness.errors import ScenarioError, SpecIssue

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    id: str
    yaml: str
    expected: str  # one message, "{f}" for the file
    files: dict[str, str] = field(default_factory=dict)  # extra files next to the scenario
    overrides: tuple[str, ...] = ()


def _yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# Lines 1-4 of most snippets; positions below count them.
HEAD = "schema_version: 1\nname: tiny\nkind: sobol\nseed: 42\n"

CASES = [
    Case("unknown top-level key, did-you-mean", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        output: [soc]
        """), "{f}:8:1: output: unknown key 'output'. Hint: did you mean 'outputs'?"),
    Case("missing schema_version", _yaml("""
        name: tiny
        kind: sobol
        seed: 42
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:1:1: missing required key 'schema_version'. Hint: add `schema_version: 1`"),
    Case("invalid schema_version", HEAD.replace("schema_version: 1", "schema_version: 2") + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:1:17: schema_version: must be 1; got 2. Hint: write `schema_version: 1`"),
    Case("missing seed", HEAD.replace("seed: 42\n", "") + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:1:1: missing required key 'seed'. Hint: set `seed:` to a positive integer, e.g. 20240611"),
    Case("zero seed", HEAD.replace("seed: 42", "seed: 0") + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:4:7: seed: must be an integer >= 1; got 0. Hint: set `seed:` to a positive integer, e.g. 20240611"),
    Case("unknown kind, did-you-mean", HEAD.replace("kind: sobol", "kind: sobl") + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:3:7: kind: must be one of sobol, points, local, sweep, regression, calibrate, grid, transient; got 'sobl'. Hint: did you mean 'sobol'?"),
    Case("unknown model, did-you-mean", HEAD + _yaml("""
        models:
          - model: clm5_firstordr
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:6:12: models[0].model: unknown model 'clm5_firstordr'. Hint: did you mean 'clm5_firstorder'?"),
    Case("invalid value of a variant option", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            variants: {normalize_q10: [maybe]}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:32: models[0].variants.normalize_q10[0]: option 'normalize_q10' must be of type bool; "
              "got 'maybe'. Hint: run `python -m harness describe clm5_firstorder`"),
    Case("model parameter out of bounds", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            parameters: {tau_s2: 80.0}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:26: models[0].parameters.tau_s2: 80 [yr] is outside the bounds (1, 50] of "
              "clm5_firstorder.tau_s2. Hint: use a value in (1, 50]"),
    Case("unknown parameter, did-you-mean", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            parameters: {q11: 2.0}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:18: models[0].parameters.q11: clm5_firstorder has no parameter 'q11'. Hint: did you mean 'q10'?"),
    Case("absolute range outside a model's valid range", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          temperature: {range: [5.0, 80.0]}
        """), "{f}:7:24: drivers.temperature.range: [5, 80] leaves the valid range [-50, 60] [degC] of "
              "temperature in clm5_firstorder. Hint: keep temperature within [-50, 60]"),
    Case("relative range outside a model's valid range", HEAD + _yaml("""
        models: [clm5_firstorder]
        baseline: {c_input: 500.0}
        drivers:
          c_input: {relative: [-0.5, 1.5]}
        """), "{f}:8:23: drivers.c_input.relative: [-0.5, 1.5] (= [-250, 750] around baseline 500) leaves "
              "the valid range (0, inf) [g C m-2 yr-1] of c_input in clm5_firstorder. Hint: keep c_input within (0, inf)"),
    Case("corner of the sampled box leaves the domain (cross-constraint)", HEAD + _yaml("""
        models: [clm5_firstorder]
        baseline: {sand: 0.0}
        drivers:
          cue_scale: {range: [0.8, 1.5]}
        """), "{f}:8:3: drivers: clm5_firstorder: 1 of 2 corners of the sampled box leave the model's domain, "
              "e.g. cue_scale=1.5: retained fraction of s1 = cue_scale 1.5 x 0.83 (unscaled) = 1.245; it must "
              "lie in (0, 1). Hint: narrow the ranges named in the message"),
    Case("unknown driver, did-you-mean", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          temprature: {range: [5.0, 25.0]}
        """), "{f}:7:3: drivers.temprature: unknown driver 'temprature'. Hint: did you mean 'temperature'?"),
    Case("sampled driver represented by no model", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
          beta: {range: [1.0, 2.0]}
        """), "{f}:8:3: drivers.beta: driver 'beta' is represented by none of the models. "
              "Hint: remove it or add a model that represents it"),
    Case("driver both sampled and fixed by a variant", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            variants: {sand: [20.0, 60.0]}
        drivers:
          sand: {range: [30.0, 50.0]}
        """), "{f}:9:3: drivers.sand: 'sand' is both sampled and fixed by a variant of clm5_firstorder. "
              "Hint: sample it or list it under variants, not both"),
    Case("range with lower >= upper", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [1.5, 0.5]}
        """), "{f}:7:23: drivers.c_input.relative: lower must be < upper; got [1.5, 0.5]. "
              "Hint: swap or widen the bounds"),
    Case("sobol.n not a power of 2", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol: {n: 100}
        """), "{f}:8:12: sobol.n: must be a power of 2 (Sobol sequence balance); got 100. Hint: use 128 or 64"),
    Case("confidence outside (0, 1)", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol: {confidence: 1.5}
        """), "{f}:8:21: sobol.confidence: must lie in (0, 1); got 1.5. Hint: use e.g. 0.95"),
    Case("unknown output, did-you-mean", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        outputs: [soc, socc]
        """), "{f}:8:16: outputs[1]: unknown output 'socc'. Hint: did you mean 'soc'?"),
    Case("pool.NAME that no model has", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        outputs: [pool.mic]
        """), "{f}:8:11: outputs[0]: no model of this scenario has pool 'mic'. "
              "Hint: known: cwd, l1, l2, l3, s1, s2, s3"),
    Case("malformed YAML: bad indentation", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
           parameters: {q10: 2.0}
        """), "{f}:7:4: this line is indented 3 spaces; the keys of `models[0]` are indented 4, the items of "
              "`models` 2. Hint: indent it like its siblings"),
    # Indentation mistakes are reported at the line that holds them, also when PyYAML notices on a later line.
    Case("indentation: a key one space too far in baseline", HEAD + _yaml("""
        models: [clm5_firstorder]
        baseline:
          c_input: 400.0
           clay: 20.0
          silt: 40.0
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:8:4: this line is indented 3 spaces; the keys of `baseline` are indented 2. "
              "Hint: indent it like its siblings"),
    Case("indentation: a key one space short in drivers", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
         clay: {range: [10.0, 40.0]}
        """), "{f}:8:2: this line is indented 1 space; the keys of `drivers` are indented 2, the top-level keys 0. "
              "Hint: indent it like its siblings"),
    Case("indentation: the first key of sobol too far (PyYAML notices on the next line)", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol:
           n: 256
          replicates: 4
          scale: log
        """), "{f}:9:4: this line is indented 3 spaces; the other keys of `sobol` are indented 2. "
              "Hint: indent it like its siblings"),
    Case("indentation: an item of models one space too far", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
           - model: mimics
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:4: this line is indented 3 spaces; the keys of `models[0]` are indented 4, the items of "
              "`models` 2. Hint: indent it like its siblings"),
    Case("indentation: a tab", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """) + "\tclay: {range: [10.0, 40.0]}\n",
         "{f}:8:1: this line is indented with a tab; YAML indents with spaces only. "
         "Hint: replace the tab with spaces, like the lines around it"),
    Case("indentation: a value on the next line as deep as its key (PyYAML notices on the next line)", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol:
          n:
          256
          replicates: 4
        """), "{f}:10:3: this line is neither `key: value` nor a list item (`- value`). "
              "Hint: add the colon after the key; a value on its own line goes deeper than its key"),
    Case("malformed YAML: second colon", HEAD + _yaml("""
        models: [clm5_firstorder]
        description: sand: 40 %
        """), "{f}:6:18: malformed YAML: mapping values are not allowed here. "
              "Hint: check indentation, colons and quotes"),
    Case("duplicate key", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        seed: 7
        """), "{f}:8:1: seed: duplicate key. Hint: remove one of the two entries"),
    Case("points scenario without cases", HEAD.replace("kind: sobol", "kind: points") + _yaml("""
        models: [clm5_firstorder]
        """), "{f}:1:1: cases: a points scenario needs `cases` (a CSV path or a list). Hint: add `cases: cases.csv`"),
    Case("cases CSV with a non-numeric value (names CSV file and line)",
         HEAD.replace("kind: sobol", "kind: points") + _yaml("""
        models: [clm5_firstorder]
        cases: cases.csv
        """), "{f}:6:8: cases: cases.csv:3: column 'c_input': expected a number; got 'x'. Hint: fix the value",
         files={"cases.csv": "case_id,c_input,temperature\na,400,10\nb,x,12\n"}),
    Case("two entries give the same member label", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
          - model: clm5_firstorder
            parameters: {q10: 2.0}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:5: models[1]: gives the member 'clm5_firstorder' that models[0] already gives; results are "
              "keyed by that label. Hint: add e.g. `label: clm5_firstorder_2` to this entry"),
    Case("a variant value repeated", HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            variants: {q10: [1.5, 2.0, 1.50]}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:7:32: models[0].variants.q10[2]: repeats 1.5, given already as models[0].variants.q10[0]. "
              "Hint: remove the repeat: equal values give the same member"),
    Case("a YAML tag other than the standard ones", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        description: !!python/name:os.system
        """), "{f}:8:14: description: unsupported tag !!python/name:os.system. Hint: remove the tag: a scenario "
              "holds plain text, numbers, true/false and null"),
    Case("a recursive alias", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: &x {relative: *x}
        """), "{f}:7:26: drivers.c_input.relative: recursive alias: it refers to a sequence or mapping that holds "
              "it. Hint: refer only to an anchor that is complete before the alias"),
    Case("a seed beyond 64 bits", HEAD.replace("seed: 42", "seed: 123456789012345678901234567890") + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """), "{f}:4:7: seed: must be at most 9223372036854775807 (a limit of soilbench); got "
              "123456789012345678901234567890. Hint: use a value in [1, 9223372036854775807]; see Limits in "
              "docs/scenarios.md"),
    Case("executor.jobs beyond its limit", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        executor: {type: processes, jobs: 100000}
        """), "{f}:8:35: executor.jobs: must be at most 1024 (a limit of soilbench); got 100000. Hint: use a value "
              "in [1, 1024]; see Limits in docs/scenarios.md"),
    Case("replicates that leave too few base samples", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol: {n: 8, replicates: 8}
        """), "{f}:8:27: sobol.replicates: 8 replicates of sobol.n = 8 leave 1 base samples each; at least 2 are "
              "needed. Hint: raise sobol.n to 16 or lower the replicates"),
    Case("unknown analysis scale", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol: {scale: logs}
        """), "{f}:8:16: sobol.scale: must be one of log, raw; got 'logs'. Hint: did you mean 'log'?"),
    Case("a crossover grid that is not increasing", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol:
          crossover: {c_input: [0.3, 0.1]}
        """), "{f}:9:24: sobol.crossover.c_input: must be distinct, increasing and > 0; got [0.3, 0.1]. Hint: "
              "write e.g. [0.1, 0.2, 0.3]"),
    Case("--set override error is marked", HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5]}
        sobol: {n: 8}
        """), "{f}:8:12: sobol.n: must be a power of 2 (Sobol sequence balance); got 100 (set with --set). "
              "Hint: use 128 or 64", overrides=("sobol.n=100",)),
]


def _write(tmp_path: Path, case: Case) -> Path:
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(case.yaml, encoding="utf-8")
    return path


def _error(path: Path, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_message(tmp_path, case):
    path = _write(tmp_path, case)
    error = _error(path, case.overrides)
    expected = case.expected.format(f=path) + f"\n1 error in {path}; nothing was run."
    assert str(error) == expected


def test_unmodified_base_is_valid(tmp_path):
    """The HEAD used by the table, with a model and a driver, is a valid scenario."""
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + "models: [clm5_firstorder]\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n")
    scenario = load_scenario(path)
    assert (scenario.kind, scenario.seed, scenario.outputs) == ("sobol", 42, ("soc",))


def test_issue_format_without_position_or_hint():
    assert SpecIssue("", "cannot read scenario file: No such file").format("a.yaml") == (
        "a.yaml: cannot read scenario file: No such file")
    assert SpecIssue("sobol.n", "must be 8", "", 3, 4).format("a.yaml") == "a.yaml:3:4: sobol.n: must be 8"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert str(_error(path)) == (
        f"{path}: cannot read scenario file: No such file or directory. Hint: check the path\n"
        f"1 error in {path}; nothing was run.")


# -- the acceptance test ------------------------------------------------------------------------
THREE_MISTAKES = _yaml("""
    schema_version: 1
    name: three
    kind: sobol
    seed: 42
    models:
      - model: clm5_firstorder
      - model: clm5_firstordr
        variants: {normalize_q10: [false]}
    baseline:
      c_input: 500.0
    drivers:
      c_input: {relative: [0.5, 1.5]}
      temperature: {range: [5.0, 80.0]}
    sobl:
      n: 8
    """)


def test_three_mistakes_give_three_sorted_messages_and_a_footer(tmp_path, capsys):
    """Unknown model, misspelt key, range outside a driver's bounds: three messages, in file order.

    The checks find them in another order (keys first, then models, then ranges), so the
    order asserted here is the sorting by position.
    """
    path = tmp_path / "three.yaml"
    path.write_text(THREE_MISTAKES, encoding="utf-8")
    out_dir = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out_dir)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (
        f"{path}:7:12: models[1].model: unknown model 'clm5_firstordr'. Hint: did you mean 'clm5_firstorder'?\n"
        f"{path}:13:24: drivers.temperature.range: [5, 80] leaves the valid range [-50, 60] [degC] of "
        f"temperature in clm5_firstorder. Hint: keep temperature within [-50, 60]\n"
        f"{path}:14:1: sobl: unknown key 'sobl'. Hint: did you mean 'sobol'?\n"
        f"3 errors in {path}; nothing was run.\n"
    )
    lines = captured.err.splitlines()
    located = [re.match(rf"{re.escape(str(path))}:(\d+):(\d+): ", line) for line in lines[:-1]]
    assert all(located)
    positions = [(int(m[1]), int(m[2])) for m in located]
    assert positions == sorted(positions)
    assert not out_dir.exists(), "nothing may be run or written for an invalid scenario"


def test_issues_are_collected_with_positions(tmp_path):
    path = tmp_path / "three.yaml"
    path.write_text(THREE_MISTAKES, encoding="utf-8")
    error = _error(path)
    assert [(i.path, i.line, i.col) for i in error.issues] == [
        ("models[1].model", 7, 12), ("drivers.temperature.range", 13, 24), ("sobl", 14, 1)]
    assert isinstance(error, ValueError) and error.exit_code == 2


# -- no cascades, no crashes ------------------------------------------------------------------------
def test_unknown_variant_key_is_one_message_with_did_you_mean(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + _yaml("""
        models:
          - model: clm5_firstorder
            variants: {normalise_q10: [true, false]}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """))
    issues = _error(path).issues
    assert len(issues) == 1
    assert issues[0].path == "models[0].variants.normalise_q10"
    assert "did you mean 'normalize_q10'?" in issues[0].format(str(path))


def test_baseline_out_of_domain_is_reported_once(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + _yaml("""
        models: [clm5_firstorder]
        baseline: {temperature: 99.0}
        drivers:
          c_input: {relative: [0.5, 1.5]}
        """))
    assert [i.path for i in _error(path).issues] == ["baseline"]


@pytest.mark.parametrize("override", ["outputs.3=soc_total", "name.x=1"])
def test_bad_override_path_is_a_scenario_error(tmp_path, override):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "models: [clm5_firstorder]\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n"
                    "outputs: [soc]\n")
    error = _error(path, (override,))
    assert "--set" in str(error)


# -- one message per distinct problem, and values written in another unit -----------------------------
def _validate(tmp_path, text: str, capsys) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    return [line.split(": ", 1)[1] for line in capsys.readouterr().err.splitlines()[:-1]]


def test_a_bad_baseline_is_one_message_for_every_member_and_no_cascade(tmp_path, capsys):
    """One negative input used by 20 members and a relative range around it: one message, not 25."""
    text = (REPO / "scenarios" / "beta_sweep.yaml").read_text().replace(
        "  c_input: 400.0          # g C m-2 yr-1", "  c_input: -400.0")
    assert _validate(tmp_path, text, capsys) == [
        "baseline: out of domain for every model x variant (20): driver c_input=-400.0 [g C m-2 yr-1] outside "
        "(0, inf). Hint: change baseline values"]


def test_a_problem_shared_by_some_models_names_them_once(tmp_path, capsys):
    text = HEAD + _yaml("""
        models:
          - model: clm5_firstorder
          - model: mimics
            variants: {beta: [1.0, 2.0]}
        drivers:
          temperature: {range: [5.0, 55.0]}
        """)
    assert _validate(tmp_path, text, capsys) == [
        "drivers.temperature.range: [5, 55] leaves the valid range [-20, 50] [degC] of temperature in mimics. "
        "Hint: keep temperature within [-20, 50]"]


@pytest.mark.parametrize("section, message", [
    ("baseline: {clay: 0.2}\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n",
     "baseline.clay: clay is in % (0-100); 0.2 reads as a fraction. Hint: write 20 (per cent)"),
    ("drivers:\n  clay: {range: [0.1, 0.4]}\n",
     "drivers.clay.range: clay is in % (0-100); 0.1, 0.4 reads as a fraction. Hint: write 10, 40 (per cent)"),
    ("baseline: {temperature: 288.15}\ndrivers:\n  c_input: {relative: [0.5, 1.5]}\n",  # no cascade from the domain
     "baseline.temperature: temperature is in degC; 288.15 reads as kelvin. Hint: write 15 (degC = K - 273.15)"),
])
def test_values_in_another_unit_are_named(tmp_path, capsys, section, message):
    assert _validate(tmp_path, HEAD + "models: [clm5_firstorder]\n" + section, capsys) == [message]


def test_a_misspelt_group_is_refused_once(tmp_path, capsys):
    text = HEAD + _yaml("""
        models: [mimics]
        drivers:
          c_input: {relative: [0.5, 1.5], group: input}
          cue_scale: {relative: [0.8, 1.2], group: microbial}
          mic_turnover_scale: {relative: [0.8, 1.2], group: microbal}
        """)
    assert _validate(tmp_path, text, capsys) == [
        "drivers.mic_turnover_scale.group: group 'microbal' has only this driver and resembles group 'microbial'. "
        "Hint: did you mean `group: microbial`? Else give this group a name unlike the others"]


def test_groups_of_one_with_distinct_names_are_fine(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + _yaml("""
        models: [clm5_firstorder]
        drivers:
          c_input: {relative: [0.5, 1.5], group: input}
          cue_scale: {relative: [0.8, 1.2], group: microbial}
        """), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
