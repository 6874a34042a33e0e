"""The invariants of a compiled platform, as small registered rules (like cfn-lint's).

Each rule has a stable id, a one-line statement, the failures (F1..F19 of
docs/failures.md) it prevents and the PCI DSS v4.0 requirements it serves. A rule's
check reads only the graph and returns one message per violation. The rules live in one module
per platform area; importing this package registers them all.
"""

from paycompile.compiler.rules import data, governance, network, operations, traffic
from paycompile.compiler.rules.registry import RULES, Rule, rule, run_rules, violations

# `paycompile rules` lists (and `compile_spec` runs) the rules area by area, in pipeline order,
# whatever order the modules happened to be imported in.
AREAS = (network, traffic, data, operations, governance)
_AREA_NAMES = [area.__name__ for area in AREAS]
_ordered = sorted(RULES.values(), key=lambda each: _AREA_NAMES.index(each.check.__module__))
RULES.clear()
RULES.update((each.id, each) for each in _ordered)

__all__ = ["AREAS", "RULES", "Rule", "rule", "run_rules", "violations"]
