"""The mutation table of docs/testing.md, measured rather than typed.

`python -m tests.mutations.table` applies every catalogue row to its artifact and prints one
Markdown row per mutation: what it breaks, whether the old checkers caught it (before.json, "-"
for rows added after it was recorded) and which checker catches it now on each backend: the
semantic judge (tests/checkers/semantic.py's JUDGES) whose findings hold the row's expected
words, else "structural" (the backend's own checks in cfn_checker.py / pulumi_checker.py), else
MISSED. A summary counts the rows each checker catches. tests/test_mutations.py keeps the table
in docs/testing.md listing exactly the catalogue's rows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests import builds
from tests.checkers.read_cfn import read_template
from tests.checkers.read_pulumi import read_plan
from tests.checkers.semantic import JUDGES, live_parameters
from tests.mutations.catalogue import MUTATIONS, Mutation
from tests.mutations.run import BACKENDS, findings

BEFORE = Path(__file__).with_name("before.json")
HEADER = (
    "| mutation | the invariant it breaks | cfn before | cfn now | pulumi before | pulumi now |\n"
    "|---|---|---|---|---|---|"
)


def catcher(mutation: Mutation, backend: str) -> str:
    """The checker that reports the row's expected finding on `backend`."""
    expected = builds.expectation(mutation.spec, mutation.environment)
    edit = getattr(mutation, backend)
    if backend == "cfn":
        template = builds.template(mutation.spec, mutation.environment)
        edit(template)
        other = {"blue": "green", "green": "blue"}
        flipped = {name: other[value] for name, value in live_parameters(template).items()}
        runs = [
            (read_template(template, expected.region), expected),
            (read_template(template, expected.region, flipped), expected.flipped()),
        ]
    else:
        plan = builds.plan(mutation.spec, mutation.environment)
        edit(plan)
        runs = [(read_plan(plan), expected)]
    for judge in JUDGES:
        if any(mutation.expected(backend) in f for p, e in runs for f in judge(p, e)):
            return judge.__name__.removeprefix("judge_")
    if any(mutation.expected(backend) in finding for finding in findings(mutation, backend)):
        return "structural"
    return "MISSED"


def _before(record: dict[str, bool | None] | None, backend: str) -> str:
    if record is None:
        return "-"
    caught = record.get(backend)
    return "n/a" if caught is None else ("yes" if caught else "no")


def rows() -> list[tuple[Mutation, dict[str, str], dict[str, str]]]:
    before = json.loads(BEFORE.read_text())
    result = []
    for mutation in MUTATIONS:
        record = before.get(mutation.id)
        then = {b: _before(record, b) for b in BACKENDS}
        now = {b: catcher(mutation, b) if getattr(mutation, b) else "n/a" for b in BACKENDS}
        result.append((mutation, then, now))
    return result


def render() -> str:
    measured = rows()
    lines = [HEADER]
    for mutation, then, now in measured:
        cells = [then["cfn"], now["cfn"], then["pulumi"], now["pulumi"]]
        lines.append(f"| `{mutation.id}` | {mutation.breaks} | " + " | ".join(cells) + " |")
    lines += ["", "| checker | cfn rows caught | pulumi rows caught |", "|---|---|---|"]
    counts = {b: Counter(now[b] for _, _, now in measured) for b in BACKENDS}
    for name in sorted((set(counts["cfn"]) | set(counts["pulumi"])) - {"n/a"}):
        lines.append(f"| {name} | {counts['cfn'][name]} | {counts['pulumi'][name]} |")
    applied = [sum(now[b] != "n/a" for _, _, now in measured) for b in BACKENDS]
    caught = [applied[i] - counts[b]["MISSED"] for i, b in enumerate(BACKENDS)]
    lines.append(
        f"| **all checkers now** | {caught[0]} of {applied[0]} | {caught[1]} of {applied[1]} |"
    )
    recorded = [sum(then[b] in ("yes", "no") for _, then, _ in measured) for b in BACKENDS]
    old = [sum(then[b] == "yes" for _, then, _ in measured) for b in BACKENDS]
    lines.append(
        f"| old checkers (before.json) | {old[0]} of {recorded[0]} | {old[1]} of {recorded[1]} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
