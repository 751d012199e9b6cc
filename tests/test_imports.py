"""Module boundaries (docs/architecture.md), enforced by parsing imports with ``ast``.

``LAYERS`` lists the harness's layers, lowest first; a module imports only from its own layer's
modules and from layers below it. There are no exceptions and no grants: a new module fails here
until it is placed in a layer, and an import upward fails until the code is moved. Imports
inside functions (lazy ones) count like any other.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: the layers, lowest first: layer -> its harness modules (top-level module or package names)
LAYERS: dict[str, set[str]] = {
    # sensitivity: the implicit-function-theorem derivatives of any adapter's steady state (adapter only);
    # ages: ages and transit times at any adapter's steady state (adapter only)
    "contract": {"errors", "vocabulary", "units", "adapter", "registry", "testing", "sensitivity", "ages",
                 "transient", "forcing_schedule", "csv_table"},  # transient: batched time integration of any adapter
    "scenario model": {"spec"},  # what a scenario says: pure data with positions
    "plan": {"plan", "checks", "members", "designs", "grids", "posterior", "response"},  # what it means, inputs read once
    "execution": {"sampling", "runner", "executors"},
    "analysis": {"analysis", "replicated", "mixed", "calibration", "dgsm"},
    "results": {"store", "lock", "netcdf"},  # the result directory, its manifest and file formats
    "tables": {"report", "verdict_report", "plots", "page"},  # the text, tables and figures a kind writes
    "kinds": {"kinds"},
    "presentation": {"html_report"},  # report.html assembled from a run's files
    "api and shell": {"api", "suite", "compare", "cli", "__main__", "harness"},
}
ORDER = list(LAYERS)
LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}


def allowed_imports(module: str) -> set[str]:
    """The harness modules ``module`` may import: its layer's and every lower layer's."""
    rank = ORDER.index(LAYER_OF[module])
    return {m for layer in ORDER[: rank + 1] for m in LAYERS[layer]}


#: third-party packages a harness module must not import (at all, or at module level)
FORBIDDEN_PACKAGES = {"runner": {"SALib"}, "executors": {"SALib"}}
LAZY_ONLY = {"testing": {"pytest"}, "calibration": {"pymc", "pytensor", "arviz"},
             "kinds": {"pymc", "pytensor", "arviz", "xarray"}}
#: what model packages may import besides their own modules and the standard library
MODEL_ALLOWED = {"numpy", "scipy", "harness.adapter",
                 "models.soil_water",  # shared CLM water functions
                 "models.stability"}  # the shared Routh-Hurwitz test of a fixed point


@dataclass(frozen=True)
class Imported:
    module: str  # absolute dotted name
    line: int
    lazy: bool  # inside a function


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, source: str | None = None) -> list[Imported]:
    """Every import of ``path`` as absolute module names (``from . import x`` gives ``pkg.x``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, str(path))
    lazy_nodes = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                  for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Imported(a.name, node.lineno, id(node) in lazy_nodes) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [base] if node.module else [f"{base}.{a.name}" for a in node.names]
            found += [Imported(t, node.lineno, id(node) in lazy_nodes) for t in targets]
    return [i for i in found if i.module != "__future__"]


