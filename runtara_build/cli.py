"""The `runtara-build` command line: argv -> request -> result -> output and exit code.

Only the stdlib and the stdlib-only modules (`errors`) are imported at module level, so
`--help` and the future no-op fast path stay cheap (STYLE §4): each command imports what it
needs inside its function. Adding a command is one entry in `COMMANDS`.

Exit codes (DSL §11.4): 0 ok, 1 user error, 2 usage error, 70 internal error (a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from runtara_build.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_USER,
    ISSUE_TRACKER,
    BuildError,
    Diagnostic,
    render,
)

if TYPE_CHECKING:
    from runtara_build.build import BuildOptions, BuildResult
    from runtara_build.check import Request
    from runtara_build.executor import Outcome
    from runtara_build.manifest import Plan as ManifestPlan
    from runtara_build.query import QueryResult

PROG = "runtara-build"


class UsageError(Exception):
    """A bad command line: exit 2 with the parser's usage line (RB030)."""

    def __init__(self, message: str, parser: argparse.ArgumentParser) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its help line, its arguments, and the function that runs it."""

    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------- shared options


def _child(text: str) -> tuple[str, str]:
    child_id, sep, path = text.partition("=")
    if not sep or not child_id or not path:
        raise argparse.ArgumentTypeError(f"must be ID=PATH, but was {text!r}")
    return child_id, path


def _file_mode_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("file mode (DSL §11.3)")
    group.add_argument(
        "--children", metavar="DIR", help="resolve StartScenario child C to DIR/C.json"
    )
    group.add_argument(
        "--child",
        metavar="ID=PATH",
        type=_child,
        action="append",
        default=[],
        help="resolve child ID to PATH (repeatable; wins over --children)",
    )


def _request(args: argparse.Namespace) -> Request:
    from runtara_build.check import Request

    return Request(tuple(args.targets), args.children, tuple(args.child))


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diag in diagnostics:
        print(render(diag), file=sys.stderr)


# --------------------------------------------------------------------------- check


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="labels (//tenant/scenario), patterns (//..., //tenant/...) or workflow files; "
        "default //...",
    )
    _file_mode_options(parser)
    parser.add_argument("--strict", action="store_true", help="E052 and E054 become errors")
    parser.add_argument(
        "--output", choices=("text", "json"), default="text", help="diagnostics format"
    )


def _check(args: argparse.Namespace) -> int:
    from runtara_build.check import check
    from runtara_build.errors import render_json

    result = check(_request(args), cwd=Path.cwd(), strict=args.strict)
    if args.output == "json":
        print(render_json(result.diagnostics))
    else:
        _print_diagnostics(result.diagnostics)
        print(
            f"check: {len(result.roots)} target(s), {result.documents} document(s), "
            f"{result.errors} error(s), {result.warnings} warning(s)",
            file=sys.stderr,
        )
    return EXIT_OK if result.ok else EXIT_USER


# --------------------------------------------------------------------------- query


def _query_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "kind",
        nargs="?",
        choices=("deps", "rdeps", "somepath", "allpaths"),
        help="deps: what TARGETs need; rdeps: what needs them; somepath/allpaths FROM TO. "
        "Targets with a kind (//t/s:obj) query the target graph, others the call graph",
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="labels, patterns or files")
    parser.add_argument(
        "--changed-since", metavar="GITREV", help="list the binaries affected since GITREV"
    )
    parser.add_argument(
        "--universe",
        action="append",
        default=[],
        metavar="TARGET",
        help="rdeps: the documents searched for callers (default //... for labels)",
    )
    _file_mode_options(parser)
    parser.add_argument(
        "--output", choices=("label", "json", "dot"), default="label", help="result format"
    )


def _query(args: argparse.Namespace) -> int:
    from runtara_build.query import PAIR_QUERIES, run_query
    from runtara_build.target_query import changed_since, target_query, wants_targets

    if args.changed_since is not None:
        result = changed_since(args.changed_since, cwd=Path.cwd(), output=args.output)
        return _query_output(result)
    if args.kind is None or not args.targets:
        raise UsageError("query needs a kind and targets, or --changed-since", args.parser)
    if args.kind in PAIR_QUERIES and len(args.targets) != 2:
        raise UsageError(f"query {args.kind} needs exactly two targets, FROM and TO", args.parser)
    if wants_targets(args.targets):
        found = target_query(args.kind, _request(args), cwd=Path.cwd(), output=args.output)
        return _query_output(found)
    result = run_query(
        args.kind,
        _request(args),
        cwd=Path.cwd(),
        output=args.output,
        universe=args.universe,
    )
    return _query_output(result)


def _query_output(result: QueryResult) -> int:
    _print_diagnostics(result.diagnostics)
    if not result.ok:
        return EXIT_USER
    sys.stdout.write(result.text)
    return EXIT_OK


# --------------------------------------------------------------------------- build, run


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="E052 and E054 become errors")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="parallel actions")
    parser.add_argument(
        "--explain", action="store_true", help="print why each rebuilt target was rebuilt"
    )
    parser.add_argument("--events", metavar="FILE", help="write one JSON line per target")


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="labels (//tenant/scenario[:bin|:src|:obj]), patterns, or one workflow file",
    )
    _file_mode_options(parser)
    parser.add_argument("-o", dest="output", metavar="OUT", help="file mode: the binary's path")
    _engine_options(parser)


def _run_build(args: argparse.Namespace, request: Request, output: str | None) -> BuildResult:
    from runtara_build.build import build

    with _progress() as progress:
        result = build(request, cwd=Path.cwd(), options=_build_options(args, output, progress))
    _print_diagnostics(result.warnings)
    _explain(args, result.outcomes)
    if args.events:
        from runtara_build.manifest import write_events

        write_events(args.events, (o.event() for o in result.outcomes if not o.target.shared))
    return result


def _build_options(
    args: argparse.Namespace, output: str | None, progress: Callable[..., None]
) -> BuildOptions:
    from runtara_build.build import BuildOptions

    return BuildOptions(args.strict, output, args.jobs, progress)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[..., None]]:
    from runtara_build.progress import Progress

    progress = Progress()
    try:
        yield progress
    finally:
        progress.close()


def _explain(args: argparse.Namespace, outcomes: Sequence[Outcome]) -> None:
    if args.explain:
        for outcome in outcomes:
            for line in outcome.explain:
                print(line, file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    from runtara_build import dirty

    if args.output is None and args.plan is not None and _dirty_build(args, args.plan):
        return EXIT_OK
    result = _run_build(args, _request(args), args.output)
    stdout = "".join(f"{built.path}\n" for built in result.built)
    sys.stdout.write(stdout)
    dirty.record(args.argv, Path.cwd(), result, stdout)
    return EXIT_OK


def _dirty_build(args: argparse.Namespace, plan: ManifestPlan) -> bool:
    """Only the targets an edit touched, when only documents changed (`dirty`)."""
    from runtara_build.dirty import rebuild

    with _progress() as progress:
        options = _build_options(args, None, progress)
        done = rebuild(args.argv, Path.cwd(), _request(args), options, plan)
    if done is None:
        return False
    sys.stderr.write(done.stderr)
    _explain(args, done.result.outcomes)
    if args.events:
        from runtara_build.manifest import write_hits

        write_hits(args.events, done.targets, done.events())
    sys.stdout.write(done.stdout)
    return True


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("label", metavar="LABEL", help="the scenario to build and run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="after --: the binary's flags")
    _engine_options(parser)


def _run(args: argparse.Namespace) -> int:
    from runtara_build.check import Request
    from runtara_build.executor import exec_binary
    from runtara_build.label import parse_label

    label = parse_label(args.label).with_kind("bin")
    result = _run_build(args, Request((str(label),)), None)
    binary_args = args.args[1:] if args.args[:1] == ["--"] else args.args
    if not any(a == "--tenant" or a.startswith("--tenant=") for a in binary_args):
        binary_args = ["--tenant", label.tenant, *binary_args]
    sys.stdout.flush()
    sys.stderr.flush()
    return exec_binary([str(result.built[0].path), *binary_args])


# --------------------------------------------------------------------------- clean, cache


def _clean_arguments(parser: argparse.ArgumentParser) -> None:
    from runtara_build.cmd_cache import clean_arguments

    clean_arguments(parser)


def _clean(args: argparse.Namespace) -> int:
    from runtara_build.cmd_cache import run_clean

    return run_clean(args)


def _cache_arguments(parser: argparse.ArgumentParser) -> None:
    from runtara_build.cmd_cache import cache_arguments

    cache_arguments(parser)


def _cache(args: argparse.Namespace) -> int:
    from runtara_build.cmd_cache import run_cache

    return run_cache(args)


COMMANDS: dict[str, Command] = {
    "build": Command("build scenarios into static binaries (DSL §11.4)", _build_arguments, _build),
    "run": Command("build a scenario, then run its binary here", _run_arguments, _run),
    "check": Command("validate scenarios and their children (DSL §11.1)", _check_arguments, _check),
    "query": Command("query the scenario dependency graph", _query_arguments, _query),
    "clean": Command("delete the outputs (--expunge: and the cache)", _clean_arguments, _clean),
    "cache": Command("manage the local cache: cache gc", _cache_arguments, _cache),
}


# --------------------------------------------------------------------------- signal, inspect


def _store_command(name: str, help_text: str) -> Command:
    """`signal` / `inspect`: the embedded store from outside (runtara_build.store_cli)."""

    def arguments(parser: argparse.ArgumentParser) -> None:
        from runtara_build import store_cli

        getattr(store_cli, f"{name}_arguments")(parser)

    def run(args: argparse.Namespace) -> int:
        from runtara_build import store_cli

        code: int = getattr(store_cli, f"run_{name}")(args)
        return code

    return Command(help_text, arguments, run)


COMMANDS["signal"] = _store_command("signal", "send a signal to an instance (RUNTIME §6.4)")
COMMANDS["inspect"] = _store_command("inspect", "show a store's instances, checkpoints, events")


def _shutdown(args: argparse.Namespace) -> int:
    from runtara_build.client import shutdown

    return shutdown()


COMMANDS["shutdown"] = Command(
    "stop this user's build servers (docs/SERVER.md)", lambda parser: None, _shutdown
)


# --------------------------------------------------------------------------- main


@functools.cache  # parsing never changes a parser, and the build server reuses this one
def build_parser() -> argparse.ArgumentParser:
    """The parser: global `--debug`, then one subparser per entry of COMMANDS."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the traceback of an internal error",
    )
    parser = _Parser(prog=PROG, description="Build runtara workflow scenarios into binaries.")
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help, description=command.help, parents=[common])
        command.arguments(child)
        child.set_defaults(run=command.run, parser=child)
    return parser


