"""One resource change, and the risks a person must see before it is applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from paycompile.compiler.graph import Kind


class Action(StrEnum):
    ADD = "add"
    IN_PLACE = "in-place"
    REPLACE = "replace"
    REMOVE = "remove"


class Risk(StrEnum):
    # AWS refuses the change as written, half-way through the update: a replacement of a
    # custom-named resource, or a listener rule taking a priority another rule still holds.
    BLOCKED = "blocked"
    # A replacement or removal destroys data that exists only in this resource.
    DATA_LOSS = "data loss"
    # IAM permissions or network reachability grow.
    WIDENING = "widening"
    # The change applies but interrupts live traffic.
    DISRUPTIVE = "disruptive"


# The order risky rows are shown in: what stops a deployment first.
RISK_ORDER = (Risk.BLOCKED, Risk.DATA_LOSS, Risk.DISRUPTIVE, Risk.WIDENING)

# Kinds whose replacement or deletion destroys data: the database, its secret, the keys that
# decrypt everything else, the audit logs, the backups and the access-log bucket.
DATA_KINDS = frozenset(
    {
        Kind.DB_CLUSTER,
        Kind.SECRET,
        Kind.KMS_KEY,
        Kind.LOG_GROUP,
        Kind.BACKUP_VAULT,
        Kind.BUCKET,
    }
)
# Kinds that grant access: a new or changed one may widen who can do or reach what.
WIDENING_KINDS = frozenset(
    {
        Kind.IAM_ROLE,
        Kind.IAM_POLICY,
        Kind.SECURITY_GROUP,
        Kind.SECURITY_GROUP_INGRESS,
        Kind.BUCKET_POLICY,
        Kind.KMS_KEY,
    }
)


@dataclass(frozen=True)
class Change:
    """One resource's change: what happens to it, and why a person should look."""

    logical_id: str
    resource_type: str
    action: Action
    kind: Kind | None = None
    # The old resource stays in the account: a removal or replacement under a Retain policy.
    kept: bool = False
    risks: frozenset[Risk] = field(default_factory=frozenset)
    reasons: tuple[str, ...] = ()
    # The top-level properties whose value changes (for in-place and replace rows).
    properties: tuple[str, ...] = ()
    # A replacement that keeps its custom physical name (CloudFormation refuses it; the Pulumi
    # bridge deletes the old resource first): the name property and its value.
    fixed_name: str | None = None

    @property
    def loses_data(self) -> bool:
        return Risk.DATA_LOSS in self.risks

    @property
    def blocked(self) -> bool:
        return Risk.BLOCKED in self.risks


def destroys_data(kind: Kind | None, action: Action, kept: bool = False) -> bool:
    """Whether the change destroys data: a data kind replaced or removed, and not kept."""
    destroys = action in (Action.REPLACE, Action.REMOVE) and not kept
    return kind in DATA_KINDS and destroys


def risks_of(kind: Kind | None, action: Action, kept: bool = False) -> frozenset[Risk]:
    """The risks every backend agrees on from the kind and the action alone.

    Where the old and new definitions are known (a template diff), `classify` judges widening
    from the statements and rules themselves instead.
    """
    risks: set[Risk] = set()
    if destroys_data(kind, action, kept):
        risks.add(Risk.DATA_LOSS)
    if kind in WIDENING_KINDS and action in (Action.ADD, Action.IN_PLACE, Action.REPLACE):
        risks.add(Risk.WIDENING)
    return frozenset(risks)