def component(module: str) -> str:
    """``harness.spec.schema`` -> ``spec``; ``harness`` -> ``harness``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


HARNESS = _files("harness")
MODELS = [p for p in _files("models") if p.parent != ROOT / "models"]


def test_the_tree_is_found():
    assert ROOT / "harness" / "registry.py" in HARNESS
    assert ROOT / "models" / "clm5_firstorder" / "adapter.py" in MODELS


def test_resolution_of_relative_imports():
    checks = imports_of(ROOT / "harness" / "checks.py")
    assert "harness.errors" in {i.module for i in checks}
    spec = imports_of(ROOT / "harness" / "spec" / "__init__.py")
    assert "harness.spec.schema" in {i.module for i in spec}
    kinds = imports_of(ROOT / "harness" / "kinds" / "sobol.py")
    assert {"harness.plan", "harness.kinds.base"} <= {i.module for i in kinds}


@pytest.mark.parametrize("path", HARNESS, ids=_ids(HARNESS))
def test_every_harness_module_has_a_layer(path):
    me = component(_module_name(path))
    assert me in LAYER_OF, (f"{path.relative_to(ROOT)}: module {me!r} is in no layer; add it to LAYERS here and to "
                            "the table of docs/architecture.md")


def test_the_scenario_model_lies_below_the_runtime():
    """The scenario model imports nothing but the contract (errors, vocabulary) and itself."""
    assert ORDER.index("scenario model") < min(ORDER.index(layer) for layer in ("plan", "execution", "kinds"))
    for path in (ROOT / "harness" / "spec").glob("*.py"):
        assert {component(i.module) for i in imports_of(path) if i.module.startswith("harness")} <= {
            "spec", "errors", "vocabulary"}, path


def harness_violations(path: Path, source: str | None = None) -> list[str]:
    """Imports of a harness module that cross the table's boundaries."""
    me = component(_module_name(path))
    allowed = allowed_imports(me)
    bad = []
    for imp in imports_of(path, source):
        top = imp.module.split(".")[0]
        if top == "models":
            bad.append(f"line {imp.line}: {imp.module} (harness never imports models; the registry holds strings)")
        elif top == "harness":
            other = component(imp.module)
            if other == "cli" and me != "__main__":
                bad.append(f"line {imp.line}: {imp.module} (nothing imports cli)")
            elif other not in (me, "harness") and other not in allowed:
                bad.append(f"line {imp.line}: {imp.module} ({me}, layer {LAYER_OF[me]!r}, imports "
                           f"{other}, layer {LAYER_OF.get(other)!r}, from above)")
        elif top in FORBIDDEN_PACKAGES.get(me, set()):
            bad.append(f"line {imp.line}: {imp.module} ({me} must not import {top})")
        elif top in LAZY_ONLY.get(me, set()) and not imp.lazy:
            bad.append(f"line {imp.line}: {imp.module} ({me} imports {top} only inside functions)")
    return bad


@pytest.mark.parametrize("path", HARNESS, ids=_ids(HARNESS))
def test_harness_imports_follow_the_table(path):
    bad = harness_violations(path)
    assert not bad, f"{path.relative_to(ROOT)} crosses a module boundary:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize("path", MODELS, ids=_ids(MODELS))
def test_models_import_only_harness_adapter_numpy_scipy_stdlib(path):
    package = ".".join(_module_name(path).split(".")[:2])  # models.<name>
    bad = []
    for imp in imports_of(path):
        top = imp.module.split(".")[0]
        own = imp.module == package or imp.module.startswith(package + ".")
        allowed = own or top in sys.stdlib_module_names or any(
            imp.module == a or imp.module.startswith(a + ".") for a in MODEL_ALLOWED)
        if not allowed:
            bad.append(f"line {imp.line}: {imp.module}")
    assert not bad, (f"{path.relative_to(ROOT)} may import only its own modules, harness.adapter, numpy, "
                     "scipy and the standard library:\n  " + "\n  ".join(bad))


def test_the_checker_catches_violations():
    """The checker can fail: forbidden imports in made-up sources are reported."""
    analysis = ROOT / "harness" / "analysis.py"
    assert harness_violations(analysis, "from .kinds import kinds\nimport models.clm5_firstorder\n") == [
        "line 1: harness.kinds (analysis, layer 'analysis', imports kinds, layer 'kinds', from above)",
        "line 2: models.clm5_firstorder (harness never imports models; the registry holds strings)",
    ]
    spec = ROOT / "harness" / "spec" / "schema.py"
    assert harness_violations(spec, "from ..registry import get_adapter\n") == []  # the contract lies below
    assert harness_violations(spec, "from ..members import Member\n") == [
        "line 1: harness.members (spec, layer 'scenario model', imports members, layer 'plan', from above)"]
    runner = ROOT / "harness" / "runner.py"
    assert harness_violations(runner, "def f():\n    from SALib.analyze import sobol\n") == [
        "line 2: SALib.analyze (runner must not import SALib)"]
    testing = ROOT / "harness" / "testing.py"
    assert harness_violations(testing, "import pytest\nfrom .cli import main\n") == [
        "line 1: pytest (testing imports pytest only inside functions)",
        "line 2: harness.cli (nothing imports cli)"]
    assert harness_violations(testing, "def f():\n    import pytest\nfrom .vocabulary import DRIVERS\n") == []
