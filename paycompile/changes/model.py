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
    # The change cannot apply as written (a custom-named resource that must be replaced).
    BLOCKED = "blocked"
    # A replacement or removal destroys data that exists only in this resource.
    DATA_LOSS = "data loss"
    # IAM permissions or network reachability grow.
    WIDENING = "widening"
    # The change applies but interrupts live traffic.
    DISRUPTIVE = "disruptive"


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
    # A removal that leaves the resource in the account (retained on delete).
    kept: bool = False
    risks: frozenset[Risk] = field(default_factory=frozenset)
    reasons: tuple[str, ...] = ()

    @property
    def loses_data(self) -> bool:
        return Risk.DATA_LOSS in self.risks


def risks_of(kind: Kind | None, action: Action, kept: bool = False) -> frozenset[Risk]:
    """The risks every backend agrees on from the kind and the action alone."""
    risks: set[Risk] = set()
    destroys = action is Action.REPLACE or (action is Action.REMOVE and not kept)
    if kind in DATA_KINDS and destroys:
        risks.add(Risk.DATA_LOSS)
    if kind in WIDENING_KINDS and action in (Action.ADD, Action.IN_PLACE, Action.REPLACE):
        risks.add(Risk.WIDENING)
    return frozenset(risks)
