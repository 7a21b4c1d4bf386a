"""A cosmic-ray filter that keeps only the mutations inside named functions.

cosmic-ray selects whole files (`module-path`); this filter marks every other work item of
the session as skipped, so a file can be shared with code that is not to be mutated (the
report prose in the roles' `build`) without a `# pragma: no mutate` in it. The functions are
found by name in the file's syntax tree when the filter runs, so the selection follows the
code when lines move.

    [cosmic-ray.filters.function-filter]
    functions = ["window_sums", "ExpenseFlags.statements"]  # qualified names; "*" = all
    exclude = ["diff_markdown"]                              # optional, applied after

Usage: python bench/mutation/function_filter.py SESSION.sqlite CONFIG.toml
"""

from __future__ import annotations

import ast
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from cosmic_ray.config import load_config
from cosmic_ray.tools.filters.filter_app import FilterApp
from cosmic_ray.work_db import WorkDB
from cosmic_ray.work_item import WorkerOutcome, WorkResult

Span = tuple[int, int]


def function_spans(source: str) -> dict[str, Span]:
    """{qualified name: (first line, last line)} of every function and class, decorators
    excluded (a decorator is not part of what the function computes)."""
    spans: dict[str, Span] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                spans[name] = (child.lineno, child.end_lineno or child.lineno)
                visit(child, name + ".")

    visit(ast.parse(source), "")
    return spans


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """((line, column), (end line, end column)) of every annotation in the module."""
    tree = ast.parse(source)
    if not any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    ):
        return []  # annotations are evaluated: their mutants are real
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            found.append(node.returns)
        elif isinstance(node, ast.arg) and node.annotation:
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return [
        ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0)) for a in found
    ]


def selected_spans(source: str, functions: list[str], exclude: list[str]) -> list[Span]:
    spans = function_spans(source)
    if functions == ["*"]:
        keep = [(1, len(source.splitlines()) + 1)]
    else:
        missing = [name for name in functions if name not in spans]
        if missing:
            raise SystemExit(f"function-filter: not found in the module: {', '.join(missing)}")
        keep = [spans[name] for name in functions]
    drop = []
    for name in exclude:
        if name not in spans:
            raise SystemExit(f"function-filter: excluded name not found: {name}")
        drop.append(spans[name])
    lines = {n for a, b in keep for n in range(a, b + 1)} - {
        n for a, b in drop for n in range(a, b + 1)
    }
    return [(n, n) for n in sorted(lines)]


class FunctionFilter(FilterApp):
    """Skip every mutation outside the configured functions."""

    def description(self) -> str:
        return __doc__ or ""

    def add_args(self, parser: ArgumentParser) -> None:
        parser.add_argument("config", help="the session's cosmic-ray config")

    def filter(self, work_db: WorkDB, args: Namespace) -> None:
        config = load_config(args.config)
        section = config.sub("filters", "function-filter")
        functions = list(section.get("functions", ["*"]))
        exclude = list(section.get("exclude", []))
        allowed: dict[Path, set[int]] = {}
        annotations: dict[Path, list] = {}
        skipped = []
        for item in work_db.pending_work_items:
            for mutation in item.mutations:
                path = Path(mutation.module_path)
                if path not in allowed:
                    source = path.read_text("utf-8")
                    allowed[path] = {a for a, _ in selected_spans(source, functions, exclude)}
                    annotations[path] = annotation_spans(source)
                first, last = mutation.start_pos[0], mutation.end_pos[0]
                start = tuple(mutation.start_pos)
                outside = not all(n in allowed[path] for n in range(first, last + 1))
                if outside or any(a <= start < b for a, b in annotations[path]):
                    skipped.append(item.job_id)
                    break
        if skipped:
            work_db.set_multiple_results(
                skipped,
                WorkResult(
                    output="outside the selected functions",
                    worker_outcome=WorkerOutcome.SKIPPED,
                ),
            )


def main(argv: list[str] | None = None) -> int:
    return FunctionFilter().main(argv)


if __name__ == "__main__":
    sys.exit(main())
