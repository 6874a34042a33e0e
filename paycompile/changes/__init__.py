"""What a deployment would change, classified once for every backend and command.

`diff`, the CloudFormation `plan`/`deploy` and the Pulumi `preview`/`up`/`destroy` all describe a
change as a list of `Change` rows and ask this package whether a row is blocked, loses data,
widens access or interrupts traffic; none of them re-implements that judgement.
"""

from paycompile.changes.model import DATA_KINDS, WIDENING_KINDS, Action, Change, Risk

__all__ = ["DATA_KINDS", "WIDENING_KINDS", "Action", "Change", "Risk"]
