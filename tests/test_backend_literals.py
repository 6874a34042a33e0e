"""The graph decides, backends translate: no policy value is written twice, once in each backend.

A literal (number or string) that appears in both `paycompile/backends/cfn/` and
`paycompile/backends/pulumi/` is a decision made twice, which the two backends can get out of step
on; it belongs in the compiler, as a node property both translate. The scan reads the backends'
source with `ast` and leaves out what is not a value: docstrings, keys (dict keys, subscripts,
`.get()` arguments, membership tests: the graph's and the APIs' field names), booleans and None.
What remains in both must be on one of the lists below, each with its reason.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

BACKENDS = Path(__file__).resolve().parent.parent / "paycompile" / "backends"
# The mock AWS of the offline plan: its literals are AWS's answers, not paycompile's policy.
NOT_TRANSLATION = {"mocks.py"}

# Values that only spell what the graph already says, in each API's own vocabulary.
VOCABULARY: dict[Any, str] = {
    "": "empty separator",
    "\n": "line break in messages",
    " (": "message punctuation",
    ",": "list separator of comma-joined ids",
    ", ": "message punctuation",
    ".": "message punctuation",
    ":": "ARN and message punctuation",
    0: "first index",
    1: "counting helpers from 1",
    2: "indent of written JSON",
    "json": "the output format's name",
    "BACKEND": "the backend protocol's attribute",
    "Default": "helper resource names: the route table's default route, alike in both backends",
    "Subnet": "helper resource names: a route table's subnet associations",
    "path": "the graph's name for a path route (`path` or `host`)",
    "arn": "the graph's name of an attribute (`Ref(node, 'arn')`)",
    "forward": "the ALB action type of the graph's `forward` action",
    "redirect": "the ALB action type of the graph's `redirect` action",
    "fixed-response": "the ALB action type of the graph's `fixed_response` action",
    "containerInsights": "the ECS cluster setting the graph's `container_insights` switches",
    "enabled": "the value ECS spells the graph's `container_insights: true` with",
    "disabled": "the value ECS spells the graph's `container_insights: false` with",
    "Enabled": "the status S3 spells an active lifecycle rule with",
    " ": "message punctuation",
    "-": "the separator of names and of the stack id's parts",
    "stack_instance": "the graph's name of a pseudo value (`Pseudo('stack_instance')`)",
    "; ": "message punctuation",
    "stack ": "a word in messages (`stack <name> ...`)",
    "is": "a word in messages; CloudFormation's condition names (`<Input>Is<Value>`)",
}

# Policy literals still written in both backends, each to move into the graph: none. An entry
# must still occur in both (so that it leaves this list once moved) and nothing may be added.
PENDING: dict[Any, str] = {}


def _skipped(tree: ast.AST) -> set[int]:
    """Ids of the constant nodes that are not values: docstrings and keys."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skip.add(id(body[0].value))
        keys: list[ast.AST] = []
        if isinstance(node, ast.Dict):
            keys = [key for key in node.keys if key is not None]
        elif isinstance(node, ast.Subscript):
            keys = [node.slice]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
        ):
            keys = [node.args[0]]
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            keys = [node.left]
        for key in keys:
            skip.update(id(inner) for inner in ast.walk(key))
    return skip


def literals(directory: Path) -> dict[Any, set[str]]:
    """Every value literal of the modules in `directory` -> the modules that write it."""
    found: dict[Any, set[str]] = defaultdict(set)
    for path in sorted(directory.glob("*.py")):
        if path.name in NOT_TRANSLATION:
            continue
        tree = ast.parse(path.read_text())
        skip = _skipped(tree)
        for node in ast.walk(tree):
            value = getattr(node, "value", None) if isinstance(node, ast.Constant) else None
            if id(node) in skip or value is None or isinstance(value, bool):
                continue
            found[value].add(path.stem)
    return found


def repeated() -> dict[Any, str]:
    cfn, pulumi = literals(BACKENDS / "cfn"), literals(BACKENDS / "pulumi")
    return {
        value: f"cfn {sorted(cfn[value])}, pulumi {sorted(pulumi[value])}"
        for value in set(cfn) & set(pulumi)
    }


def test_no_policy_literal_is_written_in_both_backends() -> None:
    unexplained = {
        value: where
        for value, where in repeated().items()
        if value not in VOCABULARY and value not in PENDING
    }
    assert unexplained == {}, "decide these once in the compiler: " + repr(unexplained)


def test_every_pending_literal_is_still_repeated() -> None:
    """A literal that moved into the graph leaves this list; a stale entry fails."""
    stale = sorted(str(value) for value in PENDING if value not in repeated())
    assert stale == []


def test_the_scan_finds_a_repeated_literal(tmp_path: Path) -> None:
    """Break it on purpose: the same deregistration delay written in two modules."""
    for backend in ("cfn", "pulumi"):
        (tmp_path / backend).mkdir()
        (tmp_path / backend / "traffic.py").write_text(
            '"""Docstring 42."""\nDELAY = 42\nKEY = props["deregistration"]\n'
        )
    cfn, pulumi = literals(tmp_path / "cfn"), literals(tmp_path / "pulumi")
    assert set(cfn) & set(pulumi) == {42}
