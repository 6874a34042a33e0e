"""What a destroy or a replacement may do to each resource: the graph's lifecycle as Pulumi options.

One mapping, the Pulumi counterpart of the CloudFormation backend's DeletionPolicy (see
docs/pulumi.md, "Lifecycle"):

* `deletion: retain` (data a destroy leaves behind: KMS keys, log groups and the secret of a
  retained platform; the ALB log bucket and the backup vault always) -> `retain_on_delete`: a
  destroy, or the delete half of a replacement, drops the resource from the state and leaves it
  in the account (CloudFormation's `Retain` on delete and on replace).
* AWS deletion protection on (`deletion_protection: true`: a retained platform's cluster and load
  balancer) -> `protect`: AWS would refuse to delete them half-way through a destroy, after their
  dependents were gone; with `protect` the engine refuses in the preview, before anything is
  deleted, and also refuses to replace them. A protected resource is never also retained: it is
  never deleted by Pulumi at all.
* `deletion: snapshot` (the retained cluster) is not an option: the data module gives the cluster
  a final snapshot with a unique name (and the cluster is protected as above).
* Every resource replaces create-first (`delete_before_replace=False`, stated explicitly: the
  Terraform bridge asks for delete-first whenever a resource has a fixed name). A replacement that
  needs its name free therefore fails on the name before anything is deleted, as a CloudFormation
  update fails on "cannot update a stack when a custom-named resource requires replacing".

Helper resources (a bucket's encryption, public access block, ownership and lifecycle rule, a
managed policy's attachments, the generated password) follow their owner node's
`retain_on_delete`, so an orphaned log bucket still expires its logs and stays private; they
are never protected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from paycompile.compiler.graph import Node


@dataclass(frozen=True)
class Lifecycle:
    """The options one node's resources take."""

    retain_on_delete: bool
    protect: bool


def lifecycle_of(node: Node) -> Lifecycle:
    protect = node.props.get("deletion_protection") is True
    return Lifecycle(retain_on_delete=node.deletion == "retain" and not protect, protect=protect)


def resource_options(
    node: Node, depends_on: Sequence[pulumi.Resource] = (), **extra: Any
) -> pulumi.ResourceOptions:
    """Options of a node's main resource: its lifecycle, create-first replacement, ordering."""
    kept = lifecycle_of(node)
    return pulumi.ResourceOptions(
        protect=kept.protect or None,
        retain_on_delete=kept.retain_on_delete or None,
        delete_before_replace=False,
        depends_on=list(depends_on) or None,
        **extra,
    )


def helper_options(owner: Node, **extra: Any) -> pulumi.ResourceOptions:
    """Options of a resource registered alongside `owner`'s main one: kept when the owner is."""
    return pulumi.ResourceOptions(
        retain_on_delete=lifecycle_of(owner).retain_on_delete or None,
        delete_before_replace=False,
        **extra,
    )