def _usage_error(exc: UsageError) -> int:
    exc.parser.print_usage(sys.stderr)
    hint = f"run '{exc.parser.prog} --help' for the options"
    print(render(Diagnostic("RB030", str(exc), hint=hint)), file=sys.stderr)
    return EXIT_USAGE


def _internal_error(exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = (
        f"internal error: {type(exc).__name__}: {exc}; this is a bug in runtara-build, "
        f"not in your workflow: please report it on {ISSUE_TRACKER}"
    )
    hint = None if debug else "rerun with --debug to print the traceback for the report"
    print(render(Diagnostic("RB399", message, hint=hint)), file=sys.stderr)
    return EXIT_INTERNAL


def main(
    argv: Sequence[str] | None = None,
    *,
    fast_path: bool = True,
    plan: ManifestPlan | None = None,
) -> int:
    """Entry point of the console script; returns the exit code. With `fast_path`, a build
    first tries the manifest (`manifest.look`); without, `plan` is what the caller's look
    found: an edit's dirty set, or None for a full build."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0].startswith("//") and "build" in COMMANDS:
        args_list.insert(0, "build")  # `runtara-build //a/b` is `runtara-build build //a/b`
    debug = "--debug" in args_list
    try:
        if fast_path and args_list[:1] == ["build"]:  # else `entry` has looked already
            from runtara_build.manifest import look

            replayed, plan = look(args_list, Path.cwd())
            if replayed is not None:
                return replayed
        parser = build_parser()
        args = parser.parse_args(args_list)
        args.argv = args_list
        args.plan = plan
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        code: int = args.run(args)
        return code
    except UsageError as exc:
        return _usage_error(exc)
    except BuildError as exc:  # a command gave up with coded diagnostics
        _print_diagnostics(exc.diagnostics)
        return exc.exit_code
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `runtara-build query ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USER
    except Exception as exc:
        return _internal_error(exc, debug)


if __name__ == "__main__":
    sys.exit(main())
