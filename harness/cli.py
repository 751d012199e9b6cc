"""The ``soilbench`` command (also ``python -m harness``): run, validate, report, compare, suite, models, describe.

A thin shell over the Python API (``harness.api``).

Exit codes: 0 success; 1 the scenario is valid but the run or analysis failed (failed rows are
listed), or an output could not be written (a full disk); 2 bad input (scenario, usage, unknown
model, an output directory that is busy, a file, not writable, or holds files the run would
overwrite, an unreachable Dask scheduler); 3 (``compare``) something moved; 130 interrupted
(Ctrl-C). Errors the harness raises on purpose print as one line without traceback unless
``--debug``; any other exception is a bug and keeps its traceback. The harness's warnings print
as one ``warning: ...`` line each.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .errors import HarnessError, HarnessWarning

if TYPE_CHECKING:
    from .api import Result

# The engine (numpy, pandas, scipy, the kinds) is imported by the command that needs it, so
# ``--help`` and a usage error answer without loading it.

INTERRUPTED = 130  # the exit code of a command stopped with Ctrl-C (128 + SIGINT)
DATA_ROOT_HELP = ("the folder the scenario's data files (cases, data, observations, forcing, drivers_from) must "
                  "lie in (default: the scenario's folder), e.g. --data-root . for the shipped scenarios that "
                  "read ../data")


DESCRIPTION = ("soilbench: run soil carbon models side by side and ask whether microbial CUE or carbon input "
               "controls soil carbon. `soilbench COMMAND --help` for a command; `python -m harness` is the same "
               "command.")
EPILOG = ("exit codes: 0 done; 1 the run or analysis failed; 2 bad input (the message names the file, line and "
          "fix); 3 compare: something moved; 130 interrupted")


def _parser(prog: str = "soilbench") -> argparse.ArgumentParser:
    # --debug is accepted before or after the command: on the main parser and on every command
    # (SUPPRESS: a command's parser sets it only when given there).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks of harness errors")
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION, epilog=EPILOG, parents=[common])
    parser.add_argument("--version", action="version", version=f"soilbench {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")

    def command(name: str, text: str, aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        return sub.add_parser(name, aliases=list(aliases), help=text, description=text, parents=[common])

    run = command("run", "validate and run a scenario; writes tables, figures and report.html")
    run.add_argument("scenario", type=Path, help="the scenario file (YAML), e.g. scenarios/beta_sweep.yaml")
    run.add_argument("--out", type=Path, help="output directory (default results/<name>/)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                     help="override a scenario value, e.g. --set sobol.n=256 (repeatable)")
    run.add_argument("--jobs", type=int, default=None, help="local worker processes (default: the scenario's "
                     "executor.jobs, else 1)")
    run.add_argument("--dask", nargs="?", const="", default=None, metavar="ADDRESS",
                     help='run on Dask: a scheduler address, or nothing for a LocalCluster (needs the dask extra: '
                          'pip install -e ".[dask]")')
    run.add_argument("--resume", action="store_true",
                     help="reuse the chunks an interrupted run left in the output directory")
    run.add_argument("--data-root", type=Path, default=None, metavar="DIR", help=DATA_ROOT_HELP)
    run.add_argument("--verbose", action="store_true",
                     help="also print the rows solved per member, the full result tables and every warning")
    validate = command("validate", "check a scenario without running it (exit 2 with every problem located)")
    validate.add_argument("scenario", type=Path, help="the scenario file (YAML)")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                          help="check the scenario with this value overridden, as run --set would (repeatable)")
    validate.add_argument("--data-root", type=Path, default=None, metavar="DIR", help=DATA_ROOT_HELP)
    report = command("report", "re-render report.html of a finished run without re-running models")
    report.add_argument("directory", type=Path, help="the output directory of a run (its --out)")
    compare = command("compare", "compare two result directories; exit 3 if anything moved")
    compare.add_argument("baseline", type=Path, help="the reference: a run's output directory or a folder of runs")
    compare.add_argument("new", type=Path, help="the run(s) to check against it, laid out the same way")
    compare.add_argument("--out", type=Path, help="where comparison.md/.json go (default: NEW)")
    compare.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of values (default 1e-6)")
    compare.add_argument("--atol", type=float, default=1e-12, help="absolute tolerance of values (default 1e-12)")
    suite = command("suite", "run every scenario of a suite file (e.g. baselines/suite.yaml)")
    suite.add_argument("suite", type=Path, help="the suite file (YAML) listing scenarios and their overrides")
    suite.add_argument("--out", type=Path, required=True, help="folder that receives one output directory per scenario")
    suite.add_argument("--prune", action="store_true", help="keep only the small tables a baseline stores")
    command("models", "list available models", aliases=("list-models",))
    describe = command("describe", "parameters, drivers, pools and outputs of a model, with units",
                       aliases=("describe-model",))
    describe.add_argument("model", help="a model name, as `models` lists it")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("soilbench")
    except PackageNotFoundError:
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else argv
    prog = "soilbench" if Path(sys.argv[0]).name == "soilbench" else "python -m harness"
    args = _parser(prog).parse_args(argv)
    args.debug = getattr(args, "debug", False)
    args.start = start
    with _warning_lines():
        return _dispatch(args, argv)


@contextmanager
def _warning_lines() -> Iterator[None]:
    """Show the harness's warnings as one ``warning: ...`` line each on stderr (others as Python shows them)."""
    show = warnings.showwarning

    def one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
        if issubclass(category, HarnessWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            show(message, category, filename, lineno, file, line)

    warnings.showwarning = one_line
    try:
        yield
    finally:
        warnings.showwarning = show


def _dispatch(args: argparse.Namespace, argv: list[str]) -> int:
    """Run the command ``args`` names; a harness error or Ctrl-C becomes one line and an exit code."""
    try:
        if args.command == "run":
            return _run(args, argv)
        if args.command == "validate":
            from . import api

            plan = api.load(args.scenario, args.overrides, data_root=args.data_root)
            print(f"{args.scenario}: valid {plan.scenario.kind} scenario '{plan.scenario.name}' "
                  f"({len(plan.members)} model x variant members)")
            return 0
        if args.command == "compare":
            return _compare(args)
        if args.command == "suite":
            from .suite import run_suite

            codes = run_suite(args.suite, args.out, prune=args.prune)
            failed = [f"{name} (exit {code})" for name, code in codes if code]
            print(f"ran {len(codes)} scenarios into {args.out}/" + (f"; failed: {', '.join(failed)}" if failed else ""))
            return max((code for _, code in codes), default=0)
        if args.command == "report":
            from .html_report import render_report

            print(f"wrote {render_report(args.directory)}")
            return 0
        if args.command in ("models", "list-models"):
            return _models()
        return _describe(args.model)
    except BrokenPipeError:  # the reader closed our output (e.g. `| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"error: {exc}" if not hasattr(exc, "issues") else str(exc), file=sys.stderr)
        return exc.exit_code


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    from . import api
    from .spec.schema import MAX_JOBS

    if args.jobs is not None and not 1 <= args.jobs <= MAX_JOBS:
        print(f"error: --jobs must be between 1 and {MAX_JOBS}; got {args.jobs}", file=sys.stderr)
        return 2
    plan = api.load(args.scenario, args.overrides, data_root=args.data_root)
    out_dir = args.out or Path("results") / plan.scenario.name
    _show_progress(args.start)
    try:
        result = api.run(plan, out_dir, jobs=args.jobs, dask=args.dask, resume=args.resume,
                         command=["python", "-m", "harness", *argv])
    except KeyboardInterrupt:
        print(f"interrupted; finished chunks are kept in {out_dir / 'chunks'}: rerun with --resume to continue",
              file=sys.stderr)
        return INTERRUPTED
    print_summary(result, time.perf_counter() - args.start, args.verbose)
    if args.resume:
        chunks = result.chunks
        print(f"resumed: {chunks['reused']} of {chunks['reused'] + chunks['solved']} chunks reused from "
              f"{out_dir / 'chunks'}, {chunks['solved']} solved")
    return 0 if result.ok else 1


class _Elapsed(logging.Formatter):
    """``[  12.3 s] message``: seconds since the command started."""

    def __init__(self, start: float):
        super().__init__()
        self.start = start

    def format(self, record: logging.LogRecord) -> str:
        return f"[{time.perf_counter() - self.start:7.1f} s] {record.getMessage()}"


def _show_progress(start: float) -> None:
    """Print the engine's progress lines (logger ``soilbench``) on stderr, one per phase, flushed at once."""
    handler = logging.StreamHandler(sys.stderr)  # flushes every line, so piped output (CI, tee) is not held back
    handler.setFormatter(_Elapsed(start))
    logger = logging.getLogger("soilbench")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


#: warnings the short summary prints in full (the rest are counted; all are in summary.json and the report)
SHOWN_WARNINGS = 3


def print_summary(result: Result, wall: float, verbose: bool = False) -> None:
    """The console summary of a run: rows solved, the kind's answer, warnings, problems, where the files are.

    Short by default (the answer, a tally and the paths); ``verbose`` adds the rows solved per
    member and the kind's full tables. ``wall``: seconds since the command started. [s]
    """
    from tabulate import tabulate

    from .store import MANIFEST

    summary = result.summary
    members = summary["members"]
    outcome = result.outcome
    if verbose:
        rows = [(m["member"], m["design"], m["rows"], m["status"]["ok"], m["rows"] - m["status"]["ok"],
                 f"{m['seconds']:.2f}") for m in members]
        print(tabulate(rows, headers=["member", "design", "rows", "ok", "failed", "seconds [s]"], tablefmt="simple"))
    solved = sum(m["rows"] for m in members)
    failed = solved - sum(m["status"]["ok"] for m in members)
    labels = list(dict.fromkeys(m["member"] for m in members))
    print(f"{summary['scenario']} ({summary['kind']}, seed {summary['seed']}): {len(labels)} model x variant "
          f"members, {solved:,} steady states solved, {failed:,} not ok"
          + (" (each with its reason in failures.csv)" if failed else ""))
    if summary.get("response"):
        print(f"every output is a transient response: its {summary['response']}")
    for text in outcome.headline if outcome else ():
        print(f"\n{text}")
    for table in outcome.tables if outcome and (verbose or not outcome.headline) else ():
        print(f"\n{table}")
    warnings_ = summary["warnings"]
    for text in warnings_ if verbose else warnings_[:SHOWN_WARNINGS]:
        print(f"warning: {text}", file=sys.stderr)
    if len(warnings_) > SHOWN_WARNINGS and not verbose:
        print(f"warning: {len(warnings_) - SHOWN_WARNINGS} more warnings in summary.json and report.html "
              "(--verbose prints them)", file=sys.stderr)
    for text in summary["problems"]:
        print(f"error: {text}", file=sys.stderr)
    files = [*summary["files"], MANIFEST]
    if result.directory is not None and (result.directory / "report.html").exists():
        print(f"\nreport: {result.directory / 'report.html'}")
    print(f"wrote {', '.join(files) if verbose else f'{len(files)} files'} to {result.directory}/ in {wall:.1f} s "
          "(wall time of the command)" + ("" if verbose else "; --verbose for the full tables"))


def _compare(args: argparse.Namespace) -> int:
    from .compare import compare_roots, write_comparison
    from .lock import DirectoryLock
    from .store import writing

    result = compare_roots(args.baseline, args.new, args.rtol, args.atol)
    out = args.out or (args.new if args.new.is_dir() else args.new.parent)
    with DirectoryLock(out, ["python", "-m", "harness", "compare", str(args.baseline), str(args.new)]), writing(out):
        write_comparison(result, out, args.baseline, args.new)  # not into a run folder while a run writes it
    for item in result.not_comparable:
        print(f"not comparable: {item['run']}: {item['reason']}", file=sys.stderr)
    for category, items in result.moved.items():
        print(f"{category}: {len(items)}")
    print(f"{'something moved' if result.anything_moved else 'nothing moved'}; wrote {out}/comparison.md")
    return result.exit_code


def _models() -> int:
    from tabulate import tabulate

    from .registry import available_adapters, get_adapter_class

    rows = []
    for name, info in sorted(available_adapters().items()):
        try:
            description = get_adapter_class(name).description
        except HarnessError as exc:
            description = f"(cannot load: {exc})"
        rows.append((name, description, info.source, f"{info.distribution} {info.version}"))
    print(tabulate(rows, headers=["model", "description", "source", "distribution"], tablefmt="simple"))
    return 0


def _describe(name: str) -> int:
    from tabulate import tabulate

    from .adapter import Interval
    from .registry import get_adapter_class
    from .vocabulary import DRIVERS

    cls = get_adapter_class(name)
    adapter = cls()
    print(f"{name}: {cls.description}\nReference: {cls.reference}\nSteady state: {cls.steady_state_method}\n")
    if cls.options:
        print(tabulate([(o.name, o.default, ", ".join(map(str, o.choices or ())), o.description) for o in cls.options],
                       headers=["option", "default", "choices", "description"], tablefmt="simple"), "\n")
    print(tabulate([(p.name, p.units, f"{p.default:g}", p.interval, p.description) for p in adapter.parameters],
                   headers=["parameter", "units", "default", "bounds", "description"], tablefmt="simple"), "\n")
    rows: list[tuple[str, str, str, Interval | str, str]] = [
        (d.name, d.units, "" if d.default is None else f"{d.default:g}", d.interval, d.description)
        for d in adapter.drivers]
    rows += [(n, units, "", "", "not represented") for n, (units, _) in DRIVERS.items() if n not in adapter.driver_names]
    print(tabulate(rows, headers=["driver", "units", "default", "valid range", "meaning"], tablefmt="simple"), "\n")
    print(tabulate([(p.name, p.kind, p.units, p.description) for p in adapter.pools],
                   headers=["pool", "kind", "units", "description"], tablefmt="simple"), "\n")
    print(tabulate([(o.name, o.units, o.description) for o in adapter.output_metadata],
                   headers=["output", "units", "meaning"], tablefmt="simple"))
    return 0
