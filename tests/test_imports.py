"""Module boundaries (style.md section 6), enforced by parsing imports with ``ast``.

The table is data: ``STYLE_TABLE`` is style.md's table verbatim; ``NOT_IN_STYLE`` and
``EXTRA_GRANTS`` hold what the code has grown beyond it (modules the table does not list, imports
it does not grant). Each entry there is a reviewed deviation and a proposal for style.md, not a
loophole: a new module or a new cross-module import fails here until it is placed in a row.
Imports inside functions (lazy ones) count like any other.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: style.md section 6: harness module -> harness modules it may import. A row shared by two
#: modules (runner.py, executors.py) lets them import each other. "*" = anything (cli only).
STYLE_TABLE: dict[str, set[str]] = {
    "errors": set(),
    "vocabulary": {"errors"},
    "adapter": {"errors", "vocabulary"},
    "registry": {"adapter", "errors"},
    "spec": {"registry", "adapter", "errors"},
    "sampling": {"spec", "adapter"},
    "runner": {"adapter", "registry", "spec", "executors"},
    "executors": {"adapter", "registry", "spec", "runner"},
    "analysis": {"errors"},
    "calibration": {"adapter", "runner"},
    "report": {"analysis"},
    # style.md lists adapter and errors; vocabulary (names only) is allowed too, as
    # adapter re-exports from it anyway
    "testing": {"adapter", "errors", "vocabulary"},
    "cli": {"*"},
}

#: modules that exist but style.md's table does not list (proposed rows)
NOT_IN_STYLE: dict[str, set[str]] = {
    "harness": set(),  # the package __init__: no imports
    "__main__": {"cli"},  # ``python -m harness``: the one importer of cli
    "members": {"adapter", "errors", "registry", "vocabulary"},  # model x variant, resolved by the registry
    "store": set(),  # atomic files and provenance
    "designs": {"members"},
    "plots": set(),  # matplotlib figures as PNG bytes
    "compare": {"errors", "store"},  # did anything move between two result directories
    "suite": {"errors"},  # a list of scenario runs (nightly comparison, stored baseline)
    # report.html from stored result files
    "html_report": {"errors", "plots", "report", "store", "calibration", "vocabulary", "verdict_report"},
    "replicated": {"errors"},  # Sobol estimates per independent scramble, t-intervals: pure statistics
    "verdict_report": {"report"},  # the verdict's tables and sentences, for verdict.md and report.html
    "netcdf": {"adapter", "members", "units", "vocabulary"},  # results.nc, tables and CF grids
    "units": set(),  # unit strings of data files onto the vocabulary's units
    "grids": {"errors", "units", "vocabulary"},  # reading CF lat/lon netCDF grids and netCDF tables
    "kinds": {"adapter", "analysis", "designs", "errors", "members", "mixed", "netcdf", "report", "runner",
              "sampling", "spec", "store", "vocabulary", "calibration", "grids", "replicated", "verdict_report"},
    "mixed": set(),  # random-intercept mixed models (statsmodels MixedLM), R² and ICC: pure statistics  # one orchestrator per scenario kind, below cli
}

#: imports the code makes that style.md's rows do not grant (proposed additions to the rows)
EXTRA_GRANTS: dict[str, set[str]] = {
    # meaning checks build members and their designs; drivers_from reads a posterior; grid inputs are read
    "spec": {"designs", "members", "vocabulary", "calibration", "grids"},
    "sampling": {"members"},  # maps the unit design onto each member's ranges
    "runner": {"members"},  # evaluates a member's rows
    "executors": {"errors"},  # a clear error when the optional dask extra is missing
    "analysis": {"replicated"},  # the replicated estimator behind every Sobol analysis
    # the likelihood solves a member's steady states; a clear error when PyMC is missing; names
    "calibration": {"errors", "members", "vocabulary"},
}

#: third-party packages a harness module must not import (at all, or at module level)
FORBIDDEN_PACKAGES = {"runner": {"SALib"}, "executors": {"SALib"}}
LAZY_ONLY = {"testing": {"pytest"}, "calibration": {"pymc", "pytensor", "arviz"},
             "kinds": {"pymc", "pytensor", "arviz", "xarray"}}
#: what model packages may import besides their own modules and the standard library
MODEL_ALLOWED = {"numpy", "scipy", "harness.adapter", "models.soil_water"}  # shared CLM water functions


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
    """``harness.spec.checks`` -> ``spec``; ``harness`` -> ``harness``."""
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
    checks = imports_of(ROOT / "harness" / "spec" / "checks.py")
    assert "harness.errors" in {i.module for i in checks}
    spec = imports_of(ROOT / "harness" / "spec" / "__init__.py")
    assert "harness.spec.checks" in {i.module for i in spec}


@pytest.mark.parametrize("path", HARNESS, ids=_ids(HARNESS))
def test_every_harness_module_has_a_row(path):
    me = component(_module_name(path))
    assert me in STYLE_TABLE or me in NOT_IN_STYLE, (
        f"{path.relative_to(ROOT)}: module {me!r} is in no row of the boundary table; add it to "
        "style.md section 6 and to STYLE_TABLE (or NOT_IN_STYLE) here")


def harness_violations(path: Path, source: str | None = None) -> list[str]:
    """Imports of a harness module that cross the table's boundaries."""
    me = component(_module_name(path))
    allowed = STYLE_TABLE.get(me, set()) | NOT_IN_STYLE.get(me, set()) | EXTRA_GRANTS.get(me, set())
    bad = []
    for imp in imports_of(path, source):
        top = imp.module.split(".")[0]
        if top == "models":
            bad.append(f"line {imp.line}: {imp.module} (harness never imports models; the registry holds strings)")
        elif top == "harness":
            other = component(imp.module)
            if other == "cli" and me != "__main__":
                bad.append(f"line {imp.line}: {imp.module} (nothing imports cli)")
            elif other not in (me, "harness") and "*" not in allowed and other not in allowed:
                bad.append(f"line {imp.line}: {imp.module} ({me} may import only {sorted(allowed) or 'nothing'})")
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
    assert harness_violations(analysis, "from .registry import get_adapter\nimport models.clm5_firstorder\n") == [
        "line 1: harness.registry (analysis may import only ['errors', 'replicated'])",
        "line 2: models.clm5_firstorder (harness never imports models; the registry holds strings)",
    ]
    runner = ROOT / "harness" / "runner.py"
    assert harness_violations(runner, "def f():\n    from SALib.analyze import sobol\n") == [
        "line 2: SALib.analyze (runner must not import SALib)"]
    testing = ROOT / "harness" / "testing.py"
    assert harness_violations(testing, "import pytest\nfrom .cli import main\n") == [
        "line 1: pytest (testing imports pytest only inside functions)",
        "line 2: harness.cli (nothing imports cli)"]
    assert harness_violations(testing, "def f():\n    import pytest\nfrom .vocabulary import DRIVERS\n") == []
